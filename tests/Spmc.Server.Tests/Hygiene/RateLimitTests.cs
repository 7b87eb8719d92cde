using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Grpc.Core;
using Grpc.Health.V1;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Spmc.Server.Hosting;

namespace Spmc.Server.Tests.Hygiene;

/// <summary>
/// Per-client request rate limiting on real sockets: a client beyond its bucket gets 429 + Retry-After (REST) or
/// RESOURCE_EXHAUSTED (gRPC, through a real GrpcChannel), other clients and health checks are served.
/// A bucket of 3 refilled at 1/s: 20 requests in a row cannot all pass unless they take 17 s.
/// </summary>
public sealed class RateLimitTests
{
    private static KestrelFactory Limited(int permits = 1, int burst = 3) => KestrelFactory.With(new()
    {
        ["Spmc:RateLimit:PermitsPerSecond"] = permits.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Spmc:RateLimit:Burst"] = burst.ToString(System.Globalization.CultureInfo.InvariantCulture),
    });

    /// <summary>An HTTP client whose connections leave from <paramref name="source"/> (another loopback address: another client).</summary>
    private static HttpClient Client(KestrelFactory host, string source = "127.0.0.1") => new(new SocketsHttpHandler
    {
        ConnectCallback = async (context, cancel) =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(IPAddress.Parse(source), 0));
            await socket.ConnectAsync(context.DnsEndPoint, cancel);
            return new NetworkStream(socket, ownsSocket: true);
        },
    })
    { BaseAddress = new Uri($"http://127.0.0.1:{host.RestPort}") };

    private static async Task<List<HttpResponseMessage>> Burst(HttpClient client, int n = 20)
    {
        var responses = new List<HttpResponseMessage>();
        for (var i = 0; i < n; i++) responses.Add(await client.GetAsync("/api/v1/systems"));
        return responses;
    }

    [Fact]
    public async Task Rest_BeyondTheBucket_Is429WithRetryAfter_NamingTheLimit()
    {
        using var host = Limited();
        using var client = Client(host);
        var responses = await Burst(client);
        Assert.Equal(HttpStatusCode.OK, responses[0].StatusCode);
        var refused = responses.First(r => r.StatusCode == HttpStatusCode.TooManyRequests);
        Assert.True(refused.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        var problem = await refused.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(429, problem.GetProperty("status").GetInt32());
        Assert.Contains("Spmc:RateLimit (1 requests/s, burst 3)", problem.GetProperty("detail").GetString());
        Assert.Contains("127.0.0.1", problem.GetProperty("detail").GetString());
        Assert.All(responses, r => Assert.Contains(r.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.TooManyRequests }));
    }

    [Fact]
    public async Task Rest_OneClientRefused_AnotherClientAndHealthAreServed()
    {
        using var host = Limited();
        using var first = Client(host);
        Assert.Contains((await Burst(first)), r => r.StatusCode == HttpStatusCode.TooManyRequests);
        using var second = Client(host, "127.0.0.2");
        Assert.Equal(HttpStatusCode.OK, (await second.GetAsync("/api/v1/systems")).StatusCode);
        for (var i = 0; i < 20; i++) Assert.Equal(HttpStatusCode.OK, (await first.GetAsync("/healthz")).StatusCode);
    }

    [Fact]
    public async Task Grpc_BeyondTheBucket_IsResourceExhausted_AndHealthIsServed()
    {
        using var host = Limited();
        var systems = new V1.Systems.SystemsClient(host.Channel);
        RpcException? refused = null;
        for (var i = 0; i < 20 && refused is null; i++)
        {
            try { await systems.ListAsync(new V1.ListSystemsRequest()); }
            catch (RpcException e) { refused = e; }
        }
        Assert.NotNull(refused);
        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.Contains("Spmc:RateLimit", refused.Status.Detail);
        var health = new Health.HealthClient(host.Channel);
        for (var i = 0; i < 20; i++)
            Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest())).Status);
    }

    [Fact]
    public async Task Session_EachFramePaysAPermit_ARefusedFrameIsRejected_AndTheSessionGoesOn()
    {
        using var host = Limited(permits: 1, burst: 3);
        var gateway = new V1.SmcGateway.SmcGatewayClient(host.Channel);
        using var session = gateway.Session();
        var version = new V1.SmcRequest { SystemId = "default", Caller = 0, X = { 0x8400_0063, 0x1_0002 } };
        var answers = new List<V1.SmcResponse>();
        for (var i = 0; i < 10; i++)
        {
            await session.RequestStream.WriteAsync(version);
            Assert.True(await session.ResponseStream.MoveNext(CancellationToken.None));
            answers.Add(session.ResponseStream.Current);
        }
        await session.RequestStream.CompleteAsync();
        // The stream took one permit, so at most two frames run before the bucket is empty (plus one a second after).
        var refused = answers.Where(a => a.Rejection is not null).ToList();
        Assert.NotEmpty(refused);
        Assert.All(refused, r => Assert.Equal("ResourceExhausted", r.Rejection.Code));
        Assert.Contains("Spmc:RateLimit", refused[0].Rejection.Message);
        Assert.Null(answers[0].Rejection);
    }

    [Fact]
    public async Task Uploads_BeyondTheConcurrentBoundAndQueue_AreRefused_NamingTheSetting()
    {
        using var host = KestrelFactory.With(new()
        {
            ["Spmc:RateLimit:MaxConcurrentUploads"] = "1",
            ["Spmc:RateLimit:UploadQueue"] = "0",
        });
        var systems = new V1.Systems.SystemsClient(host.Channel);
        // A create whose body arrives in two halves holds the one place until its second half is sent (a raw socket,
        // so nothing between the test and the server holds the first half back). A probe can take the place before the
        // held create reaches the limiter; then the create is the one refused, and the test holds again.
        var body = System.Text.Encoding.UTF8.GetBytes($$"""{"id":"held","manifest":{{SpmcFactory.PassthroughManifest}}}""");
        using var client = Client(host);
        TcpClient? holder = null;
        NetworkStream? wire = null;
        HttpResponseMessage? refused = null;
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (refused is null && waited.Elapsed < TimeSpan.FromSeconds(20))
        {
            if (holder is null || holder.Available > 0)   // not yet held, or the held create was answered (refused)
            {
                holder?.Dispose();
                holder = new TcpClient();
                await holder.ConnectAsync(IPAddress.Loopback, host.RestPort);
                wire = holder.GetStream();
                await wire.WriteAsync(System.Text.Encoding.ASCII.GetBytes(
                    $"POST /api/v1/systems HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\n\r\n"));
                await wire.WriteAsync(body.AsMemory(0, 10));
                await Task.Delay(50);
            }
            // A replay is an upload too, and a bad one changes nothing when it is let in (400).
            var response = await client.PostAsync("/api/v1/replay", new StringContent("not a trace", System.Text.Encoding.UTF8, "application/x-ndjson"));
            if (response.StatusCode == HttpStatusCode.TooManyRequests) refused = response;
            else await Task.Delay(25);
        }
        Assert.True(refused is not null, "no upload was refused while the held one was open");
        Assert.Contains("MaxConcurrentUploads (1 at once, 0 waiting)", (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
        var e = await Assert.ThrowsAsync<RpcException>(() => systems.CreateAsync(new V1.CreateSystemRequest { ManifestJson = SpmcFactory.PassthroughManifest }).ResponseAsync);
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);

        await wire!.WriteAsync(body.AsMemory(10));
        var answer = new byte[64];
        var read = await wire.ReadAsync(answer).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        holder!.Dispose();
        Assert.StartsWith("HTTP/1.1 201", System.Text.Encoding.ASCII.GetString(answer, 0, read));
        var manifest = new { manifest = System.Text.Json.JsonDocument.Parse(SpmcFactory.PassthroughManifest).RootElement };
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("/api/v1/systems", manifest)).StatusCode);
    }

    [Fact]
    public async Task Zero_TurnsTheLimitOff()
    {
        using var host = Limited(permits: 0, burst: 0);
        using var client = Client(host);
        Assert.All(await Burst(client, 200), r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
    }

    [Fact]
    public void Defaults_AreTheDocumentedOnes_AndTheKeyIsTheClientIdentity()
    {
        using var host = new KestrelFactory();
        var limit = host.Services.GetRequiredService<IOptions<SpmcOptions>>().Value.RateLimit;
        Assert.Equal((10_000, 20_000, 2, 256), (limit.PermitsPerSecond, limit.Burst, limit.MaxConcurrentUploads, limit.UploadQueue));
        var context = new DefaultHttpContext();
        Assert.Equal("ip:local", RateLimitPartition.Key(context));
        context.Connection.RemoteIpAddress = IPAddress.Parse("10.1.2.3");
        Assert.Equal("ip:10.1.2.3", RateLimitPartition.Key(context));
        // A client token or the operator is one client wherever it calls from (as for systems per client).
        context.User = new System.Security.Claims.ClaimsPrincipal(new System.Security.Claims.ClaimsIdentity(
            [new System.Security.Claims.Claim(Spmc.Server.Security.SpmcClaims.Role, Spmc.Server.Security.SpmcClaims.Operator)], "test"));
        Assert.Equal(Spmc.Server.Security.ClientIdentity.Of(context), RateLimitPartition.Key(context));
        Assert.Equal("operator", RateLimitPartition.Key(context));
    }

    [Fact]
    public void NegativeRate_StopsStartUp_NamingTheKey()
    {
        var e = Assert.ThrowsAny<Exception>(() =>
        {
            using var host = Limited(permits: -1);
            host.Services.GetRequiredService<IOptions<SpmcOptions>>().Value.ToString();
        });
        Assert.Contains("Spmc:RateLimit:PermitsPerSecond", e.ToString());
    }
}
