using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json;
using Grpc.Core;
using Spmc.V1;

namespace Spmc.Bench;

/// <summary>
/// The measured loops. Every one sends FFA_ID_GET as the host (caller 0) to system "default", checks each answer
/// (x0 = FFA_SUCCESS_32, matching tag) outside the timed span, and stops early, keeping what it measured, when
/// the token fires (time cap or Ctrl+C).
/// </summary>
public sealed class Benchmarks(SmcGateway.SmcGatewayClient client, HttpClient http, Uri? restUrl)
{
    private const ulong FfaIdGet = 0x84000069;
    private const ulong FfaSuccess32 = 0x84000061;
    private static readonly byte[] RestBody = """{"caller":0,"x":["0x84000069"]}"""u8.ToArray();

    /// <summary>Negotiates the host's version, then sends one frame, retrying while the endpoint is Unavailable (a server still starting up).</summary>
    public async Task WaitReadyAsync(CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                // The default system's pKVM proxy answers nothing but FFA_VERSION until the host negotiated (v1.1).
                await client.CallAsync(new SmcRequest { SystemId = "default", Caller = 0, X = { 0x84000063, 0x10001 } }, cancellationToken: ct);
                Check(await client.CallAsync(Frame(), cancellationToken: ct), 0);
                return;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable && !ct.IsCancellationRequested)
            {
                if (attempt == 0) Console.WriteLine($"waiting for the gRPC endpoint ({e.Status.Detail})");
                await Task.Delay(100, ct);
            }
        }
    }

    /// <summary>SmcGateway.Call, one at a time.</summary>
    public Task<BenchResult> UnaryAsync(int n, CancellationToken ct) => Measure("grpc Call (unary)", n, ct, async latencies =>
    {
        var request = Frame();
        for (var i = 0; i < n; i++)
        {
            request.Tag = (ulong)i;
            var start = Stopwatch.GetTimestamp();
            var response = await client.CallAsync(request, cancellationToken: ct);
            latencies.Add(Stopwatch.GetTimestamp() - start);
            Check(response, (ulong)i);
        }
    });

    /// <summary>One Session stream; each frame is written only after the previous answer arrived.</summary>
    public Task<BenchResult> PingPongAsync(int n, CancellationToken ct) => Measure("grpc Session ping-pong", n, ct, async latencies =>
    {
        using var call = client.Session(cancellationToken: ct);
        var request = Frame();
        for (var i = 0; i < n; i++)
        {
            request.Tag = (ulong)i;
            var start = Stopwatch.GetTimestamp();
            await call.RequestStream.WriteAsync(request, ct);
            if (!await call.ResponseStream.MoveNext(ct)) throw new InvalidDataException($"the stream ended after {i} answers");
            latencies.Add(Stopwatch.GetTimestamp() - start);
            Check(call.ResponseStream.Current, (ulong)i);
        }
        await call.RequestStream.CompleteAsync();
    });

    /// <summary>One Session stream with up to <paramref name="window"/> frames written and not yet answered.</summary>
    public Task<BenchResult> PipelinedAsync(int n, int window, CancellationToken ct) =>
        Measure($"grpc Session pipelined (window {window})", n, ct, async latencies =>
        {
            using var call = client.Session(cancellationToken: ct);
            using var slots = new SemaphoreSlim(window);
            using var stopWriter = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var sentAt = new long[n];

            async Task WriteAll()
            {
                var request = Frame();
                for (var i = 0; i < n; i++)
                {
                    await slots.WaitAsync(stopWriter.Token);
                    request.Tag = (ulong)i;
                    Volatile.Write(ref sentAt[i], Stopwatch.GetTimestamp());
                    await call.RequestStream.WriteAsync(request, stopWriter.Token);
                }
                await call.RequestStream.CompleteAsync();
            }

            var writer = Task.Run(WriteAll, CancellationToken.None);
            try
            {
                for (var i = 0; i < n; i++)
                {
                    if (!await call.ResponseStream.MoveNext(ct)) throw new InvalidDataException($"the stream ended after {i} answers");
                    latencies.Add(Stopwatch.GetTimestamp() - Volatile.Read(ref sentAt[i]));
                    Check(call.ResponseStream.Current, (ulong)i);
                    slots.Release();
                }
            }
            catch
            {
                await stopWriter.CancelAsync();
                throw;
            }
            finally
            {
                // Wait for the writer (stopWriter ends it on failure) before the call and the semaphore are disposed.
                await writer.ContinueWith(t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
            await writer;
        });

    /// <summary>POST /api/v1/systems/default/smc over one HTTP/1.1 keep-alive connection.</summary>
    public Task<BenchResult> RestAsync(int n, CancellationToken ct) => Measure("rest POST .../smc (HTTP/1.1)", n, ct, async latencies =>
    {
        var uri = new Uri(restUrl ?? throw new InvalidOperationException("no REST URL"), "/api/v1/systems/default/smc");
        var json = new MediaTypeHeaderValue("application/json");
        for (var i = 0; i < n; i++)
        {
            var start = Stopwatch.GetTimestamp();
            using var content = new ByteArrayContent(RestBody);
            content.Headers.ContentType = json;
            using var response = await http.PostAsync(uri, content, ct);
            var body = await response.Content.ReadAsByteArrayAsync(ct);
            latencies.Add(Stopwatch.GetTimestamp() - start);
            if (!response.IsSuccessStatusCode)
                throw new InvalidDataException($"REST answered {(int)response.StatusCode}: {System.Text.Encoding.UTF8.GetString(body)}");
            using var doc = JsonDocument.Parse(body);
            var x0 = doc.RootElement.GetProperty("x")[0].GetString();
            if (x0 != $"0x{FfaSuccess32:X}") throw new InvalidDataException($"REST call {i}: x0 = {x0}, expected FFA_SUCCESS_32");
        }
    });

    private static async Task<BenchResult> Measure(string name, int n, CancellationToken ct, Func<Latencies, Task> loop)
    {
        var latencies = new Latencies(n);
        try
        {
            await loop(latencies);
        }
        catch (Exception) when (ct.IsCancellationRequested)
        {
            // Time cap or Ctrl+C: keep the calls completed so far.
        }
        return latencies.Summarize(name, n);
    }

    private static SmcRequest Frame() => new() { SystemId = "default", Caller = 0, X = { FfaIdGet } };

    private static void Check(SmcResponse response, ulong tag)
    {
        if (response.Rejection is { } rejection)
            throw new InvalidDataException($"frame {tag} rejected: {rejection.Code}: {rejection.Message}");
        if (response.Tag != tag) throw new InvalidDataException($"answer tagged {response.Tag}, expected {tag}");
        if (response.X.Count == 0 || response.X[0] != FfaSuccess32)
            throw new InvalidDataException($"frame {tag}: x0 = 0x{(response.X.Count == 0 ? 0 : response.X[0]):X} ({response.Decoded?.Result}), expected FFA_SUCCESS_32");
    }
}
