using System.Text.Json;
using Spmc.Abi.Ffa;
using Spmc.Abi.Smccc;
using Spmc.Core;
using Spmc.Core.Calls;
using Spmc.Core.Faults;
using Spmc.Core.Manifests;
using Spmc.Core.Systems;
using Spmc.Server.Grpc;

namespace Spmc.Server.Rest;

/// <summary>REST bodies ⇄ domain. Every field is parsed here with its name in the error.</summary>
public static class RestMapping
{
    public static SmcCall ToDomain(SmcRequestDto dto)
    {
        var caller = Numbers.ParseEndpointId(dto.Caller ?? throw new InvalidRequestException("caller: required"), "caller");
        var vcpu = dto.Vcpu is null ? 0 : Numbers.ParseU64(dto.Vcpu, "vcpu");
        if (vcpu > uint.MaxValue) throw new InvalidRequestException($"vcpu: {vcpu} is not a 32-bit index");
        var conduit = dto.Conduit?.Trim().ToLowerInvariant() switch
        {
            null or "" or "smc" => Conduit.Smc,
            "hvc" => Conduit.Hvc,
            var other => throw new InvalidRequestException($"conduit: '{other}' is neither \"smc\" nor \"hvc\""),
        };
        var x = dto.X ?? [];
        if (x.Count == 0) throw new InvalidRequestException("x: at least x0 (the function ID) is required");
        if (x.Count > Registers.Count) throw new InvalidRequestException($"x: {x.Count} registers, a frame has at most {Registers.Count} (x0..x17)");
        var regs = new ulong[x.Count];
        for (var i = 0; i < x.Count; i++) regs[i] = Numbers.ParseU64(x[i], $"x[{i}]");

        var writes = (dto.Writes ?? []).Select((w, i) => new MemoryWrite(
            Numbers.ParseU64(w?.Address, $"writes[{i}].address"), Bytes(w?.Data, w?.Hex, $"writes[{i}]"))).ToList();
        var reads = (dto.Reads ?? []).Select((r, i) => new MemoryReadRequest(
            Numbers.ParseU64(r?.Address, $"reads[{i}].address"), Length(r?.Length, $"reads[{i}].length"))).ToList();
        return new SmcCall(caller, (uint)vcpu, conduit, SmcFrame.From(regs), writes, reads);
    }

    public static int Length(string? text, string field)
    {
        var length = Numbers.ParseU64(text, field);
        if (length > SystemLimits.MaxTransfer) throw new InvalidRequestException($"{field}: {length} is above {SystemLimits.MaxTransfer} (1 MiB)");
        return (int)length;
    }

    public static byte[] Base64(string? text, string field)
    {
        if (text is null) throw new InvalidRequestException($"{field}: required (base64)");
        // Base64 of 1 MiB is about 1.4 MB; refuse bigger input before decoding it.
        if (text.Length > SystemLimits.MaxTransfer / 3 * 4 + 8) throw new InvalidRequestException($"{field}: more than {SystemLimits.MaxTransfer} bytes");
        try { return Convert.FromBase64String(text); }
        catch (FormatException) { throw new InvalidRequestException($"{field}: not valid base64"); }
    }

    /// <summary>
    /// Bytes given as exactly one of <paramref name="base64"/> ("data") or <paramref name="hex"/> ("hex"); the error names
    /// the field under <paramref name="prefix"/> ("writes[0]", or "" for a top-level body).
    /// </summary>
    public static byte[] Bytes(string? base64, string? hex, string prefix)
    {
        var at = prefix.Length == 0 ? "" : prefix + ".";
        return (base64, hex) switch
        {
            (not null, not null) => throw new InvalidRequestException($"{at}hex: give either hex or data (base64), not both"),
            (null, null) => throw new InvalidRequestException($"{at}data: required (base64), or hex"),
            (not null, null) => Base64(base64, at + "data"),
            _ => HexBytes(hex, at + "hex"),
        };
    }

    /// <summary>Hex bytes: two digits per byte, either case; spaces, newlines and one leading "0x" are ignored.</summary>
    public static byte[] HexBytes(string? text, string field)
    {
        if (text is null) throw new InvalidRequestException($"{field}: required (hex)");
        // Two digits per byte plus room for separators; refuse bigger input before decoding it.
        if (text.Length > SystemLimits.MaxTransfer * 3 + 8) throw new InvalidRequestException($"{field}: more than {SystemLimits.MaxTransfer} bytes");
        var span = text.AsSpan().Trim();
        if (span.StartsWith("0x", StringComparison.OrdinalIgnoreCase)) span = span[2..];
        var digits = new System.Text.StringBuilder(span.Length);
        foreach (var c in span)
        {
            if (char.IsWhiteSpace(c)) continue;
            if (!char.IsAsciiHexDigit(c)) throw new InvalidRequestException($"{field}: '{c}' is not a hex digit");
            digits.Append(c);
        }
        if (digits.Length % 2 != 0) throw new InvalidRequestException($"{field}: an odd number of hex digits ({digits.Length}); two per byte");
        if (digits.Length / 2 > SystemLimits.MaxTransfer) throw new InvalidRequestException($"{field}: more than {SystemLimits.MaxTransfer} bytes");
        return Convert.FromHexString(digits.ToString());
    }

    public static string Hex(ulong value) => $"0x{value:X}";
    public static string Id(ushort id) => $"0x{id:X4}";

    public static SmcResponseDto ToDto(SmcOutcome o) => new(
        o.Frame.ToArray().Select(Hex).ToList(),
        o.Reads.Select(r => new MemoryReadResultDto(Hex(r.Address), r.Data is null ? null : Convert.ToBase64String(r.Data),
            r.Data is null ? null : Convert.ToHexStringLower(r.Data), r.Error)).ToList(),
        ToDto(o.Decoded),
        (o.Events ?? []).Select(e => new SystemEventDto(e.Sequence, e.Kind.ToString(), Id(e.Endpoint), e.Vcpu, e.Delayed, e.Detail)).ToList());

    private static DecodedDto ToDto(Decoded d) => new(d.Function, d.Width, d.Result, d.Error, d.Reason, d.Rule,
        (d.Hops ?? []).Select(h => new HopDto(Id(h.Caller), h.Request.ToArray().Select(Hex).ToList(), h.Answer.ToArray().Select(Hex).ToList(),
            ToDto(h.Decoded))).ToList(),
        d.Notes ?? []);

    public static SystemDto ToDto(SimulatedSystem s)
    {
        var c = s.Config;
        var manifest = JsonSerializer.SerializeToElement(ManifestValidator.ToDocument(c), ManifestDocument.JsonOptions);
        return new SystemDto(s.Id, Id(c.SpmcId), c.Version.ToString(), c.ProxyProfile,
            c.Vms.Select(v => new VmDto(Id(v.Id), v.Name, v.Vcpus, Regions(v.Memory))).ToList(),
            c.Partitions.Select(ToDto).ToList(), manifest);
    }

    public static PartitionDto ToDto(PartitionConfig p) => new(Id(p.Id), p.Name, p.Uuids.Select(u => u.ToString()).ToList(),
        p.ExecutionContexts, p.Version.ToString(), Hex((uint)p.Properties),
        Enum.GetValues<Abi.Descriptors.PartitionProperties>().Where(f => f != 0 && p.Properties.HasFlag(f)).Select(f => f.ToString()).ToList(),
        Regions(p.Memory), p.Behaviour);

    private static List<RegionDto> Regions(IEnumerable<MemoryRange> ranges) => ranges.Select(r => new RegionDto(Hex(r.Base), Hex(r.Size))).ToList();

    public static SystemStateDto ToDto(SystemState s) => new(s.Id, Id(s.SpmcId), s.Version.ToString(), s.ProxyProfile, s.Calls,
        s.Endpoints.Select(e => new EndpointStateDto(Id(e.Id), e.Secure ? "sp" : "vm", e.Name, e.Vcpus, e.Version.ToString(),
            e.VersionNegotiated, e.VersionLocked,
            e.Mailbox is { } m ? new MailboxDto(Hex(m.Tx), Hex(m.Rx), m.Pages, StateName(m.State)) : null, e.Learned)).ToList(),
        s.Partitions.Select(p => ToDto(p.Config)).ToList(),
        s.Memory.Select(ToDto).ToList(),
        s.ResidentPages,
        s.Console.Select(l => new ConsoleLineDto(l.Sequence, Id(l.Endpoint), l.Text)).ToList(),
        s.ConsolePending.ToDictionary(p => Id(p.Key), p => p.Value),
        s.Shares.Select(ToDto).ToList(),
        s.Proxy is { } p ? new ProxyStateDto(p.Profile, p.Version, p.Negotiated, Opt(p.HostTx), Opt(p.HostRx), Opt(p.HypTx), Opt(p.HypRx),
            p.Stage2.Select(r => new Stage2RangeDto(Hex(r.Base), Hex(r.Size), r.State)).ToList(), p.Notes, s.Stage2RangeCount) : null,
        s.Partitions.Select(p => new PartitionRuntimeDto(Id(p.Config.Id), p.Driver, p.Attached,
            p.Contexts.Select(c => new ContextDto(c.Index, c.State.ToString().ToLowerInvariant(), c.Reason?.ToString(),
                c.RequestFrom is { } f ? Id(f) : null, c.AnswerHeld, c.WaitingFor is { } w ? Id(w) : null)).ToList(),
            p.Lifecycle.ToString().ToLowerInvariant())).ToList(),
        s.Notifications.Where(n => n.Enabled || n.PendingFramework != 0).Select(n => new NotificationStateDto(Id(n.Receiver), n.Enabled,
            n.BoundToSps.ToDictionary(b => b.Notification.ToString(), b => Id(b.Sender)),
            n.BoundToVms.ToDictionary(b => b.Notification.ToString(), b => Id(b.Sender)),
            n.AllPendingFromSps.ToHex(), n.AllPendingFromVms.ToHex(), Hex(n.PendingFramework), n.Count)).ToList(),
        s.Faults.Select(ToDto).ToList(), s.MemoryRangeCount);

    public static OwnedRangeDto ToDto(MemoryRegionView m) => new(Hex(m.Base), Hex(m.Size), Id(m.Owner), m.Secure, ProtoMapping.UseName(m.Use),
        m.Share is { } h ? Hex(h) : null, m.ReadOnly ? "ro" : "rw", m.Device);

    public static MemoryMapPageDto ToDto(MemoryMapPage p) => new(p.Total, p.Offset, p.Ranges.Select(ToDto).ToList());

    public static MemoryShareDto ToDto(ShareView sh) => new(Hex(sh.Handle), sh.Operation.ToString().ToLowerInvariant(), Id(sh.Sender),
        Hex(sh.Attributes.Value), Hex(sh.Flags), Hex(sh.Tag),
        sh.Receivers.Select(r => new ShareReceiverDto(Id(r.Id), Names.Of(r.Sent.Data), Names.Of(r.Sent.Instruction), Names.Of(r),
            Names.Of(r.GrantedData), Names.Of(r.GrantedInstruction), r.Retrievals)).ToList(),
        sh.Constituents.Select(k => new RegionDto(Hex(k.Address), Hex(k.ByteLength))).ToList(),
        sh.TotalPages, sh.SendingComplete, sh.ReceivedBytes, sh.TotalBytes, sh.Fragments,
        sh.HypervisorRetrieveInProgress, sh.ConstituentCount, sh.ConstituentsOffset);

    public static FaultRuleDto ToDto(FaultRuleView v) => new(v.Id, v.Function, FaultMapping.ActionName(v.Action), v.Error?.Name(), v.Fragment,
        v.Caller is { } c ? Id(c) : null,
        v.Receiver is { } r ? Id(r) : null, v.Handle is { } h ? Hex(h) : null, FaultMapping.WhenName(v.When),
        v.When == FaultWhen.Nth ? v.Count : null, v.When == FaultWhen.Every ? v.Count : null, v.When == FaultWhen.Next ? v.Count : null,
        v.Probability, v.Seed, v.Matched, v.Hits);

    public static FaultRuleSpec ToDomain(FaultRuleBodyDto b) => new(b.Function, b.Error,
        b.Caller is null ? null : Numbers.ParseU64(b.Caller, "caller"), b.Receiver is null ? null : Numbers.ParseU64(b.Receiver, "receiver"),
        b.Handle is null ? null : Numbers.ParseU64(b.Handle, "handle"), b.Nth, b.Every, b.Next, b.Probability, b.Seed,
        b.Delay, b.Fragment, b.Abort, b.Stage2);

    private static string? Opt(ulong? value) => value is { } v ? Hex(v) : null;

    private static string StateName(Core.Spm.RxState state) => state switch
    {
        Core.Spm.RxState.Full => "full",
        Core.Spm.RxState.OtherWorldOwned => "other-world-owned",
        _ => "empty",
    };
}
