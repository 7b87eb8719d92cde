using System.Text;

namespace Spmc.Core.Tracing;

/// <summary>
/// Writes traces as JSON Lines (docs/traces.md): one compact JSON object per line, UTF-8, "\n" after each line.
/// Registers and addresses are "0x..." strings, memory data lowercase hex strings.
/// </summary>
public static class TraceWriter
{
    /// <summary>Line 1: <c>{"format":"spmc-trace","version":1,"system":"...","manifest":{...}}</c>, without the newline.</summary>
    public static string FormatHeader(TraceHeader header) => throw new NotImplementedException();

    /// <summary>One entry's line, without the newline.</summary>
    public static string FormatEntry(TraceEntry entry) => throw new NotImplementedException();

    /// <summary>Writes the header then every entry, each followed by "\n".</summary>
    public static void Write(TextWriter writer, TraceHeader header, IEnumerable<TraceEntry> entries) => throw new NotImplementedException();

    /// <summary>The whole trace as a string (header, entries, a "\n" after each line).</summary>
    public static string ToText(TraceHeader header, IEnumerable<TraceEntry> entries) => throw new NotImplementedException();

    /// <summary>UTF-8 without a byte-order mark, as traces are written.</summary>
    public static readonly Encoding Utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);
}

/// <summary>Reads traces written by <see cref="TraceWriter"/>; any fault is a <see cref="TraceFormatException"/> naming the line.</summary>
public static class TraceReader
{
    /// <summary>Reads a whole trace. Blank lines are skipped; a <see cref="TraceEnd"/> is accepted only as the last entry.</summary>
    public static TraceDocument Read(TextReader reader) => throw new NotImplementedException();

    public static TraceDocument Parse(string text) => Read(new StringReader(text));

    public static TraceDocument ReadFile(string path) => throw new NotImplementedException();

    /// <summary>Parses line 1. <paramref name="line"/> is used in error messages.</summary>
    public static TraceHeader ParseHeader(string json, int line = 1) => throw new NotImplementedException();

    /// <summary>Parses one entry line. <paramref name="line"/> is used in error messages.</summary>
    public static TraceEntry ParseEntry(string json, int line) => throw new NotImplementedException();
}
