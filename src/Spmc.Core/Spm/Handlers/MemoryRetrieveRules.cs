using Spmc.Abi.Ffa;
using Spmc.Abi.Rules;

namespace Spmc.Core.Spm.Handlers;

/// <summary>
/// The SPMC's rules for a borrower's FFA_MEM_RETRIEVE_REQ (DEN0077 v1.2 §13.22), in Hafnium's check order
/// (api_ffa_mem_retrieve_req, ffa_memory_retrieve_validate, ffa_memory_retrieve_validate_memory_access_list,
/// ffa_memory_retrieve_is_memory_access_valid). The hypervisor retrieve request has its own family
/// (<see cref="MemoryHypervisorRetrieveRules"/>), the answer's continuation FFA_MEM_FRAG_RX too (<see cref="MemoryFragRxRules"/>).
/// </summary>
public static class MemoryRetrieveRules
{
    private const string Retrieve = "DEN0077 v1.2 §13.22";

    public static readonly Rule FeaturesNsBit = new("mem-retrieve.features-ns-bit", FfaError.NotSupported,
        "FFA_FEATURES(FFA_MEM_RETRIEVE_REQ): a v1.1+ caller must set input property bit 1 (it handles the NS bit)",
        "DEN0077 v1.2 §13.3 (FFA_MEM_RETRIEVE_REQ input properties); Hafnium api_ffa_features");

    // ---- registers and buffers (api_ffa_mem_retrieve_req) ----------------------------------------------------

    public static readonly Rule DynamicBuffer = new("mem-retrieve.dynamic-buffer", FfaError.InvalidParameters,
        "x3/x4 must be zero: the request is in the TX buffer, dynamically allocated buffers are not supported",
        $"{Retrieve}; Hafnium api_ffa_mem_retrieve_req");
    public static readonly Rule Fragmented = new("mem-retrieve.fragmented", FfaError.InvalidParameters,
        "a retrieve request is not fragmented: the fragment length equals the total length", $"{Retrieve}; Hafnium api_ffa_mem_retrieve_req");
    public static readonly Rule NoTxBuffer = new("mem-retrieve.no-tx-buffer", FfaError.InvalidParameters,
        "the caller must have an RX/TX pair mapped: the request is read from its TX buffer", $"{Retrieve}; Hafnium api_ffa_mem_retrieve_req");
    public static readonly Rule ExceedsTx = new("mem-retrieve.exceeds-tx", FfaError.InvalidParameters,
        "the request must fit in the caller's TX buffer", $"{Retrieve}; Hafnium api_ffa_mem_retrieve_req");
    public static readonly Rule RxBusy = new("mem-retrieve.rx-busy", FfaError.Busy,
        "the caller's RX buffer must be free for the response (released, not held by the hypervisor)",
        $"{Retrieve}; Hafnium api_ffa_mem_retrieve_req");

    // ---- the request's structure and the transaction it names (ffa_memory_retrieve_validate) ------------------

    public static readonly Rule EmadSize = new("mem-retrieve.emad-size", FfaError.InvalidParameters,
        "the receiver descriptor size must be one the caller's version defines: 16 bytes before v1.2, 16 or 32 from v1.2",
        $"{Retrieve}; Hafnium receiver_size_and_offset_valid_for_version");
    public static readonly Rule CompositeOffsetNonZero = new("mem-retrieve.composite-offset-nonzero", FfaError.InvalidParameters,
        "a retrieve request gives composite offset 0 in every receiver descriptor (the handle names the memory)",
        "Hafnium ffa_memory_retrieve_validate_memory_access_list");
    public static readonly Rule HandleHypervisorAllocated = new("mem-retrieve.handle-hypervisor-allocated", FfaError.InvalidParameters,
        "the handle must be one the SPMC allocated (bit 63 clear)", "DEN0077 v1.2 memory handle (bit 63: allocated by the hypervisor); Hafnium api_ffa_mem_retrieve_req");
    public static readonly Rule UnknownHandle = new("mem-retrieve.unknown-handle", FfaError.InvalidParameters,
        "the handle must name an outstanding transaction", "Hafnium ffa_memory_retrieve, share_state_get");
    public static readonly Rule HandleIncomplete = new("mem-retrieve.handle-incomplete", FfaError.InvalidParameters,
        "the transaction must be completely sent (every fragment received)", "Hafnium share_state_sending_complete");
    public static readonly Rule LengthMismatch = new("mem-retrieve.length-mismatch", FfaError.InvalidParameters,
        "the request is the header and its receiver descriptors, nothing more", "Hafnium ffa_memory_retrieve_validate");
    public static readonly Rule WrongSender = new("mem-retrieve.wrong-sender", FfaError.Denied,
        "the request's sender must be the transaction's sender", "Hafnium ffa_memory_retrieve_validate");
    public static readonly Rule WrongType = new("mem-retrieve.wrong-type", FfaError.InvalidParameters,
        "a transaction type in the flags (bits[4:3]) must be the transaction's", "Hafnium ffa_memory_retrieve_validate");
    public static readonly Rule WrongTag = new("mem-retrieve.wrong-tag", FfaError.InvalidParameters,
        "the request's tag must be the sender's", "Hafnium ffa_memory_retrieve_validate");
    public static readonly Rule HypervisorSeveralVms = new("mem-retrieve.hypervisor-several-vms", FfaError.NotSupported,
        "the hypervisor retrieves for one normal-world receiver at a time", "Hafnium ffa_memory_retrieve_validate");
    public static readonly Rule NotAReceiver = new("mem-retrieve.not-a-receiver", FfaError.InvalidParameters,
        "the caller (or the VM the hypervisor retrieves for) must be a receiver of the transaction", "Hafnium ffa_memory_retrieve_validate");

    // ---- flags (ffa_memory_retrieve_validate) ------------------------------------------------------------------

    public static readonly Rule AlignmentHint = new("mem-retrieve.alignment-hint", FfaError.InvalidParameters,
        "address-range alignment hints (flags bits[9:5]) are not supported", "Hafnium ffa_memory_retrieve_validate");
    public static readonly Rule FlagsReserved = new("mem-retrieve.flags-reserved", FfaError.InvalidParameters,
        "reserved flag bits must be zero (bits[31:10]; bits[31:11] for a v1.2 caller, which may bypass the multiple-borrower check)",
        "Hafnium ffa_memory_retrieve_validate");
    public static readonly Rule ShareZero = new("mem-retrieve.share-zero", FfaError.InvalidParameters,
        "shared memory cannot be zeroed (flags bits 0 and 2 are for LEND and DONATE)", "Hafnium ffa_memory_retrieve_validate");
    public static readonly Rule ZeroWithoutConsent = new("mem-retrieve.zero-without-consent", FfaError.Denied,
        "zeroing before retrieve (flags bit 0) needs the sender to have asked for it", "Hafnium ffa_memory_retrieve_validate");

    // ---- the receiver list (ffa_memory_retrieve_validate_memory_access_list) ------------------------------------

    public static readonly Rule BypassMisuse = new("mem-retrieve.bypass-misuse", FfaError.InvalidParameters,
        "the bypass flag (bit 10) needs exactly one listed receiver and a transaction with several",
        "DEN0077 v1.2 memory transaction descriptor flags; Hafnium ffa_memory_retrieve_validate_memory_access_list");
    public static readonly Rule ReceiverCount = new("mem-retrieve.receiver-count", FfaError.InvalidParameters,
        "without the bypass flag, the request lists as many receivers as the transaction has",
        "Hafnium ffa_memory_retrieve_validate_memory_access_list");
    public static readonly Rule ReceiverDuplicate = new("mem-retrieve.receiver-duplicate", FfaError.InvalidParameters,
        "each receiver is listed once", "Hafnium ffa_memory_retrieve_validate_memory_access_list");
    public static readonly Rule ReceiverNotInTransaction = new("mem-retrieve.receiver-not-in-transaction", FfaError.Denied,
        "every listed receiver must be a receiver of the transaction", "Hafnium ffa_memory_retrieve_validate_memory_access_list");
    public static readonly Rule ReceiverReservedBits = new("mem-retrieve.receiver-reserved-bits", FfaError.InvalidParameters,
        "the reserved bits of a listed receiver's permissions must be zero", "Hafnium ffa_memory_retrieve_validate_memory_access_list");
    public static readonly Rule RetrieverNotListed = new("mem-retrieve.retriever-not-listed", FfaError.InvalidParameters,
        "the request lists the retriever itself", "Hafnium ffa_memory_retrieve_validate_memory_access_list");

    // ---- the access granted (ffa_memory_retrieve_is_memory_access_valid) ---------------------------------------

    public static readonly Rule BorrowerFlag = new("mem-retrieve.borrower-flag", FfaError.InvalidParameters,
        "the retriever's own access descriptor must not carry the non-retrieval borrower flag",
        "Hafnium ffa_memory_retrieve_validate_memory_access_list");
    public static readonly Rule PermissionReserved = new("mem-retrieve.permission-reserved", FfaError.InvalidParameters,
        "data or instruction access value 3 is reserved", "Hafnium ffa_memory_retrieve_is_memory_access_valid");
    public static readonly Rule ReadWriteOverReadOnly = new("mem-retrieve.rw-over-ro", FfaError.Denied,
        "the retriever cannot ask for RW when the sender granted RO", "Hafnium ffa_memory_retrieve_is_memory_access_valid");
    public static readonly Rule InstructionAccessSpecified = new("mem-retrieve.instruction-access-specified", FfaError.InvalidParameters,
        "instruction access is left unspecified for shared memory and memory lent to several borrowers (it is NX)",
        "Hafnium ffa_memory_retrieve_is_memory_access_valid");
    public static readonly Rule InstructionAccessMissing = new("mem-retrieve.instruction-access-missing", FfaError.InvalidParameters,
        "a single borrower of lent or donated memory asks for NX or X", "Hafnium ffa_memory_retrieve_is_memory_access_valid");
    public static readonly Rule ExecutableNonSecure = new("mem-retrieve.executable-ns-memory", FfaError.InvalidParameters,
        "X on non-secure memory cannot be granted to a secure partition (no RME)", "Hafnium ffa_memory_retrieve_is_memory_access_valid");
    public static readonly Rule ReadOnlyZero = new("mem-retrieve.read-only-zero", FfaError.Denied,
        "read-only access cannot be combined with the zeroing flags (bits 0 and 2)", "Hafnium ffa_memory_retrieve_validate");
    public static readonly Rule ImplementationDefinedMismatch = new("mem-retrieve.impdef-mismatch", FfaError.InvalidParameters,
        "with v1.2 descriptors on both sides, the implementation-defined value is the sender's",
        "DEN0077 v1.2 endpoint memory access descriptor; Hafnium ffa_memory_retrieve_validate_memory_access_list");
    public static readonly Rule DeviceAsNormal = new("mem-retrieve.device-as-normal", FfaError.Denied,
        "device memory (the sender's pages, or a send with the Device type) cannot be retrieved with the Normal memory type",
        "Hafnium ffa_partition_retrieve_request (attributes.type Normal with sender_orig_mode & MM_MODE_D, or a Device send)");
    public static readonly Rule AlreadyRetrieved = new("mem-retrieve.already-retrieved", FfaError.Denied,
        "a borrower retrieves a transaction once until it relinquishes it", "Hafnium ffa_retrieve_check_transition");
}

/// <summary>
/// The SPMC's rules for the hypervisor retrieve request: FFA_MEM_RETRIEVE_REQ from ID 0 with no receivers, which
/// reads back a whole transaction as sent (DEN0077 v1.2 §17.4.3; Hafnium ffa_hypervisor_retrieve_request,
/// api_ffa_memory_hypervisor_retrieve_request_validate).
/// </summary>
public static class MemoryHypervisorRetrieveRules
{
    public static readonly Rule NotHypervisor = new("mem-hyp-retrieve.not-hypervisor", FfaError.InvalidParameters,
        "a retrieve request with no receivers is the hypervisor's (ID 0) only",
        "DEN0077 v1.2 §17.4.3; Spmc: Hafnium asserts instead of answering");
    public static readonly Rule FieldsNotZero = new("mem-hyp-retrieve.fields-not-zero", FfaError.InvalidParameters,
        "a hypervisor retrieve request is zero but for its handle: sender, attributes, flags, tag (v1.0 header), and the receiver descriptor size and offset (v1.1+); the length is not checked",
        "DEN0077 v1.2 §17.4.3; Hafnium api_ffa_memory_hypervisor_retrieve_request_validate");
    public static readonly Rule HandleHypervisorAllocated = new("mem-hyp-retrieve.handle-hypervisor-allocated", FfaError.InvalidParameters,
        "the handle must be one the SPMC allocated (bit 63 clear)", "Hafnium api_ffa_memory_hypervisor_retrieve_request_validate");
    public static readonly Rule UnknownHandle = new("mem-hyp-retrieve.unknown-handle", FfaError.InvalidParameters,
        "the handle must name an outstanding transaction", "Hafnium ffa_hypervisor_retrieve_request, share_state_get");
    public static readonly Rule HandleIncomplete = new("mem-hyp-retrieve.handle-incomplete", FfaError.InvalidParameters,
        "the transaction must be completely sent (every fragment received)", "Hafnium share_state_sending_complete");
    public static readonly Rule InProgress = new("mem-hyp-retrieve.in-progress", FfaError.Denied,
        "one hypervisor retrieve of a handle at a time: pull its fragments with FFA_MEM_FRAG_RX first",
        "Hafnium ffa_hypervisor_retrieve_request");
    public static readonly Rule FragmentExceedsRx = new("mem-hyp-retrieve.fragment-exceeds-rx", FfaError.Aborted,
        "each fragment of the response is one of the sender's fragments and must fit the hypervisor's RX",
        "Hafnium ffa_hypervisor_retrieve_request, ffa_memory_retrieve_continue (a CHECK: Hafnium panics; Spmc answers ABORTED)");
}

/// <summary>
/// The SPMC's rules for FFA_MEM_FRAG_RX, the continuation of a retrieve response (DEN0077 v1.2 §13.30; Hafnium
/// api_ffa_mem_frag_rx, ffa_memory_retrieve_continue).
/// </summary>
public static class MemoryFragRxRules
{
    private const string FragRx = "DEN0077 v1.2 §13.30";

    public static readonly Rule SpNamesSender = new("mem-frag-rx.sp-names-sender", FfaError.InvalidParameters,
        "w4[31:16] (the sender) is the hypervisor's to set: a secure partition passes 0", $"{FragRx}; Hafnium api_ffa_mem_frag_rx");
    public static readonly Rule RxBusy = new("mem-frag-rx.rx-busy", FfaError.Busy,
        "the caller's RX buffer must be mapped and free for the next fragment (FFA_RX_RELEASE between fragments)",
        $"{FragRx}; Hafnium api_ffa_mem_frag_rx");
    public static readonly Rule HandleHypervisorAllocated = new("mem-frag-rx.handle-hypervisor-allocated", FfaError.InvalidParameters,
        "the handle must be one the SPMC allocated (bit 63 clear)", "Hafnium api_ffa_mem_frag_rx");
    public static readonly Rule UnknownHandle = new("mem-frag-rx.unknown-handle", FfaError.InvalidParameters,
        "the handle must name an outstanding transaction", "Hafnium ffa_memory_retrieve_continue, share_state_get");
    public static readonly Rule HandleIncomplete = new("mem-frag-rx.handle-incomplete", FfaError.InvalidParameters,
        "the transaction must be completely sent (every fragment received)", "Hafnium ffa_memory_retrieve_continue");
    public static readonly Rule W4NotSender = new("mem-frag-rx.w4-not-sender", FfaError.InvalidParameters,
        "w4[31:16] must name the transaction's sender: always for the hypervisor pulling its retrieve, when non-zero otherwise",
        "Hafnium ffa_memory_retrieve_continue");
    public static readonly Rule NotAReceiver = new("mem-frag-rx.not-a-receiver", FfaError.InvalidParameters,
        "the caller must be a receiver of the transaction (or the hypervisor pulling a VM's or its own response)",
        "Hafnium ffa_memory_retrieve_continue");
    public static readonly Rule NoResponse = new("mem-frag-rx.no-response", FfaError.InvalidParameters,
        "a retrieve response must be in delivery for the caller", "Hafnium ffa_memory_retrieve_continue");
    public static readonly Rule WrongOffset = new("mem-frag-rx.wrong-offset", FfaError.InvalidParameters,
        "the fragment offset is the number of response bytes already delivered", "Hafnium ffa_memory_retrieve_continue");
}
