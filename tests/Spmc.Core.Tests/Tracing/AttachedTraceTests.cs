using Spmc.Core.Manifests;
using Spmc.Core.Systems;
using Spmc.Core.Tests.Examples;
using Spmc.Core.Tests.Support;
using Spmc.Core.Tracing;
using static Spmc.Core.Tests.Messaging.Dm;

namespace Spmc.Core.Tests.Tracing;

/// <summary>A call answered by an attached partition: the trace carries the completed hop and marks the partition's own calls.</summary>
public sealed class AttachedTraceTests
{
    private const ushort Host = 0, Companion = 0x8002;

    [Fact]
    public async Task Trace_CarriesTheAttachedPartitionsRealAnswerInTheHop_AndReplayRefusesIt()
    {
        var recorder = new TraceRecorder();
        var json = Support.Manifests.WithProxy(ExampleManifests.Json("blocked-relay.json"), "pkvm-7.4");
        var system = new SimulatedSystem("attached", ManifestValidator.Validate(json), [recorder]);
        var sys = new TestSystem(system);
        sys.Call(Host, Ffa.Version(0x1_0002));
        using var client = system.Attach(Companion);
        var boot = client.CallAsync(0, Wait());
        var host = system.CallAsync(Host, Req(Host, Companion, payload: [1, 2]));
        await boot.WaitAsync(Limit);
        _ = client.CallAsync(0, Resp(Companion, Host, payload: [0xA, 0xB]));
        await host.WaitAsync(Limit);

        var text = TraceWriter.ToText(recorder.Snapshot(system).Header, recorder.Snapshot(system).Entries);
        var trace = TraceReader.Parse(text);
        var request = trace.Entries.OfType<SmcTraceEntry>().Single(e => e.Call.Caller == Host && e.Call.Frame[0] == Req32);
        Assert.False(request.Attached);
        var hop = Assert.Single(request.Outcome.Decoded.Hops!, h => h.Decoded.Function == "FFA_MSG_SEND_DIRECT_REQ");
        Assert.Equal(Resp32, hop.Answer[0]);
        Assert.Equal(0xAul, hop.Answer[3]);
        Assert.Contains(trace.Entries, e => e is SmcTraceEntry { Attached: true, Call.Caller: Companion });
        Assert.Contains("\"attached\":true", text, StringComparison.Ordinal);

        var refused = await Assert.ThrowsAsync<InvalidRequestException>(() => TraceReplayer.ReplayAsync(trace));
        Assert.Contains("attached (remote) partition", refused.Message, StringComparison.Ordinal);
    }
}
