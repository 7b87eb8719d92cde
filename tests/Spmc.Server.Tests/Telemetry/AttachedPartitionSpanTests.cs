using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Grpc.Core;
using Grpc.Net.Client;
using Spmc.V1;

namespace Spmc.Server.Tests.Telemetry;

/// <summary>A hop that lends the caller's cycles to an attached partition: its span ends with the partition's answer.</summary>
public sealed class AttachedPartitionSpanTests : IDisposable
{
    private const ushort Sp = 0x8001;
    private const ulong Req64 = 0xC400006F, Resp64 = 0xC4000070, MsgWait = 0x8400006B;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private const string RemoteManifest = """
        { "spmc": { "version": "1.2", "remoteTimeoutMs": 10000 }, "proxy": "passthrough",
          "vms": [ { "id": 0, "name": "host", "vcpus": 1, "memory": [ { "base": "0x80000000", "size": "0x1000000" } ] } ],
          "partitions": [
            { "id": "0x8001", "name": "mine", "behaviour": "remote", "uuids": [ "7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4aff" ],
              "properties": { "directRequestReceive": true },
              "memory": [ { "base": "0x60000000", "size": "0x100000" } ] } ] }
        """;

    private readonly TelemetryFactory _factory = new();
    private readonly GrpcChannel _channel;

    public AttachedPartitionSpanTests() =>
        _channel = GrpcChannel.ForAddress(_factory.Server.BaseAddress, new GrpcChannelOptions { HttpHandler = _factory.Server.CreateHandler() });

    public void Dispose()
    {
        _channel.Dispose();
        _factory.Dispose();
    }

    [Fact]
    public async Task PendingHop_EndsWithThePartitionsAnswer_AndThePartitionsCallsAreMarkedAttached()
    {
        var system = await _factory.NewSystemAsync(RemoteManifest);
        using var attach = new PartitionHost.PartitionHostClient(_channel).Attach();
        await attach.RequestStream.WriteAsync(new PartitionMessage { Attach = new AttachRequest { SystemId = system, PartitionId = Sp } });
        Assert.True(await attach.ResponseStream.MoveNext());

        await attach.RequestStream.WriteAsync(new PartitionMessage { Frame = new SmcRequest { Tag = 1, X = { MsgWait } } });
        await WhenWaitingAsync(system);
        var host = new SmcGateway.SmcGatewayClient(_channel).CallAsync(new SmcRequest { SystemId = system, Caller = 0, X = { Req64, Sp, 0, 41, 42 } });
        await NextAnswerAsync(attach); // the MSG_WAIT returns with the request
        await attach.RequestStream.WriteAsync(new PartitionMessage { Frame = new SmcRequest { Tag = 2, X = { Resp64, (ulong)Sp << 16, 0, 83 } } });
        var response = await host.ResponseAsync.WaitAsync(Patience);
        Assert.Equal(Resp64, response.X[0]);

        var smc = await SpanAsync(a => a.DisplayName == "smc FFA_MSG_SEND_DIRECT_REQ_64" && Equals(a.GetTagItem("spmc.system"), system));
        var hop = await SpanAsync(a => a.ParentSpanId == smc.SpanId);
        Assert.Equal("hop FFA_MSG_SEND_DIRECT_REQ_64", hop.DisplayName);
        Assert.Equal(true, hop.GetTagItem("spmc.pending"));
        Assert.Equal("FFA_MSG_SEND_DIRECT_RESP_64", hop.GetTagItem("spmc.result")); // the real answer, not the pending zeros
        Assert.Equal("FFA_MSG_SEND_DIRECT_RESP_64", smc.GetTagItem("spmc.result"));
        Assert.True(hop.StartTimeUtc + hop.Duration <= smc.StartTimeUtc + smc.Duration);

        var wait = await SpanAsync(a => a.DisplayName == "smc FFA_MSG_WAIT_32" && Equals(a.GetTagItem("spmc.system"), system));
        Assert.Equal(true, wait.GetTagItem("spmc.from_attached_partition"));
        Assert.Equal("0x8001", wait.GetTagItem("spmc.caller"));
        await attach.RequestStream.CompleteAsync();
    }

    [Fact]
    public async Task PendingHop_EndsWhenTheSystemIsDeletedBeforeThePartitionAnswers()
    {
        var system = await _factory.NewSystemAsync(RemoteManifest);
        using var attach = new PartitionHost.PartitionHostClient(_channel).Attach();
        await attach.RequestStream.WriteAsync(new PartitionMessage { Attach = new AttachRequest { SystemId = system, PartitionId = Sp } });
        Assert.True(await attach.ResponseStream.MoveNext());
        await attach.RequestStream.WriteAsync(new PartitionMessage { Frame = new SmcRequest { Tag = 1, X = { MsgWait } } });
        await WhenWaitingAsync(system);
        var host = new SmcGateway.SmcGatewayClient(_channel).CallAsync(new SmcRequest { SystemId = system, Caller = 0, X = { Req64, Sp, 0, 41, 42 } });
        await NextAnswerAsync(attach); // the partition has the request and never answers it

        using (var http = _factory.CreateClient())
            (await http.DeleteAsync($"/api/v1/systems/{system}")).EnsureSuccessStatusCode();
        await host.ResponseAsync.WaitAsync(Patience); // answered well before the 10 s remote timeout

        var smc = await SpanAsync(a => a.DisplayName == "smc FFA_MSG_SEND_DIRECT_REQ_64" && Equals(a.GetTagItem("spmc.system"), system));
        var hop = await SpanAsync(a => a.ParentSpanId == smc.SpanId);
        Assert.Equal(true, hop.GetTagItem("spmc.pending"));
        Assert.True(hop.Duration > TimeSpan.Zero);
        Assert.True(hop.StartTimeUtc + hop.Duration <= smc.StartTimeUtc + smc.Duration);
    }

    private async Task<Activity> SpanAsync(Func<Activity, bool> match)
    {
        for (var i = 0; i < 200; i++)
        {
            lock (_factory.Spans)
                if (_factory.Spans.FirstOrDefault(match) is { } found) return found;
            await Task.Delay(25);
        }
        lock (_factory.Spans)
            throw new Xunit.Sdk.XunitException($"no such span was exported; spans: {string.Join(", ", _factory.Spans.Select(a => a.DisplayName))}");
    }

    private static async Task NextAnswerAsync(AsyncDuplexStreamingCall<PartitionMessage, PartitionDelivery> attach)
    {
        while (await attach.ResponseStream.MoveNext().WaitAsync(Patience))
            if (attach.ResponseStream.Current.Answer is not null) return;
        throw new InvalidOperationException("stream ended");
    }

    private async Task WhenWaitingAsync(string system)
    {
        using var http = _factory.CreateClient();
        for (var i = 0; i < 400; i++)
        {
            var state = await http.GetFromJsonAsync<JsonElement>($"/api/v1/systems/{system}/state");
            if (state.GetProperty("runtime")[0].GetProperty("contexts")[0].GetProperty("state").GetString() == "waiting") return;
            await Task.Delay(25);
        }
        Assert.Fail("the attached partition never reached FFA_MSG_WAIT");
    }
}
