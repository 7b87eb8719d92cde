using System.Text;
using Spmc.Core.Calls;
using Spmc.Core.Faults;
using Spmc.Core.Manifests;
using Spmc.Core.Snapshots;
using Spmc.Core.Systems;
using Spmc.Core.Tests.Support;
using Spmc.Core.Tracing;
using static Spmc.Core.Tests.Messaging.Dm;

namespace Spmc.Core.Tests.Snapshots;

/// <summary>Fault rules travel in the snapshot (docs/snapshots.md); a restore tells observers, and the trace ring refuses a replay.</summary>
public sealed class SnapshotFaultTests
{
    private const ushort Host = 0, Echo = 0x8001;

    private static SimulatedSystem WithRules()
    {
        var system = new SimulatedSystem("f", ManifestValidator.Validate(Support.Manifests.DefaultPassthroughJson));
        system.AddFault(new FaultRuleSpec("FFA_MSG_SEND_DIRECT_REQ", "BUSY", Probability: 0.5, Seed: 7));
        system.AddFault(new FaultRuleSpec("FFA_ID_GET", "RETRY", Every: 3));
        var removed = system.AddFault(new FaultRuleSpec("FFA_FEATURES", "DENIED"));
        system.RemoveFault(removed.Id); // the next ID (4) must survive the snapshot
        return system;
    }

    private static string Run(SimulatedSystem system, int calls)
    {
        var answers = new StringBuilder();
        for (var i = 0; i < calls; i++)
        {
            var frame = i % 2 == 0 ? Req(Host, Echo) : Ffa.IdGet();
            var outcome = system.Call(new SmcCall(Host, 0, Spmc.Abi.Smccc.Conduit.Smc, frame));
            answers.Append(outcome.Decoded.Error ?? "ok").Append(' ').Append(outcome.Decoded.Rule).Append('\n');
        }
        return answers.ToString();
    }

    [Fact]
    public void RestoredSystems_InjectTheSameFaults_ForTheSameFollowingCalls()
    {
        var original = WithRules();
        Run(original, 9); // counters and the generator move on
        var json = original.Snapshot().ToJson();
        var document = SystemSnapshot.FromJson(json);
        Assert.Equal(4, document.Faults!.NextId);
        Assert.Equal([1, 2], document.Faults.Rules.Select(r => r.Id));
        Assert.NotEqual(7UL, document.Faults.Rules[0].State);

        var copy = SimulatedSystem.FromSnapshot("copy", document);
        var inPlace = WithRules();
        inPlace.AddFault(new FaultRuleSpec("FFA_VERSION", "BUSY")); // replaced by the snapshot's rules
        inPlace.RestoreInPlace(document);

        Assert.Equal(original.ListFaults(), copy.ListFaults());
        Assert.Equal(original.ListFaults(), inPlace.ListFaults());
        var expected = Run(original, 40);
        Assert.Contains("BUSY fault.injected", expected);
        Assert.Contains("RETRY fault.injected", expected);
        Assert.Equal(expected, Run(copy, 40));
        Assert.Equal(expected, Run(inPlace, 40));
        Assert.Equal(original.Snapshot().ToJson(), copy.Snapshot().ToJson());
        Assert.Equal(4, copy.AddFault(new FaultRuleSpec("FFA_FEATURES", "DENIED")).Id); // IDs are never reused
    }

    [Fact]
    public void DocumentsWithoutFaults_AreRead_AndLeaveNoRules()
    {
        var system = WithRules();
        var snap = system.Snapshot() with { Faults = null };
        var json = Encoding.UTF8.GetString(snap.ToJson()).Replace(",\"faults\":null", "");
        Assert.DoesNotContain("faults", json);
        system.RestoreInPlace(SystemSnapshot.FromJson(Encoding.UTF8.GetBytes(json)));
        Assert.Empty(system.ListFaults());
        Assert.Equal(1, system.AddFault(new FaultRuleSpec("FFA_FEATURES", "DENIED")).Id);
    }

    [Theory]
    [InlineData("\"function\":\"FFA_ID_GET\"", "\"function\":\"FFA_NOPE\"", "snapshot.faults.rules[2].function")]
    [InlineData("\"count\":3", "\"count\":0", "snapshot.faults.rules[2].every")]
    [InlineData("\"error\":\"RETRY\"", "\"error\":\"OOPS\"", "snapshot.faults.rules[2].error")]
    [InlineData("\"nextId\":4", "\"nextId\":2", "snapshot.faults.rules[2].id")]
    [InlineData("\"when\":\"every\"", "\"when\":\"always\"", "snapshot.faults.rules[2].when")]
    public void MalformedRules_AreRefusedNamingTheField_AndChangeNothing(string from, string to, string field)
    {
        var system = WithRules();
        var before = system.Snapshot().ToJson();
        var json = Encoding.UTF8.GetString(before);
        Assert.Contains(from, json);
        var document = SystemSnapshot.FromJson(Encoding.UTF8.GetBytes(json.Replace(from, to)));
        var e = Assert.Throws<InvalidRequestException>(() => system.RestoreInPlace(document));
        Assert.StartsWith(field, e.Message);
        Assert.Throws<InvalidRequestException>(() => SimulatedSystem.FromSnapshot("x", document));
        Assert.Equal(before, system.Snapshot().ToJson());
    }

    [Fact]
    public void RuleIds_StopBeforeTheIntLimit_SoEverySnapshotStaysRestorable()
    {
        var system = WithRules();
        var json = Encoding.UTF8.GetString(system.Snapshot().ToJson()).Replace("\"nextId\":4", $"\"nextId\":{FaultSet.MaxId}");
        system.RestoreInPlace(SystemSnapshot.FromJson(Encoding.UTF8.GetBytes(json)));
        Assert.Equal(FaultSet.MaxId, system.AddFault(new FaultRuleSpec("FFA_FEATURES", "DENIED")).Id);
        var full = Assert.Throws<InvalidRequestException>(() => system.AddFault(new FaultRuleSpec("FFA_FEATURES", "DENIED")));
        Assert.StartsWith("faults: this system has used every rule ID", full.Message);
        var used = system.Snapshot();                 // nextId int.MaxValue: every ID used, and still restorable
        system.RestoreInPlace(SystemSnapshot.FromJson(used.ToJson()));
        Assert.Throws<InvalidRequestException>(() => system.AddFault(new FaultRuleSpec("FFA_FEATURES", "DENIED")));

        var zero = json.Replace($"\"nextId\":{FaultSet.MaxId}", "\"nextId\":0");
        var e = Assert.Throws<InvalidRequestException>(() => system.RestoreInPlace(SystemSnapshot.FromJson(Encoding.UTF8.GetBytes(zero))));
        Assert.StartsWith("snapshot.faults.nextId", e.Message);
    }

    /// <summary>Every action's fields survive the JSON document; a stage2 rule needs a pKVM system to restore into.</summary>
    [Fact]
    public void EveryAction_RoundTrips_AndStage2IsRefusedOnPassthrough()
    {
        var system = new SimulatedSystem("a", ManifestValidator.Validate(Support.Manifests.DefaultJson));
        system.AddFault(new FaultRuleSpec("FFA_MSG_SEND_DIRECT_REQ", null, Receiver: Echo, Nth: 2, Delay: true));
        system.AddFault(new FaultRuleSpec("FFA_MEM_RETRIEVE_REQ", null, Handle: 0x1234, Fragment: 48));
        system.AddFault(new FaultRuleSpec("FFA_RUN", null, Receiver: Echo, Abort: true));
        system.AddFault(new FaultRuleSpec("FFA_MEM_LEND", null, Every: 2, Stage2: true));
        system.AddFault(new FaultRuleSpec("FFA_ID_GET", "BUSY"));
        var json = system.Snapshot().ToJson();
        var text = Encoding.UTF8.GetString(json);
        Assert.Contains("\"action\":\"fragment\",\"fragment\":48", text);
        Assert.Contains("\"error\":\"BUSY\",\"matched\":0,\"hits\":0,\"state\":0,\"action\":null", text);

        var copy = SimulatedSystem.FromSnapshot("copy", SystemSnapshot.FromJson(json));
        Assert.Equal(system.ListFaults(), copy.ListFaults());
        Assert.Equal(json, copy.Snapshot().ToJson());

        var passthrough = new SimulatedSystem("p", ManifestValidator.Validate(Support.Manifests.DefaultPassthroughJson));
        var document = SystemSnapshot.FromJson(json) with { Manifest = passthrough.Snapshot().Manifest, Proxy = null };
        var e = Assert.Throws<InvalidRequestException>(() => passthrough.RestoreInPlace(document));
        Assert.StartsWith("snapshot.faults.rules[4].stage2: ", e.Message);
    }

    /// <summary>
    /// A document whose SPMC part is refused half-way (here a partition without its run-time state, found after the
    /// pages and the memory map were read) leaves the system exactly as it was: pages, SPMC, proxy and rules.
    /// </summary>
    [Fact]
    public void ARestoreRefusedHalfWay_LeavesTheSystemAsItWas()
    {
        var system = WithRules();
        var document = system.Snapshot();
        system.WriteMemory(0x0, Support.Manifests.HostMemory, [1, 2, 3, 4]);
        system.AddFault(new FaultRuleSpec("FFA_RX_RELEASE", "BUSY"));
        var before = system.Snapshot().ToJson();
        var broken = document with
        {
            Spmc = document.Spmc with
            {
                Endpoints = [.. document.Spmc.Endpoints.Select(e => e.Id == 0x8001 ? e with { Runtime = null } : e)],
            },
        };
        var e = Assert.Throws<InvalidRequestException>(() => system.RestoreInPlace(broken));
        Assert.StartsWith("spmc.endpoints[0x8001].runtime", e.Message);
        Assert.Equal(before, system.Snapshot().ToJson());
    }

    private sealed class Counting : ISystemObserver
    {
        public int Restored;

        public void OnCall(SimulatedSystem system, CallRecord record) { }

        public void OnRestored(SimulatedSystem system) => Restored++;
    }

    [Fact]
    public async Task Restores_TellObservers_AndTheRingExportedAfterOneIsRefusedByReplay()
    {
        var recorder = new TraceRecorder();
        var counting = new Counting();
        var registry = new SystemRegistry(observers: [recorder, counting]);
        var system = registry.Create("traced", Support.Manifests.DefaultPassthroughJson);
        system.Call(new SmcCall(Host, 0, Spmc.Abi.Smccc.Conduit.Smc, Ffa.IdGet()));
        var snap = system.Snapshot(); // sequence 1
        for (var i = 0; i < 3; i++) system.Call(new SmcCall(Host, 0, Spmc.Abi.Smccc.Conduit.Smc, Ffa.IdGet()));

        system.RestoreInPlace(snap);

        Assert.Equal(1, counting.Restored);
        var ring = recorder.Snapshot(system);
        Assert.Empty(ring.Entries);
        Assert.Equal(4, ring.Dropped);
        system.Call(new SmcCall(Host, 0, Spmc.Abi.Smccc.Conduit.Smc, Ffa.IdGet()));
        ring = recorder.Snapshot(system);
        Assert.Equal(2, Assert.Single(ring.Entries).Seq); // the sequence goes on from the snapshot's
        Assert.True(ring.Header.Restored);
        Assert.Equal(1, ring.Header.After);
        var text = TraceWriter.ToText(ring.Header, ring.Entries);
        Assert.Contains("\"restored\":true", text);
        var e = await Assert.ThrowsAsync<InvalidRequestException>(() => TraceReplayer.ReplayAsync(TraceReader.Parse(text)));
        Assert.Contains("restore", e.Message);

        SimulatedSystem.FromSnapshot("copy", snap, [counting]);
        Assert.Equal(2, counting.Restored);
    }
}
