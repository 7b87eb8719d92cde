using System.Text.Json;
using Grpc.Core;
using Spmc.V1;

namespace Spmc.Server.Tests.TraceApi;

public sealed class GrpcTraceTests(TraceFactory factory) : IClassFixture<TraceFactory>
{
    private readonly SmcGateway.SmcGatewayClient _smc = new(factory.Channel);
    private readonly Systems.SystemsClient _systems = new(factory.Channel);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private Task<SmcResponse> Call(string system, ulong function)
    {
        var request = new SmcRequest { SystemId = system, Caller = 0 };
        request.X.Add(function);
        return _smc.CallAsync(request).ResponseAsync;
    }

    private static JsonElement Json(TraceEntry e) => JsonDocument.Parse(e.Json).RootElement.Clone();

    [Fact]
    public async Task Trace_WithoutFollow_SendsTheHeaderThenTheEntriesAndEnds()
    {
        var system = await factory.NewSystemAsync();
        await Call(system, 0x84000069);
        await Call(system, 0x84000085);
        using var call = _systems.Trace(new TraceRequest { SystemId = system });
        var entries = await call.ResponseStream.ReadAllAsync().ToListAsync();

        Assert.Equal(3, entries.Count);
        Assert.Equal(0, entries[0].Sequence);
        Assert.Equal("spmc-trace", Json(entries[0]).GetProperty("format").GetString());
        Assert.Equal([1L, 2L], entries.Skip(1).Select(e => e.Sequence));
        Assert.All(entries.Skip(1), e => Assert.Equal(e.Sequence, Json(e).GetProperty("seq").GetInt64()));

        using var after = _systems.Trace(new TraceRequest { SystemId = system, After = 1 });
        Assert.Equal([0L, 2L], (await after.ResponseStream.ReadAllAsync().ToListAsync()).Select(e => e.Sequence));
    }

    [Fact]
    public async Task Trace_Follow_SeesANewCall_ThenEndsOkWhenTheSystemIsDeleted()
    {
        var system = await factory.NewSystemAsync();
        using var cts = new CancellationTokenSource(Patience);
        using var call = _systems.Trace(new TraceRequest { SystemId = system, Follow = true }, cancellationToken: cts.Token);
        var stream = call.ResponseStream;
        Assert.True(await stream.MoveNext(cts.Token));
        Assert.Equal(0, stream.Current.Sequence);

        await Call(system, 0x84000085);
        Assert.True(await stream.MoveNext(cts.Token));
        Assert.Equal("0x84000085", Json(stream.Current).GetProperty("x")[0].GetString());

        await _systems.DeleteAsync(new DeleteSystemRequest { Id = system });
        Assert.True(await stream.MoveNext(cts.Token));
        Assert.Equal("system-deleted", Json(stream.Current).GetProperty("reason").GetString());
        Assert.False(await stream.MoveNext(cts.Token));
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
    }

    [Theory]
    [InlineData("", null, StatusCode.InvalidArgument, "system_id")]
    [InlineData(null, -1L, StatusCode.InvalidArgument, "after")]
    [InlineData("nope", null, StatusCode.NotFound, "nope")]
    public async Task Trace_BadInput_MapsToStatus(string? systemId, long? after, StatusCode code, string text)
    {
        var request = new TraceRequest { SystemId = systemId ?? await factory.NewSystemAsync() };
        if (after is { } a) request.After = a;
        using var call = _systems.Trace(request);
        var e = await Assert.ThrowsAsync<RpcException>(() => call.ResponseStream.MoveNext());
        Assert.Equal(code, e.StatusCode);
        Assert.Contains(text, e.Status.Detail);
    }

    [Fact]
    public async Task Create_WithRecord_SaysWhereItRecords()
    {
        var info = await _systems.CreateAsync(new CreateSystemRequest
        {
            Id = $"grpc-rec-{Guid.NewGuid():N}"[..20],
            ManifestJson = SpmcFactory.PassthroughManifest,
            Record = true,
        });
        Assert.Equal(Path.Combine(factory.TraceDirectory, info.Id + ".jsonl"), info.Recording);
        Assert.Equal("", (await _systems.GetAsync(new GetSystemRequest { Id = await factory.NewSystemAsync() })).Recording);
    }

    [Fact]
    public async Task Replay_AnExportedTrace_IsIdentical()
    {
        var system = await factory.NewSystemAsync();
        await Call(system, 0x84000069);
        await Call(system, 0x84000085);
        using var call = _systems.Trace(new TraceRequest { SystemId = system });
        var text = string.Concat((await call.ResponseStream.ReadAllAsync().ToListAsync()).Select(e => e.Json + "\n"));

        var report = await _systems.ReplayAsync(new ReplayRequest { Trace = text });
        Assert.True(report.Identical, report.Difference?.Description);
        Assert.Equal(2, report.Calls);
        Assert.Equal(2, report.Matched);

        var bad = await Assert.ThrowsAsync<RpcException>(() => _systems.ReplayAsync(new ReplayRequest { Trace = "{}\n" }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, bad.StatusCode);
        Assert.Contains("line 1", bad.Status.Detail);
    }
}
