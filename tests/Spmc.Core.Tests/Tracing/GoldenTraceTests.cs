using System.Text.Json.Nodes;
using Spmc.Core.Tracing;
using Xunit.Abstractions;

namespace Spmc.Core.Tests.Tracing;

/// <summary>
/// The golden traces replay green: any behaviour change shows as a trace diff. <c>SPMC_GOLDEN_REGENERATE=1</c>
/// (scripts/golden.sh) rewrites them from <see cref="GoldenFlows"/> instead.
/// </summary>
public sealed class GoldenTraceTests(ITestOutputHelper output)
{
    public static TheoryData<string> Names => [.. GoldenFlows.All.Select(f => f.Name)];

    private static bool Regenerate => Environment.GetEnvironmentVariable("SPMC_GOLDEN_REGENERATE") == "1";

    [Theory]
    [MemberData(nameof(Names))]
    public async Task GoldenTrace_Replays_Identically(string name)
    {
        var flow = GoldenFlows.All.Single(f => f.Name == name);
        var path = GoldenFlows.PathOf(name);
        var generated = GoldenFlows.Generate(flow);
        if (Regenerate)
        {
            Directory.CreateDirectory(GoldenFlows.GoldenDirectory);
            await File.WriteAllTextAsync(path, generated, TraceWriter.Utf8);
        }
        Assert.True(File.Exists(path), $"{path} is missing: run scripts/golden.sh");
        var result = await TraceReplayer.ReplayFileAsync(path);
        Assert.True(result.Identical, result.ToString());
        Assert.True(result.Calls > 0);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public async Task GoldenTrace_IsWhatTheFlowProducesToday(string name)
    {
        var generated = GoldenFlows.Generate(GoldenFlows.All.Single(f => f.Name == name));
        var golden = await File.ReadAllTextAsync(GoldenFlows.PathOf(name));
        Assert.True(golden == generated, $"the flow '{name}' no longer produces its golden trace; if intended, run scripts/golden.sh and review the diff");
    }

    [Fact]
    public async Task GoldenTrace_WithOneAnswerRegisterChanged_FailsWithADecodedDiff()
    {
        var lines = (await File.ReadAllLinesAsync(GoldenFlows.PathOf("readme-default"))).ToList();
        // The echo's direct response: change its w4 (0x22) in the recorded answer.
        var index = lines.FindIndex(l => l.Contains("\"function\":\"FFA_MSG_SEND_DIRECT_REQ\"", StringComparison.Ordinal) ||
                                         l.Contains("\"0x8400006F\"", StringComparison.Ordinal));
        Assert.True(index > 0, "the readme trace holds the echo request");
        var entry = JsonNode.Parse(lines[index])!.AsObject();
        var seq = entry["seq"]!.GetValue<long>();
        Assert.Equal("0x22", entry["answer"]!["x"]![4]!.GetValue<string>());
        entry["answer"]!["x"]![4] = "0x23";
        lines[index] = entry.ToJsonString();

        var result = await TraceReplayer.ReplayAsync(TraceReader.Parse(string.Join('\n', lines)));

        output.WriteLine(result.ToString());
        Assert.False(result.Identical);
        var diff = result.FirstDifference!;
        Assert.Equal(seq, diff.Seq);
        Assert.Equal(["x4"], diff.Fields);
        Assert.Equal(0x22ul, diff.Actual!.Frame[4]);
        var text = diff.Describe();
        Assert.Contains($"seq {seq} differs in x4", text, StringComparison.Ordinal);
        Assert.Contains("FFA_MSG_SEND_DIRECT_REQ", text, StringComparison.Ordinal);
        Assert.Contains("x4=0x23", text, StringComparison.Ordinal);
        Assert.Contains("x4=0x22", text, StringComparison.Ordinal);
        Assert.Equal(index - 1, result.Matched);
    }
}
