using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Spmc.Abi.Smccc;
using Spmc.Core.Calls;

namespace Spmc.Core.Tracing;

/// <summary>
/// Writes traces as JSON Lines (docs/traces.md): one compact JSON object per line, UTF-8, "\n" after each line.
/// Registers and addresses are "0x..." strings, memory data lowercase hex strings.
/// </summary>
public static class TraceWriter
{
    /// <summary>UTF-8 without a byte-order mark, as traces are written.</summary>
    public static readonly Encoding Utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);

    /// <summary>Line 1: <c>{"format":"spmc-trace","version":1,"system":"...","manifest":{...}}</c>, without the newline.</summary>
    public static string FormatHeader(TraceHeader header) => Format(w =>
    {
        w.WriteStartObject();
        w.WriteString("format", TraceFormat.Name);
        w.WriteNumber("version", TraceFormat.Version);
        w.WriteString("system", header.System);
        w.WritePropertyName("manifest");
        header.Manifest.WriteTo(w);
        if (header.After != 0) w.WriteNumber("after", header.After);
        if (header.Restored) w.WriteBoolean("restored", true);
        w.WriteEndObject();
    });

    /// <summary>One entry's line, without the newline.</summary>
    public static string FormatEntry(TraceEntry entry) => Format(w => WriteEntry(w, entry));

    /// <summary>Writes the header then every entry, each followed by "\n".</summary>
    public static void Write(TextWriter writer, TraceHeader header, IEnumerable<TraceEntry> entries)
    {
        writer.Write(FormatHeader(header));
        writer.Write('\n');
        foreach (var e in entries)
        {
            writer.Write(FormatEntry(e));
            writer.Write('\n');
        }
    }

    /// <summary>The whole trace as a string (header, entries, a "\n" after each line).</summary>
    public static string ToText(TraceHeader header, IEnumerable<TraceEntry> entries)
    {
        var text = new StringWriter(CultureInfo.InvariantCulture);
        Write(text, header, entries);
        return text.ToString();
    }

    // Readable text (→, ') in reasons and notes; traces are data files, never embedded in HTML.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    internal static string Hex(ulong value) => "0x" + value.ToString("X", CultureInfo.InvariantCulture);
    internal static string Id(ushort id) => "0x" + id.ToString("X4", CultureInfo.InvariantCulture);

    private static string Format(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer, WriterOptions)) write(w);
        return Utf8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Appends the header's line and "\n" as UTF-8 (for writers that go straight to a stream).</summary>
    internal static void AppendHeaderLine(ArrayBufferWriter<byte> buffer, TraceHeader header)
    {
        Utf8.GetBytes(FormatHeader(header), buffer);
        buffer.Write("\n"u8);
    }

    /// <summary>Appends one entry's line and "\n" as UTF-8, without an intermediate string.</summary>
    internal static void AppendEntryLine(ArrayBufferWriter<byte> buffer, TraceEntry entry)
    {
        using (var w = new Utf8JsonWriter(buffer, WriterOptions)) WriteEntry(w, entry);
        buffer.Write("\n"u8);
    }

    private static void WriteEntry(Utf8JsonWriter w, TraceEntry entry)
    {
        w.WriteStartObject();
        switch (entry)
        {
            case SmcTraceEntry s:
                w.WriteString("type", "smc");
                w.WriteNumber("seq", s.Seq);
                w.WriteString("caller", Id(s.Call.Caller));
                w.WriteNumber("vcpu", s.Call.Vcpu);
                w.WriteString("conduit", s.Call.Conduit == Conduit.Hvc ? "hvc" : "smc");
                WriteFrame(w, "x", s.Call.Frame);
                w.WriteStartArray("writes");
                foreach (var m in s.Call.Writes ?? [])
                {
                    w.WriteStartObject();
                    w.WriteString("address", Hex(m.Address));
                    w.WriteString("data", Convert.ToHexStringLower(m.Data));
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteStartArray("reads");
                foreach (var r in s.Call.Reads ?? [])
                {
                    w.WriteStartObject();
                    w.WriteString("address", Hex(r.Address));
                    w.WriteNumber("length", r.Length);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteStartObject("answer");
                WriteFrame(w, "x", s.Outcome.Frame);
                w.WriteStartArray("reads");
                foreach (var r in s.Outcome.Reads)
                {
                    w.WriteStartObject();
                    w.WriteString("address", Hex(r.Address));
                    if (r.Data is null) w.WriteNull("data"); else w.WriteString("data", Convert.ToHexStringLower(r.Data));
                    w.WriteString("error", r.Error);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WritePropertyName("decoded");
                WriteDecoded(w, s.Outcome.Decoded);
                w.WriteStartArray("events");
                foreach (var e in s.Outcome.Events ?? [])
                {
                    w.WriteStartObject();
                    w.WriteNumber("sequence", e.Sequence);
                    w.WriteString("kind", e.Kind.ToString());
                    w.WriteString("endpoint", Id(e.Endpoint));
                    if (e.Vcpu is { } v) w.WriteNumber("vcpu", v); else w.WriteNull("vcpu");
                    w.WriteBoolean("delayed", e.Delayed);
                    w.WriteString("detail", e.Detail);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                w.WriteEndObject();
                if (s.Attached) w.WriteBoolean("attached", true);
                break;
            case MemoryTraceEntry m:
                w.WriteString("type", "memory");
                w.WriteNumber("seq", m.Seq);
                w.WriteString("op", m.Write ? "write" : "read");
                w.WriteString("as", Id(m.As));
                w.WriteString("address", Hex(m.Address));
                w.WriteString("data", Convert.ToHexStringLower(m.Data));
                break;
            case FaultsTraceEntry f:
                w.WriteString("type", "faults");
                w.WriteNumber("seq", f.Seq);
                w.WritePropertyName("faults");
                JsonSerializer.Serialize(w, f.Faults, TraceFaultsJson.Options);
                break;
            case ResetTraceEntry r:
                w.WriteString("type", "reset");
                w.WriteNumber("seq", r.Seq);
                break;
            case TraceEnd end:
                w.WriteString("type", "end");
                w.WriteNumber("seq", end.Seq);
                w.WriteString("reason", ReasonName(end.Reason));
                w.WriteString("message", end.Message);
                break;
            default:
                throw new ArgumentException($"unknown trace entry {entry.GetType().Name}", nameof(entry));
        }
        w.WriteEndObject();
    }

    internal static string ReasonName(TraceEndReason reason) => reason switch
    {
        TraceEndReason.SystemDeleted => "system-deleted",
        TraceEndReason.Lagged => "lagged",
        _ => "recording-lagged",
    };

    private static void WriteFrame(Utf8JsonWriter w, string name, SmcFrame frame)
    {
        w.WriteStartArray(name);
        for (var i = 0; i < Registers.Count; i++) w.WriteStringValue(Hex(frame[i]));
        w.WriteEndArray();
    }

    private static void WriteDecoded(Utf8JsonWriter w, Decoded d)
    {
        w.WriteStartObject();
        w.WriteString("function", d.Function);
        w.WriteString("width", d.Width);
        w.WriteString("result", d.Result);
        w.WriteString("error", d.Error);
        w.WriteString("reason", d.Reason);
        w.WriteString("rule", d.Rule);
        w.WriteStartArray("hops");
        foreach (var h in d.Hops ?? [])
        {
            w.WriteStartObject();
            w.WriteString("caller", Id(h.Caller));
            WriteFrame(w, "request", h.Request);
            WriteFrame(w, "answer", h.Answer);
            w.WritePropertyName("decoded");
            WriteDecoded(w, h.Decoded);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("notes");
        foreach (var n in d.Notes ?? []) w.WriteStringValue(n);
        w.WriteEndArray();
        w.WriteEndObject();
    }
}

/// <summary>Reads traces written by <see cref="TraceWriter"/>; any fault is a <see cref="TraceFormatException"/> naming the line.</summary>
public static class TraceReader
{
    /// <summary>Longest line accepted (an entry with 16 writes of 1 MiB, hex-encoded, fits).</summary>
    public const int MaxLineChars = 40 << 20;

    /// <summary>Reads a whole trace. Blank lines are skipped; a <see cref="TraceEnd"/> is accepted only as the last entry.</summary>
    public static TraceDocument Read(TextReader reader)
    {
        TraceHeader? header = null;
        var entries = new List<TraceEntry>();
        var number = 0;
        var endLine = 0;
        long lastSeq = 0;
        while (reader.ReadLine() is { } line)
        {
            number++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            if (line.Length > MaxLineChars) throw new TraceFormatException(number, $"line longer than {MaxLineChars} characters");
            if (header is null)
            {
                header = ParseHeader(line, number);
                continue;
            }
            if (endLine != 0) throw new TraceFormatException(number, $"an entry after the end line {endLine}");
            var entry = ParseEntry(line, number);
            if (entry is TraceEnd) endLine = number;
            else
            {
                if (entry.Seq <= lastSeq) throw new TraceFormatException(number, $"seq {entry.Seq} does not follow seq {lastSeq}");
                lastSeq = entry.Seq;
            }
            entries.Add(entry);
        }
        if (header is null) throw new TraceFormatException(Math.Max(number, 1), "empty input: a trace starts with a spmc-trace header line");
        return new TraceDocument(header, entries);
    }

    public static TraceDocument Parse(string text) => Read(new StringReader(text));

    public static TraceDocument ReadFile(string path)
    {
        using var reader = new StreamReader(path, TraceWriter.Utf8, detectEncodingFromByteOrderMarks: true);
        return Read(reader);
    }

    /// <summary>Parses line 1. <paramref name="line"/> is used in error messages.</summary>
    public static TraceHeader ParseHeader(string json, int line = 1)
    {
        using var doc = ParseJson(json, line);
        var root = doc.RootElement;
        var format = OptionalString(root, "format", line);
        if (format != TraceFormat.Name)
            throw new TraceFormatException(line, $"not a trace: the header's \"format\" must be \"{TraceFormat.Name}\"{(format is null ? " (missing)" : $", got \"{format}\"")}");
        var version = root.TryGetProperty("version", out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var n) ? n
            : throw new TraceFormatException(line, "header: \"version\" must be an integer");
        if (version != TraceFormat.Version)
            throw new TraceFormatException(line, $"header: version {version} is not supported (this reader reads version {TraceFormat.Version})");
        var system = String(root, "system", line, "header");
        if (!root.TryGetProperty("manifest", out var manifest) || manifest.ValueKind != JsonValueKind.Object)
            throw new TraceFormatException(line, "header: \"manifest\" must be a JSON object");
        long after = 0;
        if (root.TryGetProperty("after", out var a) && !(a.ValueKind == JsonValueKind.Number && a.TryGetInt64(out after) && after >= 0))
            throw new TraceFormatException(line, "header: \"after\" must be a non-negative integer (the seq the entries follow)");
        var restored = false;
        if (root.TryGetProperty("restored", out var r))
        {
            if (r.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                throw new TraceFormatException(line, "header: \"restored\" must be true or false");
            restored = r.GetBoolean();
        }
        return new TraceHeader(system, manifest.Clone(), after, restored);
    }

    /// <summary>Parses one entry line. <paramref name="line"/> is used in error messages.</summary>
    public static TraceEntry ParseEntry(string json, int line)
    {
        using var doc = ParseJson(json, line);
        var e = doc.RootElement;
        var type = String(e, "type", line, "entry");
        var seq = e.TryGetProperty("seq", out var s) && s.ValueKind == JsonValueKind.Number && s.TryGetInt64(out var q) && q >= 0 ? q
            : throw new TraceFormatException(line, $"{type}: \"seq\" must be a non-negative integer");
        try
        {
            return type switch
            {
                "smc" => ParseSmc(e, seq, line),
                "memory" => new MemoryTraceEntry(seq, Id(e, "as", line, "memory"), Number(e, "address", line, "memory"),
                    String(e, "op", line, "memory") switch
                    {
                        "write" => true,
                        "read" => false,
                        var op => throw new TraceFormatException(line, $"memory: \"op\" must be \"write\" or \"read\", got \"{op}\""),
                    }, Data(e, "data", line, "memory")),
                "faults" => new FaultsTraceEntry(seq, e.TryGetProperty("faults", out var f) && f.ValueKind == JsonValueKind.Object
                    ? f.Deserialize<Faults.FaultsSnapshot>(TraceFaultsJson.Options) ?? throw new TraceFormatException(line, "faults: \"faults\" is null")
                    : throw new TraceFormatException(line, "faults: \"faults\" must be an object (nextId, rules)")),
                "reset" => new ResetTraceEntry(seq),
                "end" => new TraceEnd(seq, String(e, "reason", line, "end") switch
                {
                    "system-deleted" => TraceEndReason.SystemDeleted,
                    "lagged" => TraceEndReason.Lagged,
                    "recording-lagged" => TraceEndReason.RecordingLagged,
                    var r => throw new TraceFormatException(line, $"end: unknown reason \"{r}\""),
                }, OptionalString(e, "message", line) ?? ""),
                _ => throw new TraceFormatException(line, $"unknown entry type \"{type}\" (expected smc, memory, faults, reset or end)"),
            };
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException or JsonException)
        {
            throw new TraceFormatException(line, $"{type}: {ex.Message}");
        }
    }

    private static SmcTraceEntry ParseSmc(JsonElement e, long seq, int line)
    {
        const string Where = "smc";
        var caller = Id(e, "caller", line, Where);
        var vcpu = e.TryGetProperty("vcpu", out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetUInt32(out var n) ? n
            : throw new TraceFormatException(line, "smc: \"vcpu\" must be a non-negative integer");
        var conduit = String(e, "conduit", line, Where) switch
        {
            "smc" => Conduit.Smc,
            "hvc" => Conduit.Hvc,
            var c => throw new TraceFormatException(line, $"smc: \"conduit\" must be \"smc\" or \"hvc\", got \"{c}\""),
        };
        var frame = Frame(e, "x", line, Where);
        var writes = Array(e, "writes", line, Where).Select((w, i) =>
            new MemoryWrite(Number(w, "address", line, $"writes[{i}]"), Data(w, "data", line, $"writes[{i}]"))).ToList();
        var reads = Array(e, "reads", line, Where).Select((r, i) =>
            new MemoryReadRequest(Number(r, "address", line, $"reads[{i}]"), Int(r, "length", line, $"reads[{i}]"))).ToList();
        var answer = Object(e, "answer", line, Where);
        var answerFrame = Frame(answer, "x", line, "answer");
        var results = Array(answer, "reads", line, "answer").Select((r, i) => new MemoryReadResult(
            Number(r, "address", line, $"answer.reads[{i}]"),
            r.TryGetProperty("data", out var d) && d.ValueKind != JsonValueKind.Null ? Data(r, "data", line, $"answer.reads[{i}]") : null,
            OptionalString(r, "error", line))).ToList();
        var decoded = ParseDecoded(Object(answer, "decoded", line, "answer"), line, "answer.decoded");
        var events = Array(answer, "events", line, "answer").Select((x, i) => ParseEvent(x, line, $"answer.events[{i}]")).ToList();
        var attached = e.TryGetProperty("attached", out var a) && a.ValueKind == JsonValueKind.True;
        return new SmcTraceEntry(seq, new SmcCall(caller, vcpu, conduit, frame, writes, reads),
            new SmcOutcome(answerFrame, decoded, results, events.Count == 0 ? null : events), attached);
    }

    private static SystemEvent ParseEvent(JsonElement x, int line, string where)
    {
        var kindName = String(x, "kind", line, where);
        if (!Enum.TryParse<SystemEventKind>(kindName, ignoreCase: false, out var kind) || !Enum.IsDefined(kind))
            throw new TraceFormatException(line, $"{where}: unknown event kind \"{kindName}\"");
        uint? vcpu = x.TryGetProperty("vcpu", out var v) && v.ValueKind == JsonValueKind.Number ? v.GetUInt32() : null;
        return new SystemEvent(kind, Id(x, "endpoint", line, where), OptionalString(x, "detail", line) ?? "", vcpu,
            x.TryGetProperty("delayed", out var d) && d.ValueKind == JsonValueKind.True)
        { Sequence = x.TryGetProperty("sequence", out var s) && s.ValueKind == JsonValueKind.Number ? s.GetInt64() : 0 };
    }

    private static Decoded ParseDecoded(JsonElement d, int line, string where) => new(
        String(d, "function", line, where), String(d, "width", line, where), String(d, "result", line, where),
        OptionalString(d, "error", line), OptionalString(d, "reason", line), OptionalString(d, "rule", line),
        Array(d, "hops", line, where).Select((h, i) => new Hop(Id(h, "caller", line, $"{where}.hops[{i}]"),
            Frame(h, "request", line, $"{where}.hops[{i}]"), Frame(h, "answer", line, $"{where}.hops[{i}]"),
            ParseDecoded(Object(h, "decoded", line, $"{where}.hops[{i}]"), line, $"{where}.hops[{i}].decoded"))).ToList(),
        Array(d, "notes", line, where).Select(n => n.ValueKind == JsonValueKind.String ? n.GetString()!
            : throw new TraceFormatException(line, $"{where}.notes: strings expected")).ToList());

    private static JsonDocument ParseJson(string json, int line)
    {
        try
        {
            var doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 16 });
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                doc.Dispose();
                throw new TraceFormatException(line, "each line must be one JSON object");
            }
            return doc;
        }
        catch (JsonException e)
        {
            throw new TraceFormatException(line, $"malformed JSON: {e.Message}");
        }
    }

    private static string? OptionalString(JsonElement e, string name, int line) =>
        !e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null ? null
        : v.ValueKind == JsonValueKind.String ? v.GetString()
        : throw new TraceFormatException(line, $"\"{name}\" must be a string");

    private static string String(JsonElement e, string name, int line, string where) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()!
        : throw new TraceFormatException(line, $"{where}: \"{name}\" must be a string");

    private static JsonElement Object(JsonElement e, string name, int line, string where) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Object ? v
        : throw new TraceFormatException(line, $"{where}: \"{name}\" must be an object");

    private static IEnumerable<JsonElement> Array(JsonElement e, string name, int line, string where) =>
        !e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null ? []
        : v.ValueKind == JsonValueKind.Array ? v.EnumerateArray().ToList()
        : throw new TraceFormatException(line, $"{where}: \"{name}\" must be an array");

    private static ulong Number(JsonElement e, string name, int line, string where)
    {
        var text = String(e, name, line, where);
        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) && text.Length > 2 &&
            ulong.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value)) return value;
        throw new TraceFormatException(line, $"{where}: \"{name}\" must be a \"0x...\" hex string, got \"{text}\"");
    }

    private static ushort Id(JsonElement e, string name, int line, string where)
    {
        var value = Number(e, name, line, where);
        return value <= ushort.MaxValue ? (ushort)value : throw new TraceFormatException(line, $"{where}: \"{name}\" is not a 16-bit endpoint ID");
    }

    private static int Int(JsonElement e, string name, int line, string where) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var n) && n >= 0 ? n
        : throw new TraceFormatException(line, $"{where}: \"{name}\" must be a non-negative integer");

    private static byte[] Data(JsonElement e, string name, int line, string where)
    {
        var text = String(e, name, line, where);
        try
        {
            return Convert.FromHexString(text);
        }
        catch (FormatException)
        {
            throw new TraceFormatException(line, $"{where}: \"{name}\" must be an even number of hex digits");
        }
    }

    private static SmcFrame Frame(JsonElement e, string name, int line, string where)
    {
        var values = Array(e, name, line, where).ToList();
        if (values.Count != Registers.Count) throw new TraceFormatException(line, $"{where}: \"{name}\" must hold {Registers.Count} registers, got {values.Count}");
        var frame = new SmcFrame();
        for (var i = 0; i < values.Count; i++)
        {
            var text = values[i].ValueKind == JsonValueKind.String ? values[i].GetString()! : "";
            if (!text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) || text.Length < 3 ||
                !ulong.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var x))
                throw new TraceFormatException(line, $"{where}: \"{name}\"[{i}] must be a \"0x...\" hex string");
            frame[i] = x;
        }
        return frame;
    }
}

/// <summary>A <c>faults</c> entry's rules, in the form a snapshot's <c>faults</c> part has (docs/snapshots.md).</summary>
internal static class TraceFaultsJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
        RespectRequiredConstructorParameters = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}
