using System.Diagnostics;
using CsCheck;
using Spmc.Core.Tests.Support;
using Xunit.Abstractions;

namespace Spmc.Core.Tests.Sharing;

/// <summary>
/// Random sequences of SHARE/LEND/DONATE, RETRIEVE_REQ, RELINQUISH, RECLAIM and memory reads/writes from the
/// host, VM 1 and three SPs over overlapping candidate ranges, checked step by step against
/// <see cref="SharingModel"/>: one owner per page, access exactly as the model says, contents as the model says,
/// the lender exclusive after reclaim, and the product's success/error matching the model where it is sure.
/// On failure CsCheck shrinks the sequence and prints it with the seed (set CsCheck_Seed to replay).
/// </summary>
public class SharingPropertyTests(ITestOutputHelper output)
{
    public const int MaxSteps = 40;

    /// <summary>200 sequences by default; SPMC_SHARING_SEQUENCES raises it for a longer soak.</summary>
    private static int Sequences => int.TryParse(Environment.GetEnvironmentVariable("SPMC_SHARING_SEQUENCES"), out var n) && n > 0 ? n : 200;

    private static readonly Gen<Step> SendGen =
        from op in Gen.Int[0, 2]
        from actor in Gen.Int[0, 4]
        from senderChoice in Gen.Int[0, 7]
        from range1 in Gen.Int[0, 23]
        from range2 in Gen.Int[-40, 23]
        from recv1 in Gen.Int[0, 7]
        from recv2 in Gen.Int[-20, 7]
        from perm1 in Gen.Int[1, 2]
        from perm2 in Gen.Int[1, 2]
        from zero in Gen.Bool
        from smc64 in Gen.Bool
        select (Step)new SendStep((SendOp)op, actor, senderChoice, range1, range2, recv1, recv2, perm1, perm2, zero, smc64);

    private static readonly Gen<Step> RetrieveGen =
        from actor in Gen.Int[0, 7]
        from handle in Gen.Int[0, 9]
        from perm in Gen.Int[0, 2]
        select (Step)new RetrieveStep(actor, handle, perm);

    private static readonly Gen<Step> RelinquishGen =
        from actor in Gen.Int[0, 9]
        from handle in Gen.Int[0, 9]
        from zero in Gen.Bool
        select (Step)new RelinquishStep(actor, handle, zero);

    private static readonly Gen<Step> ReclaimGen =
        from actor in Gen.Int[0, 9]
        from handle in Gen.Int[0, 9]
        from zero in Gen.Bool
        select (Step)new ReclaimStep(actor, handle, zero);

    private static readonly Gen<Step> AccessGen =
        from actor in Gen.Int[0, 4]
        from range in Gen.Int[0, SharingWorld.MemoryRanges - 1]
        from page in Gen.Int[0, 3]
        from write in Gen.Bool
        select (Step)new AccessStep(actor, range, page, write);

    private static readonly Gen<Step[]> Sequence =
        Gen.Frequency((7, SendGen), (5, RetrieveGen), (3, RelinquishGen), (3, ReclaimGen), (4, AccessGen)).Array[1, MaxSteps];

    private static string Print(Step[] steps) =>
        $"{steps.Length} steps:\n" + string.Join("\n", steps.Select((s, i) => $"  {i}: {s}"));

    [Fact]
    public void RandomSequences_AgreeWithThePageModel()
    {
        var clock = Stopwatch.StartNew();
        Sequence.Sample(steps => SharingModelRun.Run(steps), iter: Sequences, threads: 1, print: Print, writeLine: output.WriteLine);
        output.WriteLine($"{Sequences} sequences of up to {MaxSteps} steps in {clock.Elapsed.TotalSeconds:F1} s");
        foreach (var (outcome, count) in SharingModelRun.Outcomes.OrderBy(x => x.Key, StringComparer.Ordinal)) output.WriteLine($"  {outcome}: {count}");
    }
}
