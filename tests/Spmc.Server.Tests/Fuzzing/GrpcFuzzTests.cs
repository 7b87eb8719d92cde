using System.Collections.Concurrent;
using System.Diagnostics;
using Grpc.Core;
using Grpc.Net.Client;
using Spmc.Server.Tests.Hygiene;
using Spmc.V1;
using Xunit.Abstractions;

namespace Spmc.Server.Tests.Fuzzing;

/// <summary>
/// Seeded fuzzing of the gRPC API over a real loopback socket (<see cref="FuzzInput"/>): SMC frames on Session streams
/// and unary Calls, Systems.Watch requests, PartitionHost.Attach streams and Memory reads and writes — about 105 000 frames
/// in all. No answer may be UNKNOWN or INTERNAL (a server error), and afterwards the server still answers /healthz and a
/// valid call. Each test prints its frames/s and the statuses it saw. Rate limiting is off so every frame is handled.
/// </summary>
public sealed class GrpcFuzzTests(GrpcFuzzTests.Host host, ITestOutputHelper output) : IClassFixture<GrpcFuzzTests.Host>
{
    public const int Seed = 0x19F022;
    public const int SessionWorkers = 4, FramesPerSession = 20_000;   // 80 000 frames
    public const int CallWorkers = 4, CallsPerWorker = 1_500;         //  6 000
    public const int MemoryWorkers = 4, MemoryOpsPerWorker = 1_500;   //  6 000
    public const int Watches = 2_000;                                 //  2 000
    public const int AttachWorkers = 4, AttachStreamsPerWorker = 250; //  1 000 streams, ~12 000 messages

    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(5); // a bound on a hung server, far above a loaded run

    public sealed class Host : IDisposable
    {
        public KestrelFactory Factory { get; } = KestrelFactory.With(new() { ["Spmc:RateLimit:PermitsPerSecond"] = "0" });

        public void Dispose() => Factory.Dispose();
    }

    private const string RemoteManifest = """
        { "spmc": { "version": "1.2", "remoteTimeoutMs": 50 }, "proxy": "passthrough",
          "vms": [ { "id": 0, "name": "host", "vcpus": 2, "memory": [ { "base": "0x80000000", "size": "0x1000000" } ] } ],
          "partitions": [
            { "id": "0x8001", "name": "a", "behaviour": "remote", "executionContexts": 2, "uuids": [ "7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4a01" ],
              "properties": { "directRequestReceive": true, "directRequestSend": true } },
            { "id": "0x8002", "name": "b", "behaviour": "remote", "uuids": [ "7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4a02" ],
              "properties": { "directRequestReceive": true } },
            { "id": "0x8003", "name": "echo", "behaviour": "echo", "uuids": [ "7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4a03" ],
              "properties": { "directRequestReceive": true } } ] }
        """;

    private readonly ConcurrentDictionary<string, int> _seen = new();
    private readonly ConcurrentQueue<string> _errors = new();

    private CallOptions Options => new(deadline: DateTime.UtcNow + Deadline);

    private async Task<string> NewSystemAsync(string? manifest = null) =>
        (await new Systems.SystemsClient(host.Factory.Channel).CreateAsync(new CreateSystemRequest { ManifestJson = manifest ?? SpmcFactory.PassthroughManifest })).Id;

    private void Saw(string code, object input)
    {
        _seen.AddOrUpdate(code, 1, (_, n) => n + 1);
        if (code is nameof(StatusCode.Unknown) or nameof(StatusCode.Internal)) _errors.Enqueue($"{code} for {input}");
    }

    private async Task Run(string surface, Func<Task<long>> fuzz)
    {
        var clock = Stopwatch.StartNew();
        var frames = await fuzz();
        var seconds = clock.Elapsed.TotalSeconds;
        output.WriteLine($"{surface}: {frames} frames in {seconds:0.0} s = {frames / seconds:0} frames/s (seed 0x{Seed:X})");
        output.WriteLine("  statuses: " + string.Join(", ", _seen.OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Key} {kv.Value}")));
        Assert.Empty(_errors.Take(5));
        await StillServesAsync();
    }

    /// <summary>/healthz answers Healthy and a valid FFA_VERSION on a fresh system is answered.</summary>
    private async Task StillServesAsync()
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{host.Factory.RestPort}") };
        Assert.Equal("Healthy", await http.GetStringAsync("/healthz"));
        var version = new SmcRequest { SystemId = await NewSystemAsync(), Tag = 9 };
        version.X.Add(0x8400_0063);
        version.X.Add(0x1_0002);
        var answer = await new SmcGateway.SmcGatewayClient(host.Factory.Channel).CallAsync(version);
        Assert.Null(answer.Rejection);
        Assert.Equal("FFA_VERSION", answer.Decoded.Function);
        Assert.Equal(0x1_0003UL, answer.X[0]);
    }

    [Fact]
    public Task Session_RandomAndMutatedFrames() => Run("SmcGateway.Session", async () =>
    {
        var counts = await Task.WhenAll(Enumerable.Range(0, SessionWorkers).Select(async worker =>
        {
            var input = new FuzzInput(Seed + worker, await NewSystemAsync());
            using var call = new SmcGateway.SmcGatewayClient(host.Factory.Channel).Session(Options);
            var reading = Task.Run(async () =>
            {
                var n = 0L;
                while (await call.ResponseStream.MoveNext(CancellationToken.None))
                {
                    Saw(call.ResponseStream.Current.Rejection?.Code ?? "OK", $"frame {call.ResponseStream.Current.Tag} of worker {worker}");
                    n++;
                }
                return n;
            });
            try
            {
                for (var i = 0UL; i < FramesPerSession; i++)
                    await call.RequestStream.WriteAsync(i % 2 == 0 ? input.RandomFrame(i) : input.MutatedFrame(i));
                await call.RequestStream.CompleteAsync();
            }
            catch (Exception) when (reading.IsCompleted) { } // the stream ended early: the reader says why
            var read = await reading;
            Assert.Equal(FramesPerSession, read);
            return read;
        }));
        return counts.Sum();
    });

    [Fact]
    public Task Call_RandomAndMutatedFrames() => Run("SmcGateway.Call", async () =>
    {
        var counts = await Task.WhenAll(Enumerable.Range(0, CallWorkers).Select(async worker =>
        {
            var input = new FuzzInput(Seed + 100 + worker, await NewSystemAsync());
            var gateway = new SmcGateway.SmcGatewayClient(host.Factory.Channel);
            for (var i = 0UL; i < CallsPerWorker; i++)
            {
                var frame = i % 2 == 0 ? input.RandomFrame(i) : input.MutatedFrame(i);
                try { Saw((await gateway.CallAsync(frame, Options)).Rejection?.Code ?? "OK", frame); }
                catch (RpcException e) { Saw(e.StatusCode.ToString(), frame); }
            }
            return (long)CallsPerWorker;
        }));
        return counts.Sum();
    });

    [Fact]
    public Task Memory_RandomReadsAndWrites() => Run("Memory.Read/Write", async () =>
    {
        var counts = await Task.WhenAll(Enumerable.Range(0, MemoryWorkers).Select(async worker =>
        {
            var input = new FuzzInput(Seed + 200 + worker, await NewSystemAsync());
            var memory = new V1.Memory.MemoryClient(host.Factory.Channel);
            for (var i = 0; i < MemoryOpsPerWorker; i++)
            {
                try
                {
                    if (i % 2 == 0)
                    {
                        var read = input.Read();
                        var data = await memory.ReadAsync(read, Options);
                        Assert.Equal((int)read.Length, data.Data.Length);
                    }
                    else await memory.WriteAsync(input.Write(), Options);
                    Saw("OK", i);
                }
                catch (RpcException e) { Saw(e.StatusCode.ToString(), $"memory op {i} of worker {worker}"); }
            }
            return (long)MemoryOpsPerWorker;
        }));
        return counts.Sum();
    });

    /// <summary>
    /// Watches in batches on a fresh system each: every watch is opened until its headers, then the system is deleted, so
    /// a live watch ends OK and a refused one with its status (no clock decides which).
    /// </summary>
    [Fact]
    public Task Watch_RandomRequests() => Run("Systems.Watch", async () =>
    {
        const int Batch = 8;
        var input = new FuzzInput(Seed + 300, "");
        var systems = new Systems.SystemsClient(host.Factory.Channel);
        for (var i = 0; i < Watches; i += Batch)
        {
            input.System = await NewSystemAsync();
            var calls = Enumerable.Range(0, Batch).Select(_ => input.Watch()).Select(r => (Request: r, Call: systems.Watch(r, Options))).ToList();
            foreach (var (_, call) in calls)
                try { await call.ResponseHeadersAsync; }
                catch (RpcException) { } // read below
            await systems.DeleteAsync(new DeleteSystemRequest { Id = input.System });
            foreach (var (request, call) in calls)
            {
                try
                {
                    while (await call.ResponseStream.MoveNext(CancellationToken.None)) { }
                    Saw("OK", request);
                }
                catch (RpcException e) { Saw(e.StatusCode.ToString(), request); }
                call.Dispose();
            }
        }
        return Watches;
    });

    /// <summary>Attach streams with random hellos and messages; each is completed by the client and read to its end.</summary>
    [Fact]
    public Task Attach_RandomStreams() => Run("PartitionHost.Attach", async () =>
    {
        var counts = await Task.WhenAll(Enumerable.Range(0, AttachWorkers).Select(async worker =>
        {
            var input = new FuzzInput(Seed + 400 + worker, await NewSystemAsync(RemoteManifest));
            var messages = 0L;
            GrpcChannel? channel = null;
            PartitionHost.PartitionHostClient partitions = null!;
            for (var s = 0; s < AttachStreamsPerWorker; s++)
            {
                // A stream refused before its client finished sending is reset by the server and remembered for a
                // while; past 2 × MaxStreamsPerConnection of them Kestrel answers ENHANCE_YOUR_CALM (its HTTP/2 abuse
                // guard). A fresh connection every 50 streams keeps the fuzzer under that guard.
                if (s % 50 == 0)
                {
                    channel?.Dispose();
                    channel = GrpcChannel.ForAddress($"http://127.0.0.1:{host.Factory.GrpcPort}");
                    partitions = new PartitionHost.PartitionHostClient(channel);
                }
                using var call = partitions.Attach(Options);
                var sent = new List<PartitionMessage> { input.Hello(input.Chance(70) ? 0x8001u : 0x8002u) };
                for (var m = input.Next(20); m > 0; m--) sent.Add(input.Answer((ulong)m));
                try
                {
                    foreach (var message in sent) await call.RequestStream.WriteAsync(message);
                    await call.RequestStream.CompleteAsync();
                }
                catch (RpcException) { } // refused early: the status below says why
                catch (InvalidOperationException) { }
                try
                {
                    while (await call.ResponseStream.MoveNext(CancellationToken.None))
                        if (call.ResponseStream.Current.Answer?.Rejection is { } rejection) Saw(rejection.Code, sent[0]);
                    Saw("OK", sent[0]);
                }
                catch (RpcException e) { Saw(e.StatusCode.ToString(), $"stream {s} of worker {worker} opened with {sent[0]}"); }
                messages += sent.Count;
            }
            channel?.Dispose();
            return messages;
        }));
        return counts.Sum();
    });
}
