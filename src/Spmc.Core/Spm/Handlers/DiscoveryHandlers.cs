using Spmc.Abi.Calls;
using Spmc.Abi.Descriptors;
using Spmc.Abi.Ffa;
using Spmc.Core.Calls;
using Spmc.Core.Manifests;

namespace Spmc.Core.Spm.Handlers;

/// <summary>Partition discovery: FFA_PARTITION_INFO_GET and FFA_PARTITION_INFO_GET_REGS (Hafnium api.c).</summary>
internal sealed class DiscoveryHandlers(SpmcContext spmc)
{
    private readonly SystemConfig _config = spmc.Config;

    public void Register(HandlerTable table)
    {
        table.Register<PartitionInfoGet>(FfaFunction.PartitionInfoGet, Callers.Any, InfoGet);
        table.Register<PartitionInfoGetRegs>(FfaFunction.PartitionInfoGetRegs, Callers.Any, InfoGetRegs, smc32: false, smc64: true);
    }

    /// <summary>
    /// The descriptors a caller gets for a UUID, in manifest order. A nil UUID matches every service. Callers
    /// below v1.2 get one entry per partition (its first matching UUID); v1.2+ callers one per matching UUID.
    /// The UUID field is filled only for nil-UUID queries (Hafnium, TFTF). Properties: the normal world never
    /// sees the "send" bits, and only the normal world sees the VM availability bits 6/7 (Hafnium
    /// api_ffa_partitions_info_get_properties); bits a caller's version does not define are cleared.
    /// A v1.3 caller of a v1.3 SPMC (DEN0077 v1.3 §6.2, table 6.1) also gets each partition's image UUID and its
    /// FF-A version (the one in force for it), and may query by image UUID: that matches one entry per partition
    /// ("the count is 1", §6.2.2) whose protocol UUID field holds the partition's first protocol UUID (the text
    /// fills the field for image-UUID queries and leaves the choice open).
    /// </summary>
    private List<PartitionInfoDescriptor> PartitionInfo(FfaUuid uuid, Endpoint caller)
    {
        var result = new List<PartitionInfoDescriptor>();
        var mask = PartitionInfoDescriptor.DefinedAt(caller.Version);
        if (!caller.IsSecure) mask &= ~(PartitionProperties.DirectRequestSend | PartitionProperties.DirectRequest2Send);
        else mask &= ~(PartitionProperties.VmCreatedMessages | PartitionProperties.VmDestroyedMessages);
        var v1_3 = IsV1_3(caller);
        foreach (var sp in _config.Partitions)
        {
            var descriptor = new PartitionInfoDescriptor(sp.Id, sp.ExecutionContexts, sp.Properties & mask, FfaUuid.Nil);
            if (v1_3) descriptor = descriptor with { ImageUuid = sp.ImageUuid, PartitionVersion = spmc.FindEndpoint(sp.Id)?.Version ?? sp.Version };
            var matched = false;
            foreach (var service in sp.Uuids)
            {
                if (!uuid.IsNil && service != uuid) continue;
                matched = true;
                result.Add(descriptor with { Uuid = uuid.IsNil ? service : FfaUuid.Nil });
                if (caller.Version < FfaVersion.V1_2) break;
            }
            if (!matched && v1_3 && !uuid.IsNil && sp.ImageUuid == uuid && sp.Uuids.Count > 0)
                result.Add(descriptor with { Uuid = sp.Uuids[0] });
        }
        return result;
    }

    /// <summary>The v1.3 discovery rules apply: the caller's version (and so the SPMC's) is 1.3.</summary>
    private bool IsV1_3(Endpoint caller) => caller.Version >= FfaVersion.V1_3 && _config.Version >= FfaVersion.V1_3;

    /// <summary>
    /// FFA_PARTITION_INFO_GET: w1..w4 = UUID, w5 bit0 = count only (bits[31:1] checked by the decoder). Hafnium
    /// counts before collapsing to one entry per partition for pre-1.2 callers, so its count-only answer can exceed
    /// what a full call returns; we count what a full call would return instead, which is what the spec intends.
    /// </summary>
    private FfaAnswer InfoGet(Call c, PartitionInfoGet call)
    {
        var entries = PartitionInfo(call.Uuid, c.Caller);
        if (entries.Count == 0) return c.Reject(DiscoveryRules.InfoGetUnknownUuid, $"no partition has UUID {call.Uuid}");
        if (call.CountOnly) return FfaAnswer.Success32(w2: (uint)entries.Count);

        if (SpmcContext.RxBusyReason(c.Caller) is { } busy) return c.Reject(DiscoveryRules.InfoGetRxBusy, busy);
        var size = PartitionInfoDescriptor.SizeFor(c.Caller.Version);
        var mailbox = c.Caller.Mailbox!;
        if (entries.Count * size > mailbox.Size)
            return c.Reject(DiscoveryRules.InfoGetRxTooSmall, $"{entries.Count} descriptors of {size} bytes do not fit the {mailbox.Size}-byte RX buffer");

        var bytes = new byte[entries.Count * size];
        for (var i = 0; i < entries.Count; i++) entries[i].Write(bytes.AsSpan(i * size), c.Caller.Version);
        spmc.FillRx(c.Caller, bytes);
        // v1.0 defines no w3; v1.1+ report the descriptor size so callers can step through RX.
        return FfaAnswer.Success32(w2: (uint)entries.Count, w3: c.Caller.Version >= FfaVersion.V1_1 ? (uint)size : 0);
    }

    /// <summary>
    /// FFA_PARTITION_INFO_GET_REGS (v1.2, SMC64): x1/x2 = UUID, x3[15:0] = start index, x3[31:16] = tag (x3[63:32]
    /// checked by the decoder). Answers in registers, never through RX. Hafnium supports no tags: any non-zero tag
    /// is RETRY.
    /// </summary>
    private FfaAnswer InfoGetRegs(Call c, PartitionInfoGetRegs call)
    {
        var (start, tag) = (call.StartIndex, call.Tag);
        if (tag != 0) return c.Reject(DiscoveryRules.InfoGetRegsTag, $"info tag {tag} is not current; restart from index 0 with tag 0");
        var entries = PartitionInfo(call.Uuid, c.Caller);
        if (entries.Count == 0) return c.Reject(DiscoveryRules.InfoGetRegsUnknownUuid, $"no partition has UUID {call.Uuid}");
        if (start >= entries.Count)
            return c.Reject(DiscoveryRules.InfoGetRegsStartIndex, $"start index {start} is not below the count {entries.Count}");

        var last = entries.Count - 1;
        // v1.2: 24-byte descriptors, five per call; v1.3 (table 13.41): 48-byte descriptors in six registers, two per call.
        var size = (ushort)(IsV1_3(c.Caller) ? PartitionInfoDescriptor.SizeV1_3 : PartitionInfoDescriptor.SizeV1_1);
        var current = Math.Min(last, start + PartitionInfoGetRegsAnswer.MaxDescriptorsFor(size) - 1);
        var answer = new PartitionInfoGetRegsAnswer((ushort)last, (ushort)current, tag, size, entries.GetRange(start, current - start + 1));
        return new FfaAnswer(answer.Encode());
    }
}
