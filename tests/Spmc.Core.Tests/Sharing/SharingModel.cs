using Spmc.Abi.Descriptors.Memory;
using Spmc.Core.Tests.Support;

namespace Spmc.Core.Tests.Sharing;

/// <summary>One generated operation. Small integers, resolved against the model's state when run, so CsCheck can shrink them.</summary>
internal abstract record Step;

/// <summary>SHARE/LEND/DONATE by endpoint <c>Actor</c>, naming a sender, one or two receivers and one or two candidate ranges (negative = none).</summary>
internal sealed record SendStep(SendOp Op, int Actor, int SenderChoice, int Range1, int Range2, int Recv1, int Recv2, int Perm1, int Perm2,
    bool Zero, bool Smc64) : Step;

/// <summary>RETRIEVE_REQ of a picked handle; <c>Perm</c> 0 = unspecified, 1 = RO, 2 = RW.</summary>
internal sealed record RetrieveStep(int ActorPick, int HandlePick, int Perm) : Step;

internal sealed record RelinquishStep(int ActorPick, int HandlePick, bool Zero) : Step;

internal sealed record ReclaimStep(int ActorPick, int HandlePick, bool Zero) : Step;

/// <summary>A read or write through the memory API as endpoint <c>Actor</c> on a page of a candidate range.</summary>
internal sealed record AccessStep(int Actor, int Range, int PageOffset, bool Write) : Step;

/// <summary>A candidate range of pages: in an endpoint's region (by index into <see cref="SharingWorld.Ids"/>), unmapped (-1), or a TX buffer (-2).</summary>
internal readonly record struct Candidate(string Name, ulong Address, uint Pages, int Region);

/// <summary>The fixed world of the property test: <see cref="SharingManifests.TwoVms"/> with every endpoint's RX/TX mapped.</summary>
internal static class SharingWorld
{
    public const ulong PageSize = 0x1000;

    /// <summary>Host (the hypervisor, ID 0), VM 1, SPs 0x8001..0x8003.</summary>
    public static readonly ushort[] Ids = [0x0000, 0x0001, 0x8001, 0x8002, 0x8003];

    public static readonly ulong[] Bases = [0x8000_0000, 0x9000_0000, 0x6000_0000, 0x6010_0000, 0x6020_0000];

    public static string Name(ushort id) => id switch
    {
        0x0000 => "host",
        0x0001 => "vm1",
        _ => $"sp{id & 0xF}",
    };

    private static Candidate In(int region, int page, uint pages) =>
        new($"{Name(Ids[region])}+{page}x{pages}", Bases[region] + (ulong)page * PageSize, pages, region);

    /// <summary>Ranges 0..9 are ordinary memory (some overlapping); 10 is unmapped; 11 is the host's TX buffer.</summary>
    public static readonly Candidate[] Ranges =
    [
        In(0, 16, 4), In(0, 18, 4), In(0, 24, 1), In(0, 32, 2),
        In(1, 16, 2), In(1, 17, 2),
        In(2, 16, 2), In(2, 17, 2),
        In(3, 16, 1),
        In(4, 16, 3),
        new("unmapped", 0x1000_0000, 1, -1),
        new("host-tx", 0x8000_0000, 1, -2),
    ];

    public const int MemoryRanges = 10;

    /// <summary>Every page of ranges 0..9: the pages whose owner, access and content the model tracks.</summary>
    public static readonly ulong[] AllPages = Ranges.Take(MemoryRanges)
        .SelectMany(r => Enumerable.Range(0, (int)r.Pages).Select(i => r.Address + (ulong)i * PageSize)).Distinct().Order().ToArray();

    public static IEnumerable<ulong> PagesOf(Candidate c) => Enumerable.Range(0, (int)c.Pages).Select(i => c.Address + (ulong)i * PageSize);
}

/// <summary>What the model expects of one call: success, an error among <see cref="Codes"/>, or no opinion.</summary>
internal readonly record struct Expectation(bool? Success, Err[] Codes, string Why)
{
    public static Expectation Ok(string why = "valid") => new(true, [], why);
    public static Expectation Fail(string why, params Err[] codes) => new(false, codes, why);
    public static Expectation Unsure(string why) => new(null, [], why);
}

/// <summary>A live transaction as the model sees it.</summary>
internal sealed class ModelTxn
{
    public required ulong Handle { get; init; }
    public required SendOp Op { get; init; }
    public required ushort Sender { get; init; }
    public required List<(ushort Id, DataAccess Sent)> Receivers { get; init; }
    public required List<ulong> Pages { get; init; }
    /// <summary>Receivers that retrieved and have not relinquished, with the data access they were granted.</summary>
    public Dictionary<ushort, DataAccess> Holding { get; } = [];

    public bool IsReceiver(ushort id) => Receivers.Any(r => r.Id == id);
    public DataAccess SentTo(ushort id) => Receivers.First(r => r.Id == id).Sent;
    public bool SingleBorrower => Op == SendOp.Donate || (Op == SendOp.Lend && Receivers.Count == 1);

    public override string ToString() =>
        $"0x{Handle:X} {Op} by {SharingWorld.Name(Sender)} to [{string.Join(", ", Receivers.Select(r => $"{SharingWorld.Name(r.Id)}:{r.Sent}"))}]" +
        $" holding [{string.Join(", ", Holding.Select(h => $"{SharingWorld.Name(h.Key)}:{h.Value}"))}]";
}

/// <summary>
/// An independent, page-level model of ownership and access (spmc-behaviour.md §8, ffa-abi.md §6): per page an
/// owner and the first 8 bytes' value; per live handle the operation, sender, receivers and who holds it how.
/// </summary>
internal sealed class SharingModel
{
    public Dictionary<ulong, ushort> Owner { get; } = [];
    public Dictionary<ulong, ulong> Content { get; } = [];
    public List<ModelTxn> Live { get; } = [];
    public List<ulong> Ever { get; } = [];

    public SharingModel()
    {
        foreach (var r in SharingWorld.Ranges.Where(r => r.Region >= 0))
            foreach (var p in SharingWorld.PagesOf(r)) Owner[p] = SharingWorld.Ids[r.Region];
        foreach (var p in SharingWorld.AllPages) Content[p] = 0;
    }

    public ModelTxn? TxnOf(ulong page) => Live.FirstOrDefault(t => t.Pages.Contains(page));
    public ModelTxn? Find(ulong handle) => Live.FirstOrDefault(t => t.Handle == handle);

    /// <summary>What <paramref name="endpoint"/> may do with <paramref name="page"/> now.</summary>
    public DataAccess Access(ushort endpoint, ulong page)
    {
        if (TxnOf(page) is { } t)
        {
            if (endpoint == t.Sender) return t.Op == SendOp.Share ? DataAccess.ReadWrite : DataAccess.NotSpecified;
            return t.Holding.TryGetValue(endpoint, out var held) ? held : DataAccess.NotSpecified;
        }
        return Owner.TryGetValue(page, out var owner) && owner == endpoint ? DataAccess.ReadWrite : DataAccess.NotSpecified;
    }

    public void Zero(IEnumerable<ulong> pages)
    {
        foreach (var p in pages) if (Content.ContainsKey(p)) Content[p] = 0;
    }

    /// <summary>
    /// The expected answer to a send (§8.2): every rule the call breaks, with its code. Order-independent: when
    /// several rules fail the product may report any of their codes.
    /// </summary>
    public Expectation ExpectSend(ushort actor, ushort sender, SendOp op, IReadOnlyList<(ushort Id, byte Perm)> receivers,
        IReadOnlyList<Candidate> ranges)
    {
        var broken = new List<(Err Code, string Why)>();
        bool IsSp(ushort id) => (id & 0x8000) != 0;

        if (op == SendOp.Donate && receivers.Count != 1) broken.Add((Err.InvalidParameters, "donate needs one receiver"));
        if (receivers.Any(r => r.Id == sender)) broken.Add((Err.InvalidParameters, "receiver is the sender"));
        if (receivers.Any(r => r.Id == actor)) broken.Add((Err.InvalidParameters, "receiver is the caller")); // Hafnium api_ffa_mem_send: to == from
        if (receivers.Select(r => r.Id).Distinct().Count() != receivers.Count) broken.Add((Err.InvalidParameters, "duplicate receiver"));

        if (IsSp(actor) ? sender != actor : IsSp(sender) || (sender != actor && actor != 0))
            broken.Add((Err.Denied, "sender field is not the caller"));
        // Direction by the caller's world (Hafnium ffa_memory_is_send_valid): a SHARE from the NWd to several receivers
        // may name VMs only; to one receiver it names an SP.
        if (IsSp(actor) && receivers.Any(r => !IsSp(r.Id))) broken.Add((Err.Denied, "SP to normal world"));
        if (!IsSp(actor) && receivers.Any(r => !IsSp(r.Id)) && op != SendOp.Share) broken.Add((Err.Denied, "NWd lend/donate to a VM"));
        if (!IsSp(actor) && receivers.Count == 1 && !IsSp(receivers[0].Id)) broken.Add((Err.Denied, "NWd to NWd, one receiver"));

        if (ranges.Count == 2 && ranges[0].Address < ranges[1].Address + ranges[1].Pages * SharingWorld.PageSize &&
            ranges[1].Address < ranges[0].Address + ranges[0].Pages * SharingWorld.PageSize)
            broken.Add((Err.InvalidParameters, "overlapping constituents"));

        foreach (var range in ranges)
        {
            if (range.Region == -1) { broken.Add((Err.Denied, "unmapped")); continue; }
            if (range.Region == -2) { broken.Add((Err.Denied, "RX/TX buffer")); continue; }
            foreach (var p in SharingWorld.PagesOf(range))
            {
                if (Owner[p] != sender) broken.Add((Err.Denied, $"0x{p:X} belongs to {SharingWorld.Name(Owner[p])}"));
                else if (TxnOf(p) is { } t) broken.Add((Err.Denied, $"0x{p:X} is in 0x{t.Handle:X}"));
            }
        }

        if (broken.Count > 0) return Expectation.Fail(string.Join("; ", broken.Select(b => b.Why).Distinct()), [.. broken.Select(b => b.Code).Distinct()]);
        // Hafnium checks "receiver == caller" as well as "receiver == sender"; when the hypervisor sends for VM 1 and names
        // itself as a receiver the two readings differ, so the model has no opinion.
        if (actor != sender && receivers.Any(r => r.Id == actor)) return Expectation.Unsure("receiver is the caller but not the sender");
        return Expectation.Ok();
    }

    /// <summary>The expected answer to a borrower's retrieve (§8.4) of <paramref name="txn"/> (null: unknown handle).</summary>
    public static Expectation ExpectRetrieve(ushort caller, ModelTxn? txn, DataAccess requested)
    {
        if (txn is null) return Expectation.Fail("unknown handle", Err.InvalidParameters);
        if (!txn.IsReceiver(caller)) return Expectation.Fail("not a receiver", Err.InvalidParameters);
        if (txn.Holding.ContainsKey(caller)) return Expectation.Fail("already retrieved", Err.Denied);
        if (requested == DataAccess.ReadWrite && txn.SentTo(caller) == DataAccess.ReadOnly) return Expectation.Fail("RW over RO", Err.Denied);
        return Expectation.Ok();
    }

    /// <summary>The expected answer to a relinquish (§8.6).</summary>
    public static Expectation ExpectRelinquish(ushort caller, ModelTxn? txn, bool zero)
    {
        if (txn is null) return Expectation.Fail("unknown handle", Err.InvalidParameters);
        if (!txn.IsReceiver(caller)) return Expectation.Fail("not a receiver", Err.InvalidParameters);
        if (!txn.Holding.TryGetValue(caller, out var held)) return Expectation.Fail("not retrieved", Err.InvalidParameters);
        var last = txn.Holding.Keys.All(k => k == caller);
        if (zero && last)
        {
            if (txn.Op == SendOp.Share) return Expectation.Fail("zero on share", Err.InvalidParameters);
            if (held == DataAccess.ReadOnly && txn.SentTo(caller) == DataAccess.ReadOnly) return Expectation.Fail("zero with RO", Err.Denied);
            // Granted RO on an RW send: Hafnium checks the sent permission, a stricter reading the granted one.
            if (held == DataAccess.ReadOnly) return Expectation.Unsure("zero by an RO borrower of RW memory");
        }
        return Expectation.Ok();
    }

    /// <summary>The expected answer to a reclaim (§8.7).</summary>
    public static Expectation ExpectReclaim(ushort caller, ModelTxn? txn)
    {
        if (txn is null) return Expectation.Fail("unknown handle", Err.InvalidParameters);
        var broken = new List<(Err, string)>();
        var callerSp = (caller & 0x8000) != 0;
        var senderSp = (txn.Sender & 0x8000) != 0;
        if (callerSp && caller != txn.Sender) broken.Add((Err.InvalidParameters, "SP not the sender"));
        if (!callerSp && senderSp)
        {
            // Must fail; which code is not pinned by the references.
            broken.Add((Err.InvalidParameters, "normal world reclaiming an SP's memory"));
            broken.Add((Err.Denied, "normal world reclaiming an SP's memory"));
        }
        if (txn.Holding.Count > 0) broken.Add((Err.Denied, "still held"));
        // The SPMC trusts the normal world about which VM reclaims (§8.7): VM 1 reclaiming the host's memory is left
        // open, so it may fail with INVALID_PARAMETERS on top of whatever else fails.
        var anotherVm = !callerSp && !senderSp && caller != txn.Sender && caller != 0;
        if (broken.Count > 0)
        {
            if (anotherVm) broken.Add((Err.InvalidParameters, "another VM reclaims"));
            return Expectation.Fail(string.Join("; ", broken.Select(b => b.Item2).Distinct()), [.. broken.Select(b => b.Item1).Distinct()]);
        }
        return anotherVm ? Expectation.Unsure("another VM reclaims") : Expectation.Ok();
    }
}
