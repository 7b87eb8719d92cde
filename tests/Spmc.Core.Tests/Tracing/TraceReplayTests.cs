using Spmc.Abi.Smccc;
using Spmc.Core.Calls;
using Spmc.Core.Manifests;
using Spmc.Core.Systems;
using Spmc.Core.Tracing;
using static Spmc.Core.Tests.Support.Manifests;

namespace Spmc.Core.Tests.Tracing;

/// <summary>Replay: identical traces pass; any changed answer, read or decoded field is the first difference; unreplayable traces are refused.</summary>
public sealed class TraceReplayTests
{
    private static TraceDocument Record(Action<SimulatedSystem> run, string manifest = null!)
    {
        var recorder = new TraceRecorder();
        var system = new SimulatedSystem("r", ManifestValidator.Validate(manifest ?? DefaultJson), [recorder]);
        run(system);
        var snapshot = recorder.Snapshot(system);
        return new TraceDocument(snapshot.Header, snapshot.Entries);
    }

    private static SmcCall Call(params ulong[] x) => new(Host, 0, Conduit.Smc, SmcFrame.From(x));

    private static TraceDocument VersionAndMap() => Record(s =>
    {
        s.Call(Call(0x8400_0063, 0x1_0002));
        s.Call(Call(0xC400_0066, 0x8000_0000, 0x8000_1000, 1) with { Reads = [new MemoryReadRequest(0x8000_1000, 8)] });
        s.WriteMemory(Host, 0x8010_0000, [1, 2]);
        s.ReadMemory(Host, 0x8010_0000, 2);
    });

    private static TraceDocument Edit(TraceDocument trace, int index, TraceEntry entry)
    {
        var entries = trace.Entries.ToList();
        entries[index] = entry;
        return trace with { Entries = entries };
    }

    [Fact]
    public async Task Replay_OfAnUnchangedTrace_IsIdentical()
    {
        var result = await TraceReplayer.ReplayAsync(VersionAndMap());
        Assert.True(result.Identical, result.ToString());
        Assert.Equal((2, 2, 4), (result.Calls, result.MemoryAccesses, result.Matched));
        Assert.Contains("identical", result.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Replay_NamesAChangedHopRegister_WithBothSidesDecoded()
    {
        var trace = VersionAndMap();
        var map = (SmcTraceEntry)trace.Entries[1];
        var hops = map.Outcome.Decoded.Hops!.ToList();
        Assert.NotEmpty(hops);
        var answer = hops[0].Answer;
        answer[2] = 0x99;
        hops[0] = hops[0] with { Answer = answer };
        var changed = map with { Outcome = map.Outcome with { Decoded = map.Outcome.Decoded with { Hops = hops } } };

        var result = await TraceReplayer.ReplayAsync(Edit(trace, 1, changed));

        var diff = result.FirstDifference!;
        Assert.Equal(2, diff.Seq);
        Assert.Equal(["decoded.hops[0].answer.x2"], diff.Fields);
        Assert.Contains("hop 0 as", diff.Describe(), StringComparison.Ordinal);
        Assert.Equal(1, result.Matched);
    }

    [Fact]
    public async Task Replay_NamesChangedReadsAndDecodedFields()
    {
        var trace = VersionAndMap();
        var map = (SmcTraceEntry)trace.Entries[1];
        var changed = map with
        {
            Outcome = map.Outcome with
            {
                Reads = [map.Outcome.Reads[0] with { Data = [1, 2, 3, 4, 5, 6, 7, 8] }],
                Decoded = map.Outcome.Decoded with { Result = "something else", Rule = "made.up" },
            },
        };
        var diff = (await TraceReplayer.ReplayAsync(Edit(trace, 1, changed))).FirstDifference!;
        Assert.Equal(["reads[0].data", "decoded.result", "decoded.rule"], diff.Fields);
    }

    [Fact]
    public async Task Replay_NamesAChangedApiRead()
    {
        var trace = VersionAndMap();
        var read = (MemoryTraceEntry)trace.Entries[3];
        var diff = (await TraceReplayer.ReplayAsync(Edit(trace, 3, read with { Data = [1, 3] }))).FirstDifference!;
        Assert.Equal(4, diff.Seq);
        Assert.Equal(["data"], diff.Fields);
        Assert.Contains("expected: 0103", diff.Describe(), StringComparison.Ordinal);
        Assert.Contains("actual:   0102", diff.Describe(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Replay_ACallTheSystemNowRefuses_IsADifference()
    {
        var trace = VersionAndMap();
        var map = (SmcTraceEntry)trace.Entries[1];
        var refused = map with { Call = map.Call with { Vcpu = 99 } };
        var diff = (await TraceReplayer.ReplayAsync(Edit(trace, 1, refused))).FirstDifference!;
        Assert.Equal(["exception"], diff.Fields);
        Assert.Contains("vcpu", diff.ActualError, StringComparison.Ordinal);
        Assert.Contains("refused:", diff.Describe(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Replay_RefusesEntriesOfAttachedPartitions()
    {
        var trace = VersionAndMap();
        var attached = (SmcTraceEntry)trace.Entries[1] with { Attached = true };
        var e = await Assert.ThrowsAsync<InvalidRequestException>(() => TraceReplayer.ReplayAsync(Edit(trace, 1, attached)));
        Assert.Contains("seq 2 was made by an attached (remote) partition", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Replay_RefusesACutTrace()
    {
        var trace = VersionAndMap();
        var cut = trace with { Entries = trace.Entries.Skip(1).ToList() };
        var e = await Assert.ThrowsAsync<InvalidRequestException>(() => TraceReplayer.ReplayAsync(cut));
        Assert.Contains("seq 2 where 1 was expected", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Replay_RefusesAnInvalidManifest()
    {
        var trace = TraceReader.Parse("{\"format\":\"spmc-trace\",\"version\":1,\"system\":\"s\",\"manifest\":{\"nope\":1}}");
        await Assert.ThrowsAsync<InvalidRequestException>(() => TraceReplayer.ReplayAsync(trace));
    }
}
