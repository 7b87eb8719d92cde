using Spmc.Abi.Smccc;
using Spmc.Core.Calls;
using Spmc.Core.Faults;
using Spmc.Core.Manifests;
using Spmc.Core.Systems;
using Spmc.Core.Tests.Support;
using Spmc.Core.Tracing;
using static Spmc.Core.Tests.Messaging.Dm;

namespace Spmc.Core.Tests.Faults;

/// <summary>Fault rule changes are trace entries (docs/traces.md): a replay injects the same faults at the same calls.</summary>
public sealed class FaultTraceTests
{
    private const ushort Host = 0, Echo = 0x8001;

    private static SmcCall Call(SmcFrame frame) => new(Host, 0, Conduit.Smc, frame);

    private static (SimulatedSystem System, TraceRecorder Recorder) Recorded()
    {
        var recorder = new TraceRecorder();
        return (new SimulatedSystem("r", ManifestValidator.Validate(Support.Manifests.DefaultPassthroughJson), [recorder]), recorder);
    }

    private static TraceDocument ThroughText(TraceRecorder recorder, SimulatedSystem system)
    {
        var ring = recorder.Snapshot(system);
        return TraceReader.Parse(TraceWriter.ToText(ring.Header, ring.Entries));
    }

    [Fact]
    public async Task RuleChanges_AreEntries_AndAReplayGivesTheSameInjectedAnswers()
    {
        var (system, recorder) = Recorded();
        system.Call(Call(Req(Host, Echo)));
        system.AddFault(new FaultRuleSpec("FFA_MSG_SEND_DIRECT_REQ", "BUSY", Probability: 0.5, Seed: 3));
        var retry = system.AddFault(new FaultRuleSpec("FFA_ID_GET", "RETRY", Every: 2));
        var answers = Enumerable.Range(0, 8).Select(_ => system.Call(Call(Req(Host, Echo))).Decoded.Error).ToList();
        Assert.Contains("BUSY", answers);
        Assert.Contains(null, answers);
        system.RemoveFault(retry.Id);
        system.Call(Call(Ffa.IdGet()));
        system.ClearFaults();
        system.Call(Call(Req(Host, Echo)));

        var trace = ThroughText(recorder, system);
        var faults = trace.Entries.OfType<FaultsTraceEntry>().ToList();
        Assert.Equal([2L, 3L, 12L, 14L], faults.Select(f => f.Seq));
        Assert.Equal([1, 2, 1, 0], faults.Select(f => f.Faults.Rules.Count));
        Assert.Equal(8L, faults[2].Faults.Rules[0].Matched); // the counters as they were

        var result = await TraceReplayer.ReplayAsync(trace);
        Assert.True(result.Identical, result.ToString());
        Assert.Equal((11, 11), (result.Calls, result.Matched));
    }

    [Fact]
    public async Task AReset_StartsTheRingWithTheRestartedRules()
    {
        var (system, recorder) = Recorded();
        system.AddFault(new FaultRuleSpec("FFA_MSG_SEND_DIRECT_REQ", "BUSY", Nth: 2));
        system.Call(Call(Req(Host, Echo)));
        system.Call(Call(Req(Host, Echo)));
        system.Reset();
        var second = Enumerable.Range(0, 3).Select(_ => system.Call(Call(Req(Host, Echo))).Decoded.Error).ToList();
        Assert.Equal([null, "BUSY", null], second);

        var trace = ThroughText(recorder, system);
        var first = Assert.IsType<FaultsTraceEntry>(trace.Entries[0]);
        Assert.Equal(0L, first.Faults.Rules[0].Matched);
        var result = await TraceReplayer.ReplayAsync(trace);
        Assert.True(result.Identical, result.ToString());
    }

    [Fact]
    public async Task ARecordingSpanningResets_HasResetLines_AndReplaysWhole()
    {
        var (system, recorder) = Recorded();
        var path = Path.Combine(Path.GetTempPath(), $"spmc-reset-{Guid.NewGuid():N}.jsonl");
        try
        {
            recorder.StartRecording(system, path);
            system.AddFault(new FaultRuleSpec("FFA_MSG_SEND_DIRECT_REQ", "BUSY", Nth: 2));
            system.Call(Call(Req(Host, Echo)));
            system.Call(Call(Req(Host, Echo)));
            system.WriteMemory(Host, 0x8000_0000, [1, 2, 3]);
            system.Reset();
            var afterReset = Enumerable.Range(0, 3).Select(_ => system.Call(Call(Req(Host, Echo))).Decoded.Error).ToList();
            Assert.Equal([null, "BUSY", null], afterReset);   // the reset restarted the rule's count
            system.Reset();
            system.Call(Call(Req(Host, Echo)));
            await recorder.StopRecordingAsync(system);

            var trace = TraceReader.ReadFile(path);
            // faults 1, two calls 2-3, memory 4, reset 5, the restarted rules 6, three calls 7-9, reset 10, rules 11, a call 12.
            Assert.Equal([5L, 10L], trace.Entries.OfType<ResetTraceEntry>().Select(r => r.Seq));
            Assert.Equal(12L, trace.Entries[^1].Seq);
            var result = await TraceReplayer.ReplayAsync(trace);
            Assert.True(result.Identical, result.ToString());
            Assert.Equal((6, 1, 7), (result.Calls, result.MemoryAccesses, result.Matched));

            // The ring starts after the last reset: its header says so and it replays on its own.
            var ring = recorder.Snapshot(system);
            Assert.Equal(10L, ring.Header.After);
            Assert.DoesNotContain(ring.Entries, e => e is ResetTraceEntry);
            Assert.True((await TraceReplayer.ReplayAsync(ThroughText(recorder, system))).Identical);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task AFaultsEntryTheSystemRefuses_IsTheFirstDifference()
    {
        var (system, recorder) = Recorded();
        system.AddFault(new FaultRuleSpec("FFA_ID_GET", "BUSY"));
        var ring = recorder.Snapshot(system);
        var text = TraceWriter.ToText(ring.Header, ring.Entries).Replace("\"function\":\"FFA_ID_GET\"", "\"function\":\"FFA_NOPE\"");
        var result = await TraceReplayer.ReplayAsync(TraceReader.Parse(text));
        Assert.Equal(["exception"], result.FirstDifference!.Fields);
        Assert.StartsWith("snapshot.faults.rules[1].function", result.FirstDifference.ActualError);
        Assert.Contains("fault rules (1) refused", result.FirstDifference.Describe());
        Assert.Throws<TraceFormatException>(() => TraceReader.Parse(text.Replace("\"faults\":{", "\"faults\":[{").Replace("}]}", "}]}]")));
    }
}
