using Spmc.Abi.Ffa;
using Spmc.Abi.Rules;

namespace Spmc.Core.Spm.Handlers;

/// <summary>
/// The SPMC's rules for FFA_MSG_SEND2 (DEN0077 v1.2 FFA_MSG_SEND2; the concepts are v1.1 §7.2), in Hafnium's check
/// order (api_ffa_msg_send2, ffa_indirect_msg_is_supported, api_ffa_msg_send2_copy_data). A header the SPMC cannot
/// read is the descriptor rule <c>msg-header.truncated</c>.
/// </summary>
public static class IndirectMessagingRules
{
    private const string Send2 = "DEN0077 v1.2 FFA_MSG_SEND2";
    private const string Api = $"{Send2}; Hafnium api_ffa_msg_send2";
    private const string Supported = $"{Send2}; Hafnium ffa_indirect_msg_is_supported";
    private const string CopyData = $"{Send2}; Hafnium api_ffa_msg_send2_copy_data";

    // ---- the sender ---------------------------------------------------------------------------------------------

    public static readonly Rule SenderNamedNotHypervisor = new("msg-send2.sender-named-not-hypervisor", FfaError.InvalidParameters,
        "only the hypervisor (ID 0) names the sender in w1[31:16]; other callers pass 0", Api);
    public static readonly Rule SenderNamedNotVm = new("msg-send2.sender-named-not-vm", FfaError.InvalidParameters,
        "the sender the hypervisor names in w1[31:16] must be a VM: it forwards messages of VMs only",
        $"{Send2} (w1[31:16] is the VM forwarded for); Spmc: Hafnium HEAD accepts any ID and would read a partition's TX buffer");
    public static readonly Rule UnknownSender = new("msg-send2.unknown-sender", FfaError.Denied,
        "the SPMC must have a record of the sender (a VM's RX/TX pair forwarded or its bitmap created)",
        $"{Api} (ffa_vm_find_locked)");
    public static readonly Rule NoTxBuffer = new("msg-send2.no-tx-buffer", FfaError.Denied,
        "the sender must have a TX buffer mapped: the message is read from it", Api);

    // ---- the header -----------------------------------------------------------------------------------------------

    public static readonly Rule HeaderSender = new("msg-send2.header-sender", FfaError.InvalidParameters,
        "the header's sender ID (offset 14) must be the sender", Api);
    public static readonly Rule SenderIsReceiver = new("msg-send2.sender-is-receiver", FfaError.InvalidParameters,
        "the header's receiver ID (offset 12) must differ from the sender", Api);
    public static readonly Rule VmSenderFlags = new("msg-send2.vm-sender-flags", FfaError.InvalidParameters,
        "w2 must be zero for a VM sender (delay SRI is for partitions; Hafnium ignores other bits from partitions)", Api);
    public static readonly Rule UnknownReceiver = new("msg-send2.unknown-receiver", FfaError.InvalidParameters,
        "the SPMC must have a record of the header's receiver", $"{Api} (ffa_vm_find_locked)");

    // ---- capability (ffa_indirect_msg_is_supported) ---------------------------------------------------------------

    public static readonly Rule SenderVersion = new("msg-send2.sender-version", FfaError.Denied,
        "the sender must use FF-A 1.1 or later", Supported);
    public static readonly Rule ReceiverVersion = new("msg-send2.receiver-version", FfaError.Denied,
        "the receiver must use FF-A 1.1 or later", Supported);
    public static readonly Rule SenderNotCapable = new("msg-send2.sender-not-capable", FfaError.Denied,
        "a partition sender must declare indirect messaging in its manifest (VMs pass: the SPMC knows nothing of them)", Supported);
    public static readonly Rule ReceiverNotCapable = new("msg-send2.receiver-not-capable", FfaError.Denied,
        "a partition receiver must declare indirect messaging in its manifest (VMs pass)", Supported);

    // ---- delivery -------------------------------------------------------------------------------------------------

    public static readonly Rule ReceiverRxBusy = new("msg-send2.receiver-rx-busy", FfaError.Busy,
        "the receiver's RX buffer must be mapped and free (released, not held by the hypervisor)",
        $"{Api} (vm_is_mailbox_busy, ffa_setup_acquire_receiver_rx)");
    public static readonly Rule PayloadOverlapsHeader = new("msg-send2.payload-overlaps-header", FfaError.InvalidParameters,
        "the payload offset must be at least the header size of the sender's version (20 bytes before v1.2, 40 from v1.2)", CopyData);
    public static readonly Rule SizeOverflow = new("msg-send2.size-overflow", FfaError.InvalidParameters,
        "the payload offset plus its size must not overflow 32 bits", CopyData);
    public static readonly Rule TooLarge = new("msg-send2.too-large", FfaError.InvalidParameters,
        "the message (payload offset plus size) must fit in one 4 KiB page, whatever the buffers' size",
        $"{CopyData} (FFA_MSG_PAYLOAD_MAX)");
}
