using Grpc.Core;
using Spmc.V1;

namespace Spmc.Server.Tests.Hygiene;

/// <summary>
/// Every streaming RPC refuses bad input with the code the unary calls use (InvalidArgument, NotFound), never UNKNOWN,
/// whether the refusal comes before the first message or after it.
/// </summary>
public sealed class StreamingErrorTests(KestrelFactory factory) : IClassFixture<KestrelFactory>
{
    private async Task<string> NewSystemAsync() =>
        (await new Systems.SystemsClient(factory.Channel).CreateAsync(new CreateSystemRequest { ManifestJson = SpmcFactory.PassthroughManifest })).Id;

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private static async Task<RpcException> RefusedAsync<T>(IAsyncStreamReader<T> stream)
    {
        var e = await Assert.ThrowsAsync<RpcException>(async () => { while (await stream.MoveNext(CancellationToken.None).WaitAsync(Patience)) { } });
        Assert.NotEqual(StatusCode.Unknown, e.StatusCode);
        return e;
    }

    [Theory]
    [InlineData("", null, StatusCode.InvalidArgument, "system_id")]
    [InlineData("no-such-system", null, StatusCode.NotFound, "no-such-system")]
    [InlineData("*", 0x1_0000u, StatusCode.InvalidArgument, "endpoint")]
    [InlineData("*", 0x7777u, StatusCode.InvalidArgument, "endpoint")]
    public async Task Watch_BadInput_IsRefusedWithItsCode(string system, uint? endpoint, StatusCode code, string named)
    {
        if (system == "*") system = await NewSystemAsync();
        var request = new WatchRequest { SystemId = system };
        if (endpoint is { } id) request.Endpoint = id;
        using var call = new Systems.SystemsClient(factory.Channel).Watch(request);
        var e = await RefusedAsync(call.ResponseStream);
        Assert.Equal(code, e.StatusCode);
        Assert.Contains(named, e.Status.Detail);
    }

    [Theory]
    [InlineData("", StatusCode.InvalidArgument, "system_id")]
    [InlineData("no-such-system", StatusCode.NotFound, "no-such-system")]
    public async Task Trace_BadSystem_IsRefusedWithItsCode(string system, StatusCode code, string named)
    {
        foreach (var follow in new[] { false, true })
        {
            using var call = new Systems.SystemsClient(factory.Channel).Trace(new TraceRequest { SystemId = system, Follow = follow });
            var e = await RefusedAsync(call.ResponseStream);
            Assert.Equal(code, e.StatusCode);
            Assert.Contains(named, e.Status.Detail);
        }
    }

    [Fact]
    public async Task Trace_NegativeAfter_IsInvalidArgument()
    {
        var system = await NewSystemAsync();
        using var call = new Systems.SystemsClient(factory.Channel).Trace(new TraceRequest { SystemId = system, After = -1 });
        var e = await RefusedAsync(call.ResponseStream);
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains("after", e.Status.Detail);
    }

    [Fact]
    public async Task SnapshotStream_UnknownSystem_IsNotFound()
    {
        using var call = new Systems.SystemsClient(factory.Channel).SnapshotStream(new SnapshotRequest { Id = "no-such-system" });
        var e = await RefusedAsync(call.ResponseStream);
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
    }

    [Theory]
    [InlineData("", 0x8001u, StatusCode.InvalidArgument, "system_id")]
    [InlineData("no-such-system", 0x8001u, StatusCode.NotFound, "no-such-system")]
    [InlineData("*", 0x1_0000u, StatusCode.InvalidArgument, "partition_id")]
    public async Task Attach_BadFirstMessage_IsRefusedWithItsCode(string system, uint partition, StatusCode code, string named)
    {
        if (system == "*") system = await NewSystemAsync();
        using var call = new PartitionHost.PartitionHostClient(factory.Channel).Attach();
        await call.RequestStream.WriteAsync(new PartitionMessage { Attach = new AttachRequest { SystemId = system, PartitionId = partition } });
        var e = await RefusedAsync(call.ResponseStream);
        Assert.Equal(code, e.StatusCode);
        Assert.Contains(named, e.Status.Detail);
    }

    [Fact]
    public async Task Attach_FrameBeforeAttach_IsInvalidArgument()
    {
        using var call = new PartitionHost.PartitionHostClient(factory.Channel).Attach();
        await call.RequestStream.WriteAsync(new PartitionMessage { Frame = new SmcRequest() });
        var e = await RefusedAsync(call.ResponseStream);
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains("attach", e.Status.Detail);
    }

    [Fact]
    public async Task Session_UnknownSystem_IsARejectionAndTheStreamGoesOn()
    {
        var system = await NewSystemAsync();
        using var call = new SmcGateway.SmcGatewayClient(factory.Channel).Session();
        await call.RequestStream.WriteAsync(new SmcRequest { SystemId = "no-such-system", Tag = 1 });
        var version = new SmcRequest { SystemId = system, Tag = 2 };
        version.X.Add(0x84000063); // FFA_VERSION
        version.X.Add(0x10002);
        await call.RequestStream.WriteAsync(version);
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext().WaitAsync(Patience));
        Assert.Equal("NotFound", call.ResponseStream.Current.Rejection.Code);
        Assert.True(await call.ResponseStream.MoveNext().WaitAsync(Patience));
        Assert.Equal(2UL, call.ResponseStream.Current.Tag);
        Assert.Null(call.ResponseStream.Current.Rejection);
        Assert.False(await call.ResponseStream.MoveNext().WaitAsync(Patience));
    }
}
