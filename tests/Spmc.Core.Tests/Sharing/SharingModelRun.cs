using System.Buffers.Binary;
using System.Text;
using Spmc.Abi.Descriptors.Memory;
using Spmc.Core.Calls;
using Spmc.Core.Tests.Support;
using Xunit.Sdk;
using static Spmc.Core.Tests.Sharing.SharingWorld;

namespace Spmc.Core.Tests.Sharing;

/// <summary>
/// Runs generated steps against a fresh system and the <see cref="SharingModel"/> side by side, checking after
/// every step that ownership, access, contents and answers agree. Failures carry the resolved trace.
/// </summary>
internal sealed class SharingModelRun
{
    private readonly SharingSystem _s = SharingSystem.FromJson(SharingManifests.TwoVms);
    private readonly SharingModel _m = new();
    private readonly StringBuilder _trace = new();
    private readonly HashSet<ulong> _touched = [];
    private int _step;

    /// <summary>Outcomes seen, by operation and result ("SHARE ok", "RETRIEVE INVALID_PARAMETERS", ...), to show what a run covered.</summary>
    public static System.Collections.Concurrent.ConcurrentDictionary<string, int> Outcomes { get; } = new();

    public SharingModelRun()
    {
        foreach (var id in Ids) _s.MapDefault(id);
    }

    public static void Run(IReadOnlyList<Step> steps)
    {
        var run = new SharingModelRun();
        for (var i = 0; i < steps.Count; i++)
        {
            run._step = i;
            run._touched.Clear();
            run.Apply(steps[i]);
            run.CheckInvariants(probeEverything: i == steps.Count - 1);
        }
    }

    private void Fail(string message) =>
        throw new XunitException($"step {_step}: {message}\nmodel: {string.Join(" | ", _m.Live)}\ntrace:\n{_trace}");

    private void Check(bool condition, string message)
    {
        if (!condition) Fail(message);
    }

    private void Log(string line) => _trace.Append("  ").Append(_step).Append(": ").AppendLine(line);

    private static string Show(SmcOutcome o) => o.Decoded.Error is { } e ? $"{e} [{o.Decoded.Rule}] ({o.Decoded.Reason})" : o.Decoded.Result;

    private static bool IsSuccess(SmcOutcome o) => o.Decoded.Error is null;

    /// <summary>Compares the product's answer with the model's expectation; returns whether the call succeeded.</summary>
    private bool Judge(string what, SmcOutcome o, Expectation e)
    {
        var ok = IsSuccess(o);
        var kind = what.Split(' ')[1].TrimEnd('3', '2', '6', '4');
        Outcomes.AddOrUpdate($"{kind} {(ok ? "ok" : o.Decoded.Error)}", 1, (_, n) => n + 1);
        Log($"{what} -> {Show(o)}   [model: {(e.Success is null ? "unsure" : e.Success.Value ? "ok" : string.Join("/", e.Codes.Select(c => c.Name)))}: {e.Why}]");
        if (e.Success == true) Check(ok, $"{what}: the model expects success ({e.Why}) but got {Show(o)}");
        if (e.Success == false)
        {
            Check(!ok, $"{what}: the model expects {string.Join(" or ", e.Codes.Select(c => c.Name))} ({e.Why}) but the call succeeded");
            Check(e.Codes.Length == 0 || e.Codes.Any(c => c.Name == o.Decoded.Error && c.Code == o.Frame[2]),
                $"{what}: the model expects {string.Join(" or ", e.Codes.Select(c => c.Name))} ({e.Why}) but got {Show(o)}");
        }
        return ok;
    }

    private void Apply(Step step)
    {
        switch (step)
        {
            case SendStep x: Send(x); break;
            case RetrieveStep x: Retrieve(x); break;
            case RelinquishStep x: Relinquish(x); break;
            case ReclaimStep x: Reclaim(x); break;
            case AccessStep x: Access(x); break;
        }
    }

    // ---- operations ---------------------------------------------------------------------------------------

    private static ushort OtherSpOf(ushort sp, int k) => (ushort)(0x8001 + (sp - 0x8001 + k) % 3);

    /// <summary>Picks 0..11 are any candidate range; 12..23 are ranges in the sender's own region (as the manifest has it).</summary>
    private static Candidate RangePick(int pick, ushort sender)
    {
        if (pick < Ranges.Length) return Ranges[pick];
        var own = Ranges.Take(MemoryRanges).Where(r => Ids[r.Region] == sender).ToArray();
        return own.Length == 0 ? Ranges[pick % MemoryRanges] : own[pick % own.Length];
    }

    /// <summary>Picks 0..4 are the endpoints; 5..7 the SPs again (receivers are mostly SPs).</summary>
    private static ushort ReceiverPick(int pick) => pick < Ids.Length ? Ids[pick] : (ushort)(0x8001 + (pick - Ids.Length) % 3);

    private ulong HandlePick(int pick)
    {
        if (pick < 7 && _m.Live.Count > 0) return _m.Live[pick % _m.Live.Count].Handle;
        if (pick < 9 && _m.Ever.Count > 0) return _m.Ever[pick % _m.Ever.Count];
        return 0x7777_0000UL + (ulong)pick;
    }

    private void Send(SendStep x)
    {
        var actor = Ids[x.Actor];
        var sp = (actor & 0x8000) != 0;
        var sender = x.SenderChoice switch
        {
            <= 5 => actor,
            6 => sp ? OtherSpOf(actor, 1) : (ushort)(actor == 0 ? 1 : 0),
            _ => sp ? (ushort)0 : OtherSpOf(0x8001, x.Actor),
        };
        byte Perm(int p) => x.Op == SendOp.Donate ? Support.Perm.None : p == 1 ? Support.Perm.RO : Support.Perm.RW;
        var receivers = new List<(ushort Id, byte Perm)> { (ReceiverPick(x.Recv1), Perm(x.Perm1)) };
        if (x.Recv2 >= 0) receivers.Add((ReceiverPick(x.Recv2), Perm(x.Perm2)));
        var ranges = new List<Candidate> { RangePick(x.Range1, sender) };
        if (x.Range2 >= 0) ranges.Add(RangePick(x.Range2, sender));
        var zero = x.Zero && x.Op != SendOp.Share;
        var attributes = x.Op.ValidAttributes(receivers.Count);

        var descriptor = SharingDescriptors.Send(sender, receivers, ranges.Select(r => (r.Address, r.Pages)), attributes,
            zero ? MemoryTransactionFlags.ZeroMemory : 0);
        var what = $"{Name(actor)} {x.Op}{(x.Smc64 ? "64" : "32")} as {Name(sender)} to [{string.Join(", ", receivers.Select(r => $"{Name(r.Id)}:{r.Perm}"))}]" +
                   $" of [{string.Join(", ", ranges.Select(r => r.Name))}]{(zero ? " zero" : "")}";
        var expectation = _m.ExpectSend(actor, sender, x.Op, receivers, ranges);
        var o = _s.Send(actor, x.Op.Id(x.Smc64), descriptor);
        foreach (var r in ranges.Where(r => r.Region >= 0)) _touched.UnionWith(PagesOf(r));
        if (!Judge(what, o, expectation)) return;

        var handle = SharingSystem.Handle(o);
        Check(handle >> 63 == 0, $"handle 0x{handle:X} has bit 63 set");
        Check(_m.Find(handle) is null, $"handle 0x{handle:X} is already live");
        var pages = ranges.SelectMany(PagesOf).ToList();
        _m.Live.Add(new ModelTxn
        {
            Handle = handle,
            Op = x.Op,
            Sender = sender,
            Receivers = receivers.Select(r => (r.Id, x.Op == SendOp.Donate ? DataAccess.NotSpecified : (DataAccess)r.Perm)).ToList(),
            Pages = pages,
        });
        _m.Ever.Add(handle);
        if (zero) _m.Zero(pages);
        Log($"  = handle 0x{handle:X}");
    }

    private void Retrieve(RetrieveStep x)
    {
        var handle = HandlePick(x.HandlePick);
        var txn = _m.Find(handle);
        var spReceivers = txn?.Receivers.Where(r => (r.Id & 0x8000) != 0).Select(r => r.Id).ToArray() ?? [];
        var caller = x.ActorPick < 3 || spReceivers.Length == 0 ? OtherSpOf(0x8001, x.ActorPick) : spReceivers[x.ActorPick % spReceivers.Length];
        // A donation's borrower becomes the owner: ask for RW or leave it open, so the model need not guess what RO would mean.
        var requested = (DataAccess)(txn?.Op == SendOp.Donate && x.Perm == 1 ? 2 : x.Perm);
        var instruction = txn is { SingleBorrower: true } ? Support.Perm.NX : (byte)0;
        List<(ushort, byte)> list = txn is null
            ? [(caller, (byte)requested)]
            : txn.Receivers.Select(r => r.Id == caller ? (r.Id, (byte)((byte)requested | instruction)) : (r.Id, (byte)0)).ToList();
        var request = SharingDescriptors.Retrieve(txn?.Sender ?? 0, handle, list);
        var what = $"{Name(caller)} RETRIEVE 0x{handle:X} {requested}";
        var expectation = SharingModel.ExpectRetrieve(caller, txn, requested);
        var (first, response) = _s.Retrieve(caller, request, handle);
        if (txn is not null) _touched.UnionWith(txn.Pages);
        if (!Judge(what, first, expectation) || txn is null) return;

        var sent = txn.SentTo(caller);
        var granted = requested != DataAccess.NotSpecified ? requested : sent == DataAccess.ReadOnly ? DataAccess.ReadOnly : DataAccess.ReadWrite;
        var r = SharingDescriptors.ParseResponse(response!);
        Check(r.Handle == handle && r.Receivers.Count == 1 && r.Receivers[0].Access.Endpoint == caller,
            $"{what}: the response names handle 0x{r.Handle:X} and {r.Receivers.Count} receiver(s)");
        Check(r.Receivers[0].Access.Data == granted, $"{what}: granted {r.Receivers[0].Access.Data}, the model expects {granted}");
        Check(r.Flags.Type == txn.Op.Type(), $"{what}: response type {r.Flags.Type}");
        if (txn.Op == SendOp.Donate)
        {
            foreach (var p in txn.Pages) _m.Owner[p] = caller;
            _m.Live.Remove(txn);
        }
        else txn.Holding[caller] = granted;
    }

    private ushort HolderPick(int pick, ModelTxn? txn, Func<ModelTxn, IReadOnlyList<ushort>> candidates)
    {
        var list = txn is null ? [] : candidates(txn);
        return pick < Ids.Length || list.Count == 0 ? Ids[pick % Ids.Length] : list[pick % list.Count];
    }

    private void Relinquish(RelinquishStep x)
    {
        var handle = HandlePick(x.HandlePick);
        var txn = _m.Find(handle);
        var caller = HolderPick(x.ActorPick, txn, t => t.Holding.Count > 0 ? [.. t.Holding.Keys] : [.. t.Receivers.Select(r => r.Id)]);
        var what = $"{Name(caller)} RELINQUISH 0x{handle:X}{(x.Zero ? " zero" : "")}";
        var expectation = SharingModel.ExpectRelinquish(caller, txn, x.Zero);
        var o = _s.Relinquish(caller, handle, x.Zero ? MemoryRelinquishDescriptor.ZeroMemory : 0);
        if (txn is not null) _touched.UnionWith(txn.Pages);
        if (!Judge(what, o, expectation)) return;

        var last = txn!.Holding.Keys.All(k => k == caller);
        txn.Holding.Remove(caller);
        if (x.Zero && last) _m.Zero(txn.Pages);
    }

    private void Reclaim(ReclaimStep x)
    {
        var handle = HandlePick(x.HandlePick);
        var txn = _m.Find(handle);
        var caller = HolderPick(x.ActorPick, txn, t => [t.Sender]);
        var what = $"{Name(caller)} RECLAIM 0x{handle:X}{(x.Zero ? " zero" : "")}";
        var expectation = SharingModel.ExpectReclaim(caller, txn);
        var o = _s.Reclaim(caller, handle, x.Zero ? 1UL : 0);
        if (txn is not null) _touched.UnionWith(txn.Pages);
        if (!Judge(what, o, expectation)) return;

        _m.Live.Remove(txn!);
        if (x.Zero) _m.Zero(txn!.Pages);
        // (3) after a reclaim the lender has exclusive access again.
        foreach (var p in txn!.Pages)
            foreach (var id in Ids)
            {
                var expected = id == txn.Sender;
                Check(_s.CanRead(id, p) == expected, $"after reclaiming 0x{handle:X}, {Name(id)} {(expected ? "cannot" : "can")} read 0x{p:X}");
            }
        Check(_s.CanWrite(txn.Sender, txn.Pages[0], Value(txn.Pages[0])), $"after reclaiming 0x{handle:X}, the sender cannot write");
    }

    private void Access(AccessStep x)
    {
        var actor = Ids[x.Actor];
        var range = Ranges[x.Range % MemoryRanges];
        var page = range.Address + (ulong)(x.PageOffset % (int)range.Pages) * PageSize;
        _touched.Add(page);
        var allowed = _m.Access(actor, page);
        if (x.Write)
        {
            var value = 0xA500_0000_0000_0000UL | ((ulong)_step << 16) | actor;
            var bytes = new byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
            var ok = _s.CanWrite(actor, page, bytes);
            Log($"{Name(actor)} WRITE 0x{page:X} -> {(ok ? "ok" : "denied")}   [model: {allowed}]");
            Check(ok == (allowed == DataAccess.ReadWrite), $"{Name(actor)} write 0x{page:X}: product {(ok ? "allowed" : "refused")}, model access {allowed}");
            if (ok) _m.Content[page] = value;
        }
        else
        {
            var ok = _s.CanRead(actor, page);
            Log($"{Name(actor)} READ 0x{page:X} -> {(ok ? "ok" : "denied")}   [model: {allowed}]");
            Check(ok == (allowed != DataAccess.NotSpecified), $"{Name(actor)} read 0x{page:X}: product {(ok ? "allowed" : "refused")}, model access {allowed}");
        }
    }

    private byte[] Value(ulong page)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, _m.Content[page]);
        return bytes;
    }

    // ---- invariants ---------------------------------------------------------------------------------------

    private void CheckInvariants(bool probeEverything)
    {
        // (1) every page has exactly one owner: the ranges do not overlap and cover exactly the manifest's regions.
        var state = _s.State;
        var memory = state.Memory.OrderBy(r => r.Base).ToList();
        for (var i = 1; i < memory.Count; i++)
            Check(memory[i - 1].Base + memory[i - 1].Size <= memory[i].Base, $"memory ranges overlap at 0x{memory[i].Base:X}");
        var regions = _s.System.Config.Vms.SelectMany(v => v.Memory).Concat(_s.System.Config.Partitions.SelectMany(p => p.Memory)).ToList();
        Check(memory.All(r => regions.Any(g => g.Base <= r.Base && r.Base + r.Size <= g.End)), "a memory range lies outside the manifest's regions");
        Check(memory.Sum(r => (decimal)r.Size) == regions.Sum(g => (decimal)g.Size), "the memory ranges do not cover the manifest's regions");
        foreach (var p in AllPages)
        {
            var entry = memory.Single(r => r.Base <= p && p < r.Base + r.Size);
            Check(entry.Owner == _m.Owner[p], $"0x{p:X} is owned by {Name(entry.Owner)}, the model says {Name(_m.Owner[p])}");
            var handle = _m.TxnOf(p)?.Handle;
            Check(entry.Share == handle, $"0x{p:X} is in transaction {entry.Share?.ToString("X") ?? "none"}, the model says {handle?.ToString("X") ?? "none"}");
        }
        Check(state.Shares.Count == _m.Live.Count, $"{state.Shares.Count} transactions in the SPMC, {_m.Live.Count} in the model");

        // (2) nobody can touch a page it should not, everybody can touch what it should; contents match.
        var probe = probeEverything ? AllPages : [.. _touched.Where(p => _m.Content.ContainsKey(p)), .. Enumerable.Range(0, 3).Select(k => AllPages[(_step * 3 + k) % AllPages.Length])];
        foreach (var p in probe.Distinct())
        {
            var content = BinaryPrimitives.ReadUInt64LittleEndian(_s.Peek(p, 8));
            Check(content == _m.Content[p], $"0x{p:X} holds 0x{content:X}, the model says 0x{_m.Content[p]:X}");
            foreach (var id in Ids)
            {
                var access = _m.Access(id, p);
                Check(_s.CanRead(id, p) == (access != DataAccess.NotSpecified), $"{Name(id)} read of 0x{p:X}: model access {access}");
                Check(_s.CanWrite(id, p, Value(p)) == (access == DataAccess.ReadWrite), $"{Name(id)} write of 0x{p:X}: model access {access}");
            }
        }
    }
}
