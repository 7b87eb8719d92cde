using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Spmc.Core;
using Spmc.Core.Systems;
using Spmc.Core.Tracing;
using Spmc.Server.Hosting;
using Spmc.Server.Security;

namespace Spmc.Server.Rest;

/// <summary>GET /api/v1/systems/{id}/trace (JSON Lines, optionally followed) and POST /api/v1/replay.</summary>
public static class TraceEndpoints
{
    /// <summary>The media type of an exported trace (JSON Lines).</summary>
    public const string NdJson = Spmc.Core.Tracing.TraceFormat.MediaType;

    public static WebApplication MapSpmcTraces(this WebApplication app)
    {
        app.MapGet("/api/v1/systems/{id}/trace", Export).RequireSystemAccess()
            .Produces<string>(200, NdJson).ProducesProblem(400).ProducesProblem(404)
            .WithTags("Traces").WithName("GetTrace")
            .WithDescription("application/x-ndjson: line 1 is the header (format version, the canonical manifest), then one line per entry (SMC or API memory access) in order (docs/traces.md). X-Spmc-Trace-Last gives the latest seq and X-Spmc-Trace-Dropped how many the ring dropped.")
            .WithSummary("The system's trace as JSON Lines: the header, then the ring's entries after ?after=N; ?follow=true streams new ones.");
        app.MapPost("/api/v1/replay", Replay).RequireRateLimiting(RateLimiting.Uploads)
            .Accepts<string>(NdJson, "application/jsonl", "application/json", "text/plain", "application/octet-stream")
            .Produces<ReplayReportDto>().Produces<string>(200, "text/plain").ProducesProblem(400).ProducesProblem(413)
            .WithTags("Traces").WithName("Replay")
            .WithDescription("The body is a trace (JSON Lines) holding every entry from seq 1. A fresh private system is made from its manifest, every entry re-sent, and every answer compared: the report gives the first difference with both sides decoded. X-Spmc-Replay-Identical says true or false.")
            .WithSummary("Replay a trace (the body, JSON Lines) on a fresh system; report the first difference, both sides decoded (?format=text: as text).");
        return app;
    }

    private static async Task Export(string id, string? after, string? follow, HttpContext http, SystemRegistry registry, Traces traces)
    {
        var afterSeq = ParseAfter(after);
        var following = ParseFlag(follow, "follow");
        var system = registry.Get(id);
        var response = http.Response;
        response.ContentType = NdJson;
        response.Headers.CacheControl = "no-store";
        if (!following)
        {
            var snapshot = traces.Recorder.Snapshot(system, afterSeq);
            response.Headers["X-Spmc-Trace-Last"] = snapshot.LastSeq.ToString(System.Globalization.CultureInfo.InvariantCulture);
            response.Headers["X-Spmc-Trace-Dropped"] = snapshot.Dropped.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var text = new StringBuilder(TraceWriter.FormatHeader(snapshot.Header)).Append('\n');
            foreach (var entry in snapshot.Entries) text.Append(TraceWriter.FormatEntry(entry)).Append('\n');
            await response.WriteAsync(text.ToString(), TraceWriter.Utf8, http.RequestAborted);
            return;
        }

        // Follow: one of the system's stream slots (Spmc:Quotas:MaxStreamsPerSystem), the header now (so the client
        // knows it is live), then each entry as it comes, flushed per line.
        using var slot = system.OpenStream("trace follow");
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, traces.Stopping);
        var cancel = linked.Token;
        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        try
        {
            await WriteLine(response, TraceWriter.FormatHeader(TraceHeader.For(system)), cancel);
            await foreach (var entry in traces.Recorder.Follow(system, afterSeq, cancel))
                await WriteLine(response, TraceWriter.FormatEntry(entry), cancel);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            // The client went away or the service is stopping: the stream just ends.
        }
    }

    private static async Task WriteLine(HttpResponse response, string line, CancellationToken cancel)
    {
        await response.WriteAsync(line + "\n", TraceWriter.Utf8, cancel);
        await response.Body.FlushAsync(cancel);
    }

    private static async Task<IResult> Replay(HttpRequest http, string? format, Traces traces, SystemRegistry registry)
    {
        var text = format?.Trim().ToLowerInvariant() switch
        {
            null or "" or "json" => false,
            "text" => true,
            _ => throw new InvalidRequestException($"format: '{format}' is neither json nor text"),
        };
        if (http.ContentType is { } type && type.StartsWith("multipart/", StringComparison.OrdinalIgnoreCase))
            throw new InvalidRequestException($"body: content type '{type}' is not a trace (send the file as the body: curl --data-binary @FILE)");
        var limit = traces.Options.MaxReplayBytes;
        using var body = await ReadBounded(http, limit);
        if (body.Length == 0) throw new InvalidRequestException("body: required (a trace in JSON Lines)");
        var result = await TraceReplayer.ReplayAsync(ParseUtf8(body), http.HttpContext.RequestAborted, registry.MemoryQuota);
        http.HttpContext.Response.Headers["X-Spmc-Replay-Identical"] = result.Identical ? "true" : "false";
        return text ? Results.Text(result.ToString().TrimEnd() + "\n", "text/plain; charset=utf-8") : Results.Ok(TraceMapping.ToDto(result));
    }

    /// <summary>Reads the body's bytes, refusing (413) anything above <paramref name="limit"/> bytes before holding it all.</summary>
    private static async Task<MemoryStream> ReadBounded(HttpRequest http, long limit)
    {
        static BadHttpRequestException TooLarge(long limit) =>
            new($"body: the trace is larger than {limit} bytes (Spmc:Traces:MaxReplayBytes)", StatusCodes.Status413PayloadTooLarge);
        if (http.ContentLength > limit) throw TooLarge(limit);
        if (http.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size) size.MaxRequestBodySize = limit + 1;
        var buffer = new MemoryStream(http.ContentLength is { } length ? (int)length : 0);
        var chunk = new byte[81920];
        int n;
        while ((n = await http.Body.ReadAsync(chunk, http.HttpContext.RequestAborted)) > 0)
        {
            if (buffer.Length + n > limit) throw TooLarge(limit);
            buffer.Write(chunk, 0, n);
        }
        buffer.Position = 0;
        return buffer;
    }

    /// <summary>Parses the trace line by line from the bytes (no copy of the whole body as one string).</summary>
    private static TraceDocument ParseUtf8(MemoryStream body)
    {
        using var reader = new StreamReader(body, new UTF8Encoding(false, throwOnInvalidBytes: true), detectEncodingFromByteOrderMarks: false);
        try
        {
            return TraceReader.Read(reader);
        }
        catch (DecoderFallbackException)
        {
            throw new InvalidRequestException("body: not UTF-8 text");
        }
    }

    /// <summary>?after=N: a sequence (0 or more, decimal or 0x hex); absent means from the oldest entry kept.</summary>
    public static long ParseAfter(string? text)
    {
        if (text is null) return 0;
        var value = Numbers.ParseU64(text, "after");
        if (value > long.MaxValue) throw new InvalidRequestException($"after: {text} is above {long.MaxValue}");
        return (long)value;
    }

    private static bool ParseFlag(string? text, string field) => text?.Trim().ToLowerInvariant() switch
    {
        null or "" or "false" or "0" => false,
        "true" or "1" => true,
        _ => throw new InvalidRequestException($"{field}: '{text}' is neither true nor false"),
    };
}
