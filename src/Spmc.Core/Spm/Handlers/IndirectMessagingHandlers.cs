using Spmc.Abi.Calls;
using Spmc.Abi.Descriptors;
using Spmc.Abi.Ffa;
using Spmc.Abi.Rules;
using Spmc.Core.Calls;
using Spmc.Core.Memory;

namespace Spmc.Core.Spm.Handlers;

/// <summary>
/// Indirect messaging (FFA_MSG_SEND2, FF-A v1.1 §7.2), as Hafnium's api_ffa_msg_send2 handles it in the SPMC. Every
/// refusal is a rule of <see cref="IndirectMessagingRules"/>.
/// </summary>
internal sealed class IndirectMessagingHandlers(SpmcContext spmc, NotificationHandlers notifications)
{
    private readonly PhysicalMemory _memory = spmc.Memory;

    /// <summary>
    /// The most a message (header + payload) may take: one FF-A page, Hafnium's FFA_MSG_PAYLOAD_MAX
    /// (= HF_MAILBOX_SIZE), whatever the buffers' size.
    /// </summary>
    public const int IndirectMessageMaxSize = FfaPage.Size;

    public void Register(HandlerTable table)
    {
        table.Register<MsgSend2>(FfaFunction.MsgSend2, Callers.Any, Send);
    }

    /// <summary>
    /// FFA_MSG_SEND2: w1[31:16] = sender VM ID (the hypervisor forwarding for a VM; 0 = the caller), w2 = flags
    /// (bit 1 = delay the schedule-receiver interrupt). The header and payload are in the sender's TX buffer, in the
    /// layout of the sender's version. Checks in Hafnium's order: named sender, sender record, sender TX, header
    /// sender, self-send, flags, receiver record, capability, receiver RX busy, payload offset and size. Then the
    /// message is copied into the receiver's RX (rest zeroed, RX full), the "RX buffer full" framework notification
    /// is set and the SRI raised.
    /// </summary>
    private FfaAnswer Send(Call c, MsgSend2 call)
    {
        var named = call.SenderVm;
        var flags = call.Flags;
        if (named != 0 && !c.FromHypervisor)
            return c.Reject(IndirectMessagingRules.SenderNamedNotHypervisor, $"w1[31:16] = {Id(named)}: only the hypervisor (ID 0) names the sender; others pass 0");
        // Our addition: Hafnium HEAD accepts any ID here, so the hypervisor could send from a partition's TX buffer.
        // FF-A defines the field as the VM the hypervisor forwards for.
        if (named != 0 && !EndpointId.IsVm(named))
            return c.Reject(IndirectMessagingRules.SenderNamedNotVm, $"w1[31:16] = {Id(named)} is not a VM ID: the hypervisor forwards messages of VMs only");
        var senderId = named != 0 ? named : c.Caller.Id;

        if (spmc.KnownToSpmc(senderId) is not { } sender)
            return c.Reject(IndirectMessagingRules.UnknownSender, spmc.FindEndpoint(senderId) is null
                ? $"sender {Id(senderId)} is not an endpoint of this system"
                : $"the SPMC has no record of VM {Id(senderId)} (no RX/TX pair forwarded, no notification bitmap)");
        if (sender.Mailbox is not { } outbox)
            return c.Reject(IndirectMessagingRules.NoTxBuffer, $"sender {Id(senderId)} has no TX buffer mapped (FFA_RXTX_MAP first)");

        // Hafnium copies the largest header once, so the checks below and the copy see the same bytes. The 40 bytes
        // always fit the TX buffer, so msg-header.truncated cannot fail here; its rejection would pass through as is.
        var parsed = IndirectMessageHeader.Read(_memory.Read(outbox.Tx, IndirectMessageHeader.SizeV1_2), sender.Version);
        if (!parsed.Ok) return c.Reject(parsed.Rejection!);
        var header = parsed.Value;
        if (header.Sender != senderId)
            return c.Reject(IndirectMessagingRules.HeaderSender, $"the header's sender (offset 14) is {Id(header.Sender)}, not the sender {Id(senderId)}");
        if (header.Receiver == header.Sender)
            return c.Reject(IndirectMessagingRules.SenderIsReceiver, $"the header's receiver (offset 12) is the sender {Id(senderId)} itself");
        // Hafnium: flags are for the secure virtual instance only. For SP senders it reads bit 1 and ignores the rest.
        if (EndpointId.IsVm(senderId) && flags != 0)
            return c.Reject(IndirectMessagingRules.VmSenderFlags, $"w2 flags 0x{flags:X} must be zero for a VM sender (delay SRI is for partitions)");

        if (spmc.KnownToSpmc(header.Receiver) is not { } receiver)
            return c.Reject(IndirectMessagingRules.UnknownReceiver, spmc.FindEndpoint(header.Receiver) is null
                ? $"the header's receiver {Id(header.Receiver)} is not an endpoint of this system"
                : $"the SPMC has no record of VM {Id(header.Receiver)} (no RX/TX pair forwarded, no notification bitmap)");
        if (IndirectMessagingRefused(sender, receiver) is { } refused) return c.Reject(refused);
        if (SpmcContext.RxBusyReason(receiver) is { } busy) return c.Reject(IndirectMessagingRules.ReceiverRxBusy, busy);

        // Hafnium api_ffa_msg_send2_copy_data: the payload may not overlap the header of the sender's version.
        var minOffset = (uint)IndirectMessageHeader.SizeFor(sender.Version);
        if (header.PayloadOffset < minOffset)
            return c.Reject(IndirectMessagingRules.PayloadOverlapsHeader, $"payload offset {header.PayloadOffset} overlaps the {minOffset}-byte header of an FF-A {sender.Version} sender");
        var total = (ulong)header.PayloadOffset + header.PayloadSize;
        if (total > uint.MaxValue)
            return c.Reject(IndirectMessagingRules.SizeOverflow, $"payload offset {header.PayloadOffset} + size {header.PayloadSize} overflows 32 bits");
        if (total > IndirectMessageMaxSize)
            return c.Reject(IndirectMessagingRules.TooLarge, $"payload offset {header.PayloadOffset} + size {header.PayloadSize} = {total} exceeds the {IndirectMessageMaxSize}-byte message limit");

        spmc.FillRx(receiver, _memory.Read(outbox.Tx, (int)total));
        spmc.Raise(new SystemEvent(SystemEventKind.IndirectMessage, receiver.Id,
            $"message of {header.PayloadSize} bytes from {Id(senderId)} in the RX buffer of {Id(receiver.Id)}"));

        // The RX-full framework notification goes to a VM always (a VM that gave its RX buffer takes indirect
        // messages, hence framework notifications) and to an SP only if it receives notifications: the hypervisor's
        // bit for a VM sender, the SPM's for an SP sender.
        var record = notifications.NotificationsOf(receiver);
        if (!receiver.IsSecure || record.Enabled)
        {
            var fromVm = EndpointId.IsVm(senderId);
            record.Framework.Set(fromVm ? NotificationHandlers.HypervisorRxFullNotification : NotificationHandlers.SpmRxFullNotification);
            notifications.SignalPending(receiver.Id, $"RX buffer full ({(fromVm ? "hypervisor" : "SPM")} framework notification) for {Id(receiver.Id)}: message from {Id(senderId)}",
                call.DelaySri);
        }
        return FfaAnswer.Success32();
    }

    /// <summary>
    /// Hafnium ffa_indirect_msg_is_supported (DENIED): both endpoints at FF-A 1.1 or later, and a partition must
    /// declare indirect messaging in its manifest. The SPMC knows nothing of VMs' configuration, so VMs pass.
    /// </summary>
    private static Rejection? IndirectMessagingRefused(Endpoint sender, Endpoint receiver)
    {
        if (sender.Version < FfaVersion.V1_1)
            return IndirectMessagingRules.SenderVersion.Reject($"sender {Id(sender.Id)} uses FF-A {sender.Version}; indirect messaging needs 1.1");
        if (receiver.Version < FfaVersion.V1_1)
            return IndirectMessagingRules.ReceiverVersion.Reject($"receiver {Id(receiver.Id)} uses FF-A {receiver.Version}; indirect messaging needs 1.1");
        if (sender.Partition is { Capabilities.IndirectMessaging: false })
            return IndirectMessagingRules.SenderNotCapable.Reject($"partition {Id(sender.Id)} does not declare indirect messaging in its manifest");
        if (receiver.Partition is { Capabilities.IndirectMessaging: false })
            return IndirectMessagingRules.ReceiverNotCapable.Reject($"partition {Id(receiver.Id)} does not declare indirect messaging in its manifest");
        return null;
    }

    private static string Id(ushort id) => EndpointId.Format(id);
}
