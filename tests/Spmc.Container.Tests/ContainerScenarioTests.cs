using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Spmc.V1;
using Xunit.Abstractions;

namespace Spmc.Container.Tests;

/// <summary>
/// What an emulator in CI does with the containerised service, from the host, over the published ports:
/// create a system, negotiate the FF-A version, map RX/TX buffers, discover the partitions. Once over gRPC,
/// once over REST, each on a system of its own (created from the default system's canonical manifest, whose
/// proxy is pkvm-7.4: FFA_VERSION comes first, and the SPMC sees the proxy's buffers, not the host's).
/// </summary>
[Collection(ContainerCollection.Name)]
public sealed partial class ContainerScenarioTests(SpmcContainerFixture fx, ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(30);
    private GrpcChannel? _channel;
    private HttpClient? _http;

    // The operator token: the scenarios use the start-up systems ("default", "lab") as well as their own.
    private GrpcChannel Channel => _channel ??= SpmcContainerFixture.Channel(fx.GrpcAddress);
    private HttpClient Http => _http ??= new HttpClient(new SpmcContainerFixture.BearerHandler(SpmcContainerFixture.OperatorToken) { InnerHandler = new HttpClientHandler() })
    {
        BaseAddress = fx.RestAddress,
        Timeout = CallTimeout,
    };

    public void Dispose()
    {
        _channel?.Dispose();
        _http?.Dispose();
    }

    [Fact]
    public async Task Grpc_health_service_reports_serving_for_the_whole_server()
    {
        // The empty service name is what Kubernetes' grpc probes ask for (deploy/deployment.yaml).
        var reply = await new Health.HealthClient(Channel).CheckAsync(new HealthCheckRequest { Service = "" }, deadline: Deadline());
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, reply.Status);
    }

    [Fact]
    public async Task Systems_of_the_mounted_manifest_directory_exist_beside_the_default_one()
    {
        var systems = await new Systems.SystemsClient(Channel).ListAsync(new ListSystemsRequest(), deadline: Deadline());
        var ids = systems.Systems.Select(s => s.Id).ToList();
        Assert.Contains("default", ids);
        var lab = Assert.Single(systems.Systems, s => s.Id == "lab");   // deploy/manifests/lab.json
        Assert.Equal(2, lab.Vms.Count);
        Assert.Equal(["echo"], lab.Partitions.Select(p => p.Name));
    }

    [Fact]
    public async Task Grpc_create_negotiate_map_rxtx_and_discover_partitions()
    {
        var systems = new Systems.SystemsClient(Channel);
        var smc = new SmcGateway.SmcGatewayClient(Channel);
        var id = $"ct-grpc-{fx.RunId}";
        var manifest = (await systems.GetAsync(new GetSystemRequest { Id = "default" }, deadline: Deadline())).ManifestJson;
        var created = await systems.CreateAsync(new CreateSystemRequest { Id = id, ManifestJson = manifest }, deadline: Deadline());
        Assert.Equal(id, created.Id);
        try
        {
            async Task<SmcResponse> Call(ulong[] x, MemoryReadRequest? read = null)
            {
                var request = new SmcRequest { SystemId = id, Caller = Ffa.Host, X = { x } };
                if (read is not null) request.Reads.Add(read);
                return await smc.CallAsync(request, deadline: Deadline());
            }

            var version = await Call([Ffa.Version, Ffa.V1_2]);
            Assert.Equal(Ffa.V1_2, version.X[0]);
            Assert.Equal(18, version.X.Count);
            Assert.Equal("FFA_VERSION", version.Decoded.Function);

            var map = await Call([Ffa.RxTxMap64, Ffa.TxBuffer, Ffa.RxBuffer, 1]);
            Assert.True(map.X[0] == Ffa.Success32, $"FFA_RXTX_MAP_64: {map.Decoded}");

            // Null UUID (x1..x4 = 0), flags 0: descriptors go to the caller's RX buffer, read back in the same frame.
            var info = await Call([Ffa.PartitionInfoGet, 0, 0, 0, 0, 0],
                new MemoryReadRequest { Address = Ffa.RxBuffer, Length = (uint)(Ffa.DefaultPartitionDescriptors.Length * Ffa.PartitionInfoSize) });
            Assert.True(info.X[0] == Ffa.Success32, $"FFA_PARTITION_INFO_GET: {info.Decoded}");
            Assert.Equal((ulong)Ffa.DefaultPartitionDescriptors.Length, info.X[2]);
            Assert.Equal((ulong)Ffa.PartitionInfoSize, info.X[3]);
            Assert.Equal(Ffa.DefaultPartitionDescriptors, PartitionIds(info.Reads.Single().Data.ToByteArray()));

            Assert.Equal(Ffa.Success32, (await Call([Ffa.RxRelease])).X[0]);

            // The SPMC knows endpoint 0 by the pKVM proxy's own buffers; the proxy's state holds the host's.
            var state = await new Inspector.InspectorClient(Channel).GetStateAsync(new GetStateRequest { SystemId = id }, deadline: Deadline());
            var host = state.Endpoints.Single(e => e.Id == Ffa.Host);
            Assert.True(host.VersionNegotiated);
            Assert.Equal(Ffa.HypTx, host.Mailbox.Tx);
            Assert.Equal(Ffa.HypRx, host.Mailbox.Rx);
            Assert.Equal(1u, host.Mailbox.Pages);
            Assert.Equal("pkvm-7.4", state.Proxy.Profile);
            Assert.True(state.Proxy.Negotiated);
            Assert.Equal("1.2", state.Proxy.FfaVersion);
            Assert.Equal(Ffa.TxBuffer, state.Proxy.HostTx);
            Assert.Equal(Ffa.RxBuffer, state.Proxy.HostRx);
        }
        finally
        {
            await systems.DeleteAsync(new DeleteSystemRequest { Id = id }, deadline: Deadline());
        }
    }

    [Fact]
    public async Task Rest_create_negotiate_map_rxtx_and_discover_partitions()
    {
        var id = $"ct-rest-{fx.RunId}";
        var defaultSystem = await GetJson("/api/v1/systems/default");
        var create = await Http.PostAsJsonAsync("/api/v1/systems", new JsonObject { ["id"] = id, ["manifest"] = defaultSystem["manifest"]!.DeepClone() });
        Assert.True(create.StatusCode == HttpStatusCode.Created, await create.Content.ReadAsStringAsync());
        try
        {
            var version = await Smc(id, ["0x84000063", "0x10002"]);
            Assert.Equal("0x10002", X(version, 0));
            Assert.Equal(18, version["x"]!.AsArray().Count);

            var map = await Smc(id, ["0xC4000066", "0x80001000", "0x80000000", "1"]);
            Assert.True(X(map, 0) == "0x84000061", map.ToJsonString());

            var info = await Smc(id, ["0x84000068", "0", "0", "0", "0", "0"],
                new JsonArray(new JsonObject { ["address"] = "0x80000000", ["length"] = (Ffa.DefaultPartitionDescriptors.Length * Ffa.PartitionInfoSize).ToString() }));
            Assert.True(X(info, 0) == "0x84000061", info.ToJsonString());
            Assert.Equal("0x4", X(info, 2));
            var rx = Convert.FromBase64String((string)info["reads"]![0]!["data"]!);
            Assert.Equal(Ffa.DefaultPartitionDescriptors, PartitionIds(rx));

            Assert.Equal("0x84000061", X(await Smc(id, ["0x84000065"]), 0));

            var state = await GetJson($"/api/v1/systems/{id}/state");
            var host = state["endpoints"]!.AsArray().Single(e => (string)e!["id"]! == "0x0000")!;
            Assert.True((bool)host["versionNegotiated"]!);
            Assert.Equal("0x8FFFE000", (string)host["mailbox"]!["tx"]!); // the pKVM proxy's own pair
            Assert.Equal("0x8FFFF000", (string)host["mailbox"]!["rx"]!);
            Assert.Equal("0x80001000", (string)state["proxy"]!["hostTx"]!);
            Assert.Equal("0x80000000", (string)state["proxy"]!["hostRx"]!);
        }
        finally
        {
            (await Http.DeleteAsync($"/api/v1/systems/{id}")).EnsureSuccessStatusCode();
        }
    }

    [Fact]
    public async Task Rest_healthz_and_swagger_answer_through_the_published_port()
    {
        var health = await Http.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal("Healthy", await health.Content.ReadAsStringAsync());
        // Swagger is served in the container too (Production environment), from the image's own files.
        var swagger = await GetJson("/swagger/v1/swagger.json");
        Assert.NotNull(swagger["paths"]!["/api/v1/systems/{id}/smc"]);
        output.WriteLine($"publish {fx.PublishTime.TotalSeconds:F1}s, image build {fx.BuildTime.TotalSeconds:F1}s, " +
                         $"service start to /healthz {fx.ServiceStartTime.TotalSeconds:F1}s");
    }

    private static DateTime Deadline() => DateTime.UtcNow + CallTimeout;

    private static ushort[] PartitionIds(byte[] rx) =>
        Enumerable.Range(0, rx.Length / Ffa.PartitionInfoSize)
            .Select(i => BinaryPrimitives.ReadUInt16LittleEndian(rx.AsSpan(i * Ffa.PartitionInfoSize, 2))).ToArray();

    private static string X(JsonNode response, int index) => (string)response["x"]![index]!;

    private async Task<JsonNode> GetJson(string path)
    {
        var response = await Http.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {body}");
        return JsonNode.Parse(body)!;
    }

    private async Task<JsonNode> Smc(string id, string[] x, JsonArray? reads = null)
    {
        var body = new JsonObject { ["caller"] = "0x0", ["x"] = new JsonArray(x.Select(v => (JsonNode)JsonValue.Create(v)).ToArray()) };
        if (reads is not null) body["reads"] = reads;
        var response = await Http.PostAsJsonAsync($"/api/v1/systems/{id}/smc", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"SMC {string.Join(',', x)}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!;
    }
}
