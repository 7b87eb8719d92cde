using System.Text;
using System.Text.Json;
using Spmc.Abi.Smccc;
using Spmc.Core.Calls;
using Spmc.Core.Systems;
using Spmc.Core.Tests.Messaging;
using Spmc.Core.Tests.Notifications;
using Spmc.Core.Tests.Support;

namespace Spmc.Core.Tests.Snapshots;

/// <summary>What a generated step does; its integer arguments are read per kind (see <see cref="SnapshotDriver.Apply"/>).</summary>
public enum StepKind
{
    Version, Map, Unmap, RxRelease, PartitionInfo, Echo, Notifier, MemorySp, Send, SendFirstFragment, FragTx, Retrieve, Relinquish,
    Reclaim, BitmapCreate, Bind, Set, Get, InfoGet, ConsoleLog, MemWrite, MemRead,
}

public sealed record Step(StepKind Kind, int Caller, int A, int B, int C, ulong D)
{
    public override string ToString() => $"{Kind}(caller {Caller}, {A}, {B}, {C}, 0x{D:X})";
}

/// <summary>
/// Applies generated steps to a system of the default manifest and renders every answer as text (registers, reads,
/// decoded view, events; a refused request's exception), so two systems' answers compare as strings. Handles come
/// from the system's own state; the one thing the driver remembers is the descriptors of sends still being
/// fragmented, copied with <see cref="Copy"/> when a run forks.
/// </summary>
public sealed class SnapshotDriver
{
    public static readonly ushort[] Callers = [0x0000, 0x8001, 0x8002, 0x8003];
    private static readonly ulong[] Regions = [0x8000_0000, 0x6000_0000, 0x6010_0000, 0x6020_0000];
    private static readonly string[] Uuids = [Uuid.Nil, "7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4a01", "7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4a03", "7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4a02"];
    private static readonly uint[] Versions = [0x1_0000, 0x1_0001, 0x1_0002, 0x1_0003, 0x2_0000];
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = false };

    private Dictionary<ulong, byte[]> _fragmenting = [];

    /// <summary>Answers seen per step kind (ok, error, refused), to show what the runs covered.</summary>
    public static System.Collections.Concurrent.ConcurrentDictionary<string, int> Outcomes { get; } = new();

    public SnapshotDriver Copy() => new() { _fragmenting = new(_fragmenting) };

    private static ulong Tx(int caller, int slot = 0) => Regions[caller] + (ulong)slot * 0x2000;
    private static ulong Rx(int caller, int slot = 0) => Tx(caller, slot) + 0x1000;

    /// <summary>Share candidates: pages 16.. of the caller's first region, clear of its buffers.</summary>
    private static ulong Page(int caller, int k) => Regions[caller] + 0x10000 + (ulong)(k % 8) * 0x1000;

    public string Apply(SimulatedSystem sys, Step s)
    {
        string answer;
        try
        {
            answer = ApplyCore(sys, s);
        }
        catch (SpmcRequestException e)
        {
            answer = $"refused {e.GetType().Name}: {e.Message}";
        }
        var outcome = answer.StartsWith("refused", StringComparison.Ordinal) ? "refused"
            : answer.Contains("\"Error\":\"", StringComparison.Ordinal) ? "error" : "ok";
        Outcomes.AddOrUpdate($"{s.Kind} {outcome}", 1, (_, n) => n + 1);
        return answer;
    }

    private string ApplyCore(SimulatedSystem sys, Step s)
    {
        var shares = sys.GetState().Shares;
        ulong Handle(int index) => shares.Count == 0 || index % 5 == 4 ? 0xDEAD : shares[index % shares.Count].Handle;
        // Memory steps are mostly made by the party of the chosen share that may make them (its receiver, its sender).
        var share = shares.Count == 0 ? null : shares[s.A % shares.Count];
        var party = s.C % 3 == 0 || share is null ? (int?)null : s.Kind switch
        {
            StepKind.Retrieve or StepKind.Relinquish or StepKind.RxRelease => Array.IndexOf(Callers, share.Receivers[0].Id),
            StepKind.Reclaim or StepKind.FragTx => Array.IndexOf(Callers, share.Sender),
            _ => null,
        };
        if (party is >= 0) s = s with { Caller = party.Value };
        var caller = Callers[s.Caller];
        switch (s.Kind)
        {
            case StepKind.Version: return Call(sys, caller, Ffa.Version(Versions[s.A % Versions.Length]));
            case StepKind.Map:
                return Call(sys, caller, s.B % 2 == 0 ? Ffa.RxTxMap(Tx(s.Caller, s.A % 2), Rx(s.Caller, s.A % 2), 1) : Ffa.RxTxMap32(Tx(s.Caller, s.A % 2), Rx(s.Caller, s.A % 2), 1));
            case StepKind.Unmap: return Call(sys, caller, Ffa.RxTxUnmap());
            case StepKind.RxRelease: return Call(sys, caller, Ffa.RxRelease());
            case StepKind.PartitionInfo:
                return Call(sys, caller, Ffa.PartitionInfoGet(Uuids[s.A % Uuids.Length], (ulong)(s.B % 2)), reads: [new MemoryReadRequest(Rx(s.Caller, s.C % 2), 64)]);
            case StepKind.Echo:
                return Call(sys, caller, s.A % 3 == 2 ? Dm.Req2(caller, 0x8001, Uuid.Nil, s.D, s.D >> 7)
                    : Dm.Req(caller, 0x8001, smc64: s.A % 3 == 1, 0, s.D, s.D >> 3, (ulong)s.B));
            case StepKind.Notifier:
                return Call(sys, caller, Dm.Req(caller, 0x8003, false, 0, (ulong)Callers[s.A % 4], s.D & 0xFF, (s.D >> 8) & 0xFF, (ulong)(s.B % 2) * Nf.DelaySri));
            case StepKind.MemorySp:
                {
                    var h = Handle(s.A);
                    return Call(sys, caller, Dm.Req(caller, 0x8002, false, 0, (uint)h, h >> 32, (ulong)(s.B % 3 + 1), s.C % 2 == 0 ? 0 : 0x100UL | (s.D & 0xFF), s.C % 3 == 0 ? 0x100UL | ((s.D >> 8) & 0xFF) : 0));
                }
            case StepKind.Send:
            case StepKind.SendFirstFragment:
                {
                    var op = (SendOp)(s.A % 3);
                    var receiver = Callers[1 + s.B % 3];
                    if (receiver == caller) receiver = 0;
                    var descriptor = SharingDescriptors.Send(caller, [(receiver, op.ValidPermission())], [(Page(s.Caller, s.C), 1u), (Page(s.Caller, s.C + 3), 1u)], op.ValidAttributes());
                    var first = s.Kind == StepKind.Send ? descriptor.Length : descriptor.Length - 16;
                    var o = sys.Call(new SmcCall(caller, 0, Conduit.Smc, SmcFrame.From(op.Id(s.D % 2 == 1), (ulong)descriptor.Length, (ulong)first),
                        [new MemoryWrite(Tx(s.Caller), descriptor[..first])], null));
                    if (first < descriptor.Length && o.Decoded.Error is null) _fragmenting[o.Frame[1] | o.Frame[2] << 32] = descriptor[first..];
                    return Render(o);
                }
            case StepKind.FragTx:
                {
                    if (_fragmenting.Count == 0) return "no fragmenting send";
                    var (h, rest) = _fragmenting.OrderBy(x => x.Key).ElementAt(s.A % _fragmenting.Count);
                    _fragmenting.Remove(h);
                    return Call(sys, caller, SmcFrame.From(MemIds.FragTx, (uint)h, h >> 32, (ulong)rest.Length), writes: [new MemoryWrite(Tx(s.Caller), rest)]);
                }
            case StepKind.Retrieve:
                {
                    var h = Handle(s.A);
                    var sender = shares.FirstOrDefault(x => x.Handle == h)?.Sender ?? 0;
                    var request = SharingDescriptors.Retrieve(sender, h, [(caller, (byte)(s.B % 2 == 0 ? Perm.RW : Perm.RO))]);
                    return Call(sys, caller, SmcFrame.From(MemIds.RetrieveReq32, (ulong)request.Length, (ulong)request.Length),
                        writes: [new MemoryWrite(Tx(s.Caller), request)], reads: [new MemoryReadRequest(Rx(s.Caller), 128)]);
                }
            case StepKind.Relinquish:
                {
                    var bytes = SharingDescriptors.Relinquish(Handle(s.A), 0, caller);
                    return Call(sys, caller, SmcFrame.From(MemIds.Relinquish), writes: [new MemoryWrite(Tx(s.Caller), bytes)]);
                }
            case StepKind.Reclaim:
                {
                    var h = Handle(s.A);
                    return Call(sys, caller, SmcFrame.From(MemIds.Reclaim, (uint)h, h >> 32, (ulong)(s.B % 2)));
                }
            case StepKind.BitmapCreate: return Call(sys, caller, s.B % 4 == 3 ? Nf.BitmapDestroy(0) : Nf.BitmapCreate(0, 4));
            case StepKind.Bind: return Call(sys, caller, Nf.Bind(Callers[s.A % 4], caller, (s.D & 3) + 1, (ulong)(s.B % 2)));
            case StepKind.Set: return Call(sys, caller, Nf.Set(caller, Callers[s.A % 4], (s.D & 3) + 1, (ulong)(s.B % 2) * Nf.DelaySri));
            case StepKind.Get: return Call(sys, caller, Nf.Get(caller, (ulong)(s.A % 16), (ushort)(s.B % 2)), vcpu: (uint)(s.B % 2));
            case StepKind.InfoGet: return Call(sys, caller, s.A % 2 == 0 ? Nf.InfoGet64() : Nf.InfoGet32());
            case StepKind.ConsoleLog: return Call(sys, caller, Ffa.ConsoleLog32(s.D % 3 == 0 ? "hello\n" : "part"));
            case StepKind.MemWrite:
                {
                    var address = s.B % 2 == 0 ? Page(s.A % 4, s.C) + (s.D & 0xFF0) : Tx(s.A % 4) + (s.D & 0xF0);
                    sys.WriteMemory(Callers[s.A % 4], address, Enumerable.Repeat((byte)(s.D >> 12), 16 + (int)((s.D >> 20) % 64)).ToArray());
                    return "written";
                }
            case StepKind.MemRead:
                return Convert.ToHexString(sys.ReadMemory(Callers[s.A % 4], s.B % 2 == 0 ? Page(s.A % 4, s.C) : Rx(s.A % 4), 32));
            default: throw new ArgumentOutOfRangeException(nameof(s));
        }
    }

    private static string Call(SimulatedSystem sys, ushort caller, SmcFrame frame, uint vcpu = 0, IReadOnlyList<MemoryWrite>? writes = null,
        IReadOnlyList<MemoryReadRequest>? reads = null) => Render(sys.Call(new SmcCall(caller, vcpu, Conduit.Smc, frame, writes, reads)));

    /// <summary>Every register, every read (bytes or refusal), the decoded view and the events, as one string.</summary>
    public static string Render(SmcOutcome o)
    {
        var b = new StringBuilder();
        b.AppendJoin(' ', o.Frame.ToArray().Select(x => x.ToString("X")));
        foreach (var r in o.Reads) b.Append(" | read 0x").Append(r.Address.ToString("X")).Append(": ").Append(r.Data is { } d ? Convert.ToHexString(d) : r.Error);
        b.Append(" | ").Append(JsonSerializer.Serialize(o.Decoded, Json));
        if (o.Events is { } events) b.Append(" | events ").Append(JsonSerializer.Serialize(events, Json));
        return b.ToString();
    }
}
