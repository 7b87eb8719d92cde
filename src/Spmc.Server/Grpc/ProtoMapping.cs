using Google.Protobuf;
using Spmc.Abi.Smccc;
using Spmc.Core;
using Spmc.Core.Calls;
using Spmc.Core.Manifests;
using Spmc.Core.Memory;
using Spmc.Core.Spm;
using Spmc.Core.Systems;
using Spmc.V1;
using Conduit = Spmc.Abi.Smccc.Conduit;

namespace Spmc.Server.Grpc;

/// <summary>Contract (spmc.v1) ⇄ domain. Input checks here are the ones the proto types cannot express.</summary>
public static class ProtoMapping
{
    public static SmcCall ToDomain(SmcRequest request)
    {
        if (request.X.Count > Registers.Count)
            throw new InvalidRequestException($"x: {request.X.Count} registers, a frame has at most {Registers.Count} (x0..x17)");
        if (request.Caller > 0xFFFF) throw new InvalidRequestException($"caller: 0x{request.Caller:X} is not a 16-bit endpoint ID");
        var conduit = request.Conduit switch
        {
            V1.Conduit.Smc => Conduit.Smc,
            V1.Conduit.Hvc => Conduit.Hvc,
            _ => throw new InvalidRequestException($"conduit: {(int)request.Conduit} is neither SMC (0) nor HVC (1)"),
        };
        var writes = request.Writes.Select((w, i) => w.Data.Length > SystemLimits.MaxTransfer
            ? throw new InvalidRequestException($"writes[{i}]: {w.Data.Length} bytes, at most {SystemLimits.MaxTransfer}")
            : new Core.Calls.MemoryWrite(w.Address, w.Data.ToByteArray())).ToList();
        var reads = request.Reads.Select((r, i) => r.Length > SystemLimits.MaxTransfer
            ? throw new InvalidRequestException($"reads[{i}]: length {r.Length} is above {SystemLimits.MaxTransfer} (1 MiB)")
            : new Core.Calls.MemoryReadRequest(r.Address, (int)r.Length)).ToList();
        return new SmcCall((ushort)request.Caller, request.Vcpu, conduit, SmcFrame.From(request.X.ToArray()), writes, reads);
    }

    public static SmcResponse ToProto(SmcOutcome outcome, ulong tag)
    {
        var response = new SmcResponse { Tag = tag, Decoded = ToProto(outcome.Decoded) };
        response.X.Add(outcome.Frame.ToArray());
        foreach (var r in outcome.Reads)
            response.Reads.Add(new V1.MemoryReadResult
            {
                Address = r.Address,
                Data = r.Data is null ? ByteString.Empty : ByteString.CopyFrom(r.Data),
                Error = r.Error ?? "",
            });
        foreach (var e in outcome.Events ?? []) response.Events.Add(ToProto(e));
        return response;
    }

    public static V1.SystemEvent ToProto(Core.Calls.SystemEvent e)
    {
        var proto = new V1.SystemEvent { Sequence = (ulong)e.Sequence, Kind = e.Kind.ToString(), Endpoint = e.Endpoint, Delayed = e.Delayed, Detail = e.Detail };
        if (e.Vcpu is { } vcpu) proto.Vcpu = vcpu;
        return proto;
    }

    private static V1.Decoded ToProto(Core.Calls.Decoded d)
    {
        var decoded = new V1.Decoded { Function = d.Function, Width = d.Width, Result = d.Result };
        if (d.Error is not null) decoded.Error = d.Error;
        if (d.Reason is not null) decoded.Reason = d.Reason;
        if (d.Rule is not null) decoded.Rule = d.Rule;
        foreach (var hop in d.Hops ?? [])
        {
            var h = new V1.Hop { Caller = hop.Caller, Decoded = ToProto(hop.Decoded) };
            h.Request.Add(hop.Request.ToArray());
            h.Answer.Add(hop.Answer.ToArray());
            decoded.Hops.Add(h);
        }
        decoded.Notes.Add(d.Notes ?? []);
        return decoded;
    }

    public static SystemInfo ToProto(SimulatedSystem system)
    {
        var c = system.Config;
        var info = new SystemInfo
        {
            Id = system.Id,
            SpmcId = c.SpmcId,
            FfaVersion = c.Version.ToString(),
            ProxyProfile = c.ProxyProfile,
            ManifestJson = ManifestValidator.ToDocument(c).ToJson(),
        };
        foreach (var vm in c.Vms)
        {
            var v = new VmInfo { Id = vm.Id, Name = vm.Name, Vcpus = (uint)vm.Vcpus };
            v.Memory.Add(vm.Memory.Select(ToProto));
            info.Vms.Add(v);
        }
        info.Partitions.Add(c.Partitions.Select(ToProto));
        return info;
    }

    public static V1.PartitionInfo ToProto(PartitionConfig sp)
    {
        var p = new V1.PartitionInfo
        {
            Id = sp.Id,
            Name = sp.Name,
            ExecutionContexts = sp.ExecutionContexts,
            FfaVersion = sp.Version.ToString(),
            Properties = (uint)sp.Properties,
            Behaviour = sp.Behaviour ?? "",
        };
        p.Uuids.Add(sp.Uuids.Select(u => u.ToString()));
        p.Memory.Add(sp.Memory.Select(ToProto));
        return p;
    }

    private static MemoryRegion ToProto(MemoryRange r) => new() { Base = r.Base, Size = r.Size };

    public static V1.SystemState ToProto(Core.Systems.SystemState s)
    {
        var state = new V1.SystemState
        {
            Id = s.Id,
            SpmcId = s.SpmcId,
            FfaVersion = s.Version.ToString(),
            ProxyProfile = s.ProxyProfile,
            Calls = (ulong)s.Calls,
            ResidentPages = (uint)s.ResidentPages,
        };
        foreach (var e in s.Endpoints)
        {
            var ep = new EndpointState
            {
                Id = e.Id,
                Kind = e.Secure ? "sp" : "vm",
                Name = e.Name,
                Vcpus = (uint)e.Vcpus,
                FfaVersion = e.Version.ToString(),
                VersionNegotiated = e.VersionNegotiated,
                VersionLocked = e.VersionLocked,
            };
            if (e.Mailbox is { } m)
                ep.Mailbox = new V1.Mailbox { Tx = m.Tx, Rx = m.Rx, Pages = m.Pages, State = ToProto(m.State) };
            state.Endpoints.Add(ep);
        }
        state.Partitions.Add(s.Partitions.Select(p => ToProto(p.Config)));
        state.Memory.Add(s.Memory.Select(ToProto));
        state.MemoryRangeCount = (uint)s.MemoryRangeCount;
        state.Shares.Add(s.Shares.Select(ToProto));
        if (s.Proxy is { } p)
        {
            var proxy = new ProxyState { Profile = p.Profile, FfaVersion = p.Version ?? "", Negotiated = p.Negotiated, Stage2Count = (uint)s.Stage2RangeCount };
            if (p.HostTx is { } htx) proxy.HostTx = htx;
            if (p.HostRx is { } hrx) proxy.HostRx = hrx;
            if (p.HypTx is { } ytx) proxy.HypTx = ytx;
            if (p.HypRx is { } yrx) proxy.HypRx = yrx;
            proxy.Stage2.Add(p.Stage2.Select(r => new Stage2Range { Base = r.Base, Size = r.Size, State = r.State }));
            proxy.Notes.Add(p.Notes);
            state.Proxy = proxy;
        }
        state.Console.Add(s.Console.Select(l => new V1.ConsoleLine { Sequence = (ulong)l.Sequence, Endpoint = l.Endpoint, Text = l.Text }));
        state.Faults.Add(s.Faults.Select(FaultMapping.ToProto));
        return state;
    }

    public static OwnedRange ToProto(Core.Systems.MemoryRegionView m)
    {
        var range = new OwnedRange { Base = m.Base, Size = m.Size, Owner = m.Owner, Secure = m.Secure, Use = UseName(m.Use), Access = m.ReadOnly ? "ro" : "rw", Device = m.Device };
        if (m.Share is { } handle) range.ShareHandle = handle;
        return range;
    }

    public static V1.MemoryMapPage ToProto(Core.Systems.MemoryMapPage page)
    {
        var proto = new V1.MemoryMapPage { Total = (uint)page.Total, Offset = (uint)page.Offset };
        proto.Ranges.Add(page.Ranges.Select(ToProto));
        return proto;
    }

    public static MemoryShare ToProto(Core.Systems.ShareView share)
    {
        var proto = new MemoryShare
        {
            Handle = share.Handle,
            Operation = share.Operation.ToString().ToLowerInvariant(),
            Sender = share.Sender,
            Attributes = share.Attributes.Value,
            Flags = share.Flags,
            Tag = share.Tag,
            SendingComplete = share.SendingComplete,
            ReceivedBytes = (uint)share.ReceivedBytes,
            TotalBytes = (uint)share.TotalBytes,
            Fragments = (uint)share.Fragments,
            HypervisorRetrieveInProgress = share.HypervisorRetrieveInProgress,
            TotalPages = share.TotalPages,
            RangeCount = (uint)share.ConstituentCount,
            RangesOffset = (uint)share.ConstituentsOffset,
        };
        proto.Ranges.Add(share.Constituents.Select(k => new MemoryRegion { Base = k.Address, Size = k.ByteLength }));
        proto.Receivers.Add(share.Receivers.Select(r => new V1.ShareReceiver
        {
            Id = r.Id,
            SentDataAccess = Names.Of(r.Sent.Data),
            SentInstructionAccess = Names.Of(r.Sent.Instruction),
            State = Names.Of(r),
            GrantedDataAccess = Names.Of(r.GrantedData),
            GrantedInstructionAccess = Names.Of(r.GrantedInstruction),
            Retrievals = (uint)r.Retrievals,
        }));
        return proto;
    }

    /// <summary>A paged view's offset and limit from a request: 0 means the largest page; beyond an int is refused naming the field.</summary>
    public static (int Offset, int Limit) Page(uint offset, uint limit) =>
        (offset <= int.MaxValue ? (int)offset : throw new InvalidRequestException($"offset: {offset} is too large"),
         limit == 0 ? Core.Systems.StateLimits.MaxPage : limit <= int.MaxValue ? (int)limit : throw new InvalidRequestException($"limit: {limit} is too large"));

    public static V1.RxState ToProto(Core.Spm.RxState state) => state switch
    {
        Core.Spm.RxState.Full => V1.RxState.Full,
        Core.Spm.RxState.OtherWorldOwned => V1.RxState.OtherWorldOwned,
        _ => V1.RxState.Empty,
    };

    public static string UseName(PageUse use) => use switch
    {
        PageUse.RxBuffer => "rx-buffer",
        PageUse.TxBuffer => "tx-buffer",
        _ => "owned",
    };

    public static string RequireSystemId(string id) =>
        string.IsNullOrEmpty(id) ? throw new InvalidRequestException("system_id: required") : id;
}
