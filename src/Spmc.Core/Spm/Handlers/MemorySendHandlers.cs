using System.Buffers.Binary;
using Spmc.Abi.Calls;
using Spmc.Abi.Descriptors;
using Spmc.Abi.Descriptors.Memory;
using Spmc.Abi.Ffa;
using Spmc.Abi.Rules;
using Spmc.Core.Calls;
using Spmc.Core.Manifests;
using Spmc.Core.Memory;
using Spmc.Core.Spm.Shares;

namespace Spmc.Core.Spm.Handlers;

/// <summary>
/// Sending memory: FFA_MEM_SHARE, FFA_MEM_LEND, FFA_MEM_DONATE and their continuation FFA_MEM_FRAG_TX.
/// Validation follows Hafnium's order (api_ffa_mem_send, ffa_memory_send_validate): the first failing rule wins.
/// </summary>
internal sealed class MemorySendHandlers(SpmcContext spmc)
{
    /// <summary>Hafnium's build defaults (platform.gni): share states, fragments per transaction, receivers per transaction.</summary>
    public const int MaxShareStates = 100, MaxFragments = 20, MaxReceivers = 2;

    private readonly PhysicalMemory _memory = spmc.Memory;
    private readonly MemoryMap _map = spmc.Map;
    private readonly SortedDictionary<ulong, ShareState> _shares = spmc.State.Shares;

    /// <summary>The system accepts the Linux arm_ffa EMAD defect (manifest spmc.compat "arm-ffa-emad-reserved").</summary>
    private bool AcceptEmadReserved => spmc.Config.Compat.HasFlag(CompatSwitches.ArmFfaEmadReserved);

    public void Register(HandlerTable table)
    {
        table.Register<MemShare>(FfaFunction.MemShare, Callers.Any, (c, call) => MemSend(c, call, MemoryOperation.Share), smc64: true);
        table.Register<MemLend>(FfaFunction.MemLend, Callers.Any, (c, call) => MemSend(c, call, MemoryOperation.Lend), smc64: true);
        table.Register<MemDonate>(FfaFunction.MemDonate, Callers.Any, (c, call) => MemSend(c, call, MemoryOperation.Donate), smc64: true);
        table.Register<MemFragTx>(FfaFunction.MemFragTx, Callers.Any, MemFragTx);
    }

    /// <summary>FFA_MEM_FRAG_RX asking the sender for the fragment after the bytes received so far (w4[31:16] = the sender for the normal world, else 0).</summary>
    private static FfaAnswer FragRx(Call c, ShareState share) =>
        new(new MemFragRx(new MemoryHandle(share.Handle), (uint)share.Received, c.FromNormalWorld ? share.Sender : (ushort)0).Encode());

    /// <summary>FFA_SUCCESS with the transaction's handle in w2 (low half) and w3 (high half).</summary>
    private static FfaAnswer HandleSuccess(MemoryHandle handle) => FfaAnswer.Success32(w2: handle.Low, w3: handle.High);

    /// <summary>
    /// SHARE/LEND/DONATE: lengths (checked by the decoder), buffers, then the descriptor's structure, flags, sender,
    /// receivers and attributes; the constituents are checked once the last fragment is in (<see cref="CompleteSend"/>).
    /// </summary>
    private FfaAnswer MemSend(Call c, MemTransactionCall call, MemoryOperation op)
    {
        var (total, fragment) = ((int)call.TotalLength, (int)call.FragmentLength);
        // The ABI allows a buffer of the caller's own; Hafnium (and we) support only the TX buffer.
        if (call.UsesOwnBuffer)
            return c.Reject(MemorySendRules.DynamicBuffer, "x3/x4 name a dynamically allocated buffer, which this SPMC does not support (as Hafnium): put the descriptor in the TX buffer with x3 = x4 = 0");
        if (fragment > total) return c.Reject(MemorySendRules.FragmentExceedsTotal, $"fragment length {fragment} exceeds total length {total}");
        if (c.Caller.Mailbox is not { } mailbox) return c.Reject(MemorySendRules.NoTxBuffer, "the caller has no TX buffer mapped (FFA_RXTX_MAP first)");
        if (fragment > mailbox.Size) return c.Reject(MemorySendRules.FragmentExceedsTx, $"fragment length {fragment} exceeds the {mailbox.Size}-byte TX buffer");
        // Hafnium converts v1.0 descriptors to the v1.1 form within one page, so a v1.0 fragment is at most 4 KiB.
        if (c.Caller.Version < FfaVersion.V1_1 && fragment > FfaPage.Size)
            return c.Reject(MemorySendRules.V1_0FragmentTooLong, $"fragment length {fragment}: a v1.0 descriptor fragment is at most {FfaPage.Size} bytes");
        if (total > MaxFragments * mailbox.Size)
            return c.Reject(MemorySendRules.TooManyFragments, $"total length {total} needs more than {MaxFragments} fragments of {mailbox.Size} bytes (Hafnium's limit)");

        var bytes = _memory.Read(mailbox.Tx, fragment);
        var v10 = c.Caller.Version < FfaVersion.V1_1;
        var parsed = MemoryTransactionDescriptor.ReadHeader(bytes, v10, AcceptEmadReserved);
        if (!parsed.Ok) return c.Reject(parsed.Rejection!);
        var d = parsed.Value!;
        if (MemoryChecks.LayoutError(d, c.Caller, MemorySendRules.EmadSize) is { } layoutError) return c.Reject(layoutError);
        if (d.Receivers.Count == 0) return c.Reject(MemorySendRules.NoReceivers, "receiver count is 0");
        if (d.Receivers.Count > MaxReceivers)
            return c.Reject(MemorySendRules.TooManyReceivers, $"{d.Receivers.Count} receivers; at most {MaxReceivers} (Hafnium's limit)");

        var emadsEnd = d.ReceiversOffset + d.Receivers.Count * d.EmadSize;
        if (fragment < emadsEnd + CompositeMemoryRegion.HeaderSize)
            return c.Reject(MemorySendRules.FirstFragmentTooShort, $"the first fragment ({fragment} bytes) must hold the header, every receiver and the composite header ({emadsEnd + CompositeMemoryRegion.HeaderSize} bytes)");
        if (total % 16 != 0 || fragment % 16 != 0)
            return c.Reject(MemorySendRules.LengthsUnaligned, $"total length {total} and fragment length {fragment} must be multiples of 16");
        var compositeOffset = d.CompositeOffset;
        if (d.Receivers.Any(r => r.CompositeOffset != compositeOffset))
            return c.Reject(MemorySendRules.CompositeOffsetsDiffer, "receivers name different composite offsets");
        if (compositeOffset == 0) return c.Reject(MemorySendRules.CompositeOffsetZero, "composite offset is 0: a send must describe its memory");
        if (compositeOffset < emadsEnd)
            return c.Reject(MemorySendRules.CompositeOffsetOverlaps, $"composite offset {compositeOffset} lies inside the header or receivers (they end at {emadsEnd})");
        if (compositeOffset % 16 != 0) return c.Reject(MemorySendRules.CompositeOffsetUnaligned, $"composite offset {compositeOffset} is not 16-byte aligned");
        if ((ulong)compositeOffset + CompositeMemoryRegion.HeaderSize > (ulong)fragment)
            return c.Reject(MemorySendRules.CompositeOutsideFragment, $"the composite header at {compositeOffset} is not inside the first fragment ({fragment} bytes)");
        var constituentCount = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan((int)compositeOffset + 4));
        if (constituentCount == 0) return c.Reject(MemorySendRules.NoConstituents, "the composite has no constituents");
        if ((ulong)total != compositeOffset + CompositeMemoryRegion.HeaderSize + (ulong)constituentCount * MemoryRegionConstituent.Size)
            return c.Reject(MemorySendRules.TotalLengthMismatch, $"total length {total} does not match {constituentCount} constituents at composite offset {compositeOffset}");
        // The bound Hafnium's memory pool sets (NO_MEMORY), as a configured count: no transaction costs more than ~1 MiB here.
        if (spmc.MaxConstituents > 0 && constituentCount > (uint)spmc.MaxConstituents)
            return c.Reject(MemorySendRules.TooManyConstituents, $"{constituentCount} constituents; a transaction holds at most {spmc.MaxConstituents} (Spmc:Quotas:MaxConstituentsPerTransaction)");

        // Flags: only bit 0 (zero memory) may be set by a sender, and never for SHARE (Hafnium rejects time slicing too).
        if (op == MemoryOperation.Share && d.Flags.Has(MemoryTransactionFlags.ZeroMemory))
            return c.Reject(MemorySendRules.ShareZeroMemory, "FFA_MEM_SHARE cannot ask to zero the memory (flags bit 0)");
        if ((d.Flags.Value & ~MemoryTransactionFlags.ZeroMemory) != 0)
            return c.Reject(MemorySendRules.FlagsReserved, $"flags 0x{d.Flags.Value:X}: only bit 0 (zero memory) may be set by a sender");
        if (op == MemoryOperation.Donate && d.Receivers.Count != 1)
            return c.Reject(MemorySendRules.DonateOneReceiver, $"FFA_MEM_DONATE needs exactly one receiver, got {d.Receivers.Count}");

        // Hafnium api_ffa_mem_send: each receiver's identity and direction (ffa_memory_is_send_valid, DENIED) before
        // ffa_memory_send_validate's sender and permission checks.
        if (DirectionError(c, d, op) is { } directionError) return c.Reject(directionError);
        if (SenderError(c, d.Sender) is { } senderError) return c.Reject(senderError);
        if (ReceiversError(d, op) is { } receiverError) return c.Reject(receiverError);
        if (MemoryChecks.AttributesError(d.Attributes, op, d.Receivers.Count, forRetrieve: false) is { } attrError) return c.Reject(attrError);

        if (_shares.Count >= MaxShareStates)
            return c.Reject(MemorySendRules.ShareStatesExhausted, $"{MaxShareStates} memory transactions are outstanding (Hafnium's limit); reclaim one first");

        var share = new ShareState
        {
            Handle = spmc.State.NextHandle++,
            Operation = op,
            Sender = d.Sender,
            Attributes = d.Attributes,
            Flags = d.Flags,
            Tag = d.Tag,
            SenderLayout = d.Layout,
            Receivers = d.Receivers.Select(r => new ShareReceiver { Id = r.Access.Endpoint, Sent = r.Access, ImplementationDefined = r.ImplementationDefined }).ToList(),
            Pending = new byte[total],
            Received = fragment,
            Fragments = 1,
            FragmentConstituents = [(fragment - (int)compositeOffset - CompositeMemoryRegion.HeaderSize) / MemoryRegionConstituent.Size],
        };
        bytes.CopyTo(share.Pending, 0);
        _shares[share.Handle] = share;
        if (fragment < total) return FragRx(c, share);
        return CompleteSend(c, share, compositeOffset);
    }

    /// <summary>
    /// The descriptor's sender: an SP must name itself; a VM must name itself, except the hypervisor (ID 0),
    /// which may send for any VM — declared or not, with or without a record: Hafnium's `from` is always the other
    /// world and ffa_memory_send_validate only checks the sender is not secure. The normal world can never name an SP
    /// (Hafnium: DENIED).
    /// </summary>
    private Rejection? SenderError(Call c, ushort sender)
    {
        if (c.Caller.IsSecure)
            return sender == c.Caller.Id ? null
                : MemorySendRules.SenderNotCaller.Reject($"sender {EndpointId.Format(sender)} in the descriptor is not the caller {EndpointId.Format(c.Caller.Id)}");
        if (EndpointId.IsSecure(sender)) return MemorySendRules.NormalWorldSendsAsSp.Reject($"the normal world cannot send as {EndpointId.Format(sender)}");
        if (sender != c.Caller.Id && !c.FromHypervisor)
            return MemorySendRules.SenderNotCaller.Reject(
                $"sender {EndpointId.Format(sender)} in the descriptor is not the caller {EndpointId.Format(c.Caller.Id)} (only the hypervisor sends for other VMs)");
        return null;
    }

    /// <summary>
    /// Each receiver in turn (Hafnium api_ffa_mem_send's receiver loop): not the caller or the sender, an SP of this
    /// system (both INVALID_PARAMETERS; a VM receiver is not looked up, so any VM ID passes, declared or not), then the direction (ffa_memory_is_send_valid, DENIED), judged by the caller's world:
    /// an SP sends to SPs only; the normal world LENDs and DONATEs to SPs only and SHAREs with one SP, or with several
    /// receivers of either world — Hafnium accepts a SHARE to several normal-world VMs and no SP, and so do we.
    /// </summary>
    private Rejection? DirectionError(Call c, MemoryTransactionDescriptor d, MemoryOperation op)
    {
        var multiple = d.Receivers.Count > 1;
        for (var i = 0; i < d.Receivers.Count; i++)
        {
            var id = d.Receivers[i].Access.Endpoint;
            var who = $"receiver {i} ({EndpointId.Format(id)})";
            if (id == d.Sender || id == c.Caller.Id) return MemorySendRules.ReceiverIsSender.Reject($"{who} is the {(id == d.Sender ? "sender" : "caller")}");
            if (EndpointId.IsSecure(id) && spmc.FindEndpoint(id) is null) return MemorySendRules.ReceiverUnknown.Reject($"{who} is not a partition of this system");
            if (EndpointId.IsSecure(id)) continue;
            if (c.Caller.IsSecure)
                return MemorySendRules.SpToNormalWorld.Reject($"{who}: a secure partition cannot send memory to the normal world");
            if (op != MemoryOperation.Share)
                return MemorySendRules.NormalWorldLendToVm.Reject(
                    $"{who}: a normal-world {(op == MemoryOperation.Lend ? "LEND" : "DONATE")} through the SPMC must go to secure partitions only");
            if (!multiple)
                return MemorySendRules.NoSecureReceiver.Reject($"{who}: a normal-world SHARE with one receiver goes to a secure partition (VM to VM does not go through the SPMC)");
        }
        return null;
    }

    /// <summary>
    /// Receivers and their permissions (Hafnium ffa_memory_send_validate): not repeated; data access RO/RW for
    /// SHARE and LEND, unspecified for DONATE; instruction access always unspecified from the sender.
    /// </summary>
    private static Rejection? ReceiversError(MemoryTransactionDescriptor d, MemoryOperation op)
    {
        var seen = new HashSet<ushort>();
        for (var i = 0; i < d.Receivers.Count; i++)
        {
            var a = d.Receivers[i].Access;
            var who = $"receiver {i} ({EndpointId.Format(a.Endpoint)})";
            if (!seen.Add(a.Endpoint)) return MemorySendRules.ReceiverDuplicate.Reject($"{who} is listed twice");
            if (a.ReservedBitsSet)
                return MemorySendRules.ReceiverReservedBits.Reject($"{who}: reserved permission or flag bits are set (0x{a.Permissions:X2}/0x{a.Flags:X2})");
            if (a.Data == DataAccess.Reserved || a.Instruction == InstructionAccess.Reserved)
                return MemorySendRules.PermissionReserved.Reject($"{who}: permission value 3 is reserved");
            if (a.Instruction != InstructionAccess.NotSpecified)
                return MemorySendRules.InstructionAccessSpecified.Reject($"{who}: the sender must leave instruction access unspecified (the borrower chooses; SHARE is always NX)");
            if (op != MemoryOperation.Donate && a.Data == DataAccess.NotSpecified)
                return MemorySendRules.DataAccessMissing.Reject($"{who}: {(op == MemoryOperation.Share ? "SHARE" : "LEND")} must give RO or RW data access");
            if (op == MemoryOperation.Donate && a.Data != DataAccess.NotSpecified)
                return MemorySendRules.DonateDataAccess.Reject($"{who}: DONATE must leave data access unspecified (the receiver chooses)");
            if (a.Flags != 0)
                return MemorySendRules.ReceiverFlags.Reject($"{who}: access descriptor flags must be zero in a send (0x{a.Flags:X2})");
        }
        return null;
    }

    /// <summary>
    /// FFA_MEM_FRAG_TX: w1/w2 = handle, w3 = fragment length, w4[31:16] = sender (hypervisor forwarding only;
    /// w4[15:0] MBZ is checked by the decoder).
    /// </summary>
    private FfaAnswer MemFragTx(Call c, MemFragTx call)
    {
        var handle = call.Handle;
        var length = call.FragmentLength;
        var w4Sender = call.Sender;
        if (w4Sender != 0 && c.Caller.IsSecure) return c.Reject(MemoryFragTxRules.SpNamesSender, "w4[31:16] must be 0 for a secure partition");
        if (c.Caller.Mailbox is not { } mailbox) return c.Reject(MemoryFragTxRules.NoTxBuffer, "the caller has no TX buffer mapped");
        if (length > mailbox.Size || length < 16 || length % 16 != 0)
            return c.Reject(MemoryFragTxRules.BadLength, $"fragment length {length} must be a multiple of 16 between 16 and the TX size {mailbox.Size}");
        if (!_shares.TryGetValue(handle, out var share)) return c.Reject(MemoryFragTxRules.UnknownHandle, $"handle 0x{handle.Value:X} is unknown");
        if (share.SendingComplete) return c.Reject(MemoryFragTxRules.AlreadyComplete, $"sending of handle 0x{handle.Value:X} is already complete");
        if (!MemoryChecks.ActsFor(c, share.Sender))
            return c.Reject(MemoryFragTxRules.NotSender, $"handle 0x{handle.Value:X} is being sent by {EndpointId.Format(share.Sender)}, not the caller");
        if (w4Sender != 0 && w4Sender != share.Sender)
            return c.Reject(MemoryFragTxRules.W4NotSender, $"w4[31:16] = {EndpointId.Format(w4Sender)} is not the sender of handle 0x{handle.Value:X}");
        var pending = share.Pending!;
        if ((ulong)share.Received + length > (ulong)pending.Length)
            return c.Reject(MemoryFragTxRules.Overrun, $"fragment of {length} bytes overruns the total length {pending.Length} ({share.Received} received)");
        if (share.Fragments >= MaxFragments)
        {
            _shares.Remove(handle);
            return c.Reject(MemoryFragTxRules.TooManyFragments, $"more than {MaxFragments} fragments (Hafnium's limit); the transaction is dropped");
        }

        _memory.Read(mailbox.Tx, pending.AsSpan(share.Received, (int)length));
        share.Received += (int)length;
        share.Fragments++;
        share.FragmentConstituents.Add((int)length / MemoryRegionConstituent.Size);
        if (share.Received < pending.Length) return FragRx(c, share);
        var head = MemoryTransactionDescriptor.ReadHeader(pending, share.SenderLayout == MemoryDescriptorLayout.V1_0, AcceptEmadReserved);
        return CompleteSend(c, share, head.Value!.CompositeOffset);
    }

    /// <summary>
    /// The last fragment arrived: check every constituent and the sender's ownership of every page, then
    /// change the pages' state. On failure the transaction is dropped and its handle forgotten (Hafnium).
    /// </summary>
    private FfaAnswer CompleteSend(Call c, ShareState share, uint compositeOffset)
    {
        var parsed = CompositeMemoryRegion.Read(share.Pending, compositeOffset);
        // A composite the descriptor decoder refuses keeps the decoder's own rule.
        var error = parsed.Ok ? ConstituentsError(parsed.Value!, share) : parsed.Rejection;
        if (error is not null)
        {
            _shares.Remove(share.Handle);
            return c.Reject(error);
        }

        var constituents = parsed.Value!.Constituents;
        foreach (var k in constituents)
        {
            _map.SetShare(k.Address, k.ByteLength, share.Handle);
            if (share.Operation != MemoryOperation.Share && share.Flags.Has(MemoryTransactionFlags.ZeroMemory))
                _memory.Clear(k.Address, k.ByteLength);
        }
        share.Constituents = constituents;
        share.SendingComplete = true;
        share.Pending = null;
        return HandleSuccess(new MemoryHandle(share.Handle));
    }

    private Rejection? ConstituentsError(CompositeMemoryRegion composite, ShareState share)
    {
        ulong pages = 0;
        var list = composite.Constituents;
        for (var i = 0; i < list.Count; i++)
        {
            var k = list[i];
            if (!FfaPage.IsAligned(k.Address)) return MemorySendRules.ConstituentUnaligned.Reject($"constituent {i}: address 0x{k.Address:X} is not 4 KiB aligned");
            if (k.PageCount == 0) return MemorySendRules.ConstituentEmpty.Reject($"constituent {i}: page count is 0");
            if (k.Address > ulong.MaxValue - k.ByteLength)
                return MemorySendRules.ConstituentOverflows.Reject($"constituent {i}: 0x{k.Address:X} + {k.PageCount} pages overflows the address space");
            pages += k.PageCount;
        }
        if (pages != composite.TotalPageCount)
            return MemorySendRules.PageCountMismatch.Reject($"the composite says {composite.TotalPageCount} pages but its constituents hold {pages}");
        var sorted = list.Select((k, i) => (k, i)).OrderBy(x => x.k.Address).ToList();
        for (var j = 1; j < sorted.Count; j++)
            if (sorted[j - 1].k.Address + sorted[j - 1].k.ByteLength > sorted[j].k.Address)
                return MemorySendRules.ConstituentsOverlap.Reject($"constituents {sorted[j - 1].i} and {sorted[j].i} overlap");
        if (ModeError(list, share) is { } modeError) return modeError;
        for (var i = 0; i < list.Count; i++)
            if (spmc.WhyNotOwnedExclusively(share.Sender, list[i].Address, list[i].ByteLength) is { } why)
                return MemorySendRules.NotOwnedExclusively.Reject($"constituent {i}: {EndpointId.Format(share.Sender)} does not own it exclusively: {why}");
        return AccessError(list, share);
    }

    /// <summary>
    /// The sender's mode over every constituent (Hafnium ffa_send_check_transition, before the ownership check):
    /// one mode for all pages (constituents_get_mode), device memory not sent as Normal, and only lent to one borrower.
    /// Only the sender's own pages count (an undeclared VM's: any normal-world page, SpmcContext.SenderModeOf); pages it does not own fail the ownership check that follows.
    /// </summary>
    private Rejection? ModeError(IReadOnlyList<MemoryRegionConstituent> list, ShareState share)
    {
        var mode = spmc.SenderModeOf(share.Sender, list.Select(k => (k.Address, k.ByteLength)));
        var sender = EndpointId.Format(share.Sender);
        if (!mode.Uniform)
            return MemorySendRules.MixedModes.Reject(mode.AnyReadOnly != mode.AllReadOnly
                ? $"the constituents mix read-only and read-write pages of {sender} (its manifest regions' \"access\")"
                : $"the constituents mix device and normal memory of {sender} (its manifest regions' \"device\")");
        if (!mode.AllDevice) return null;
        if (share.Attributes.Type == MemoryType.Normal)
            return MemorySendRules.DeviceAsNormal.Reject($"attributes {share.Attributes}: the pages are device memory of {sender}, which cannot be sent as Normal memory");
        if (share.Operation != MemoryOperation.Lend || share.Receivers.Count != 1)
            return MemorySendRules.DeviceNotSingleLend.Reject(
                $"the pages are device memory of {sender}: only FFA_MEM_LEND to one borrower may send them, not {share.Name} to {share.Receivers.Count} receiver(s)");
        return null;
    }

    /// <summary>
    /// What a read-only mode forbids, after the ownership check (Hafnium ffa_send_check_transition): zeroing, and
    /// giving any receiver read-write access (DONATE leaves the access unspecified and passes).
    /// </summary>
    private Rejection? AccessError(IReadOnlyList<MemoryRegionConstituent> list, ShareState share)
    {
        if (!spmc.SenderModeOf(share.Sender, list.Select(k => (k.Address, k.ByteLength))).AllReadOnly) return null;
        var sender = EndpointId.Format(share.Sender);
        if (share.Flags.Has(MemoryTransactionFlags.ZeroMemory))
            return MemorySendRules.ZeroReadOnly.Reject($"flags bit 0 asks to zero pages {sender} may only read (manifest \"access\": \"ro\")");
        if (share.Receivers.FirstOrDefault(r => r.Sent.Data == DataAccess.ReadWrite) is { } rw)
            return MemorySendRules.ReadWriteOverReadOnly.Reject(
                $"receiver {EndpointId.Format(rw.Id)} is given RW access to pages {sender} may only read (manifest \"access\": \"ro\"): give RO");
        return null;
    }
}
