using Spmc.Abi.Ffa;
using Spmc.Abi.Rules;

namespace Spmc.Core.Spm.Handlers;

/// <summary>Rules the SPMC applies to the RX/TX buffer ABIs (Hafnium api_ffa_rxtx_map, _rxtx_unmap, _rx_release, _rx_acquire).</summary>
public static class MailboxRules
{
    // FFA_RXTX_MAP forwarded by the hypervisor (ID 0, x1 = x2 = w3 = 0): the pair is described in its own TX buffer.
    public static readonly Rule ForwardWithoutTx = new("rxtx-map.forward-without-tx", FfaError.InvalidParameters,
        "a forwarded map needs the hypervisor's own TX buffer mapped, holding the endpoint RX/TX descriptor",
        "DEN0077 v1.3 §13.6 table 13.26; Hafnium api_get_rxtx_description");
    public static readonly Rule ForwardNotAVm = new("rxtx-map.forward-not-a-vm", FfaError.InvalidParameters,
        "a forwarded map must be for a VM other than the hypervisor itself and not the invalid ID 0x7FFF (Spmc is stricter: Hafnium does not check the ID)",
        "DEN0077 v1.3 table 13.27 (invalid endpoint ID in the endpoint RX/TX descriptor); Hafnium api_get_rxtx_description");
    public static readonly Rule ForwardNoVmSlot = new("rxtx-map.forward-no-vm-slot", FfaError.Denied,
        "a forwarded map for a VM the SPMC has no record of needs a free VM record (at most 16, Hafnium's max_vms)",
        "Hafnium api_ffa_rxtx_map (ffa_vm_find_locked_create, src/ffa/spmc/vm.c ffa_vm_nwd_alloc); hafnium-project-reference max_vms = 16");
    public static readonly Rule ForwardOneConstituent = new("rxtx-map.forward-one-constituent", FfaError.InvalidParameters,
        "each buffer of a forwarded map must be one contiguous constituent",
        "DEN0077 v1.3 table 13.27 (invalid composite in the endpoint RX/TX descriptor); Hafnium api_get_rxtx_description reads one");
    public static readonly Rule ForwardPageCounts = new("rxtx-map.forward-page-counts-differ", FfaError.InvalidParameters,
        "the RX and TX buffers of a forwarded map must have the same page count",
        "DEN0077 v1.3 table 13.26 (one page count for both buffers); Hafnium api_get_rxtx_description");

    public static readonly Rule AlreadyMapped = new("rxtx-map.already-mapped", FfaError.Denied,
        "an endpoint has at most one RX/TX pair: FFA_RXTX_UNMAP it before mapping another (checked before anything else)",
        "DEN0077 v1.3 §13.6 table 13.27; Hafnium api_vm_configure_pages");
    public static readonly Rule PageCount = new("rxtx-map.page-count", FfaError.InvalidParameters,
        "the page count must be at least 1 and at most the maximum FFA_FEATURES reports",
        "DEN0077 v1.3 table 13.27; Hafnium api_vm_configure_pages");
    public static readonly Rule Unaligned = new("rxtx-map.unaligned", FfaError.InvalidParameters,
        "the TX and RX addresses must be 4 KiB aligned (the minimum buffer size FFA_FEATURES reports)",
        "DEN0077 v1.3 table 13.27; Hafnium api_vm_configure_pages");
    public static readonly Rule AddressOverflow = new("rxtx-map.address-overflow", FfaError.InvalidParameters,
        "a buffer's address plus its size must not overflow the address space",
        "DEN0077 v1.3 table 13.27; Spmc: bounds the ranges before checking ownership");
    public static readonly Rule Overlap = new("rxtx-map.overlap", FfaError.InvalidParameters,
        "the TX and RX ranges must not overlap", "Hafnium api_vm_configure_pages");
    public static readonly Rule NoMemory = new("rxtx-map.no-memory", FfaError.NoMemory,
        "mapping the pair needs room for its pages in the system's resident-memory quota (Spmc:Quotas), checked after every parameter",
        "DEN0077 v1.3 table 13.27 (NO_MEMORY); Hafnium api_vm_configure_stage1 / api_vm_configure_pages (mapping fails for want of page-table memory)");
    public static readonly Rule VmBufferNotOwned = new("rxtx-map.vm-buffer-not-owned", FfaError.Denied,
        "a normal-world endpoint's buffers must be memory it owns exclusively",
        "DEN0077 v1.3 §13.6; Hafnium api_vm_configure_pages (normal-world page table check)");
    public static readonly Rule SpBufferNotOwned = new("rxtx-map.sp-buffer-not-owned", FfaError.InvalidParameters,
        "a partition's buffers must be memory it owns exclusively",
        "DEN0077 v1.3 table 13.27; Hafnium api_vm_configure_pages (stage-2 mode check)");
    public static readonly Rule SpBufferMixedModes = new("rxtx-map.sp-buffer-mixed-modes", FfaError.InvalidParameters,
        "each of a partition's buffers lies in pages of one mode: not read-only next to read-write, nor device next to normal memory",
        "Hafnium api_vm_configure_pages (vm_mem_get_mode over the TX, then the RX range)");
    public static readonly Rule SpTxReadOnly = new("rxtx-map.sp-tx-read-only", FfaError.InvalidParameters,
        "a partition's TX buffer must be memory it may write (its RX only needs to be readable, which all its memory is)",
        "Hafnium api_vm_configure_pages (TX needs MM_MODE_R and MM_MODE_W, RX MM_MODE_R)");

    public static readonly Rule UnmapIdNotHypervisor = new("rxtx-unmap.id-not-hypervisor", FfaError.InvalidParameters,
        "only the hypervisor (ID 0) may name a VM in w1[31:16]; other callers pass 0",
        "DEN0077 v1.3 §13.7 table 13.31; Hafnium api_ffa_rxtx_unmap");
    public static readonly Rule UnmapNotAVm = new("rxtx-unmap.not-a-vm", FfaError.InvalidParameters,
        "the endpoint named in w1[31:16] must be a VM", "Hafnium api_ffa_rxtx_unmap");
    public static readonly Rule UnmapUnknownVm = new("rxtx-unmap.unknown-vm", FfaError.InvalidParameters,
        "the VM named in w1[31:16] must be in this system", "DEN0077 v1.3 table 13.32; Hafnium api_ffa_rxtx_unmap");
    public static readonly Rule UnmapNotMapped = new("rxtx-unmap.not-mapped", FfaError.InvalidParameters,
        "the endpoint must have an RX/TX pair mapped", "DEN0077 v1.3 table 13.32; Hafnium api_ffa_rxtx_unmap");

    public static readonly Rule ReleaseIdNotHypervisor = new("rx-release.id-not-hypervisor", FfaError.InvalidParameters,
        "only the hypervisor (ID 0) may name a VM in w1[15:0]; other callers pass 0",
        "DEN0077 v1.3 §13.5 table 13.22; Hafnium api_ffa_rx_release");
    public static readonly Rule ReleaseNotAVm = new("rx-release.not-a-vm", FfaError.InvalidParameters,
        "the endpoint named in w1[15:0] must be a VM", "Hafnium api_ffa_rx_release");
    public static readonly Rule ReleaseUnknownVm = new("rx-release.unknown-vm", FfaError.InvalidParameters,
        "the VM named in w1[15:0] must be in this system", "DEN0077 v1.3 table 13.23; Hafnium api_ffa_rx_release");
    public static readonly Rule ReleaseNotMapped = new("rx-release.not-mapped", FfaError.Denied,
        "the endpoint must have an RX buffer mapped", "DEN0077 v1.3 table 13.23; Hafnium api_ffa_rx_release");
    public static readonly Rule ReleaseNotHeld = new("rx-release.not-held", FfaError.Denied,
        "the RX buffer must be held by its consumer (full, or acquired by the hypervisor), not already released",
        "DEN0077 v1.3 table 13.23; Hafnium api_release_mailbox");
    public static readonly Rule ReleaseRxFullNotificationPending = new("rx-release.rx-full-notification-pending", FfaError.Denied,
        "a full RX whose \"RX buffer full\" framework notification is still pending stays with its consumer until FFA_NOTIFICATION_GET consumes it",
        "Hafnium api_release_mailbox (vm_are_fwk_notifications_pending)");
    public static readonly Rule ReleaseImpossibleState = new("rx-release.impossible-state", FfaError.Aborted,
        "a partition's RX buffer is never owned by the hypervisor (that state is a broken invariant)",
        "Hafnium api_release_mailbox");

    public static readonly Rule AcquireNotAVm = new("rx-acquire.not-a-vm", FfaError.NotSupported,
        "FFA_RX_ACQUIRE names a VM (w1[15:0]); partitions' RX buffers cannot be acquired",
        "DEN0077 v1.3 §13.4 table 13.18; Hafnium api_ffa_rx_acquire");
    public static readonly Rule AcquireUnknownVm = new("rx-acquire.unknown-vm", FfaError.InvalidParameters,
        "the VM named in w1[15:0] must be in this system", "DEN0077 v1.3 table 13.19; Hafnium api_ffa_rx_acquire");
    public static readonly Rule AcquireNotMapped = new("rx-acquire.not-mapped", FfaError.InvalidParameters,
        "the VM must have an RX/TX pair mapped", "DEN0077 v1.3 table 13.19; Hafnium api_ffa_rx_acquire");
    public static readonly Rule AcquireNotEmpty = new("rx-acquire.not-empty", FfaError.Denied,
        "the VM's RX buffer must be empty (owned by the SPMC): not full, not already acquired",
        "DEN0077 v1.3 table 13.19; Hafnium api_ffa_rx_acquire");
}
