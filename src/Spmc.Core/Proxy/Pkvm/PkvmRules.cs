using Spmc.Abi.Ffa;
using Spmc.Abi.Rules;

namespace Spmc.Core.Proxy.Pkvm;

/// <summary>
/// Every refusal pKVM's FF-A proxy (arch/arm64/kvm/hyp/nvhe/ffa.c) makes itself, one rule each. The code is what
/// the modelled kernel answers; the reference names the ffa.c function and the commit or release that brought the
/// check (the profiles say which releases have it). An answer the SPMC gave and pKVM passes on keeps the SPMC's own
/// rule. Releases: 6.3 (L1.0), 6.10 (L1.1), 6.18 (L1.2), 7.2 (kvmarm/fixes hardening), 7.4 (kvm-arm64/ffa-7.4).
/// </summary>
public static class PkvmRules
{
    private const string FfaC = "Linux arch/arm64/kvm/hyp/nvhe/ffa.c";

    // ---- Dispatch ---------------------------------------------------------------------------------------------

    public static readonly Rule VersionNotNegotiated = new("pkvm.version.not-negotiated", FfaError.InvalidParameters,
        "until the host's FFA_VERSION has negotiated a version, every other FF-A call is refused at EL2 (no EL3 call)",
        $"{FfaC} kvm_host_ffa_handler (has_version_negotiated); 6.10+");

    public static readonly Rule DenyList = new("pkvm.deny-list", FfaError.NotSupported,
        "a function ID on the release's deny list is refused at EL2",
        $"{FfaC} ffa_call_supported; 79195f34 and 8d24683e add to it (6.18), 0aa3b20b takes the notifications off (7.4)");

    public static readonly Rule GuestNoFfa = new("pkvm.guest.no-ffa", FfaError.NotSupported,
        "a guest's SMC (FF-A included; all but SMCCC_VERSION) answers SMCCC NOT_SUPPORTED: upstream pKVM proxies no FF-A for guests",
        "Linux arch/arm64/kvm/hypercalls.c (KVM's SMCCC handler); the guest proxy kvm_guest_ffa_handler is Android Common Kernel only");

    public static readonly Rule StrictSbz = new("pkvm.sbz.unused-register-not-zero", FfaError.InvalidParameters,
        "the host's registers after the last one the ABI defines (FF-A 1.2 tables), up to x7 — x17 for an SMC64 call once " +
        "hyp_ffa_version ≥ 1.2 — must be zero; refused at EL2 (no EL3 call)",
        $"{FfaC} ffa_check_unused_args_sbz, 3e9df0b0 \"Enforce strict SBZ checks in the FF-A proxy\" (kvm-arm64/ffa-7.4), " +
        "as quoted in review of v7 7/7; its per-ABI call sites were not verified: the first register per ABI is from the FF-A tables");

    // ---- FFA_VERSION (do_ffa_version) and hyp_ffa_post_init ---------------------------------------------------------

    public static readonly Rule VersionMajor = new("pkvm.version.major-not-1", FfaError.NotSupported,
        "FFA_VERSION with a major version other than 1 answers NOT_SUPPORTED in x0, with no EL3 call",
        $"{FfaC} do_ffa_version; 6.10+");

    public static readonly Rule VersionDowngradeAfterNegotiation = new("pkvm.version.downgrade-after-negotiation", FfaError.NotSupported,
        "once a version is negotiated, a request for a lower minor answers NOT_SUPPORTED (before 6.18: the negotiated version)",
        $"{FfaC} do_ffa_version; f4142693 (6.18+)");

    public static readonly Rule VersionDowngradeRefused = new("pkvm.version.downgrade-refused", FfaError.NotSupported,
        "a downgrade asked before negotiation goes to the SPMC first; its NOT_SUPPORTED goes to the host as is (with the SPMC's rule when it gave one)",
        $"{FfaC} do_ffa_version; 6.10+");

    public static readonly Rule PostInitIdGet = new("pkvm.version.post-init.id-get-failed", FfaError.NotSupported,
        "hyp_ffa_post_init: FFA_ID_GET must answer FFA_SUCCESS, else the version stays un-negotiated",
        $"{FfaC} hyp_ffa_post_init; 6.10+ (at boot in 6.3)");

    public static readonly Rule PostInitNotHostId = new("pkvm.version.post-init.not-host-id", FfaError.NotSupported,
        "hyp_ffa_post_init: FFA_ID_GET must give HOST_FFA_ID (0)",
        $"{FfaC} hyp_ffa_post_init; 6.10+ (at boot in 6.3)");

    public static readonly Rule PostInitFeatures = new("pkvm.version.post-init.features-failed", FfaError.NotSupported,
        "hyp_ffa_post_init: FFA_FEATURES(FFA_RXTX_MAP_64) must answer FFA_SUCCESS",
        $"{FfaC} hyp_ffa_post_init; 6.10+ (at boot in 6.3)");

    public static readonly Rule PostInitMinBufferSize = new("pkvm.version.post-init.min-buffer-size-unknown", FfaError.NotSupported,
        "hyp_ffa_post_init: the minimum RX/TX size of FFA_FEATURES(FFA_RXTX_MAP_64) w2 must be 0 (4K), 1 (64K) or 2 (16K)",
        $"{FfaC} hyp_ffa_post_init; w2 & 3 from 3f595291 (6.18+), all of w2 before");

    public static readonly Rule PostInitMinBufferAbovePage = new("pkvm.version.post-init.min-buffer-above-page", FfaError.NotSupported,
        "hyp_ffa_post_init: the SPMC's minimum RX/TX size must not exceed PAGE_SIZE",
        $"{FfaC} hyp_ffa_post_init; 6.10+ (at boot in 6.3)");

    // ---- FFA_FEATURES (do_ffa_features) -------------------------------------------------------------------------------

    public static readonly Rule FeaturesDenied = new("pkvm.features.denied-id", FfaError.NotSupported,
        "FFA_FEATURES of a function ID on the deny list answers NOT_SUPPORTED at EL2",
        $"{FfaC} do_ffa_features (ffa_call_supported); 6.3+");

    // ---- RX/TX buffers and partition discovery -----------------------------------------------------------------------

    public static readonly Rule RxTxMapPageCount = new("pkvm.rxtx-map.page-count", FfaError.InvalidParameters,
        "FFA_RXTX_MAP_64: w3 must be PAGE_SIZE/4096 pages (KVM_FFA_MBOX_NR_PAGES = 1)",
        $"{FfaC} do_ffa_rxtx_map; 6.3+");

    public static readonly Rule RxTxMapUnaligned = new("pkvm.rxtx-map.unaligned", FfaError.InvalidParameters,
        "FFA_RXTX_MAP_64: the TX (x1) and RX (x2) addresses must be PAGE_SIZE aligned",
        $"{FfaC} do_ffa_rxtx_map; 6.3+");

    public static readonly Rule RxTxMapAlreadyMapped = new("pkvm.rxtx-map.already-mapped", FfaError.Denied,
        "the host registers one RX/TX pair at a time (FFA_RXTX_UNMAP first)",
        $"{FfaC} do_ffa_rxtx_map (host_buffers.tx); 6.3+");

    public static readonly Rule RxTxMapSpmcRefused = new("pkvm.rxtx-map.spmc-refused", FfaError.Denied,
        "the SPMC refused the hypervisor's own RX/TX pair: the host gets the SPMC's w2 as the error (DENIED for a pair " +
        "already mapped), with the SPMC's rule when it gave one",
        $"{FfaC} do_ffa_rxtx_map (ffa_map_hyp_buffers); 6.3+");

    public static readonly Rule RxTxMapShareFailed = new("pkvm.rxtx-map.share-hyp-failed", FfaError.InvalidParameters,
        "the host's TX and RX pages must each move OWNED → SHARED_OWNED with the hypervisor; on failure the hypervisor's pair is unmapped again",
        $"{FfaC} do_ffa_rxtx_map (__pkvm_host_share_hyp, hyp_pin_shared_mem); 6.3+");

    public static readonly Rule RxTxUnmapNotHost = new("pkvm.rxtx-unmap.not-host-id", FfaError.InvalidParameters,
        "FFA_RXTX_UNMAP: all of w1 must be HOST_FFA_ID (0)",
        $"{FfaC} do_ffa_rxtx_unmap; 6.3+");

    public static readonly Rule RxTxUnmapNotMapped = new("pkvm.rxtx-unmap.not-mapped", FfaError.InvalidParameters,
        "FFA_RXTX_UNMAP: the host has no RX/TX pair registered",
        $"{FfaC} do_ffa_rxtx_unmap; 6.3+");

    public static readonly Rule PartitionInfoNoRx = new("pkvm.partition-info-get.no-host-rx", FfaError.Busy,
        "FFA_PARTITION_INFO_GET needs the host's RX buffer registered (BUSY, not INVALID_PARAMETERS)",
        $"{FfaC} do_ffa_part_get; 6.10+");

    public static readonly Rule PartitionInfoTooLarge = new("pkvm.partition-info-get.copy-exceeds-page", FfaError.Aborted,
        "FFA_PARTITION_INFO_GET: count × entry size (a u32 product, the size from the SPMC's w3) must fit in the host's RX page",
        $"{FfaC} do_ffa_part_get; 6.10+");

    // ---- FFA_MEM_SHARE / FFA_MEM_LEND (__do_ffa_mem_xfer) ------------------------------------------------------------

    private const string MemXfer = $"{FfaC} __do_ffa_mem_xfer";

    public static readonly Rule ShareDynamicBuffer = new("pkvm.mem-share.dynamic-buffer", FfaError.InvalidParameters,
        "FFA_MEM_SHARE/LEND: x3 (address) and w4 (page count) must be zero: no dynamically allocated buffer (x4[63:32] is not read)",
        $"{MemXfer}; 6.3+");

    public static readonly Rule ShareFragmentExceedsTotal = new("pkvm.mem-share.fragment-exceeds-total", FfaError.InvalidParameters,
        "FFA_MEM_SHARE/LEND: the fragment length (w2) must not exceed the total length (w1)",
        $"{MemXfer}; 6.3+");

    public static readonly Rule ShareFragmentExceedsPage = new("pkvm.mem-share.fragment-exceeds-page", FfaError.InvalidParameters,
        "FFA_MEM_SHARE/LEND: the first fragment must fit in a PAGE_SIZE TX buffer",
        $"{MemXfer}; 6.3+");

    public static readonly Rule ShareFragmentTooShort = new("pkvm.mem-share.fragment-too-short", FfaError.InvalidParameters,
        "FFA_MEM_SHARE/LEND: the first fragment must hold a header and one EMAD (48, 64 or 80 bytes, by release and version)",
        $"{MemXfer}; per negotiated version from a6b49d27 (7.2), fixed struct sizes before");

    public static readonly Rule ShareNoTx = new("pkvm.mem-share.no-host-tx", FfaError.InvalidParameters,
        "FFA_MEM_SHARE/LEND: the host must have registered its TX buffer (FFA_RXTX_MAP first)",
        $"{MemXfer}; 6.3+");

    public static readonly Rule ShareDescriptorTooLong = new("pkvm.mem-share.descriptor-too-long", FfaError.NoMemory,
        "FFA_MEM_SHARE/LEND: the total length must fit in the hypervisor's descriptor buffer (ffa_desc_buf)",
        $"{MemXfer}; 6.10+");

    public static readonly Rule ShareEmadOutsideFragment = new("pkvm.mem-share.emad-outside-fragment", FfaError.InvalidParameters,
        "FFA_MEM_SHARE/LEND: the first EMAD (at ep_mem_offset from v1.1) must lie inside the first fragment",
        $"{MemXfer}; a6b49d27 with b4d96135 (CVE-2026-68400), 7.2+");

    public static readonly Rule ShareCompositeOffsetZero = new("pkvm.mem-share.composite-offset-zero", FfaError.InvalidParameters,
        "FFA_MEM_SHARE/LEND: the EMAD's composite offset must not be 0",
        $"{MemXfer}; 6.3+");

    public static readonly Rule ShareEndpointCount = new("pkvm.mem-share.ep-count", FfaError.InvalidParameters,
        "FFA_MEM_SHARE/LEND: the descriptor must name exactly one receiver (ep_count = 1)",
        $"{MemXfer}; 6.3+");

    public static readonly Rule ShareSenderNotHost = new("pkvm.mem-share.sender-not-host", FfaError.InvalidParameters,
        "FFA_MEM_SHARE/LEND: the descriptor's sender must be HOST_FFA_ID (0)",
        $"{MemXfer}; 6.3+");

    public static readonly Rule ShareCompositeOverflow = new("pkvm.mem-share.composite-offset-overflow", FfaError.InvalidParameters,
        "FFA_MEM_SHARE/LEND: the composite offset + 16 must not overflow a u32",
        $"{MemXfer} (check_add_overflow); 6.10+, missing in 6.3");

    public static readonly Rule ShareCompositeOutsideFragment = new("pkvm.mem-share.composite-outside-fragment", FfaError.InvalidParameters,
        "FFA_MEM_SHARE/LEND: the 16-byte composite header must lie inside the first fragment",
        $"{MemXfer}; 6.3+");

    public static readonly Rule SharePartialConstituent = new("pkvm.mem-share.partial-constituent", FfaError.InvalidParameters,
        "FFA_MEM_SHARE/LEND: the bytes of the first fragment after the composite header must be whole 16-byte constituents",
        $"{MemXfer}; 6.3+");

    public static readonly Rule ShareRangeUnaligned = new("pkvm.mem-share.range-unaligned", FfaError.Denied,
        "FFA_MEM_SHARE/LEND: a constituent's address must be PAGE_SIZE aligned; those shared before it are unshared, nothing goes to the SPMC",
        $"{FfaC} ffa_host_share_ranges; 6a7a181f (7.2+), the address was truncated to its page before");

    public static readonly Rule ShareRangeNotOwned = new("pkvm.mem-share.range-not-owned", FfaError.Denied,
        "FFA_MEM_SHARE/LEND: every constituent must be host memory in state OWNED; those shared before it are unshared, nothing goes to the SPMC",
        $"{FfaC} ffa_host_share_ranges (__pkvm_host_share_ffa); 6.3+");

    // ---- FFA_MEM_FRAG_TX (do_ffa_mem_frag_tx) -------------------------------------------------------------------------

    private const string FragTx = $"{FfaC} do_ffa_mem_frag_tx";

    public static readonly Rule FragTxExceedsPage = new("pkvm.mem-frag-tx.fragment-exceeds-page", FfaError.InvalidParameters,
        "FFA_MEM_FRAG_TX: the fragment (w3) must fit in a PAGE_SIZE TX buffer",
        $"{FragTx}; 6.3+");

    public static readonly Rule FragTxPartialConstituent = new("pkvm.mem-frag-tx.partial-constituent", FfaError.InvalidParameters,
        "FFA_MEM_FRAG_TX: the fragment is read as whole 16-byte constituents",
        $"{FragTx}; 6.3+");

    public static readonly Rule FragTxNoTx = new("pkvm.mem-frag-tx.no-host-tx", FfaError.InvalidParameters,
        "FFA_MEM_FRAG_TX: the host must have registered its TX buffer",
        $"{FragTx}; 6.3+");

    public static readonly Rule FragTxRangeUnaligned = new("pkvm.mem-frag-tx.range-unaligned", FfaError.Denied,
        "FFA_MEM_FRAG_TX: a constituent's address must be PAGE_SIZE aligned; the whole transaction is aborted with FFA_MEM_RECLAIM",
        $"{FragTx} (ffa_host_share_ranges); 6a7a181f (7.2+)");

    public static readonly Rule FragTxRangeNotOwned = new("pkvm.mem-frag-tx.range-not-owned", FfaError.Denied,
        "FFA_MEM_FRAG_TX: every constituent must be host memory in state OWNED; the whole transaction is aborted with " +
        "FFA_MEM_RECLAIM and pages of earlier fragments stay shared",
        $"{FragTx} (ffa_host_share_ranges); 6.3+");

    // ---- FFA_MEM_RECLAIM (do_ffa_mem_reclaim): checks of the descriptor the SPMC retrieved for the hypervisor ---------

    private const string Reclaim = $"{FfaC} do_ffa_mem_reclaim";

    public static readonly Rule ReclaimEmadOutsideFragment = new("pkvm.mem-reclaim.emad-outside-fragment", FfaError.InvalidParameters,
        "FFA_MEM_RECLAIM: the EMAD of the SPMC's retrieved descriptor must lie inside its first fragment",
        $"{Reclaim}; a6b49d27 (7.2+)");

    public static readonly Rule ReclaimCompositeBeyondLength = new("pkvm.mem-reclaim.composite-beyond-length", FfaError.Aborted,
        "FFA_MEM_RECLAIM: the SPMC's composite (offset + 16; before 8c6db30d the offset, inside a WARN_ON) must lie within its total length",
        $"{Reclaim}; 8c6db30d (7.2+) for the + 16");

    public static readonly Rule ReclaimFragmentExceedsPage = new("pkvm.mem-reclaim.fragment-exceeds-page", FfaError.Aborted,
        "FFA_MEM_RECLAIM: the SPMC's first fragment must fit in the hypervisor's PAGE_SIZE RX buffer",
        $"{Reclaim}; 6.3+");

    public static readonly Rule ReclaimDescriptorTooLong = new("pkvm.mem-reclaim.descriptor-too-long", FfaError.NoMemory,
        "FFA_MEM_RECLAIM: the SPMC's descriptor must fit in the hypervisor's descriptor buffer (ffa_desc_buf)",
        $"{Reclaim}; 6.3+");

    public static readonly Rule ReclaimFragRxFailed = new("pkvm.mem-reclaim.frag-rx-failed", FfaError.InvalidParameters,
        "FFA_MEM_RECLAIM: each FFA_MEM_FRAG_RX for the rest of the SPMC's descriptor must be answered with FFA_MEM_FRAG_TX",
        $"{Reclaim}; 6.3+");

    public static readonly Rule ReclaimEmptyFragment = new("pkvm.mem-reclaim.empty-fragment", FfaError.Aborted,
        "FFA_MEM_RECLAIM: a 0-byte fragment from the SPMC would make pKVM loop for ever; the model stops with ABORTED",
        $"Spmc model of {Reclaim}: the kernel trusts per-fragment lengths and has no such check");

    public static readonly Rule ReclaimRangesBeyondLength = new("pkvm.mem-reclaim.ranges-beyond-length", FfaError.Aborted,
        "FFA_MEM_RECLAIM: the SPMC's composite must not claim more constituents (addr_range_cnt) than its total length holds",
        $"{Reclaim}; 8c6db30d (7.2+)");

    // ---- Direct messages (pkvm-next only: the unmerged host direct-messaging series, checks as read in v6) ----------

    private const string DirectSeries = $"{FfaC} do_ffa_direct_msg of the unmerged series \"KVM: arm64: Support FF-A direct messaging interfaces\" " +
        "(v6 1 May 2026 read; v7 30 Aug 2026 pending); pkvm-next only";

    public static readonly Rule DirectSourceNotHost = new("pkvm.direct-req.source-not-host", FfaError.InvalidParameters,
        "FFA_MSG_SEND_DIRECT_REQ/REQ2: the source endpoint (w1[31:16]) must be the host (0)",
        $"{DirectSeries} (FFA_SRC_ENDPOINT_MASK)");

    public static readonly Rule DirectReqFlags = new("pkvm.direct-req.w2-not-zero", FfaError.InvalidParameters,
        "FFA_MSG_SEND_DIRECT_REQ: w2 (flags) must be 0, which keeps framework messages from the host (REQ2 carries a UUID there)",
        DirectSeries);

    // ---- Notifications (7.4: checked at EL2, then forwarded as the host made them) -------------------------------------

    private const string Notif = $"{FfaC} (kvm-arm64/ffa-7.4)";

    public static readonly Rule BitmapNotHost = new("pkvm.notification-bitmap.vm-not-host", FfaError.InvalidParameters,
        "FFA_NOTIFICATION_BITMAP_CREATE/DESTROY: all of w1 (the VM ID) must be HOST_FFA_ID (0)",
        $"{Notif} 5224e6f0");

    public static readonly Rule BindReceiverNotHost = new("pkvm.notification-bind.receiver-not-host", FfaError.InvalidParameters,
        "FFA_NOTIFICATION_BIND: the receiver (w1[15:0]) must be the host (0)",
        $"{Notif} 85e44f7e");

    public static readonly Rule BindFlags = new("pkvm.notification-bind.flags", FfaError.InvalidParameters,
        "FFA_NOTIFICATION_BIND: only bit 0 (per-vCPU) of the flags (w2) may be set",
        $"{Notif} 85e44f7e");

    public static readonly Rule UnbindW2 = new("pkvm.notification-unbind.w2-not-zero", FfaError.InvalidParameters,
        "FFA_NOTIFICATION_UNBIND: w2 is reserved and must be zero",
        $"{Notif} 69fde06e");

    public static readonly Rule UnbindReceiverNotHost = new("pkvm.notification-unbind.receiver-not-host", FfaError.InvalidParameters,
        "FFA_NOTIFICATION_UNBIND: the receiver (w1[15:0]) must be the host (0)",
        $"{Notif} 69fde06e");

    public static readonly Rule SetSenderNotHost = new("pkvm.notification-set.sender-not-host", FfaError.InvalidParameters,
        "FFA_NOTIFICATION_SET: the sender (w1[31:16]) must be the host (0)",
        $"{Notif} e3ba9aec");

    public static readonly Rule SetFlags = new("pkvm.notification-set.flags", FfaError.InvalidParameters,
        "FFA_NOTIFICATION_SET: bits[15:2] of the flags (w2) must be zero",
        $"{Notif} e3ba9aec");

    public static readonly Rule GetReceiverNotHost = new("pkvm.notification-get.receiver-not-host", FfaError.InvalidParameters,
        "FFA_NOTIFICATION_GET: the receiver (w1[15:0]) must be the host (0)",
        $"{Notif} 88180874");

    public static readonly Rule GetFlags = new("pkvm.notification-get.flags", FfaError.InvalidParameters,
        "FFA_NOTIFICATION_GET: bits[31:4] of the flags (w2) must be zero",
        $"{Notif} 88180874");
}
