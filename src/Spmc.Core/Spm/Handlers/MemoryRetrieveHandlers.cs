using Spmc.Abi.Calls;
using Spmc.Abi.Descriptors;
using Spmc.Abi.Descriptors.Memory;
using Spmc.Abi.Ffa;
using Spmc.Abi.Rules;
using Spmc.Core.Calls;
using Spmc.Core.Memory;
using Spmc.Core.Spm.Shares;

namespace Spmc.Core.Spm.Handlers;

/// <summary>
/// Retrieving memory: FFA_MEM_RETRIEVE_REQ (borrowers, and the hypervisor's retrieve request by ID 0) and
/// the response's continuation FFA_MEM_FRAG_RX. Rules and their order follow Hafnium
/// (api_ffa_mem_retrieve_req, ffa_memory_retrieve_validate, ffa_memory_retrieve_is_memory_access_valid).
/// </summary>
internal sealed class MemoryRetrieveHandlers(SpmcContext spmc)
{
    private readonly PhysicalMemory _memory = spmc.Memory;
    private readonly MemoryMap _map = spmc.Map;
    private readonly SortedDictionary<ulong, ShareState> _shares = spmc.State.Shares;

    private static readonly HandleRules RetrieveHandle =
        new(MemoryRetrieveRules.HandleHypervisorAllocated, MemoryRetrieveRules.UnknownHandle, MemoryRetrieveRules.HandleIncomplete);
    private static readonly HandleRules HypervisorRetrieveHandle = new(MemoryHypervisorRetrieveRules.HandleHypervisorAllocated,
        MemoryHypervisorRetrieveRules.UnknownHandle, MemoryHypervisorRetrieveRules.HandleIncomplete);
    private static readonly HandleRules FragRxHandle =
        new(MemoryFragRxRules.HandleHypervisorAllocated, MemoryFragRxRules.UnknownHandle, MemoryFragRxRules.HandleIncomplete);

    /// <summary>FFA_FEATURES(FFA_MEM_RETRIEVE_REQ) w2: bit 1 = NS bit supported, bit 2 = hypervisor retrieve request supported.</summary>
    private const uint NsBitSupported = 1u << 1, HypervisorRetrieveSupported = 1u << 2;

    public void Register(HandlerTable table)
    {
        table.Register<MemRetrieveReq>(FfaFunction.MemRetrieveReq, Callers.Any, MemRetrieveReq, smc64: true, feature: RetrieveReqFeatures);
        // FFA_MEM_RETRIEVE_RESP is the SPMC's answer, reported by FFA_FEATURES but not a call.
        table.Register(FfaFunction.MemRetrieveResp, Callers.Any,
            c => c.Reject(DispatchRules.ReturnValue, "a return value of FFA_MEM_RETRIEVE_REQ, not a call"));
        table.Register<MemFragRx>(FfaFunction.MemFragRx, Callers.Any, MemFragRx);
    }

    /// <summary>FFA_MEM_RETRIEVE_RESP: the response's total length and the length of the fragment now in the caller's RX.</summary>
    private static FfaAnswer RetrieveResp(int total, int fragment) => new(new MemRetrieveResp((uint)total, (uint)fragment).Encode());

    /// <summary>
    /// FFA_FEATURES(FFA_MEM_RETRIEVE_REQ): a v1.1+ caller must declare NS-bit support (input bit 1), else
    /// NOT_SUPPORTED (Hafnium). w2 = NS bit supported (bit 1) | hypervisor retrieve supported (bit 2); no
    /// dynamically allocated buffers (bit 0 clear).
    /// </summary>
    private static FfaAnswer RetrieveReqFeatures(Call c, uint input)
    {
        if (c.Caller.Version >= FfaVersion.V1_1 && (input & NsBitSupported) == 0)
            return c.Reject(MemoryRetrieveRules.FeaturesNsBit, "FFA_MEM_RETRIEVE_REQ: a v1.1+ caller must set input property bit 1 (it handles the NS bit)");
        return FfaAnswer.Success32(w2: NsBitSupported | HypervisorRetrieveSupported);
    }

    private FfaAnswer MemRetrieveReq(Call c, MemRetrieveReq call)
    {
        var (total, fragment) = ((int)call.TotalLength, (int)call.FragmentLength);
        // The ABI allows a buffer of the caller's own; Hafnium (and we) support only the TX buffer.
        if (call.UsesOwnBuffer)
            return c.Reject(MemoryRetrieveRules.DynamicBuffer, "x3/x4 name a dynamically allocated buffer, which this SPMC does not support: put the request in the TX buffer");
        if (fragment != total)
            return c.Reject(MemoryRetrieveRules.Fragmented, $"fragment length {fragment} differs from total length {total}: retrieve requests cannot be fragmented (Hafnium)");
        if (c.Caller.Mailbox is not { } mailbox) return c.Reject(MemoryRetrieveRules.NoTxBuffer, "the caller has no TX buffer mapped");
        if (total > mailbox.Size) return c.Reject(MemoryRetrieveRules.ExceedsTx, $"length {total} exceeds the {mailbox.Size}-byte TX buffer");
        if (SpmcContext.RxBusyReason(c.Caller) is { } busy) return c.Reject(MemoryRetrieveRules.RxBusy, busy);

        var bytes = _memory.Read(mailbox.Tx, total);
        // Hafnium copies the request into a zero-filled staging buffer and calls it a hypervisor retrieve request when
        // its receiver count (byte 28, the same offset in the v1.0 and v1.1+ headers) is 0, whatever its length
        // (api_ffa_mem_retrieve_req, is_ffa_hypervisor_retrieve_request).
        if (Staged(bytes, MemoryTransactionDescriptor.Offsets.ReceiverCount, 4) == 0) return HypervisorRetrieve(c, bytes);
        var parsed = MemoryTransactionDescriptor.ReadHeader(bytes, c.Caller.Version < FfaVersion.V1_1);
        if (!parsed.Ok) return c.Reject(parsed.Rejection!);
        var request = parsed.Value!;
        if (MemoryChecks.LayoutError(request, c.Caller, MemoryRetrieveRules.EmadSize) is { } layoutError) return c.Reject(layoutError);

        if (request.Receivers.Any(r => r.CompositeOffset != 0))
            return c.Reject(MemoryRetrieveRules.CompositeOffsetNonZero, "a retrieve request must give composite offset 0 (the handle names the memory)");
        if (MemoryChecks.ShareFor(_shares, new MemoryHandle(request.Handle), RetrieveHandle, out var share) is { } unknown) return c.Reject(unknown);
        // The sender aborted (FF-A 1.3): the memory waits to be reclaimed, no one retrieves it (Hafnium b902a4d6).
        if (share.DeferredReclaim)
            return c.Reject(RuntimeRules.RetrieveDeferredReclaim, $"{EndpointId.Format(share.Sender)} aborted; handle 0x{share.Handle:X} is reclaimed once its borrowers relinquish it");
        if (total != request.ReceiversOffset + request.Receivers.Count * request.EmadSize)
            return c.Reject(MemoryRetrieveRules.LengthMismatch,
                $"length {total} is not the header plus {request.Receivers.Count} receivers ({request.ReceiversOffset + request.Receivers.Count * request.EmadSize})");
        if (request.Sender != share.Sender)
            return c.Reject(MemoryRetrieveRules.WrongSender,
                $"sender {EndpointId.Format(request.Sender)} is not the sender of handle 0x{share.Handle:X} ({EndpointId.Format(share.Sender)})");
        if (request.Flags.Type != MemoryTransactionType.NotSpecified && request.Flags.Type != share.Type)
            return c.Reject(MemoryRetrieveRules.WrongType, $"flags ask for a {request.Flags.Type} transaction but handle 0x{share.Handle:X} was {share.Name}");
        if (request.Tag != share.Tag) return c.Reject(MemoryRetrieveRules.WrongTag, $"tag 0x{request.Tag:X} is not the sender's tag");
        var (me, retrieverError) = Retriever(c, request.Receivers.Select(r => r.Access.Endpoint), share);
        if (retrieverError is not null) return c.Reject(retrieverError);
        if (RetrieveFlagsError(c, request.Flags, share) is { } flagError) return c.Reject(flagError);
        if (MemoryChecks.AttributesError(request.Attributes, share.Operation, share.Receivers.Count, forRetrieve: true) is { } attrError)
            return c.Reject(attrError);
        if (RetrieveReceiversError(me!.Id, request, share) is { } listError) return c.Reject(listError);

        var mine = request.Receivers.First(r => r.Access.Endpoint == me.Id);
        var (grant, grantError) = Grant(mine, me, share, request);
        if (grantError is not null) return c.Reject(grantError);
        // After the access list, before the retriever's transition (Hafnium ffa_partition_retrieve_request): Normal is
        // more permissive than Device, so device memory is retrieved as Device or with the type left unspecified.
        if (request.Attributes.Type == MemoryType.Normal && (share.Attributes.Type == MemoryType.Device || SentDeviceMemory(share)))
            return c.Reject(MemoryRetrieveRules.DeviceAsNormal, share.Attributes.Type == MemoryType.Device
                ? $"attributes {request.Attributes}: handle 0x{share.Handle:X} was sent as Device memory; retrieve it as Device or leave the type unspecified"
                : $"attributes {request.Attributes}: handle 0x{share.Handle:X} is device memory of {EndpointId.Format(share.Sender)}; retrieve it as Device or leave the type unspecified");
        if (me.HoldsMemory)
            return c.Reject(MemoryRetrieveRules.AlreadyRetrieved, $"{EndpointId.Format(me.Id)} already retrieved handle 0x{share.Handle:X} (relinquish it first)");

        me.State = RetrieveState.Retrieved;
        (me.GrantedData, me.GrantedInstruction) = grant;
        me.Retrievals++;
        var response = RetrieveResponse(share, c.Caller, me, mine.ImplementationDefined);
        me.Response = new ResponseInProgress { Bytes = response, Delivered = 0 };
        var first = NextFragment(c.Caller, me.Response, FaultFragment(share, response.Length, c.Caller));
        if (me.Response.Complete) FinishRetrieve(share, me);
        return RetrieveResp(response.Length, first);
    }

    /// <summary>
    /// A fragment fault rule (docs/faults.md): the first fragment carries at most its size, but never less than the
    /// header, EMAD and composite (DEN0077 §5.12: the first fragment holds them; later ones whole constituents), so
    /// the retriever pulls the rest with FFA_MEM_FRAG_RX. Null when no rule asked, or the response is not cut shorter.
    /// </summary>
    private int? FaultFragment(ShareState share, int total, Endpoint caller)
    {
        if (spmc.Faults.TakeFragment() is not { } size) return null;
        var header = total - share.Constituents.Count * MemoryRegionConstituent.Size;
        var limit = Math.Max(size, header);
        var room = caller.Mailbox!.Size / MemoryRegionConstituent.Size * MemoryRegionConstituent.Size;
        if (limit >= Math.Min(room, total)) return null;
        spmc.Faults.Applied = $"the {total}-byte retrieve response is cut at {limit} bytes" +
                              (limit > size ? $" (the header, EMAD and composite take {header})" : "") + ": pull the rest with FFA_MEM_FRAG_RX";
        return limit;
    }

    /// <summary>
    /// Who is retrieving: the caller, or — when the hypervisor (ID 0) retrieves through the SPMC for one of its
    /// VMs — the single normal-world receiver the request lists (Hafnium; more than one is NOT_SUPPORTED).
    /// </summary>
    private static (ShareReceiver? Receiver, Rejection? Error) Retriever(Call c, IEnumerable<ushort> listed, ShareState share)
    {
        if (share.Receiver(c.Caller.Id) is { } own) return (own, null);
        if (c.FromHypervisor)
        {
            var vms = listed.Where(id => EndpointId.IsVm(id) && share.Receiver(id) is not null).Distinct().ToList();
            if (vms.Count > 1)
                return (null, MemoryRetrieveRules.HypervisorSeveralVms.Reject($"the hypervisor can retrieve for one normal-world receiver at a time, the request lists {vms.Count}"));
            if (vms.Count == 1) return (share.Receiver(vms[0]), null);
        }
        return (null, MemoryRetrieveRules.NotAReceiver.Reject($"{EndpointId.Format(c.Caller.Id)} is not a receiver of handle 0x{share.Handle:X}"));
    }

    /// <summary>Retrieve flags: no alignment hints, only defined bits; SHARE cannot zero; zeroing needs the sender's consent.</summary>
    private static Rejection? RetrieveFlagsError(Call c, MemoryTransactionFlags flags, ShareState share)
    {
        if (flags.Has(MemoryTransactionFlags.AlignmentHintValid) || (flags.Value & MemoryTransactionFlags.AlignmentHintMask) != 0)
            return MemoryRetrieveRules.AlignmentHint.Reject("address-range alignment hints (flags bits[9:5]) are not supported (Hafnium rejects them)");
        // Bit 10 (bypass the multiple-borrower check) exists from v1.2.
        var allowed = c.Caller.Version >= FfaVersion.V1_2 ? 0x7FFu : 0x3FFu;
        if ((flags.Value & ~allowed) != 0) return MemoryRetrieveRules.FlagsReserved.Reject($"flags 0x{flags.Value:X}: reserved bits are set");
        // Time slicing (bit 1) is a permission the relayer may ignore: Hafnium accepts it and never pauses.
        if (share.Operation == MemoryOperation.Share &&
            (flags.Has(MemoryTransactionFlags.ZeroMemory) || flags.Has(MemoryTransactionFlags.ZeroAfterRelinquish)))
            return MemoryRetrieveRules.ShareZero.Reject("shared memory cannot be zeroed (flags bits 0 and 2 are for LEND and DONATE)");
        if (flags.Has(MemoryTransactionFlags.ZeroMemory) && !share.Flags.Has(MemoryTransactionFlags.ZeroMemory))
            return MemoryRetrieveRules.ZeroWithoutConsent.Reject("zeroing before retrieve (flags bit 0) needs the sender to have asked for it");
        return null;
    }

    /// <summary>
    /// The receiver list: all receivers of the transaction, or — with the v1.2 bypass flag — only the caller,
    /// for a multi-borrower transaction. Each must be a receiver (DENIED otherwise) and listed once.
    /// </summary>
    private static Rejection? RetrieveReceiversError(ushort retriever, MemoryTransactionDescriptor request, ShareState share)
    {
        var bypass = request.Flags.Has(MemoryTransactionFlags.BypassMultipleBorrowerCheck);
        if (bypass && (request.Receivers.Count != 1 || share.Receivers.Count < 2))
            return MemoryRetrieveRules.BypassMisuse.Reject("the bypass flag (bit 10) needs exactly one listed receiver and a transaction with several");
        if (!bypass && request.Receivers.Count != share.Receivers.Count)
            return MemoryRetrieveRules.ReceiverCount.Reject($"the request lists {request.Receivers.Count} receivers, the transaction has {share.Receivers.Count}");
        var seen = new HashSet<ushort>();
        foreach (var r in request.Receivers)
        {
            if (!seen.Add(r.Access.Endpoint)) return MemoryRetrieveRules.ReceiverDuplicate.Reject($"receiver {EndpointId.Format(r.Access.Endpoint)} is listed twice");
            if (share.Receiver(r.Access.Endpoint) is null)
                return MemoryRetrieveRules.ReceiverNotInTransaction.Reject($"{EndpointId.Format(r.Access.Endpoint)} is not a receiver of handle 0x{share.Handle:X}");
            if (r.Access.ReservedBitsSet)
                return MemoryRetrieveRules.ReceiverReservedBits.Reject($"receiver {EndpointId.Format(r.Access.Endpoint)}: reserved permission bits are set");
        }
        if (!seen.Contains(retriever)) return MemoryRetrieveRules.RetrieverNotListed.Reject($"the request does not list the retriever {EndpointId.Format(retriever)}");
        return null;
    }

    /// <summary>
    /// The access granted to the retriever (Hafnium ffa_memory_retrieve_is_memory_access_valid): data access no
    /// wider than the sender gave; instruction access unspecified for SHARE and multi-borrower LEND (granted NX),
    /// NX or X for single-borrower LEND/DONATE (X never on non-secure memory lent to an SP).
    /// </summary>
    private ((DataAccess, InstructionAccess), Rejection?) Grant(EndpointMemoryAccess mine, ShareReceiver me, ShareState share,
        MemoryTransactionDescriptor request)
    {
        var a = mine.Access;
        if (a.Flags != 0) return (default, MemoryRetrieveRules.BorrowerFlag.Reject("the caller's own access descriptor must not carry the non-retrieval borrower flag"));
        if (a.Data == DataAccess.Reserved || a.Instruction == InstructionAccess.Reserved)
            return (default, MemoryRetrieveRules.PermissionReserved.Reject("permission value 3 is reserved"));
        var sent = me.Sent.Data == DataAccess.NotSpecified ? DataAccess.ReadWrite : me.Sent.Data;
        if (a.Data == DataAccess.ReadWrite && sent == DataAccess.ReadOnly)
            return (default, MemoryRetrieveRules.ReadWriteOverReadOnly.Reject("RW requested but the sender granted RO"));
        var data = a.Data == DataAccess.NotSpecified ? sent : a.Data;

        var instruction = InstructionAccess.NotExecutable;
        var multiple = share.Operation == MemoryOperation.Share || (share.Operation == MemoryOperation.Lend && share.Receivers.Count > 1);
        if (multiple && a.Instruction != InstructionAccess.NotSpecified)
            return (default, MemoryRetrieveRules.InstructionAccessSpecified.Reject(
                $"instruction access must be unspecified when memory is {(share.Operation == MemoryOperation.Share ? "shared" : "lent to several borrowers")} (it is NX)"));
        if (!multiple)
        {
            if (a.Instruction == InstructionAccess.NotSpecified)
                return (default, MemoryRetrieveRules.InstructionAccessMissing.Reject("a single borrower of lent or donated memory must ask for NX or X"));
            if (a.Instruction == InstructionAccess.Executable && EndpointId.IsSecure(me.Id) && !_map.IsSecure(share.Constituents[0].Address))
                return (default, MemoryRetrieveRules.ExecutableNonSecure.Reject("X on non-secure memory cannot be granted to a secure partition (no RME)"));
            instruction = a.Instruction;
        }
        if (data == DataAccess.ReadOnly &&
            (request.Flags.Has(MemoryTransactionFlags.ZeroMemory) || request.Flags.Has(MemoryTransactionFlags.ZeroAfterRelinquish)))
            return (default, MemoryRetrieveRules.ReadOnlyZero.Reject("read-only access cannot be combined with zeroing flags"));
        if (request.Layout == MemoryDescriptorLayout.V1_2 && share.SenderLayout == MemoryDescriptorLayout.V1_2 &&
            mine.ImplementationDefined != me.ImplementationDefined)
            return (default, MemoryRetrieveRules.ImplementationDefinedMismatch.Reject("the implementation-defined value differs from the sender's"));
        return ((data, instruction), null);
    }

    /// <summary>
    /// The retrieve response, in the retriever's layout: the caller's access descriptor with what was granted,
    /// the transaction type in the flags, the NS bit for non-secure memory, and every constituent. Hafnium
    /// writes tag 0 in responses rather than echoing the sender's; we do the same.
    /// </summary>
    private byte[] RetrieveResponse(ShareState share, Endpoint caller, ShareReceiver me, UInt128 impdef)
    {
        var layout = MemoryDescriptorLayouts.For(caller.Version);
        var ns = layout != MemoryDescriptorLayout.V1_0 && !_map.IsSecure(share.Constituents[0].Address);
        var flags = (uint)share.Type << 3;
        if (share.Flags.Has(MemoryTransactionFlags.ZeroMemory)) flags |= MemoryTransactionFlags.ZeroMemory;
        var d = new MemoryTransactionDescriptor(share.Sender, share.Attributes.WithNonSecure(ns), new MemoryTransactionFlags(flags), share.Handle, 0,
            [new EndpointMemoryAccess(MemoryAccessPermissions.Of(me.Id, me.GrantedData, me.GrantedInstruction), 0, impdef)],
            new CompositeMemoryRegion((uint)share.TotalPages, share.Constituents));
        return d.ToBytes(layout);
    }

    /// <summary>Writes the next fragment of a response into the caller's RX (whole constituents only) and returns its length.</summary>
    private int NextFragment(Endpoint caller, ResponseInProgress response, int? limit = null)
    {
        var room = caller.Mailbox!.Size / MemoryRegionConstituent.Size * MemoryRegionConstituent.Size;
        var length = Math.Min(Math.Min(room, limit ?? room), response.Bytes.Length - response.Delivered);
        spmc.FillRx(caller, response.Bytes.AsSpan(response.Delivered, length));
        response.Delivered += length;
        return length;
    }

    /// <summary>
    /// Whether the transaction's pages are device memory (the sender's mode, Hafnium sender_orig_mode &amp; MM_MODE_D):
    /// a send never mixes device and normal pages, and the pages keep the attribute while they are in it.
    /// </summary>
    private bool SentDeviceMemory(ShareState share) =>
        share.Constituents.Count > 0 && _map.TryGetState(share.Constituents[0].Address, out var page) && page.Device;

    /// <summary>
    /// The whole response was delivered: a DONATE now changes owner and the handle is freed (Hafnium). The new owner
    /// may write the pages unless it retrieved them read-only, whatever the donor's access was: Hafnium maps them
    /// with the granted permissions and keeps only the device attribute of the donor's mode.
    /// </summary>
    private void FinishRetrieve(ShareState share, ShareReceiver me)
    {
        me.Response = null;
        if (share.Operation != MemoryOperation.Donate) return;
        foreach (var k in share.Constituents) _map.SetOwner(k.Address, k.ByteLength, me.Id, readOnly: me.GrantedData == DataAccess.ReadOnly);
        _shares.Remove(share.Handle);
    }

    /// <summary>
    /// A little-endian field of a request as Hafnium reads it from its zero-filled staging buffer: bytes past the
    /// request's length read as zero.
    /// </summary>
    private static ulong Staged(byte[] request, int offset, int size)
    {
        ulong value = 0;
        for (var i = size - 1; i >= 0; i--) value = (value << 8) | (offset + i < request.Length ? request[offset + i] : 0u);
        return value;
    }

    /// <summary>
    /// The hypervisor retrieve request (FF-A v1.2 §17.4.3; pKVM before every reclaim): ID 0, no receivers, every
    /// field of the caller's version's header zero but the handle (Hafnium
    /// api_ffa_memory_hypervisor_retrieve_request_validate: v1.0 — sender, attributes, flags, tag; v1.1+ — also the
    /// receiver descriptor size and offset). The length is not checked beyond fitting TX: a 48-byte request from a
    /// v1.0 caller (pKVM from 6.10) passes, bytes 32..47 unread; a 32-byte one from a v1.1+ caller reads them as 0.
    /// Answered with the whole transaction as sent, in the caller's layout, cut where the sender cut it; changes no
    /// state but the delivery in progress.
    /// </summary>
    private FfaAnswer HypervisorRetrieve(Call c, byte[] request)
    {
        if (!c.FromHypervisor) return c.Reject(MemoryHypervisorRetrieveRules.NotHypervisor, "a retrieve request with no receivers is the hypervisor's (ID 0) only");
        var v1_0 = c.Caller.Version < FfaVersion.V1_1;
        var set = new List<string>();
        if (Staged(request, MemoryTransactionDescriptor.Offsets.Sender, 2) != 0) set.Add("sender");
        // Hafnium's attributes bit-fields are the low byte in both layouts (the v1.1 high byte is not looked at).
        if (Staged(request, MemoryTransactionDescriptor.Offsets.Attributes, 1) != 0) set.Add("attributes");
        if (Staged(request, MemoryTransactionDescriptor.Offsets.Flags, 4) != 0) set.Add("flags");
        if (Staged(request, MemoryTransactionDescriptor.Offsets.Tag, 8) != 0) set.Add("tag");
        if (!v1_0 && Staged(request, MemoryTransactionDescriptor.Offsets.EmadSize, 4) != 0) set.Add("receiver descriptor size");
        if (!v1_0 && Staged(request, MemoryTransactionDescriptor.Offsets.ReceiversOffset, 4) != 0) set.Add("receivers offset");
        if (set.Count > 0)
            return c.Reject(MemoryHypervisorRetrieveRules.FieldsNotZero,
                $"a hypervisor retrieve request must be zero but for its handle; in the v{(v1_0 ? "1.0" : "1.1+")} header of a {c.Caller.Version} caller these are not: {string.Join(", ", set)}");
        var handle = new MemoryHandle(Staged(request, MemoryTransactionDescriptor.Offsets.Handle, 8));
        if (MemoryChecks.ShareFor(_shares, handle, HypervisorRetrieveHandle, out var share) is { } unknown) return c.Reject(unknown);
        if (share.HypervisorResponse is not null)
            return c.Reject(MemoryHypervisorRetrieveRules.InProgress,
                $"a hypervisor retrieve of handle 0x{share.Handle:X} is in progress (pull its fragments with FFA_MEM_FRAG_RX)");

        // Header and one EMAD per receiver with the sender's permissions, the sender's flags with the transaction
        // type, tag 0, one composite after the EMADs; then the constituents of the sender's fragments, one by one.
        var layout = MemoryDescriptorLayouts.For(c.Caller.Version);
        var d = new MemoryTransactionDescriptor(share.Sender, share.Attributes, MemoryTransactionFlags.OfType(share.Type, share.Flags.Value),
            share.Handle, 0, share.Receivers.Select(r => new EndpointMemoryAccess(r.Sent, 0, r.ImplementationDefined)).ToList(),
            new CompositeMemoryRegion((uint)share.TotalPages, share.Constituents));
        var constituentsAt = d.CompositeOffsetIn(layout) + CompositeMemoryRegion.HeaderSize;
        var lengths = share.FragmentConstituents.Select((n, i) => (i == 0 ? constituentsAt : 0) + n * MemoryRegionConstituent.Size).ToList();
        var response = new ResponseInProgress { Bytes = d.ToBytes(layout), Delivered = 0, FragmentLengths = lengths };
        if (HypervisorFragmentError(c, share, lengths[0]) is { } tooBig) return c.Reject(tooBig);
        var first = DeliverHypervisorFragment(c.Caller, response);
        share.HypervisorResponse = response.Complete ? null : response;
        return RetrieveResp(response.Bytes.Length, first);
    }

    /// <summary>
    /// A fragment of a hypervisor retrieve response is one fragment of the sender's, which may not fit the
    /// hypervisor's RX (a sender with a bigger TX, or a v1.0/v1.1 sender's 16-byte EMADs answered to a v1.2+ hypervisor with 32-byte ones).
    /// </summary>
    private static Rejection? HypervisorFragmentError(Call c, ShareState share, int length) =>
        length <= c.Caller.Mailbox!.Size ? null
            : MemoryHypervisorRetrieveRules.FragmentExceedsRx.Reject(
                $"handle 0x{share.Handle:X}: the {length}-byte fragment, as {EndpointId.Format(share.Sender)} sent it, does not fit the {c.Caller.Mailbox.Size}-byte RX of {EndpointId.Format(c.Caller.Id)} (Hafnium would panic)");

    /// <summary>Writes the next fragment of a hypervisor retrieve response, as the sender cut it, into RX; returns its length.</summary>
    private int DeliverHypervisorFragment(Endpoint caller, ResponseInProgress response)
    {
        var length = response.FragmentLengths![response.NextFragment];
        spmc.FillRx(caller, response.Bytes.AsSpan(response.Delivered, length));
        response.Delivered += length;
        response.NextFragment++;
        return length;
    }

    /// <summary>
    /// FFA_MEM_FRAG_RX: w1/w2 = handle, w3 = bytes of the response already received, w4[31:16] = sender ID
    /// (hypervisor only). Answered with FFA_MEM_FRAG_TX and the next fragment in RX.
    /// </summary>
    private FfaAnswer MemFragRx(Call c, MemFragRx call)
    {
        var handle = call.Handle;
        var offset = call.Offset;
        var w4Sender = call.Endpoint;
        if (w4Sender != 0 && c.Caller.IsSecure) return c.Reject(MemoryFragRxRules.SpNamesSender, "w4[31:16] must be 0 for a secure partition");
        if (SpmcContext.RxBusyReason(c.Caller) is { } busy) return c.Reject(MemoryFragRxRules.RxBusy, busy);
        if (MemoryChecks.ShareFor(_shares, handle, FragRxHandle, out var share) is { } unknown) return c.Reject(unknown);

        // The continuation of a hypervisor retrieve: ID 0, one in progress, w4[31:16] a VM ID, which must be the
        // transaction's sender; each call returns exactly one of the sender's fragments (Hafnium ffa_memory_retrieve_continue).
        if (c.FromHypervisor && share.HypervisorResponse is { } hypervisor && EndpointId.IsVm(w4Sender))
        {
            if (w4Sender != share.Sender)
                return c.Reject(MemoryFragRxRules.W4NotSender,
                    $"w4[31:16] = {EndpointId.Format(w4Sender)} is not the sender of handle 0x{handle.Value:X} ({EndpointId.Format(share.Sender)}): a hypervisor retrieve names the sender");
            if (offset != (ulong)hypervisor.Delivered)
                return c.Reject(MemoryFragRxRules.WrongOffset, $"fragment offset {offset} is not the {hypervisor.Delivered} bytes already delivered");
            if (HypervisorFragmentError(c, share, hypervisor.FragmentLengths![hypervisor.NextFragment]) is { } tooBig) return c.Reject(tooBig);
            var fragment = DeliverHypervisorFragment(c.Caller, hypervisor);
            // Fully pulled: the hypervisor may retrieve the handle again (ffa_memory_retrieve_complete_from_hyp).
            if (hypervisor.Complete) share.HypervisorResponse = null;
            return new FfaAnswer(new MemFragTx(handle, (uint)fragment).Encode());
        }

        if (w4Sender != 0 && w4Sender != share.Sender)
            return c.Reject(MemoryFragRxRules.W4NotSender, $"w4[31:16] = {EndpointId.Format(w4Sender)} is not the sender of handle 0x{handle.Value:X}");
        var me = share.Receiver(c.Caller.Id) ??
                 (c.FromHypervisor ? share.Receivers.FirstOrDefault(r => EndpointId.IsVm(r.Id) && r.Response is not null) : null);
        if (me is null) return c.Reject(MemoryFragRxRules.NotAReceiver, $"{EndpointId.Format(c.Caller.Id)} is not a receiver of handle 0x{handle.Value:X}");
        var response = me.Response;
        if (response is null)
            return c.Reject(MemoryFragRxRules.NoResponse, $"no retrieve response of handle 0x{handle.Value:X} is being delivered to {EndpointId.Format(c.Caller.Id)}");
        if (offset != (ulong)response.Delivered)
            return c.Reject(MemoryFragRxRules.WrongOffset, $"fragment offset {offset} is not the {response.Delivered} bytes already delivered");

        var length = NextFragment(c.Caller, response);
        if (response.Complete) FinishRetrieve(share, me);
        return new FfaAnswer(new MemFragTx(handle, (uint)length).Encode());
    }

}
