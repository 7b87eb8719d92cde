using System.Collections.Frozen;
using Spmc.Abi.Ffa;

namespace Spmc.Core.Proxy.Pkvm;

/// <summary>How a proxy-built reply is written back to the host (pKVM's ffa_set_retval).</summary>
public enum ResultRegisters
{
    /// <summary>x0..x3 from the reply; x4..x17 keep the host's input (arm_smccc_res, L1.0/L1.1).</summary>
    X0ToX3,
    /// <summary>x0..x17 from the reply, for SMC32 calls too (arm_smccc_1_2_regs, L1.2 and later).</summary>
    X0ToX17,
}

/// <summary>How a firmware reply is recognised as NOT_SUPPORTED (FFA_VERSION at init and on downgrade).</summary>
public enum NotSupportedTest
{
    /// <summary>The whole 64-bit x0 equals -1: a zero-extended 0xFFFFFFFF from EL3 is not recognised.</summary>
    Full64,
    /// <summary>(s32)x0 equals -1.</summary>
    Signed32,
}

/// <summary>What the x1.. registers of an FFA_VERSION answer hold when pKVM only set x0.</summary>
public enum VersionFill
{
    /// <summary>The handler's stack struct was never initialised: whatever EL2 left there (modelled as a fixed pattern).</summary>
    UninitialisedStack,
    /// <summary>The struct is zeroed before dispatch (2bd3c6c7).</summary>
    Zero,
}

/// <summary>The shortest first fragment __do_ffa_mem_xfer accepts.</summary>
public enum MinFragmentRule
{
    /// <summary>sizeof the v1.0 structs: 32-byte header + 16-byte EMAD = 48.</summary>
    V1_0Structs,
    /// <summary>sizeof the 48-byte header + the 16-byte EMAD of the 6.10 headers = 64.</summary>
    V1_1Structs,
    /// <summary>sizeof the 48-byte header + the 32-byte EMAD of the 1.2 headers = 80, whatever was negotiated.</summary>
    V1_2Structs,
    /// <summary>FFA_MEM_REGION_SZ(ver) + ffa_emad_size_get(ver): 48, 64 or 80 for v1.0, v1.1, v1.2.</summary>
    PerVersion,
}

/// <summary>Where the first EMAD of a memory descriptor is found (ffa_mem_desc_offset).</summary>
public enum EmadOffsetRule
{
    /// <summary>32 for v1.0, a fixed 48 from v1.1.</summary>
    Fixed,
    /// <summary>32 for v1.0, the descriptor's own ep_mem_offset (byte 32) from v1.1 (CVE-2026-68400 fix).</summary>
    EpMemOffset,
}

/// <summary>
/// One pKVM release of the FF-A proxy (arch/arm64/kvm/hyp/nvhe/ffa.c) as data. Every knob says what that
/// release does; the one implementation (<see cref="PkvmProxy"/>) reads them. Layers (L1.0, L1.1, L1.2, L-hard,
/// L7.4) and commits are those of the behavioural digest of ffa.c the model was built from (its §0 timeline);
/// where a knob was read in a tree's source rather than the digest, the comment names the tree.
/// A new kernel release is a new entry in <see cref="All"/>, usually "the previous one with { ... }".
/// </summary>
public sealed record PkvmProfile
{
    /// <summary>The manifest's "proxy" value.</summary>
    public required string Name { get; init; }

    /// <summary>The digest's layer and the trees it was read from.</summary>
    public required string Layer { get; init; }

    /// <summary>What this release is, in a sentence (shown in the inspector's notes).</summary>
    public required string Summary { get; init; }

    /// <summary>FFA_VERSION hyp_ffa_init asks the SPMC for; also the cap on hyp_ffa_version. (L1.0 1.0, L1.1 1.1, 162190f2 1.2.)</summary>
    public required uint InitVersion { get; init; }

    /// <summary>hyp_ffa_init returns early below this SMCCC version (L1.0: 1.1; L1.1 and later: 1.2).</summary>
    public required uint MinSmcccVersion { get; init; }

    /// <summary>FFA_MAX_FUNC_NUM of is_ffa_call: 0x7F until "Update the identification range for the FF-A smcs" (L1.1) made it 0xFF.</summary>
    public required ushort MaxFunctionNumber { get; init; }

    /// <summary>hyp-main.c clears ARM_SMCCC_CALL_HINTS (bit 16) from x0 before the FF-A handler sees it (digest §0 dispatch path, L1.2+).</summary>
    public required bool ClearsCallHints { get; init; }

    /// <summary>FFA_VERSION handled at EL2 with the negotiation gate (L1.1, Sebastian Ene's FF-A 1.1 work); before, it passed through.</summary>
    public required bool NegotiatesVersion { get; init; }

    /// <summary>FFA_ID_GET and FFA_FEATURES(RXTX_MAP) run in hyp_ffa_init (L1.0) instead of hyp_ffa_post_init at the host's first FFA_VERSION.</summary>
    public required bool PostInitAtBoot { get; init; }

    /// <summary>hyp_ffa_post_init switches on w2 &amp; 3 (3f595291 "mask FFA_FEATURES response", L1.2); before, on the whole w2.</summary>
    public required bool MasksMinBufferSize { get; init; }

    /// <summary>After negotiation a lower minor answers NOT_SUPPORTED (f4142693 "correct return value on downgrade", L1.2); before, hyp_ffa_version.</summary>
    public required bool RefusesDowngradeAfterNegotiation { get; init; }

    /// <summary>How a firmware NOT_SUPPORTED is recognised: 64-bit compare until the (s32) casts of L-hard.</summary>
    public required NotSupportedTest NotSupported { get; init; }

    /// <summary>ffa_set_retval: x0..x3 (L1.0/L1.1) or x0..x17 (6f4c348b "SMCCC 1.2", L1.2+).</summary>
    public required ResultRegisters Results { get; init; }

    /// <summary>x1.. of a proxy-made FFA_VERSION answer: uninitialised stack until 2bd3c6c7 "zero the res struct" (L-hard).</summary>
    public required VersionFill VersionFill { get; init; }

    /// <summary>FFA_PARTITION_INFO_GET at EL2 with the copy from the hyp RX into the host's (L1.1); before, it passed through.</summary>
    public required bool PartitionInfoAtEl2 { get; init; }

    /// <summary>The six NOTIFICATION_* calls (not INFO_GET) checked at EL2 then forwarded (L7.4 notification series v9).</summary>
    public required bool NotificationsAtEl2 { get; init; }

    /// <summary>ffa_call_supported: IDs answered FFA_ERROR NOT_SUPPORTED (and refused by FFA_FEATURES).</summary>
    public required FrozenSet<uint> DenyList { get; init; }

    /// <summary>Minimum first fragment of MEM_SHARE/LEND (L1.0 48, L1.1 64, L1.2 80, a6b49d27 per version).</summary>
    public required MinFragmentRule MinFragment { get; init; }

    /// <summary>A share whose total length exceeds the descriptor buffer is NO_MEMORY (read in L1.1 gregkh f9f1aed6; L1.0 has no such check).</summary>
    public required bool ChecksShareLength { get; init; }

    /// <summary>Where the EMAD is read (b4d96135, CVE-2026-68400: ep_mem_offset, L-hard).</summary>
    public required EmadOffsetRule EmadOffset { get; init; }

    /// <summary>EMAD offset + EMAD size must lie inside the fragment, on share and on reclaim (a6b49d27, L-hard).</summary>
    public required bool ChecksEmadBounds { get; init; }

    /// <summary>composite_off + 16 overflowing a u32 is refused (check_add_overflow, present from L1.1, missing in L1.0).</summary>
    public required bool ChecksCompositeOverflow { get; init; }

    /// <summary>Constituent addresses must be page-aligned (6a7a181f, L-hard); before, they were truncated to their pfn.</summary>
    public required bool ChecksConstituentAlignment { get; init; }

    /// <summary>sizeof(struct ffa_mem_region) of the hyp retrieve request on reclaim: 32 with the v1.0 headers (L1.0), 48 after.</summary>
    public required int RetrieveRequestSize { get; init; }

    /// <summary>Reclaim releases the hyp RX with FFA_RX_RELEASE after each fragment and on errors (L1.1); L1.0 never did.</summary>
    public required bool ReclaimReleasesRx { get; init; }

    /// <summary>Reclaim checks composite_off + 16 &gt; len and the addr_range_cnt bound (8c6db30d "reclaim bounds", L-hard);
    /// before, composite_off &gt; len inside a WARN_ON.</summary>
    public required bool ReclaimChecksBounds { get; init; }

    /// <summary>
    /// ffa_desc_buf.len: (hyp_ffa_proxy_pages() − 2) pages. Upstream sizes it for SG_MAX_SEGMENTS (2048) constituents:
    /// 48 + 32 + 16 + 2048×16 bytes → 9 pages (torvalds and analogdevicesinc kvm_pkvm.h); Android trees use
    /// KVM_FFA_MAX_NR_CONSTITUENTS = 4096 → 17 pages. Modelled as a byte limit (len &gt; it → NO_MEMORY), not as memory.
    /// </summary>
    public required int DescriptorBufferBytes { get; init; }

    /// <summary>
    /// 3e9df0b0 "Enforce strict SBZ checks in the FF-A proxy" (L7.4): the host's registers after the last one an ABI
    /// defines, up to x7 (x17 for an SMC64 call once hyp_ffa_version ≥ 1.2), must be zero, else INVALID_PARAMETERS at EL2.
    /// </summary>
    public bool StrictSbz { get; init; }

    /// <summary>
    /// FFA_MSG_SEND_DIRECT_REQ (both widths) and DIRECT_REQ2 handled at EL2 (do_ffa_direct_msg of the unmerged
    /// "Support FF-A direct messaging interfaces" series): source endpoint must be the host, REQ's w2 must be 0, then
    /// x0..x17 forwarded. Upstream passes REQ through and denies REQ2.
    /// </summary>
    public bool DirectMessagesAtEl2 { get; init; }

    /// <summary>False for a profile of patches not merged in any tree (opt-in only, never a default).</summary>
    public bool Merged { get; init; } = true;

    /// <summary>
    /// PAGE_SIZE of the host kernel: 4096 in every release entry; <see cref="ForPageSize"/> makes the 16K variant a
    /// manifest asks for (proxyOptions.pageSize). Every PAGE_SIZE rule of ffa.c reads it: RXTX_MAP's w3 (PAGE_SIZE/4096)
    /// and alignment, the hyp's own TX/RX (one kernel page each), fragment and partition-info bounds, the post-init
    /// minimum-buffer check, constituent alignment and the stage-2 granule, and the reclaim fragment bound.
    /// </summary>
    public uint PageSize { get; init; } = FfaPage.Size;

    /// <summary>PAGE_SIZE / FFA_PAGE_SIZE: the FF-A pages in one kernel page (the w3 of every RXTX_MAP pKVM accepts or makes).</summary>
    public uint FfaPagesPerPage => PageSize / FfaPage.Size;

    /// <summary>
    /// This release on a kernel with <paramref name="pageSize"/>-byte pages: the page size, and the descriptor buffer
    /// rounded up to whole kernel pages (hyp_ffa_proxy_pages: DIV_ROUND_UP(desc_max, PAGE_SIZE) pages — 9 × 4K = 36864
    /// bytes become 3 × 16K = 49152).
    /// </summary>
    public PkvmProfile ForPageSize(uint pageSize) => pageSize == PageSize ? this : this with
    {
        PageSize = pageSize,
        DescriptorBufferBytes = (int)((DescriptorBufferBytes + pageSize - 1) / pageSize * pageSize),
    };

    public override string ToString() => $"{Name} ({Layer})";

    // ---- Function IDs of the deny lists (FFA_SMC_32(n) = 0x84000000|n, FFA_SMC_64(n) = 0xC4000000|n) ----

    /// <summary>L1.0: memory-management calls the host may not make, indirect messaging, 32-bit variants of 64-bit calls.</summary>
    private static readonly uint[] DenyL1_0 =
    [
        0xC400_0074, 0x8400_0075, 0x8400_0076, 0x8400_0078, 0x8400_0079, 0x8400_007A, 0xC400_0071, // RETRIEVE_REQ64, RESP, RELINQUISH, OP_PAUSE/RESUME, FRAG_RX, DONATE64
        0x8400_006E, 0x8400_006A, 0x8400_006B,                                                     // MSG_SEND, MSG_POLL, MSG_WAIT
        0x8400_006F, 0x8400_0070, 0x8400_0066, 0x8400_0071, 0x8400_0074,                           // DIRECT_REQ32, DIRECT_RESP32, RXTX_MAP32, DONATE32, RETRIEVE_REQ32
    ];

    /// <summary>L1.1 allows the 32-bit FFA_MSG_SEND_DIRECT_REQ.</summary>
    private static readonly uint[] DenyL1_1 = [.. DenyL1_0.Where(id => id != 0x8400_006F)];

    /// <summary>The seven notification calls of FF-A 1.1 (INFO_GET 32-bit only) denied by 79195f34.</summary>
    private static readonly uint[] Notifications = [0x8400_007D, 0x8400_007E, 0x8400_007F, 0x8400_0080, 0x8400_0081, 0x8400_0082, 0x8400_0083];

    /// <summary>L1.2: + notifications (79195f34) + optional 1.2 interfaces REQ2, RESP2, CONSOLE_LOG32, PARTITION_INFO_GET_REGS (8d24683e).</summary>
    private static readonly uint[] DenyL1_2 = [.. DenyL1_1, .. Notifications, 0xC400_008D, 0xC400_008E, 0x8400_008A, 0xC400_008B];

    /// <summary>L7.4: the notification calls leave the deny list (5224e6f0 … 0aa3b20b).</summary>
    private static readonly uint[] DenyL7_4 = [.. DenyL1_2.Except(Notifications)];

    private const int DescriptorBuffer2048 = 9 * FfaPage.Size;

    /// <summary>pkvm-6.3: the FF-A 1.0 proxy with memory sharing (~v6.3–v6.9).</summary>
    public static readonly PkvmProfile Pkvm6_3 = new()
    {
        Name = "pkvm-6.3",
        Layer = "L1.0 (raspberrypi/linux 03e2bd75)",
        Summary = "FF-A 1.0 proxy: FFA_VERSION and PARTITION_INFO_GET pass through, FF-A 1.0 at boot, x0..x3 results",
        InitVersion = 0x1_0000,                   // L1.0: hyp_ffa_init asks FFA_VERSION(1.0)
        MinSmcccVersion = 0x1_0001,               // L1.0: SMCCC 1.1 is enough
        MaxFunctionNumber = 0x7F,                 // L1.0: FFA_MAX_FUNC_NUM 0x7F (IDs ≥ 0x80 are generic SMCs)
        ClearsCallHints = false,                  // digest: hint masking documented from L1.2
        NegotiatesVersion = false,                // L1.0: no do_ffa_version, no gate
        PostInitAtBoot = true,                    // L1.0: ID_GET and FEATURES(RXTX_MAP) in hyp_ffa_init
        MasksMinBufferSize = false,               // L1.0: switch on the whole w2
        RefusesDowngradeAfterNegotiation = false, // n/a (FFA_VERSION passes through)
        NotSupported = NotSupportedTest.Full64,   // arm_smccc_res a0 == FFA_RET_NOT_SUPPORTED
        Results = ResultRegisters.X0ToX3,         // L1.0: arm_smccc_1_1_smc, x0..x3 back
        VersionFill = VersionFill.UninitialisedStack, // n/a (FFA_VERSION passes through)
        PartitionInfoAtEl2 = false,               // L1.0: PASS (the SPMC writes the hyp RX)
        NotificationsAtEl2 = false,               // L1.0: BITMAP_* and BIND pass, the rest are not FF-A calls
        DenyList = DenyL1_0.ToFrozenSet(),        // L1.0 ffa_call_supported
        MinFragment = MinFragmentRule.V1_0Structs, // L1.0: 32 + 16
        ChecksShareLength = false,                // L1.0: no len > ffa_desc_buf.len check on share
        EmadOffset = EmadOffsetRule.Fixed,        // L1.0: ep_mem_access[0] right after the 32-byte header
        ChecksEmadBounds = false,                 // added by a6b49d27
        ChecksCompositeOverflow = false,          // L1.0 lacks check_add_overflow
        ChecksConstituentAlignment = false,       // added by 6a7a181f
        RetrieveRequestSize = 32,                 // L1.0: sizeof(struct ffa_mem_region) of the v1.0 header
        ReclaimReleasesRx = false,                // L1.0: no FFA_RX_RELEASE on reclaim
        ReclaimChecksBounds = false,              // WARN_ON(offset > len)
        DescriptorBufferBytes = DescriptorBuffer2048, // SG_MAX_SEGMENTS constituents
    };

    /// <summary>pkvm-6.10: Sebastian Ene's FF-A 1.1 work (version negotiation, PARTITION_INFO_GET at EL2).</summary>
    public static readonly PkvmProfile Pkvm6_10 = Pkvm6_3 with
    {
        Name = "pkvm-6.10",
        Layer = "L1.1 (gregkh/linux f9f1aed6)",
        Summary = "FF-A 1.1: version gate and negotiation at EL2 (hyp at most 1.1), PARTITION_INFO_GET copied to the host RX, x0..x3 results",
        InitVersion = 0x1_0001,                   // L1.1: FFA_VERSION(1.1) at init, clamped to 1.1
        MinSmcccVersion = 0x1_0002,               // L1.1: SMCCC 1.2 required
        MaxFunctionNumber = 0xFF,                 // L1.1: "Update the identification range for the FF-A smcs"
        NegotiatesVersion = true,                 // L1.1: do_ffa_version + gate
        PostInitAtBoot = false,                   // L1.1: hyp_ffa_post_init at the first FFA_VERSION
        PartitionInfoAtEl2 = true,                // L1.1: do_ffa_part_get
        DenyList = DenyL1_1.ToFrozenSet(),        // L1.1: DIRECT_REQ32 allowed
        MinFragment = MinFragmentRule.V1_1Structs, // L1.1: 48-byte header + 16-byte EMAD
        ChecksShareLength = true,                 // L1.1: len > ffa_desc_buf.len → NO_MEMORY
        ChecksCompositeOverflow = true,           // L1.1: check_add_overflow(offset, 16)
        RetrieveRequestSize = 48,                 // L1.1: the 48-byte v1.1 header struct
        ReclaimReleasesRx = true,                 // L1.1: ffa_rx_release after copies and on errors
        // VersionFill stays UninitialisedStack: do_ffa_version sets only a0 of an uninitialised arm_smccc_res (x1..x3 leak).
    };

    /// <summary>pkvm-6.18: Per Larsen's FF-A 1.2 series (merged at v11 for 6.18).</summary>
    public static readonly PkvmProfile Pkvm6_18 = Pkvm6_10 with
    {
        Name = "pkvm-6.18",
        Layer = "L1.2 (torvalds/linux a4a508df)",
        Summary = "FF-A 1.2 series: SMCCC 1.2 (x0..x17 both ways), notifications and optional 1.2 ABIs denied, FFA_VERSION leaks EL2 stack",
        InitVersion = 0x1_0002,                   // 162190f2: bump to 1.2
        ClearsCallHints = true,                   // digest §0: hyp-main clears ARM_SMCCC_CALL_HINTS (L1.2 and later)
        MasksMinBufferSize = true,                // 3f595291: w2 & FFA_FEAT_RXTX_MIN_SZ_MASK
        RefusesDowngradeAfterNegotiation = true,  // f4142693
        Results = ResultRegisters.X0ToX17,        // 6f4c348b: arm_smccc_1_2_regs, x0..x17 unconditionally
        DenyList = DenyL1_2.ToFrozenSet(),        // 79195f34 + 8d24683e
        MinFragment = MinFragmentRule.V1_2Structs, // L1.2: 48 + sizeof(1.2 EMAD) = 80 whatever the version
    };

    /// <summary>pkvm-7.2: the kvmarm/fixes hardening.</summary>
    public static readonly PkvmProfile Pkvm7_2 = Pkvm6_18 with
    {
        Name = "pkvm-7.2",
        Layer = "L-hard (damonitor/linux 6a7a181f)",
        Summary = "hardening: aligned constituent addresses, EMAD through ep_mem_offset with bounds, reclaim bounds, zeroed replies, (s32) checks",
        NotSupported = NotSupportedTest.Signed32, // L-hard: (s32) casts on NOT_SUPPORTED checks
        VersionFill = VersionFill.Zero,           // 2bd3c6c7: res = {0}
        MinFragment = MinFragmentRule.PerVersion, // a6b49d27: FFA_MEM_REGION_SZ(ver) + ffa_emad_size_get(ver)
        EmadOffset = EmadOffsetRule.EpMemOffset,  // b4d96135 (CVE-2026-68400)
        ChecksEmadBounds = true,                  // a6b49d27
        ChecksConstituentAlignment = true,        // 6a7a181f
        ReclaimChecksBounds = true,               // 8c6db30d
    };

    /// <summary>pkvm-7.4: kvm-arm64/ffa-7.4, notifications checked then forwarded. The newest release modelled.</summary>
    public static readonly PkvmProfile Pkvm7_4 = Pkvm7_2 with
    {
        Name = "pkvm-7.4",
        Layer = "L7.4 (analogdevicesinc/linux 0aa3b20b)",
        Summary = "notifications: BITMAP_CREATE/DESTROY, BIND, UNBIND, SET, GET checked at EL2 then forwarded; INFO_GET passes; unused registers SBZ (x7, x17 for SMC64 at 1.2)",
        NotificationsAtEl2 = true,                // 5224e6f0, 85e44f7e, 69fde06e, e3ba9aec, 88180874
        DenyList = DenyL7_4.ToFrozenSet(),        // 0aa3b20b: notifications off the deny list
        StrictSbz = true,                         // 3e9df0b0 (as quoted in review of v7 7/7; its call sites were not read)
    };

    /// <summary>
    /// pkvm-next: 7.4 plus the unmerged host direct-messaging series ("KVM: arm64: Support FF-A direct messaging
    /// interfaces", Per Larsen / Sebastian Ene; v7 of 30 Aug 2026 pending, checks as read in v6 of 1 May 2026).
    /// Opt-in only: no kernel tree has it.
    /// </summary>
    public static readonly PkvmProfile PkvmNext = Pkvm7_4 with
    {
        Name = "pkvm-next",
        Layer = "unmerged: direct-messaging series v7 (Aug 2026), checks as read in v6 (May 2026), on top of L7.4",
        Summary = "7.4 + host DIRECT_REQ/REQ2 checked at EL2 (source endpoint 0, REQ w2 = 0) and forwarded with x0..x17; REQ2/RESP2 off the deny list. NOT MERGED",
        DirectMessagesAtEl2 = true,               // v6 1/2 do_ffa_direct_msg, 2/2 REQ2
        DenyList = DenyL7_4.Except([0xC400_008Du, 0xC400_008Eu]).ToFrozenSet(), // v6 2/2: REQ2 and RESP2 off the deny list
        Merged = false,
    };

    /// <summary>Every merged release, oldest first: the one place releases are listed.</summary>
    public static IReadOnlyList<PkvmProfile> All { get; } = [Pkvm6_3, Pkvm6_10, Pkvm6_18, Pkvm7_2, Pkvm7_4];

    /// <summary>Profiles of unmerged series, selectable by name only (never a default, not in <see cref="All"/>).</summary>
    public static IReadOnlyList<PkvmProfile> Unmerged { get; } = [PkvmNext];

    public static PkvmProfile? Find(string name) => All.Concat(Unmerged).FirstOrDefault(p => p.Name == name);

    /// <summary>The host memory (VM 0) a pKVM profile needs with 4K pages: the two proxy pages come from its highest region.</summary>
    public const ulong MinHostMemory = 64 * 1024;
}
