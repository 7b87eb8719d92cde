using Google.Protobuf;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Reflection.V1Alpha;
using Spmc.V1;

namespace Spmc.Server.Tests;

public sealed class GrpcApiTests(SpmcFactory factory) : IClassFixture<SpmcFactory>
{
    private readonly SmcGateway.SmcGatewayClient _smc = new(factory.Channel);
    private readonly Systems.SystemsClient _systems = new(factory.Channel);
    private readonly Memory.MemoryClient _memory = new(factory.Channel);
    private readonly Inspector.InspectorClient _inspector = new(factory.Channel);

    private static SmcRequest Frame(string system, uint caller, params ulong[] x)
    {
        var request = new SmcRequest { SystemId = system, Caller = caller };
        request.X.Add(x);
        return request;
    }

    [Fact]
    public async Task Call_Version_AnswersEighteenRegistersAndDecodedView()
    {
        var system = await factory.NewSystemAsync();
        var response = await _smc.CallAsync(Frame(system, 0, 0x84000063, 0x10001));
        Assert.Equal(18, response.X.Count);
        Assert.Equal(0x10003UL, response.X[0]);
        Assert.Equal("FFA_VERSION", response.Decoded.Function);
        Assert.Equal("version 1.3", response.Decoded.Result);
        Assert.False(response.Decoded.HasError);
    }

    [Fact]
    public async Task Call_Smc64WithExtendedRegisters_PartitionInfoGetRegs()
    {
        var system = await factory.NewSystemAsync();
        var response = await _smc.CallAsync(Frame(system, 0, 0xC400008B, 0, 0, 0));
        Assert.Equal(0xC4000061UL, response.X[0]);
        Assert.Equal(3UL, response.X[2] & 0xFFFF);            // last index: 4 entries
        Assert.Equal(1UL, (response.X[2] >> 16) & 0xFFFF);    // current index: two 48-byte entries fit (the host is at 1.3)
        Assert.Equal(48UL, response.X[2] >> 48);               // descriptor size
        Assert.Equal(0x8002UL, response.X[9] & 0xFFFF);       // second entry in x9..x14
        Assert.Equal(0x0001_0003UL, response.X[14]);           // its FF-A version
        Assert.Equal("SMC64", response.Decoded.Width);
    }

    [Fact]
    public async Task Call_WritesAndReads_AroundTheCall()
    {
        var system = await factory.NewSystemAsync();
        var request = Frame(system, 0, 0x84000069);
        request.Writes.Add(new MemoryWrite { Address = 0x8000_2000, Data = ByteString.CopyFromUtf8("abc") });
        request.Reads.Add(new MemoryReadRequest { Address = 0x8000_2000, Length = 3 });
        request.Reads.Add(new MemoryReadRequest { Address = 0x6010_0000, Length = 3 });
        var response = await _smc.CallAsync(request);
        Assert.Equal("abc", response.Reads[0].Data.ToStringUtf8());
        Assert.Contains("belongs to 0x8002", response.Reads[1].Error);
        Assert.True(response.Reads[1].Data.IsEmpty);
    }

    [Theory]
    [InlineData("", 0u, 19, StatusCode.InvalidArgument, "system_id")]
    [InlineData("nope", 0u, 1, StatusCode.NotFound, "nope")]
    [InlineData(null, 0x10000u, 1, StatusCode.InvalidArgument, "caller")]
    [InlineData(null, 0x5u, 1, StatusCode.InvalidArgument, "caller")]
    [InlineData(null, 0u, 19, StatusCode.InvalidArgument, "x:")]
    public async Task Call_BadInput_MapsToStatus(string? systemId, uint caller, int registers, StatusCode code, string text)
    {
        var system = systemId ?? await factory.NewSystemAsync();
        var request = new SmcRequest { SystemId = system, Caller = caller };
        request.X.Add(Enumerable.Repeat(0x84000069UL, registers));
        var e = await Assert.ThrowsAsync<RpcException>(() => _smc.CallAsync(request).ResponseAsync);
        Assert.Equal(code, e.StatusCode);
        Assert.Contains(text, e.Status.Detail);
    }

    [Fact]
    public async Task Call_ReadAboveOneMiB_IsInvalidArgument_AndWriteOutsideMemory_IsPermissionDenied()
    {
        var system = await factory.NewSystemAsync();
        var big = Frame(system, 0, 0x84000069);
        big.Reads.Add(new MemoryReadRequest { Address = 0x8000_0000, Length = (1 << 20) + 1 });
        var e = await Assert.ThrowsAsync<RpcException>(() => _smc.CallAsync(big).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);

        var foreign = Frame(system, 0, 0x84000069);
        foreign.Writes.Add(new MemoryWrite { Address = 0x6000_0000, Data = ByteString.CopyFromUtf8("x") });
        e = await Assert.ThrowsAsync<RpcException>(() => _smc.CallAsync(foreign).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
    }

    [Fact]
    public async Task Session_AnswersInOrder_AndSurvivesARejectedFrame()
    {
        var system = await factory.NewSystemAsync();
        using var session = _smc.Session();
        var frames = new List<SmcRequest>
        {
            Frame(system, 0, 0x84000063, 0x10001),                        // FFA_VERSION 1.1
            Frame(system, 0, 0xC4000066, 0x8000_1000, 0x8000_0000, 1),   // FFA_RXTX_MAP_64
            Frame(system, 0x42, 0x84000069),                              // unknown caller: rejected
            Frame("missing", 0, 0x84000069),                              // unknown system: rejected
            Frame(system, 0, 0x84000068),                                 // FFA_PARTITION_INFO_GET: 3 at 1.1
            Frame(system, 0, 0x84000063, 0x10002),                        // locked at 1.1 now
        };
        for (var i = 0; i < frames.Count; i++) frames[i].Tag = (ulong)(100 + i);
        var reader = Task.Run(async () =>
        {
            var answers = new List<SmcResponse>();
            await foreach (var r in session.ResponseStream.ReadAllAsync()) answers.Add(r);
            return answers;
        });
        foreach (var f in frames) await session.RequestStream.WriteAsync(f);
        await session.RequestStream.CompleteAsync();
        var answers = await reader;

        Assert.Equal(frames.Select(f => f.Tag), answers.Select(a => a.Tag));
        Assert.Equal(0x10003UL, answers[0].X[0]);
        Assert.Equal(0x84000061UL, answers[1].X[0]);
        Assert.Equal("InvalidArgument", answers[2].Rejection.Code);
        Assert.Empty(answers[2].X);
        Assert.Equal("NotFound", answers[3].Rejection.Code);
        Assert.Equal(3UL, answers[4].X[2]);
        Assert.Equal(0xFFFFFFFFUL, answers[5].X[0]);
        Assert.Equal("version.locked", answers[5].Decoded.Rule);
        Assert.Equal("NOT_SUPPORTED", answers[5].Decoded.Error);
        Assert.False(answers[1].Decoded.HasRule); // a success names no rule
    }

    [Fact]
    public async Task Systems_Lifecycle_AndErrors()
    {
        var info = await _systems.CreateAsync(new CreateSystemRequest { Id = "grpc-life", ManifestJson = SpmcFactory.DefaultManifest });
        Assert.Equal(0x8000u, info.SpmcId);
        Assert.Equal(3, info.Partitions.Count);
        Assert.Equal(0x30Du, info.Partitions[0].Properties);
        Assert.Contains("\"pkvm-7.4\"", info.ManifestJson);
        Assert.Contains((await _systems.ListAsync(new ListSystemsRequest())).Systems, s => s.Id == "grpc-life");
        Assert.Equal("grpc-life", (await _systems.GetAsync(new GetSystemRequest { Id = "grpc-life" })).Id);

        var dup = await Assert.ThrowsAsync<RpcException>(() => _systems.CreateAsync(new CreateSystemRequest { Id = "grpc-life", ManifestJson = SpmcFactory.DefaultManifest }).ResponseAsync);
        Assert.Equal(StatusCode.AlreadyExists, dup.StatusCode);

        await _systems.DeleteAsync(new DeleteSystemRequest { Id = "grpc-life" });
        var gone = await Assert.ThrowsAsync<RpcException>(() => _systems.GetAsync(new GetSystemRequest { Id = "grpc-life" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, gone.StatusCode);
    }

    [Theory]
    [InlineData("", "manifest: empty")]
    [InlineData("{not json", "manifest")]
    [InlineData("""{"partitions":[{"id":"0x8001","name":"a","uuids":["7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4a01"],"version":"1.2.3","properties":{"directRequestReceive":true}}]}""", "partitions[0].version")]
    [InlineData("""{"vms":[{"id":"0x8000","name":"a"}]}""", "vms[0].id")]
    public async Task Systems_BadManifest_IsInvalidArgumentNamingTheField(string manifest, string text)
    {
        var e = await Assert.ThrowsAsync<RpcException>(() => _systems.CreateAsync(new CreateSystemRequest { ManifestJson = manifest }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains(text, e.Status.Detail);
    }

    [Fact]
    public async Task Memory_ReadWrite_AsEndpoint()
    {
        var system = await factory.NewSystemAsync();
        await _memory.WriteAsync(new WriteMemoryRequest { SystemId = system, Address = 0x6010_0010, AsEndpoint = 0x8002, Data = ByteString.CopyFromUtf8("sp") });
        var read = await _memory.ReadAsync(new ReadMemoryRequest { SystemId = system, Address = 0x6010_0010, Length = 2, AsEndpoint = 0x8002 });
        Assert.Equal("sp", read.Data.ToStringUtf8());
        var e = await Assert.ThrowsAsync<RpcException>(() => _memory.ReadAsync(new ReadMemoryRequest { SystemId = system, Address = 0x6010_0010, Length = 2, AsEndpoint = 0 }).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
        e = await Assert.ThrowsAsync<RpcException>(() => _memory.ReadAsync(new ReadMemoryRequest { SystemId = system, Address = 0, Length = 2_000_000, AsEndpoint = 0 }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        e = await Assert.ThrowsAsync<RpcException>(() => _memory.WriteAsync(new WriteMemoryRequest { SystemId = system, Address = 0x8000_0000, AsEndpoint = 0x1_0000 }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
    }

    [Fact]
    public async Task Inspector_ShowsMailboxAndOwnership()
    {
        var system = await factory.NewSystemAsync();
        await _smc.CallAsync(Frame(system, 0x8001, 0xC4000066, 0x6000_1000, 0x6000_0000, 1));
        var state = await _inspector.GetStateAsync(new GetStateRequest { SystemId = system });
        var sp = state.Endpoints.Single(e => e.Id == 0x8001);
        Assert.Equal("sp", sp.Kind);
        Assert.Equal(0x6000_0000UL, sp.Mailbox.Rx);
        Assert.Equal(V1.RxState.Empty, sp.Mailbox.State);
        Assert.Contains(state.Memory, r => r.Base == 0x6000_0000 && r.Use == "rx-buffer" && r.Owner == 0x8001);
        Assert.Contains(state.Memory, r => r.Base == 0x6000_1000 && r.Use == "tx-buffer");
        Assert.Equal(1UL, state.Calls);
    }

    [Fact]
    public async Task Reflection_ListsTheServices()
    {
        var client = new ServerReflection.ServerReflectionClient(factory.Channel);
        using var call = client.ServerReflectionInfo();
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext());
        var services = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();
        Assert.Contains("spmc.v1.SmcGateway", services);
        Assert.Contains("spmc.v1.Systems", services);
        Assert.Contains("spmc.v1.Memory", services);
        Assert.Contains("spmc.v1.Inspector", services);
        Assert.Contains("grpc.health.v1.Health", services);
    }

    [Fact]
    public async Task Health_IsServing()
    {
        var health = new Health.HealthClient(factory.Channel);
        var response = await health.CheckAsync(new HealthCheckRequest());
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, response.Status);
    }
}
