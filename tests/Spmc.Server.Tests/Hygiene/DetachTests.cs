using Grpc.Core;
using Spmc.V1;

namespace Spmc.Server.Tests.Hygiene;

/// <summary>A stream bound to a system is ended by the server, with a status naming why, when the system goes or is reset.</summary>
public sealed class DetachTests(KestrelFactory factory) : IClassFixture<KestrelFactory>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private const ulong MsgWait = 0x8400006B, Error32 = 0x84000060;

    private const string RemoteManifest = SnapshotApiTests.RemoteManifest;

    private Systems.SystemsClient Systems => new(factory.Channel);

    private async Task<string> NewSystemAsync(string manifest) =>
        (await Systems.CreateAsync(new CreateSystemRequest { ManifestJson = manifest })).Id;

    private async Task<AsyncDuplexStreamingCall<PartitionMessage, PartitionDelivery>> AttachAsync(string system)
    {
        var call = new PartitionHost.PartitionHostClient(factory.Channel).Attach();
        await call.RequestStream.WriteAsync(new PartitionMessage { Attach = new AttachRequest { SystemId = system, PartitionId = 0x8001 } });
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Patience));
        Assert.Equal(0x8001u, call.ResponseStream.Current.Attached.PartitionId);
        return call;
    }

    /// <summary>Reads deliveries until the stream ends; returns them and the status it ended with.</summary>
    private static async Task<(List<PartitionDelivery> Seen, RpcException Ended)> DrainAsync(IAsyncStreamReader<PartitionDelivery> stream)
    {
        var seen = new List<PartitionDelivery>();
        var e = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await stream.MoveNext(CancellationToken.None).WaitAsync(Patience)) seen.Add(stream.Current);
        });
        return (seen, e);
    }

    [Fact]
    public async Task Attach_SystemDeleted_EndsTheStreamWithNotFound()
    {
        var system = await NewSystemAsync(RemoteManifest);
        using var call = await AttachAsync(system);
        await Systems.DeleteAsync(new DeleteSystemRequest { Id = system });
        var (_, ended) = await DrainAsync(call.ResponseStream);
        Assert.Equal(StatusCode.NotFound, ended.StatusCode);
        Assert.Equal($"system '{system}' was deleted", ended.Status.Detail);
    }

    [Fact]
    public async Task Attach_SystemDeleted_WhileTheClientWaits_AnswersTheWaitThenEnds()
    {
        var system = await NewSystemAsync(RemoteManifest);
        using var call = await AttachAsync(system);
        var wait = new SmcRequest { Tag = 7 };
        wait.X.Add(MsgWait);
        await call.RequestStream.WriteAsync(new PartitionMessage { Frame = wait });
        await WhenParkedAsync(system);
        await Systems.DeleteAsync(new DeleteSystemRequest { Id = system });
        var (seen, ended) = await DrainAsync(call.ResponseStream);
        var answer = Assert.Single(seen, d => d.Answer is not null).Answer;
        Assert.Equal(7UL, answer.Tag);
        Assert.Equal(Error32, answer.X[0]); // the parked FFA_MSG_WAIT ends in FFA_ERROR (ABORTED)
        Assert.Equal(StatusCode.NotFound, ended.StatusCode);
    }

    [Fact]
    public async Task Attach_SystemReset_EndsTheStreamWithAborted_AndTheClientCanAttachAgain()
    {
        var system = await NewSystemAsync(RemoteManifest);
        using (var call = await AttachAsync(system))
        {
            await Systems.ResetAsync(new ResetSystemRequest { Id = system });
            var (_, ended) = await DrainAsync(call.ResponseStream);
            Assert.Equal(StatusCode.Aborted, ended.StatusCode);
            Assert.Contains($"system '{system}' was reset", ended.Status.Detail);
        }
        using var again = await AttachAsync(system);
        await again.RequestStream.CompleteAsync();
        Assert.False(await again.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Patience));
        Assert.Equal(StatusCode.OK, again.GetStatus().StatusCode);
    }

    [Fact]
    public async Task Watch_SystemDeleted_EndsTheStream()
    {
        var system = await NewSystemAsync(SpmcFactory.PassthroughManifest);
        using var watch = Systems.Watch(new WatchRequest { SystemId = system });
        await watch.ResponseHeadersAsync.WaitAsync(Patience); // subscribed
        await Systems.DeleteAsync(new DeleteSystemRequest { Id = system });
        Assert.False(await watch.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Patience));
        Assert.Equal(StatusCode.OK, watch.GetStatus().StatusCode);
    }

    /// <summary>Frames on the Attach stream are handled asynchronously: wait until the partition's MSG_WAIT took effect.</summary>
    private async Task WhenParkedAsync(string system)
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{factory.RestPort}") };
        for (var i = 0; i < 400; i++)
        {
            var state = await System.Net.Http.Json.HttpClientJsonExtensions.GetFromJsonAsync<System.Text.Json.JsonElement>(http, $"/api/v1/systems/{system}/state");
            if (state.GetProperty("runtime")[0].GetProperty("contexts")[0].GetProperty("state").GetString() == "waiting") return;
            await Task.Delay(25);
        }
        Assert.Fail("the attached partition never reached FFA_MSG_WAIT");
    }
}
