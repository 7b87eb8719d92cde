using Spmc.Abi.Calls;
using Spmc.Abi.Descriptors.Memory;
using Spmc.Abi.Ffa;
using Spmc.Core.Calls;
using Spmc.Core.Memory;
using Spmc.Core.Spm.Shares;

namespace Spmc.Core.Spm.Handlers;

/// <summary>Giving memory back: FFA_MEM_RELINQUISH (borrowers) and FFA_MEM_RECLAIM (the sender).</summary>
internal sealed class MemoryReclaimHandlers(SpmcContext spmc)
{
    private readonly PhysicalMemory _memory = spmc.Memory;
    private readonly SortedDictionary<ulong, ShareState> _shares = spmc.State.Shares;

    private static readonly HandleRules RelinquishHandle =
        new(MemoryRelinquishRules.HandleHypervisorAllocated, MemoryRelinquishRules.UnknownHandle, MemoryRelinquishRules.HandleIncomplete);
    private static readonly HandleRules ReclaimHandle =
        new(MemoryReclaimRules.HandleHypervisorAllocated, MemoryReclaimRules.UnknownHandle, MemoryReclaimRules.HandleIncomplete);

    public void Register(HandlerTable table)
    {
        table.Register<MemRelinquish>(FfaFunction.MemRelinquish, Callers.Any, (c, _) => MemRelinquish(c));
        table.Register<MemReclaim>(FfaFunction.MemReclaim, Callers.Any, MemReclaim);
    }

    /// <summary>
    /// FFA_MEM_RELINQUISH: the relinquish descriptor in TX names the handle and one endpoint (Hafnium accepts
    /// exactly one). Zeroing (flags bit 0) applies when this borrower is the last one holding the memory: never
    /// for SHARE (INVALID) nor for read-only access (DENIED).
    /// </summary>
    private FfaAnswer MemRelinquish(Call c)
    {
        if (c.Caller.Mailbox is not { } mailbox) return c.Reject(MemoryRelinquishRules.NoTxBuffer, "the caller has no TX buffer mapped");
        var parsed = MemoryRelinquishDescriptor.Read(_memory.Read(mailbox.Tx, mailbox.Size));
        if (!parsed.Ok) return c.Reject(parsed.Rejection!);
        var d = parsed.Value!;
        if (d.Endpoints.Count != 1)
            return c.Reject(MemoryRelinquishRules.EndpointCount, $"endpoint count {d.Endpoints.Count}; exactly 1 is supported (Hafnium)");
        var endpoint = d.Endpoints[0];
        if (!MemoryChecks.ActsFor(c, endpoint))
            return c.Reject(MemoryRelinquishRules.EndpointNotCaller, $"endpoint {EndpointId.Format(endpoint)} is not the caller");
        if ((d.Flags & ~MemoryRelinquishDescriptor.ZeroMemory) != 0)
            return c.Reject(MemoryRelinquishRules.FlagsReserved, $"flags 0x{d.Flags:X}: only bit 0 (zero memory) is supported");
        if (MemoryChecks.ShareFor(_shares, new MemoryHandle(d.Handle), RelinquishHandle, out var share) is { } unknown) return c.Reject(unknown);
        if (share.Receiver(endpoint) is not { } me)
            return c.Reject(MemoryRelinquishRules.NotAReceiver, $"{EndpointId.Format(endpoint)} is not a receiver of handle 0x{share.Handle:X}");
        if (!me.HoldsMemory)
            return c.Reject(MemoryRelinquishRules.NotRetrieved, $"{EndpointId.Format(endpoint)} has not retrieved handle 0x{share.Handle:X}");
        if (me.Response is not null)
            return c.Reject(MemoryRelinquishRules.ResponsePending, $"{EndpointId.Format(endpoint)} has not pulled every fragment of the retrieve response yet");

        var zero = (d.Flags & MemoryRelinquishDescriptor.ZeroMemory) != 0;
        var last = share.Receivers.All(r => r == me || !r.HoldsMemory);
        if (zero && last)
        {
            if (share.Operation == MemoryOperation.Share) return c.Reject(MemoryRelinquishRules.ShareZero, "shared memory cannot be zeroed on relinquish");
            if (me.GrantedData == DataAccess.ReadOnly) return c.Reject(MemoryRelinquishRules.ReadOnlyZero, "a read-only borrower cannot zero the memory");
        }

        me.State = RetrieveState.NotRetrieved;
        if (zero && last)
            foreach (var k in share.Constituents) _memory.Clear(k.Address, k.ByteLength);
        // The sender aborted (FF-A 1.3 FFA_ABORT): the last relinquish completes the reclaim for it.
        if (AbortedPartitionMemory.ReclaimIfDeferred(spmc, share))
            return new FfaAnswer(FfaAnswer.Success32().Frame, null, $"{EndpointId.Format(share.Sender)} aborted: handle 0x{share.Handle:X} is reclaimed for it now that no borrower holds it");
        return FfaAnswer.Success32();
    }

    /// <summary>
    /// FFA_MEM_RECLAIM: w1/w2 = handle, w3 = flags (bit 0 zero memory; the decoder refuses any other). DENIED while any borrower still holds
    /// the memory; afterwards the sender owns it exclusively again and the handle is unknown. A normal-world
    /// reclaim is trusted to come from the sender's hypervisor, as in Hafnium.
    /// </summary>
    private FfaAnswer MemReclaim(Call c, MemReclaim call)
    {
        var handle = call.Handle;
        if (MemoryChecks.ShareFor(_shares, handle, ReclaimHandle, out var share) is { } unknown) return c.Reject(unknown);
        if (!MemoryChecks.ActsFor(c, share.Sender))
            return c.Reject(MemoryReclaimRules.NotSender,
                $"{EndpointId.Format(c.Caller.Id)} is not the sender of handle 0x{handle.Value:X} ({EndpointId.Format(share.Sender)})");
        var holders = share.Receivers.Where(r => r.HoldsMemory).Select(r => EndpointId.Format(r.Id)).ToList();
        if (holders.Count > 0)
            return c.Reject(MemoryReclaimRules.StillHeld, $"handle 0x{handle.Value:X} is still held by {string.Join(", ", holders)} (they must relinquish first)");
        if (call.Zero && spmc.SenderModeOf(share.Sender, share.Constituents.Select(k => (k.Address, k.ByteLength))).AnyReadOnly)
            return c.Reject(MemoryReclaimRules.ZeroReadOnly, $"handle 0x{handle.Value:X}: some pages are read-only to {EndpointId.Format(share.Sender)}, so they cannot be zeroed");

        if (call.Zero)
            foreach (var k in share.Constituents) _memory.Clear(k.Address, k.ByteLength);
        spmc.Reclaim(share);
        return FfaAnswer.Success32();
    }
}
