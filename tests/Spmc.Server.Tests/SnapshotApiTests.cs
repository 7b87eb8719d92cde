using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Spmc.Core.Systems;
using Spmc.V1;

namespace Spmc.Server.Tests;

/// <summary>Snapshot, restore and create-from-snapshot through REST and gRPC (docs/snapshots.md), with their errors.</summary>
public sealed class SnapshotApiTests(SpmcFactory factory) : IClassFixture<SpmcFactory>
{
    private readonly HttpClient _client = factory.CreateClient();
    private readonly Systems.SystemsClient _systems = new(factory.Channel);

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static readonly object Version12 = new { caller = "0x0", x = new[] { "0x84000063", "0x10002" } };
    private static readonly object DirectReqToEcho = new { caller = "0x0", x = new[] { "0x8400006F", "0x8001", "0x0", "0x11" } };

    /// <summary>A passthrough system whose partition 0x8001 is remote (played by a test over PartitionHost.Attach).</summary>
    internal const string RemoteManifest = """
        { "spmc": { "version": "1.2", "remoteTimeoutMs": 10000 }, "proxy": "passthrough",
          "vms": [ { "id": 0, "name": "host", "vcpus": 1, "memory": [ { "base": "0x80000000", "size": "0x1000000" } ] } ],
          "partitions": [
            { "id": "0x8001", "name": "mine", "behaviour": "remote", "uuids": [ "7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4aff" ],
              "properties": { "directRequestReceive": true } } ] }
        """;

    private async Task<string> SnapshotAsync(string system)
    {
        var response = await _client.GetAsync($"/api/v1/systems/{system}/snapshot");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        return await response.Content.ReadAsStringAsync();
    }

    private async Task<string> Answers(string system, int calls)
    {
        var text = new StringBuilder();
        for (var i = 0; i < calls; i++) text.Append((await _client.SmcAsync(system, DirectReqToEcho)).Decoded("error") ?? "ok").Append(' ');
        return text.ToString();
    }

    [Fact]
    public async Task Rest_SnapshotCreateFromItAndRestore_AnswerAsTheOriginal()
    {
        var system = await factory.NewSystemAsync();
        await _client.SmcAsync(system, Version12);
        await _client.PostAsync($"/api/v1/systems/{system}/faults", Json("""{ "function": "FFA_MSG_SEND_DIRECT_REQ", "every": 3, "error": "BUSY" }"""));
        await Answers(system, 2);
        var snapshot = await SnapshotAsync(system);
        Assert.Equal(2, JsonDocument.Parse(snapshot).RootElement.GetProperty("version").GetInt32());

        var copy = $"{system[..20]}-copy";
        var created = await _client.PostAsync("/api/v1/systems", Json($$"""{"id":"{{copy}}","snapshot":{{snapshot}}}"""));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(snapshot, await SnapshotAsync(copy));

        var expected = await Answers(system, 6);
        Assert.Equal("BUSY ok ok BUSY ok ok ", expected);
        Assert.Equal(expected, await Answers(copy, 6));

        var restored = await _client.PostAsync($"/api/v1/systems/{system}/restore", Json(snapshot));
        Assert.Equal(HttpStatusCode.NoContent, restored.StatusCode);
        Assert.Equal(snapshot, await SnapshotAsync(system));
        Assert.Equal(expected, await Answers(system, 6));
    }

    [Theory]
    [InlineData("""{"manifest":MANIFEST,"snapshot":SNAPSHOT}""", "snapshot: give either")]
    [InlineData("""{"id":"x-none"}""", "manifest: required")]
    [InlineData("""{"snapshot":[1]}""", "snapshot: must be a JSON object")]
    [InlineData("""{"snapshot":{"version":1}}""", "snapshot: not a snapshot document")]
    [InlineData("""{"snapshot":{"version":2}}""", "snapshot")]
    public async Task Rest_CreateFromSnapshot_RefusesBadBodies_NamingTheField(string body, string detail)
    {
        var system = await factory.NewSystemAsync();
        var snapshot = await SnapshotAsync(system);
        var response = await _client.PostAsync("/api/v1/systems",
            Json(body.Replace("MANIFEST", SpmcFactory.PassthroughManifest).Replace("SNAPSHOT", snapshot)));
        var (status, text) = await response.ProblemAsync();
        Assert.Equal(400, status);
        Assert.StartsWith(detail, text);
    }

    [Fact]
    public async Task Rest_Restore_RefusesAnotherManifest_MalformedDocuments_AndAttachedPartitions()
    {
        var system = await factory.NewSystemAsync();
        var other = await factory.NewSystemAsync(SpmcFactory.DefaultManifest); // pkvm-7.4, not passthrough
        var otherSnapshot = await SnapshotAsync(other);

        var (status, detail) = await (await _client.PostAsync($"/api/v1/systems/{system}/restore", Json(otherSnapshot))).ProblemAsync();
        Assert.Equal((400, true), (status, detail.StartsWith("snapshot.manifest:", StringComparison.Ordinal)));
        (status, detail) = await (await _client.PostAsync($"/api/v1/systems/{system}/restore", Json("{"))).ProblemAsync();
        Assert.Equal((400, true), (status, detail.StartsWith("snapshot:", StringComparison.Ordinal)));
        (status, detail) = await (await _client.PostAsync($"/api/v1/systems/{system}/restore", Json(""))).ProblemAsync();
        Assert.Equal((400, "body: required (a snapshot document)"), (status, detail));
        var faulty = JsonNode.Parse(await SnapshotAsync(system))!;
        faulty["faults"] = JsonNode.Parse("""{"nextId":2,"rules":[{"id":1,"function":"FFA_NOPE","caller":null,"receiver":null,"handle":null,"when":"always","count":null,"probability":null,"seed":null,"error":"BUSY","matched":0,"hits":0,"state":0}]}""");
        (status, detail) = await (await _client.PostAsync($"/api/v1/systems/{system}/restore", Json(faulty.ToJsonString()))).ProblemAsync();
        Assert.Equal((400, true), (status, detail.StartsWith("snapshot.faults.rules[1].function:", StringComparison.Ordinal)));
        Assert.Equal(HttpStatusCode.NotFound, (await _client.PostAsync("/api/v1/systems/nope/restore", Json(otherSnapshot))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync("/api/v1/systems/nope/snapshot")).StatusCode);

        var remote = await factory.NewSystemAsync(RemoteManifest);
        var detached = await SnapshotAsync(remote);
        using (factory.Services.GetRequiredService<SystemRegistry>().Get(remote).Attach(0x8001))
        {
            Assert.Equal(409, (await (await _client.GetAsync($"/api/v1/systems/{remote}/snapshot")).ProblemAsync()).Status);
            (status, detail) = await (await _client.PostAsync($"/api/v1/systems/{remote}/restore", Json(detached))).ProblemAsync();
            Assert.Equal((409, true), (status, detail.Contains("detach", StringComparison.Ordinal)));
        }
        Assert.Equal(HttpStatusCode.NoContent, (await _client.PostAsync($"/api/v1/systems/{remote}/restore", Json(detached))).StatusCode);
    }

    [Fact]
    public async Task Grpc_SnapshotRestoreAndCreateFromSnapshot_WithTheirErrors()
    {
        var system = await factory.NewSystemAsync();
        await _client.SmcAsync(system, Version12);
        var snapshot = (await _systems.SnapshotAsync(new SnapshotRequest { Id = system })).SnapshotJson;
        Assert.Equal(await SnapshotAsync(system), snapshot);

        var copy = await _systems.CreateAsync(new CreateSystemRequest { Id = $"{system[..20]}-g", SnapshotJson = snapshot });
        Assert.Equal(snapshot, (await _systems.SnapshotAsync(new SnapshotRequest { Id = copy.Id })).SnapshotJson);
        await _client.SmcAsync(copy.Id, DirectReqToEcho);
        await _systems.RestoreAsync(new RestoreRequest { Id = copy.Id, SnapshotJson = snapshot });
        Assert.Equal(snapshot, (await _systems.SnapshotAsync(new SnapshotRequest { Id = copy.Id })).SnapshotJson);

        var e = await Assert.ThrowsAsync<RpcException>(() => _systems.CreateAsync(
            new CreateSystemRequest { ManifestJson = SpmcFactory.PassthroughManifest, SnapshotJson = snapshot }).ResponseAsync);
        Assert.Equal((StatusCode.InvalidArgument, true), (e.StatusCode, e.Status.Detail.StartsWith("snapshot_json:", StringComparison.Ordinal)));
        e = await Assert.ThrowsAsync<RpcException>(() => _systems.RestoreAsync(new RestoreRequest { Id = system }).ResponseAsync);
        Assert.Equal((StatusCode.InvalidArgument, true), (e.StatusCode, e.Status.Detail.StartsWith("snapshot_json:", StringComparison.Ordinal)));
        e = await Assert.ThrowsAsync<RpcException>(() => _systems.RestoreAsync(new RestoreRequest { Id = system, SnapshotJson = "[]" }).ResponseAsync);
        Assert.Equal((StatusCode.InvalidArgument, true), (e.StatusCode, e.Status.Detail.StartsWith("snapshot:", StringComparison.Ordinal)));
        var other = await factory.NewSystemAsync(SpmcFactory.DefaultManifest);
        var otherSnapshot = (await _systems.SnapshotAsync(new SnapshotRequest { Id = other })).SnapshotJson;
        e = await Assert.ThrowsAsync<RpcException>(() => _systems.RestoreAsync(new RestoreRequest { Id = system, SnapshotJson = otherSnapshot }).ResponseAsync);
        Assert.Equal((StatusCode.InvalidArgument, true), (e.StatusCode, e.Status.Detail.StartsWith("snapshot.manifest:", StringComparison.Ordinal)));
        e = await Assert.ThrowsAsync<RpcException>(() => _systems.SnapshotAsync(new SnapshotRequest { Id = "nope" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, e.StatusCode);

        var remote = await factory.NewSystemAsync(RemoteManifest);
        var detached = (await _systems.SnapshotAsync(new SnapshotRequest { Id = remote })).SnapshotJson;
        using (factory.Services.GetRequiredService<SystemRegistry>().Get(remote).Attach(0x8001))
        {
            e = await Assert.ThrowsAsync<RpcException>(() => _systems.SnapshotAsync(new SnapshotRequest { Id = remote }).ResponseAsync);
            Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
            e = await Assert.ThrowsAsync<RpcException>(() => _systems.RestoreAsync(new RestoreRequest { Id = remote, SnapshotJson = detached }).ResponseAsync);
            Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
        }
    }
}
