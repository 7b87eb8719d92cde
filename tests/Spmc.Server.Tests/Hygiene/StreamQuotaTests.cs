using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Spmc.Core.Systems;
using Spmc.V1;

namespace Spmc.Server.Tests.Hygiene;

/// <summary>
/// Streams and attachments per system over real sockets: beyond the quota a stream is refused RESOURCE_EXHAUSTED
/// naming it, and a slot comes back when its stream ends.
/// </summary>
public sealed class StreamQuotaTests : IClassFixture<StreamQuotaTests.Host>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    /// <summary>Two streams and one attachment per system.</summary>
    public sealed class Host : IDisposable
    {
        public KestrelFactory Factory { get; } = KestrelFactory.With(new()
        {
            ["Spmc:Quotas:MaxStreamsPerSystem"] = "2",
            ["Spmc:Quotas:MaxAttachmentsPerSystem"] = "1",
        });

        public void Dispose() => Factory.Dispose();
    }

    private const string TwoRemotes = """
        { "spmc": { "version": "1.2", "remoteTimeoutMs": 10000 }, "proxy": "passthrough",
          "vms": [ { "id": 0, "name": "host", "vcpus": 1, "memory": [ { "base": "0x80000000", "size": "0x1000000" } ] } ],
          "partitions": [
            { "id": "0x8001", "name": "a", "behaviour": "remote", "uuids": [ "7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4a01" ], "properties": { "directRequestReceive": true } },
            { "id": "0x8002", "name": "b", "behaviour": "remote", "uuids": [ "7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4a02" ], "properties": { "directRequestReceive": true } } ] }
        """;

    private readonly KestrelFactory _factory;
    private Systems.SystemsClient Systems => new(_factory.Channel);

    public StreamQuotaTests(Host host) => _factory = host.Factory;

    private async Task<string> NewSystemAsync(string? manifest = null) =>
        (await Systems.CreateAsync(new CreateSystemRequest { ManifestJson = manifest ?? SpmcFactory.PassthroughManifest })).Id;

    private async Task<AsyncServerStreamingCall<V1.SystemEvent>> WatchAsync(string system)
    {
        var watch = Systems.Watch(new WatchRequest { SystemId = system });
        await watch.ResponseHeadersAsync.WaitAsync(Patience);
        return watch;
    }

    private static async Task<RpcException> RefusedAsync<T>(IAsyncStreamReader<T> stream)
    {
        var e = await Assert.ThrowsAsync<RpcException>(async () => { while (await stream.MoveNext(CancellationToken.None).WaitAsync(Patience)) { } });
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        return e;
    }

    /// <summary>Waits until the server counts <paramref name="open"/> streams on the system (a cancelled stream ends on the server a moment later).</summary>
    private async Task WhenOpenStreamsAsync(string system, int open)
    {
        var live = _factory.Services.GetRequiredService<SystemRegistry>().Get(system);
        for (var i = 0; live.OpenStreams != open; i++)
        {
            Assert.True(i < 800, $"the server counts {live.OpenStreams} open streams, not {open}");
            await Task.Delay(25);
        }
    }

    [Fact]
    public async Task SnapshotDownload_TakesAStreamSlot()
    {
        var system = await NewSystemAsync();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_factory.RestPort}") };
        Assert.Equal(System.Net.HttpStatusCode.OK, (await http.GetAsync($"/api/v1/systems/{system}/snapshot")).StatusCode);
        using var first = await WatchAsync(system);
        using var second = await WatchAsync(system);
        await WhenOpenStreamsAsync(system, 2);
        var refused = await http.GetAsync($"/api/v1/systems/{system}/snapshot");
        Assert.Equal(System.Net.HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Contains("MaxStreamsPerSystem (2)", await refused.Content.ReadAsStringAsync());
        Assert.Equal(2, _factory.Services.GetRequiredService<SystemRegistry>().Get(system).OpenStreams);
    }

    [Fact]
    public async Task Watch_BeyondTheQuota_IsRefused_AndAnEndedWatchGivesItsSlotBack()
    {
        var system = await NewSystemAsync();
        var first = await WatchAsync(system);
        using var second = await WatchAsync(system);
        using (var third = Systems.Watch(new WatchRequest { SystemId = system }))
        {
            var e = await RefusedAsync(third.ResponseStream);
            Assert.Contains("MaxStreamsPerSystem (2)", e.Status.Detail);
            Assert.Contains("Watch", e.Status.Detail);
        }
        first.Dispose(); // cancels the stream: its slot comes back
        await WhenOpenStreamsAsync(system, 1);
        using var again = await WatchAsync(system);
        await WhenOpenStreamsAsync(system, 2); // counted, so not refused
    }

    [Fact]
    public async Task TraceFollow_SnapshotStream_AndSession_TakeSlotsToo()
    {
        var system = await NewSystemAsync();
        using var follow = Systems.Trace(new TraceRequest { SystemId = system, Follow = true });
        Assert.True(await follow.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Patience)); // the header: live
        using var watch = await WatchAsync(system);

        using (var snapshot = Systems.SnapshotStream(new SnapshotRequest { Id = system }))
            Assert.Contains("SnapshotStream", (await RefusedAsync(snapshot.ResponseStream)).Status.Detail);

        using var session = new SmcGateway.SmcGatewayClient(_factory.Channel).Session();
        var version = new SmcRequest { SystemId = system, Tag = 1 };
        version.X.Add(0x84000063); // FFA_VERSION
        version.X.Add(0x10002);
        await session.RequestStream.WriteAsync(version);
        Assert.True(await session.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Patience));
        Assert.Equal("ResourceExhausted", session.ResponseStream.Current.Rejection.Code);
        Assert.Contains("MaxStreamsPerSystem", session.ResponseStream.Current.Rejection.Message);
        // A session on another system is served, and unary calls never take a slot.
        var other = await NewSystemAsync();
        version.SystemId = other;
        await session.RequestStream.WriteAsync(version);
        Assert.True(await session.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Patience));
        Assert.Null(session.ResponseStream.Current.Rejection);
        await session.RequestStream.CompleteAsync();
        Assert.False(await session.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Patience));
        version.SystemId = system;
        Assert.Null((await new SmcGateway.SmcGatewayClient(_factory.Channel).CallAsync(version)).Rejection);
    }

    [Fact]
    public async Task RestTraceFollow_BeyondTheQuota_Is429NamingIt()
    {
        var system = await NewSystemAsync();
        using var first = await WatchAsync(system);
        using var second = await WatchAsync(system);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_factory.RestPort}") };
        using var response = await http.GetAsync($"/api/v1/systems/{system}/trace?follow=true", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(System.Net.HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Contains("MaxStreamsPerSystem (2)", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Session_GivesItsSlotBackWhenItEnds()
    {
        var system = await NewSystemAsync();
        using var watch = await WatchAsync(system);
        for (var round = 0; round < 3; round++) // three sessions in turn: each ends before the next
        {
            using var session = new SmcGateway.SmcGatewayClient(_factory.Channel).Session();
            var version = new SmcRequest { SystemId = system, Tag = 1 };
            version.X.Add(0x84000063);
            version.X.Add(0x10002);
            await session.RequestStream.WriteAsync(version);
            await session.RequestStream.CompleteAsync();
            Assert.True(await session.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Patience));
            Assert.Null(session.ResponseStream.Current.Rejection);
            Assert.False(await session.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Patience));
        }
    }

    [Fact]
    public async Task Attach_BeyondTheQuota_IsRefused_AndAClosedAttachmentGivesItsSlotBack()
    {
        var system = await NewSystemAsync(TwoRemotes);
        var host = new PartitionHost.PartitionHostClient(_factory.Channel);
        async Task<AsyncDuplexStreamingCall<PartitionMessage, PartitionDelivery>> Attach(uint partition)
        {
            var call = host.Attach();
            await call.RequestStream.WriteAsync(new PartitionMessage { Attach = new AttachRequest { SystemId = system, PartitionId = partition } });
            return call;
        }
        using (var first = await Attach(0x8001))
        {
            Assert.True(await first.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Patience));
            Assert.NotNull(first.ResponseStream.Current.Attached);
            using var second = await Attach(0x8002);
            var e = await RefusedAsync(second.ResponseStream);
            Assert.Contains("MaxAttachmentsPerSystem (1)", e.Status.Detail);
            await first.RequestStream.CompleteAsync();
            Assert.False(await first.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Patience));
        }
        using var third = await Attach(0x8002); // the stream ended before its status: the slot is back
        Assert.True(await third.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Patience));
        Assert.Equal(0x8002u, third.ResponseStream.Current.Attached.PartitionId);
        await third.RequestStream.CompleteAsync();
    }
}
