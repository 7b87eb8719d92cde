using Spmc.Abi.Ffa;
using Spmc.Abi.Rules;

namespace Spmc.Core.Spm.Handlers;

/// <summary>The SPMC's rules for FFA_MEM_RELINQUISH (DEN0077 v1.2 §13.24; Hafnium api_ffa_mem_relinquish, ffa_memory_relinquish).</summary>
public static class MemoryRelinquishRules
{
    private const string Relinquish = "DEN0077 v1.2 §13.24";

    public static readonly Rule NoTxBuffer = new("mem-relinquish.no-tx-buffer", FfaError.InvalidParameters,
        "the caller must have an RX/TX pair mapped: the relinquish descriptor is read from its TX buffer",
        $"{Relinquish}; Hafnium api_ffa_mem_relinquish");
    public static readonly Rule EndpointCount = new("mem-relinquish.endpoint-count", FfaError.InvalidParameters,
        "the relinquish descriptor names exactly one endpoint", "Hafnium ffa_memory_relinquish");
    public static readonly Rule EndpointNotCaller = new("mem-relinquish.endpoint-not-caller", FfaError.InvalidParameters,
        "the endpoint must be the caller (or a VM, when the hypervisor relinquishes for it)", "Hafnium ffa_memory_relinquish");
    public static readonly Rule FlagsReserved = new("mem-relinquish.flags-reserved", FfaError.InvalidParameters,
        "only flags bit 0 (zero memory) may be set; time slicing is not supported", "Hafnium ffa_memory_relinquish");
    public static readonly Rule HandleHypervisorAllocated = new("mem-relinquish.handle-hypervisor-allocated", FfaError.InvalidParameters,
        "the handle must be one the SPMC allocated (bit 63 clear)", "Hafnium ffa_memory_relinquish");
    public static readonly Rule UnknownHandle = new("mem-relinquish.unknown-handle", FfaError.InvalidParameters,
        "the handle must name an outstanding transaction (a retrieved donation is gone)", "Hafnium ffa_memory_relinquish, share_state_get");
    public static readonly Rule HandleIncomplete = new("mem-relinquish.handle-incomplete", FfaError.InvalidParameters,
        "the transaction must be completely sent (every fragment received)", "Hafnium ffa_memory_relinquish");
    public static readonly Rule NotAReceiver = new("mem-relinquish.not-a-receiver", FfaError.InvalidParameters,
        "the endpoint must be a receiver of the transaction", "Hafnium ffa_memory_relinquish");
    public static readonly Rule NotRetrieved = new("mem-relinquish.not-retrieved", FfaError.InvalidParameters,
        "the endpoint must have retrieved the memory", "Hafnium ffa_memory_relinquish");
    public static readonly Rule ResponsePending = new("mem-relinquish.response-pending", FfaError.InvalidParameters,
        "the endpoint must have pulled every fragment of its retrieve response", "Hafnium ffa_memory_relinquish");
    public static readonly Rule ShareZero = new("mem-relinquish.share-zero", FfaError.InvalidParameters,
        "shared memory cannot be zeroed on relinquish", "Hafnium ffa_memory_relinquish");
    public static readonly Rule ReadOnlyZero = new("mem-relinquish.read-only-zero", FfaError.Denied,
        "a read-only borrower cannot zero the memory", "Hafnium ffa_relinquish_check_update");
}

/// <summary>The SPMC's rules for FFA_MEM_RECLAIM (DEN0077 v1.2 §13.25; Hafnium api_ffa_mem_reclaim, ffa_memory_reclaim).</summary>
public static class MemoryReclaimRules
{
    public static readonly Rule HandleHypervisorAllocated = new("mem-reclaim.handle-hypervisor-allocated", FfaError.InvalidParameters,
        "the handle must be one the SPMC allocated (bit 63 clear): the SPMC does not know the hypervisor's",
        "Hafnium api_ffa_mem_reclaim (ffa_memory_is_handle_allocated_by_current_world)");
    public static readonly Rule UnknownHandle = new("mem-reclaim.unknown-handle", FfaError.InvalidParameters,
        "the handle must name an outstanding transaction", "Hafnium ffa_memory_reclaim, share_state_get");
    public static readonly Rule HandleIncomplete = new("mem-reclaim.handle-incomplete", FfaError.InvalidParameters,
        "the transaction must be completely sent (every fragment received)", "Hafnium ffa_memory_reclaim");
    public static readonly Rule NotSender = new("mem-reclaim.not-sender", FfaError.InvalidParameters,
        "only the sender reclaims (the hypervisor for a VM's transaction)", "Hafnium ffa_memory_reclaim");
    public static readonly Rule StillHeld = new("mem-reclaim.still-held", FfaError.Denied,
        "every borrower must have relinquished the memory first", "DEN0077 v1.2 §13.25; Hafnium ffa_memory_reclaim");
    public static readonly Rule ZeroReadOnly = new("mem-reclaim.zero-read-only", FfaError.Denied,
        "memory that is read-only to its sender cannot be zeroed on reclaim (flags bit 0)",
        "Hafnium ffa_memory_reclaim → ffa_retrieve_check_update (clear without write in the sender's original mode: DENIED)");
}
