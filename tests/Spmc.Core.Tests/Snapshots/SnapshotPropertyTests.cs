using System.Diagnostics;
using CsCheck;
using Spmc.Core.Manifests;
using Spmc.Core.Snapshots;
using Spmc.Core.Systems;
using Spmc.Core.Tests.Support;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Spmc.Core.Tests.Snapshots;

/// <summary>
/// The snapshot property (docs/snapshots.md): random calls on the default manifest (passthrough and pkvm-7.4), a
/// snapshot taken midway and sent through its JSON form, a second system built from it; the rest of the calls run on
/// both must get the same answers, register by register (reads and decoded views too), and both systems' final
/// snapshots must be the same bytes. On failure CsCheck shrinks the sequence and prints it with the seed (set
/// CsCheck_Seed to replay).
/// </summary>
public class SnapshotPropertyTests(ITestOutputHelper output)
{
    private const int MaxSteps = 60;
    private const int Sequences = 100;

    private static readonly Gen<Step> StepGen =
        from kind in Gen.Frequency((3, Gen.Int[0, Enum.GetValues<StepKind>().Length - 1]),
            (2, Gen.OneOf(Gen.Const((int)StepKind.Send), Gen.Const((int)StepKind.Retrieve), Gen.Const((int)StepKind.RxRelease), Gen.Const((int)StepKind.Relinquish), Gen.Const((int)StepKind.Reclaim),
                Gen.Const((int)StepKind.Bind), Gen.Const((int)StepKind.Set))))
        from caller in Gen.Frequency((3, Gen.Const(0)), (2, Gen.Int[1, 3]))
        from a in Gen.Int[0, 9]
        from b in Gen.Int[0, 9]
        from c in Gen.Int[0, 9]
        from d in Gen.ULong
        select new Step((StepKind)kind, caller, a, b, c, d);

    /// <summary>Most sequences start set up (versions negotiated, buffers mapped), so sharing and messaging get far.</summary>
    private static readonly Step[] Setup =
    [
        new(StepKind.Version, 0, 3, 0, 0, 0), new(StepKind.Map, 0, 0, 0, 0, 0),
        new(StepKind.Map, 1, 0, 0, 0, 0), new(StepKind.Map, 2, 0, 0, 0, 0), new(StepKind.Map, 3, 0, 0, 0, 0),
    ];

    private static readonly Gen<(bool Pkvm, Step[] Steps, int Cut)> Runs =
        from pkvm in Gen.Bool
        from setUp in Gen.Int[0, 3]
        from steps in StepGen.Array[1, MaxSteps - Setup.Length]
        from cut in Gen.Int[0, MaxSteps]
        let all = setUp > 0 ? [.. Setup, .. steps] : steps
        select (pkvm, all, Math.Min(cut, all.Length));

    private static readonly Lazy<SystemConfig> Passthrough = new(() => ManifestValidator.Validate(Support.Manifests.DefaultPassthroughJson));
    private static readonly Lazy<SystemConfig> Pkvm = new(() => ManifestValidator.Validate(Support.Manifests.DefaultJson));

    [Fact]
    public void RestoredSystem_AnswersEveryFollowingCallAsTheOriginal()
    {
        var clock = Stopwatch.StartNew();
        Runs.Sample(run => Check(run.Pkvm, run.Steps, run.Cut), iter: Sequences, threads: 1,
            print: run => $"{(run.Pkvm ? "pkvm-7.4" : "passthrough")}, snapshot after step {run.Cut}, {run.Steps.Length} steps:\n" +
                string.Join("\n", run.Steps.Select((s, i) => $"  {i}: {s}")),
            writeLine: output.WriteLine);
        output.WriteLine($"{Sequences} sequences of up to {MaxSteps} steps in {clock.Elapsed.TotalSeconds:F1} s");
        foreach (var (outcome, count) in SnapshotDriver.Outcomes.OrderBy(x => x.Key, StringComparer.Ordinal)) output.WriteLine($"  {outcome}: {count}");
    }

    private static void Check(bool pkvm, Step[] steps, int cut)
    {
        var original = new SimulatedSystem("a", pkvm ? Pkvm.Value : Passthrough.Value);
        var driver = new SnapshotDriver();
        for (var i = 0; i < cut; i++) driver.Apply(original, steps[i]);

        var snapshot = original.Snapshot();
        var restored = SimulatedSystem.FromSnapshot("b", SystemSnapshot.FromJson(snapshot.ToJson()));
        Assert.Equal(snapshot.ToJson(), restored.Snapshot().ToJson());

        var twin = driver.Copy();
        for (var i = cut; i < steps.Length; i++)
        {
            var expected = driver.Apply(original, steps[i]);
            var actual = twin.Apply(restored, steps[i]);
            if (expected != actual) throw new XunitException($"step {i} ({steps[i]}) after a snapshot at {cut}:\noriginal: {expected}\nrestored: {actual}");
        }
        var a = System.Text.Encoding.UTF8.GetString(original.Snapshot().ToJson());
        var b = System.Text.Encoding.UTF8.GetString(restored.Snapshot().ToJson());
        if (a != b) throw new XunitException($"final snapshots differ at {FirstDifference(a, b)}:\noriginal: …{Around(a, FirstDifference(a, b))}…\nrestored: …{Around(b, FirstDifference(a, b))}…");
    }

    private static int FirstDifference(string a, string b)
    {
        var i = 0;
        while (i < a.Length && i < b.Length && a[i] == b[i]) i++;
        return i;
    }

    private static string Around(string s, int i) => s[Math.Max(0, i - 120)..Math.Min(s.Length, i + 120)];
}
