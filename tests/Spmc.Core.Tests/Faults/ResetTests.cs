using Spmc.Core.Calls;
using Spmc.Core.Faults;
using Spmc.Core.Manifests;
using Spmc.Core.Systems;
using Spmc.Core.Tests.Support;
using Spmc.Core.Tracing;
using static Spmc.Core.Tests.Messaging.Dm;

namespace Spmc.Core.Tests.Faults;

/// <summary>Reset: the state just after creation, the same ID, fault rules kept with fresh counters, partitions detached.</summary>
public sealed class ResetTests
{
    private const ushort Host = 0, Echo = 0x8001, Remote = 0x8004;

    [Fact]
    public void Reset_GivesTheFreshState_KeepsTheIdAndRestartsFaultRules()
    {
        var config = ManifestValidator.Validate(Support.Manifests.DefaultJson);
        var fresh = FaultRuleTests.Json(new SimulatedSystem("r", config).GetState());
        var sys = new TestSystem(new SimulatedSystem("r", config));
        sys.System.AddFault(new FaultRuleSpec("FFA_MSG_SEND_DIRECT_REQ", "BUSY", Nth: 2));
        Assert.Equal(0x1_0002UL, sys.Call(Host, Ffa.Version(0x1_0002)).Frame[0]);
        Expect.Success(sys.Call(Host, Ffa.RxTxMap(0x8000_0000, 0x8000_1000, 1)));
        sys.System.WriteMemory(Host, 0x8000_4000, [1, 2, 3]);
        Assert.Null(sys.Call(Host, Req(Host, Echo)).Decoded.Error);
        Assert.Equal("BUSY", sys.Call(Host, Req(Host, Echo)).Decoded.Error);
        Assert.NotEqual(fresh, FaultRuleTests.Json(sys.State));

        sys.System.Reset();

        var state = sys.State;
        Assert.Equal("r", state.Id);
        Assert.Equal(0, state.Calls);
        Assert.Equal(fresh, FaultRuleTests.Json(state));
        Assert.False(state.Proxy!.Negotiated); // the host's version with pKVM (pKVM's own with the SPMC was negotiated at boot)
        Assert.Null(state.Endpoints.Single(e => e.Id == Host).Mailbox);
        Assert.Equal(new byte[3], sys.Peek(0x8000_4000, 3));
        var rule = Assert.Single(state.Faults);
        Assert.Equal((1, 0L, 0L), (rule.Id, rule.Matched, rule.Hits));

        // The same calls give the same faults again.
        Assert.Equal(0x1_0002UL, sys.Call(Host, Ffa.Version(0x1_0002)).Frame[0]);
        Assert.Null(sys.Call(Host, Req(Host, Echo)).Decoded.Error);
        Assert.Equal("fault.injected", sys.Call(Host, Req(Host, Echo)).Decoded.Rule);
    }

    [Fact]
    public async Task Reset_DetachesRemotePartitions_AndAbortsCallsWaitingOnThem()
    {
        var sys = TestSystem.FromJson("""
            {
              "spmc": { "remoteTimeoutMs": 60000 }, "proxy": "passthrough",
              "vms": [ { "id": 0, "name": "host", "memory": [ { "base": "0x80000000", "size": "0x100000" } ] } ],
              "partitions": [
                { "id": "0x8004", "name": "a", "behaviour": "remote", "uuids": [ "7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4a44" ],
                  "properties": { "directRequestReceive": true } }
              ]
            }
            """);
        var client = sys.System.Attach(Remote);
        var wait = client.CallAsync(0, Wait());
        var host = sys.System.CallAsync(Host, Req(Host, Remote));
        await wait.WaitAsync(Limit);
        Assert.False(host.IsCompleted);

        sys.System.Reset();

        var answer = await host.WaitAsync(Limit);
        Expect.Error(answer, Err.Aborted, "runtime.detached"); // as on delete: the partition's client is detached first
        Assert.False(sys.State.Partitions.Single().Attached);
        await Assert.ThrowsAsync<ConflictException>(() => client.CallAsync(0, Wait()));
        using var again = sys.System.Attach(Remote); // a new client may attach to the reset system
    }

    [Fact]
    public async Task Reset_ACallWaitingAcrossIt_DoesNotTouchTheNewState()
    {
        // The lender's wait ends (ABORTED) while the reset detaches the partition; however its continuation is
        // scheduled, it must neither read the rebuilt memory nor show up in the reset trace (the old generation's call).
        for (var i = 0; i < 25; i++)
        {
            var recorder = new TraceRecorder();
            var registry = new SystemRegistry(observers: [recorder]);
            var system = registry.Create("w", """
                {
                  "spmc": { "remoteTimeoutMs": 60000 }, "proxy": "passthrough",
                  "vms": [ { "id": 0, "name": "host", "memory": [ { "base": "0x80000000", "size": "0x100000" } ] } ],
                  "partitions": [
                    { "id": "0x8004", "name": "a", "behaviour": "remote", "uuids": [ "7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4a44" ],
                      "properties": { "directRequestReceive": true } }
                  ]
                }
                """);
            var client = system.Attach(Remote);
            var wait = client.CallAsync(0, Wait());
            var host = system.CallAsync(new SmcCall(Host, 0, Spmc.Abi.Smccc.Conduit.Smc, Req(Host, Remote),
                [new MemoryWrite(0x8000_4000, [7, 7, 7])], [new MemoryReadRequest(0x8000_4000, 3)]));
            await wait.WaitAsync(Limit);

            system.Reset();

            var answer = await host.WaitAsync(Limit);
            Expect.Error(answer, Err.Aborted, "runtime.detached");
            var read = Assert.Single(answer.Reads);
            Assert.True(read.Error is not null || read.Data!.SequenceEqual(new byte[] { 7, 7, 7 }),
                $"iteration {i}: the aborted call read the reset system's memory");
            Assert.Empty(recorder.Snapshot(system).Entries);
            Assert.Equal(0, system.GetState().Calls);
        }
    }

    [Fact]
    public async Task Reset_EmptiesTheTraceRing_AndDeletedSystemsCannotBeReset()
    {
        var recorder = new TraceRecorder();
        var registry = new SystemRegistry(observers: [recorder]);
        var system = registry.Create("traced", Support.Manifests.DefaultPassthroughJson);
        for (var i = 0; i < 3; i++) system.Call(new SmcCall(Host, 0, Spmc.Abi.Smccc.Conduit.Smc, Ffa.IdGet()));
        Assert.Equal(3, recorder.Snapshot(system).Entries.Count);

        system.Reset();
        var after = recorder.Snapshot(system);
        Assert.Empty(after.Entries);
        Assert.Equal(3, after.Dropped);
        system.Call(new SmcCall(Host, 0, Spmc.Abi.Smccc.Conduit.Smc, Ffa.IdGet()));
        Assert.Equal(5, Assert.Single(recorder.Snapshot(system).Entries).Seq); // sequences keep rising; the reset took 4
        var ring = recorder.Snapshot(system);
        Assert.Equal(4, ring.Header.After);
        var text = TraceWriter.ToText(ring.Header, ring.Entries);
        var replay = await TraceReplayer.ReplayAsync(TraceReader.Parse(text)); // the ring replays from the manifest again
        Assert.True(replay.Identical && replay.Calls == 1, replay.ToString());

        registry.Delete("traced");
        Assert.Throws<NotFoundException>(system.Reset);
    }
}
