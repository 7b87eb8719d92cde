using CsCheck;
using Spmc.Core.Tracing;

namespace Spmc.Core.Tests.Tracing;

/// <summary>The JSON Lines format: round trip, and every bad input named by its line.</summary>
public sealed class TraceFormatTests
{
    private static string Golden(string name) => File.ReadAllText(GoldenFlows.PathOf(name));

    [Theory]
    [MemberData(nameof(GoldenTraceTests.Names), MemberType = typeof(GoldenTraceTests))]
    public void ReadThenWrite_GivesTheSameText(string name)
    {
        var text = Golden(name);
        var trace = TraceReader.Parse(text);
        Assert.Equal(text, TraceWriter.ToText(trace.Header, trace.Entries));
    }

    [Fact]
    public void Trace_HasNoWallClockTime_SoTwoRunsAreIdentical()
    {
        var flow = GoldenFlows.All[0];
        Assert.Equal(GoldenFlows.Generate(flow), GoldenFlows.Generate(flow));
    }

    [Theory]
    [InlineData("", 1, "empty input")]
    [InlineData("not json", 1, "malformed JSON")]
    [InlineData("[1,2]", 1, "one JSON object")]
    [InlineData("{\"format\":\"other\",\"version\":1}", 1, "not a trace")]
    [InlineData("{\"format\":\"spmc-trace\",\"version\":2,\"system\":\"s\",\"manifest\":{}}", 1, "version 2 is not supported")]
    [InlineData("{\"format\":\"spmc-trace\",\"version\":1,\"system\":\"s\"}", 1, "\"manifest\" must be a JSON object")]
    [InlineData(Header + "\n{\"type\":\"memory\",\"seq\":1,\"op\":\"write\",\"as\":\"0x0\",\"address\":\"0x10\",\"data\":\"ab\"}\n{\"type\":\"smc\",\"seq\":2}", 3, "\"caller\"")]
    [InlineData(Header + "\n{\"type\":\"memory\",\"seq\":1,\"op\":\"write\",\"as\":\"0x0\",\"address\":\"16\",\"data\":\"ab\"}", 2, "hex string")]
    [InlineData(Header + "\n{\"type\":\"memory\",\"seq\":1,\"op\":\"write\",\"as\":\"0x0\",\"address\":\"0x10\",\"data\":\"abc\"}", 2, "hex digits")]
    [InlineData(Header + "\n{\"type\":\"memory\",\"seq\":1,\"op\":\"poke\",\"as\":\"0x0\",\"address\":\"0x10\",\"data\":\"ab\"}", 2, "\"op\"")]
    [InlineData(Header + "\n{\"type\":\"what\",\"seq\":1}", 2, "unknown entry type")]
    [InlineData(Header + "\n{\"type\":\"end\",\"seq\":0,\"reason\":\"lagged\",\"message\":\"\"}\n{\"type\":\"end\",\"seq\":0,\"reason\":\"lagged\"}", 3, "after the end line 2")]
    [InlineData(Header + "\n" + Mem2 + "\n" + Mem2, 3, "seq 2 does not follow seq 2")]
    public void Reader_RefusesBadInput_NamingTheLine(string text, int line, string message)
    {
        var e = Assert.Throws<TraceFormatException>(() => TraceReader.Parse(text));
        Assert.Equal(line, e.Line);
        Assert.Contains($"trace line {line}:", e.Message, StringComparison.Ordinal);
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reader_RefusesAnSmcEntryWithTooFewRegisters()
    {
        var line = File.ReadLines(GoldenFlows.PathOf("readme-default")).Skip(1).First().Replace("\"x\":[\"0x84000063\",", "\"x\":[", StringComparison.Ordinal);
        var e = Assert.Throws<TraceFormatException>(() => TraceReader.ParseEntry(line, 7));
        Assert.Contains("trace line 7: smc: \"x\" must hold 18 registers, got 17", e.Message, StringComparison.Ordinal);
    }

    private const string Header = "{\"format\":\"spmc-trace\",\"version\":1,\"system\":\"s\",\"manifest\":{}}";
    private const string Mem2 = "{\"type\":\"memory\",\"seq\":2,\"op\":\"write\",\"as\":\"0x0\",\"address\":\"0x10\",\"data\":\"ab\"}";
}

/// <summary>Damaged traces: whatever the damage, the reader answers with a <see cref="TraceFormatException"/> naming a line, never anything else.</summary>
public sealed class TraceReaderDamageTests
{
    [Fact]
    public void AnyTruncationOrByteFlip_IsParsedOrRefusedByLine()
    {
        var text = File.ReadAllText(GoldenFlows.PathOf("notification-round"));
        const string Alphabet = "{}[]\":,0x19aF \n-ntrue";
        Gen.Select(Gen.Int[0, text.Length - 1], Gen.Int[0, Alphabet.Length - 1], Gen.Bool)
            .Sample((at, c, truncate) =>
            {
                var damaged = truncate ? text[..at] : text[..at] + Alphabet[c] + text[(at + 1)..];
                try
                {
                    TraceReader.Parse(damaged);
                }
                catch (TraceFormatException e)
                {
                    Assert.InRange(e.Line, 1, text.Count(ch => ch == '\n') + 2);
                }
            }, iter: 2000);
    }
}
