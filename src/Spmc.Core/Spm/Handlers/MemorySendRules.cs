using Spmc.Abi.Ffa;
using Spmc.Abi.Rules;

namespace Spmc.Core.Spm.Handlers;

/// <summary>
/// The SPMC's rules for FFA_MEM_SHARE, FFA_MEM_LEND and FFA_MEM_DONATE (one family, <c>mem-send</c>: the three ABIs
/// validate the same descriptor) and their continuation FFA_MEM_FRAG_TX. Declared in Hafnium's check order
/// (api_ffa_mem_send, ffa_memory_send_validate, ffa_memory_send_complete). Register rules are in
/// <see cref="Spmc.Abi.Calls.MemoryCallRules"/>; descriptor parse rules come with the descriptor decoders.
/// </summary>
public static class MemorySendRules
{
    private const string Send = "DEN0077 v1.2 §13.19-§13.21";

    // ---- registers and buffers (api_ffa_mem_send) -----------------------------------------------------------

    public static readonly Rule DynamicBuffer = new("mem-send.dynamic-buffer", FfaError.InvalidParameters,
        "x3/x4 must be zero: the descriptor is in the TX buffer, dynamically allocated buffers are not supported",
        $"{Send}; Hafnium api_ffa_mem_send (FFA_FEATURES reports no dynamic buffer support)");
    public static readonly Rule FragmentExceedsTotal = new("mem-send.fragment-exceeds-total", FfaError.InvalidParameters,
        "the fragment length must not exceed the total length", $"{Send}; Hafnium api_ffa_mem_send");
    public static readonly Rule NoTxBuffer = new("mem-send.no-tx-buffer", FfaError.InvalidParameters,
        "the caller must have an RX/TX pair mapped: the descriptor is read from its TX buffer", $"{Send}; Hafnium api_ffa_mem_send");
    public static readonly Rule FragmentExceedsTx = new("mem-send.fragment-exceeds-tx", FfaError.InvalidParameters,
        "the fragment length must not exceed the caller's TX buffer", $"{Send}; Hafnium api_ffa_mem_send");
    public static readonly Rule V1_0FragmentTooLong = new("mem-send.v1-0-fragment-too-long", FfaError.InvalidParameters,
        $"a v1.0 caller's fragment is at most {FfaPage.Size} bytes (Hafnium converts v1.0 descriptors within one page)",
        "Hafnium api_ffa_mem_send, api_ffa_memory_transaction_descriptor_v1_1_from_v1_0");
    public static readonly Rule TooManyFragments = new("mem-send.too-many-fragments", FfaError.NoMemory,
        $"the total length must fit in {MemorySendHandlers.MaxFragments} fragments of the TX buffer's size (Hafnium's limit)",
        "Hafnium MAX_FRAGMENTS (platform.gni), ffa_memory_fragment_alloc; Spmc: checked up front from the total length");

    // ---- descriptor structure (ffa_memory_region_sanity_check, ffa_memory_send_validate) ----------------------

    public static readonly Rule EmadSize = new("mem-send.emad-size", FfaError.InvalidParameters,
        "the receiver descriptor size must be one the caller's version defines: 16 bytes before v1.2, 16 or 32 from v1.2",
        $"{Send}; Hafnium receiver_size_and_offset_valid_for_version");
    public static readonly Rule NoReceivers = new("mem-send.no-receivers", FfaError.InvalidParameters,
        "a send must name at least one receiver", $"{Send}; Hafnium ffa_memory_region_sanity_check");
    public static readonly Rule TooManyReceivers = new("mem-send.too-many-receivers", FfaError.InvalidParameters,
        $"a send names at most {MemorySendHandlers.MaxReceivers} receivers (Hafnium's limit)", "Hafnium MAX_MEM_SHARE_RECIPIENTS (platform.gni), ffa_memory_region_sanity_check");
    public static readonly Rule FirstFragmentTooShort = new("mem-send.first-fragment-too-short", FfaError.InvalidParameters,
        "the first fragment must hold the header, every receiver descriptor and the composite header",
        $"{Send}; Hafnium ffa_memory_send_validate");
    public static readonly Rule LengthsUnaligned = new("mem-send.lengths-unaligned", FfaError.InvalidParameters,
        "the total and fragment lengths must be multiples of 16", $"{Send}; Hafnium ffa_memory_send_validate");
    public static readonly Rule CompositeOffsetsDiffer = new("mem-send.composite-offsets-differ", FfaError.InvalidParameters,
        "every receiver descriptor must name the same composite offset", "Hafnium ffa_memory_region_sanity_check");
    public static readonly Rule CompositeOffsetZero = new("mem-send.composite-offset-zero", FfaError.InvalidParameters,
        "the composite offset must not be 0: a send describes its memory", "Hafnium ffa_memory_region_sanity_check");
    public static readonly Rule CompositeOffsetOverlaps = new("mem-send.composite-offset-overlaps", FfaError.InvalidParameters,
        "the composite must start after the header and the receiver descriptors", "Hafnium ffa_memory_send_validate");
    public static readonly Rule CompositeOffsetUnaligned = new("mem-send.composite-offset-unaligned", FfaError.InvalidParameters,
        "the composite offset must be 16-byte aligned", "Hafnium ffa_memory_send_validate");
    public static readonly Rule CompositeOutsideFragment = new("mem-send.composite-outside-fragment", FfaError.InvalidParameters,
        "the composite header must lie inside the first fragment", "Hafnium ffa_memory_region_sanity_check");
    public static readonly Rule NoConstituents = new("mem-send.no-constituents", FfaError.InvalidParameters,
        "the composite must have at least one constituent", "Hafnium ffa_memory_send_validate");
    public static readonly Rule TotalLengthMismatch = new("mem-send.total-length-mismatch", FfaError.InvalidParameters,
        "the total length must be the composite offset plus the composite header and its constituents",
        "Hafnium ffa_memory_send_validate");
    public static readonly Rule TooManyConstituents = new("mem-send.too-many-constituents", FfaError.NoMemory,
        "a transaction describes at most Spmc:Quotas:MaxConstituentsPerTransaction constituents (default 5120, what Hafnium's default build holds: 20 fragments of a 4 KiB mailbox)",
        "Hafnium api_ffa_mem_send and ffa_memory_send_continue_validate answer NO_MEMORY when the descriptor cannot be held (ffa_memory_fragment_alloc fails, MAX_FRAGMENTS reached); Spmc: checked up front from the composite's count");

    // ---- flags and receivers (ffa_memory_send_validate) -------------------------------------------------------

    public static readonly Rule ShareZeroMemory = new("mem-send.share-zero-memory", FfaError.InvalidParameters,
        "FFA_MEM_SHARE cannot ask to zero the memory (flags bit 0)", "Hafnium ffa_memory_send_validate");
    public static readonly Rule FlagsReserved = new("mem-send.flags-reserved", FfaError.InvalidParameters,
        "a sender may set only flags bit 0 (zero memory); time slicing (bit 1) is not supported",
        "Hafnium ffa_memory_send_validate");
    public static readonly Rule DonateOneReceiver = new("mem-send.donate-one-receiver", FfaError.InvalidParameters,
        "FFA_MEM_DONATE names exactly one receiver", "DEN0077 v1.2 §13.19; Hafnium ffa_memory_send_validate");
    public static readonly Rule SenderNotCaller = new("mem-send.sender-not-caller", FfaError.Denied,
        "the descriptor's sender must be the caller; only the hypervisor (ID 0) sends for other VMs",
        "Hafnium api_ffa_mem_send (sender ID check)");
    public static readonly Rule NormalWorldSendsAsSp = new("mem-send.nwd-sender-is-sp", FfaError.Denied,
        "the normal world cannot name a secure partition as the sender", "Hafnium api_ffa_mem_send (sender ID check)");
    public static readonly Rule ReceiverIsSender = new("mem-send.receiver-is-sender", FfaError.InvalidParameters,
        "a receiver cannot be the sender or the caller", "Hafnium api_ffa_mem_send (to == from), ffa_memory_send_validate");
    public static readonly Rule ReceiverDuplicate = new("mem-send.receiver-duplicate", FfaError.InvalidParameters,
        "each receiver is listed once", "Hafnium ffa_memory_send_validate");
    public static readonly Rule ReceiverUnknown = new("mem-send.receiver-unknown", FfaError.InvalidParameters,
        "each secure receiver must be a partition of this system (a VM receiver is not looked up: any VM ID, declared or not)",
        "Hafnium api_ffa_mem_send (vm_find of each receiver: NULL is an error for secure IDs only)");
    public static readonly Rule ReceiverReservedBits = new("mem-send.receiver-reserved-bits", FfaError.InvalidParameters,
        "the reserved bits of a receiver's permissions and flags must be zero", "Hafnium ffa_memory_region_sanity_check");
    public static readonly Rule PermissionReserved = new("mem-send.permission-reserved", FfaError.InvalidParameters,
        "data or instruction access value 3 is reserved", "Hafnium ffa_memory_send_validate");
    public static readonly Rule InstructionAccessSpecified = new("mem-send.instruction-access-specified", FfaError.InvalidParameters,
        "the sender must leave instruction access unspecified (the borrower chooses; SHARE is always NX)",
        "Hafnium ffa_memory_send_validate");
    public static readonly Rule DataAccessMissing = new("mem-send.data-access-missing", FfaError.InvalidParameters,
        "SHARE and LEND must give RO or RW data access", "Hafnium ffa_memory_send_validate");
    public static readonly Rule DonateDataAccess = new("mem-send.donate-data-access", FfaError.InvalidParameters,
        "DONATE must leave data access unspecified (the receiver chooses)", "Hafnium ffa_memory_send_validate");
    public static readonly Rule ReceiverFlags = new("mem-send.receiver-flags", FfaError.InvalidParameters,
        "a receiver's access descriptor flags must be zero in a send", "Hafnium ffa_memory_send_validate");
    public static readonly Rule SpToNormalWorld = new("mem-send.sp-to-nwd", FfaError.Denied,
        "a secure partition cannot send memory to the normal world", "Hafnium api_ffa_mem_send, ffa_memory_is_send_valid");
    public static readonly Rule NormalWorldLendToVm = new("mem-send.nwd-lend-to-vm", FfaError.Denied,
        "a normal-world LEND or DONATE through the SPMC goes to secure partitions only (a SHARE may add VMs)",
        "Hafnium api_ffa_mem_send, ffa_memory_is_send_valid");
    public static readonly Rule NoSecureReceiver = new("mem-send.no-sp-receiver", FfaError.Denied,
        "a normal-world SHARE to one receiver goes to a secure partition (a SHARE to several receivers may name VMs only)",
        "Hafnium api_ffa_mem_send, ffa_memory_is_send_valid");
    public static readonly Rule ShareStatesExhausted = new("mem-send.share-states-exhausted", FfaError.NoMemory,
        $"at most {MemorySendHandlers.MaxShareStates} transactions are outstanding (Hafnium's limit)", "Hafnium MAX_MEM_SHARES (platform.gni), share_state_allocate");

    // ---- constituents and pages, once the last fragment arrived (ffa_memory_send_complete) -------------------

    public static readonly Rule ConstituentUnaligned = new("mem-send.constituent-unaligned", FfaError.InvalidParameters,
        "each constituent's address is 4 KiB aligned", "Hafnium ffa_send_check_update");
    public static readonly Rule ConstituentEmpty = new("mem-send.constituent-empty", FfaError.InvalidParameters,
        "each constituent has at least one page", "Hafnium ffa_memory_check_overlap");
    public static readonly Rule ConstituentOverflows = new("mem-send.constituent-overflows", FfaError.InvalidParameters,
        "a constituent must not run past the end of the address space", "Hafnium ffa_memory_check_overlap");
    public static readonly Rule PageCountMismatch = new("mem-send.page-count-mismatch", FfaError.InvalidParameters,
        "the composite's total page count is the sum of its constituents' page counts", "Hafnium ffa_memory_send_complete");
    public static readonly Rule ConstituentsOverlap = new("mem-send.constituents-overlap", FfaError.InvalidParameters,
        "constituents must not overlap", "Hafnium ffa_memory_check_overlap");

    // ffa_send_check_transition, in its order: the sender's mode over every constituent, its memory type, ownership,
    // then what the mode allows (zeroing, each receiver's access). The mode is the manifest region's
    // "access" (ro/rw) and "device" of the sender's pages.
    public static readonly Rule MixedModes = new("mem-send.mixed-modes", FfaError.Denied,
        "every page the sender sends has the same mode: not read-only next to read-write, nor device next to normal memory",
        "Hafnium ffa_send_check_transition → constituents_get_mode");
    public static readonly Rule DeviceAsNormal = new("mem-send.device-as-normal", FfaError.Denied,
        "device memory cannot be sent with the Normal memory type (device is the stricter type)",
        "Hafnium ffa_send_check_transition (attributes.type Normal with MM_MODE_D)");
    public static readonly Rule DeviceNotSingleLend = new("mem-send.device-not-single-lend", FfaError.Denied,
        "device memory can only be lent, to exactly one borrower (no SHARE, no DONATE, no multi-borrower LEND)",
        "Hafnium ffa_send_check_transition (MM_MODE_D and not a LEND with receiver_count 1)");
    public static readonly Rule NotOwnedExclusively = new("mem-send.not-owned-exclusively", FfaError.Denied,
        "the sender must own every page exclusively: mapped, its own, not an RX/TX buffer, in no other transaction",
        "Hafnium ffa_send_check_transition (state_mask of the sender's mode)");
    public static readonly Rule ZeroReadOnly = new("mem-send.zero-read-only", FfaError.Denied,
        "memory the sender may only read cannot be zeroed (flags bit 0 on read-only pages)",
        "Hafnium ffa_send_check_transition (no MM_MODE_W and clear)");
    public static readonly Rule ReadWriteOverReadOnly = new("mem-send.rw-over-ro", FfaError.Denied,
        "a receiver cannot be given read-write access to pages the sender may only read",
        "Hafnium ffa_send_check_transition (required_from_mode of each receiver's permissions)");
}

/// <summary>The SPMC's rules for FFA_MEM_FRAG_TX (DEN0077 v1.2 §13.31; Hafnium api_ffa_mem_frag_tx, ffa_memory_send_continue).</summary>
public static class MemoryFragTxRules
{
    private const string FragTx = "DEN0077 v1.2 §13.31";

    public static readonly Rule SpNamesSender = new("mem-frag-tx.sp-names-sender", FfaError.InvalidParameters,
        "w4[31:16] (the sender) is the hypervisor's to set: a secure partition passes 0", $"{FragTx}; Hafnium api_ffa_mem_frag_tx");
    public static readonly Rule NoTxBuffer = new("mem-frag-tx.no-tx-buffer", FfaError.InvalidParameters,
        "the caller must have an RX/TX pair mapped: the fragment is read from its TX buffer", $"{FragTx}; Hafnium api_ffa_mem_frag_tx");
    public static readonly Rule BadLength = new("mem-frag-tx.bad-length", FfaError.InvalidParameters,
        "the fragment length is a multiple of 16 between 16 and the TX buffer's size", $"{FragTx}; Hafnium api_ffa_mem_frag_tx");
    public static readonly Rule UnknownHandle = new("mem-frag-tx.unknown-handle", FfaError.InvalidParameters,
        "the handle must name a transaction being sent", "Hafnium ffa_memory_send_continue_validate");
    public static readonly Rule AlreadyComplete = new("mem-frag-tx.already-complete", FfaError.InvalidParameters,
        "the transaction must still be waiting for fragments", "Hafnium ffa_memory_send_continue_validate");
    public static readonly Rule NotSender = new("mem-frag-tx.not-sender", FfaError.InvalidParameters,
        "only the sender (or the hypervisor for a VM's transaction) sends its fragments", "Hafnium ffa_memory_send_continue_validate");
    public static readonly Rule W4NotSender = new("mem-frag-tx.w4-not-sender", FfaError.InvalidParameters,
        "a non-zero w4[31:16] must name the transaction's sender", "Hafnium ffa_memory_send_continue_validate");
    public static readonly Rule Overrun = new("mem-frag-tx.overrun", FfaError.InvalidParameters,
        "a fragment must not run past the total length", "Hafnium ffa_memory_send_continue");
    public static readonly Rule TooManyFragments = new("mem-frag-tx.too-many-fragments", FfaError.NoMemory,
        $"a transaction has at most {MemorySendHandlers.MaxFragments} fragments; beyond that it is dropped",
        "Hafnium MAX_FRAGMENTS (platform.gni), ffa_memory_send_continue");
}
