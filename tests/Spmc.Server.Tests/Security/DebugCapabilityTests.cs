using System.Net;
using System.Net.Http.Json;
using Google.Protobuf;
using Grpc.Core;
using Spmc.V1;

namespace Spmc.Server.Tests.Security;

/// <summary>Memory as the SPMC (0x8000) needs the debug capability: the operator token, or a token created with debug: true.</summary>
public sealed class DebugCapabilityTests(SecureHost host) : IClassFixture<SecureHost>
{
    private const string SpmcRead = "memory/0x80000000?length=4&as=0x8000";

    [Fact]
    public async Task A_plain_token_is_refused_as_the_spmc_naming_the_capability()
    {
        var (id, token) = await host.CreateAsync(token: null);
        using var client = host.Http(token);
        using var read = await client.GetAsync($"/api/v1/systems/{id}/{SpmcRead}");
        var (status, detail) = await read.ProblemAsync();
        Assert.Equal(403, status);
        Assert.Contains("debug capability", detail);
        using var write = await client.PutAsJsonAsync($"/api/v1/systems/{id}/memory/0x80000000?as=0x8000", new { hex = "01020304" });
        Assert.Equal(HttpStatusCode.Forbidden, write.StatusCode);
        using var asHost = await client.GetAsync($"/api/v1/systems/{id}/memory/0x80000000?length=4&as=0x0");
        Assert.Equal(HttpStatusCode.OK, asHost.StatusCode);   // endpoint identity stays a field
    }

    [Fact]
    public async Task A_plain_token_may_not_snapshot_or_restore_a_debug_token_may()
    {
        var (id, plain) = await host.CreateAsync(token: null);
        using var client = host.Http(plain);
        using var snapshot = await client.GetAsync($"/api/v1/systems/{id}/snapshot");
        var (status, detail) = await snapshot.ProblemAsync();
        Assert.Equal(403, status);
        Assert.Contains("so do snapshots and restores", detail);
        using var restore = await client.PostAsync($"/api/v1/systems/{id}/restore", new StringContent("{}", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Forbidden, restore.StatusCode);

        var (debugId, debugToken) = await host.CreateAsync(token: null, debug: true);
        using var debug = host.Http(debugToken);
        using var saved = await debug.GetAsync($"/api/v1/systems/{debugId}/snapshot");
        Assert.Equal(HttpStatusCode.OK, saved.StatusCode);
        using var restored = await debug.PostAsync($"/api/v1/systems/{debugId}/restore", new StringContent(await saved.Content.ReadAsStringAsync(), System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.NoContent, restored.StatusCode);
    }

    [Fact]
    public async Task A_debug_token_and_the_operator_may_act_as_the_spmc()
    {
        var (id, token) = await host.CreateAsync(token: null, debug: true);
        using var write = await host.Http(token).PutAsJsonAsync($"/api/v1/systems/{id}/memory/0x80000000?as=0x8000", new { hex = "01020304" });
        Assert.Equal(HttpStatusCode.NoContent, write.StatusCode);
        var read = await host.Http(SecureHost.OperatorToken).GetFromJsonAsync<System.Text.Json.JsonElement>($"/api/v1/systems/{id}/{SpmcRead}");
        Assert.Equal("01020304", read.GetProperty("hex").GetString());
    }

    [Fact]
    public async Task Over_grpc_too()
    {
        var memory = new Spmc.V1.Memory.MemoryClient(host.Channel);
        var (plain, plainToken) = await host.CreateAsync(token: null);
        var e = await Assert.ThrowsAsync<RpcException>(() => memory.ReadAsync(new ReadMemoryRequest { SystemId = plain, Address = 0x8000_0000, Length = 4, AsEndpoint = 0x8000 },
            SecureHost.Bearer(plainToken)).ResponseAsync);
        Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
        Assert.Contains("debug capability", e.Status.Detail);

        var systems = new Systems.SystemsClient(host.Channel);
        var debug = await systems.CreateAsync(new CreateSystemRequest { ManifestJson = SpmcFactory.PassthroughManifest, Debug = true });
        await memory.WriteAsync(new WriteMemoryRequest { SystemId = debug.Id, Address = 0x8000_0000, Data = ByteString.CopyFrom(7, 8), AsEndpoint = 0x8000 },
            SecureHost.Bearer(debug.Token));
        var read = await memory.ReadAsync(new ReadMemoryRequest { SystemId = debug.Id, Address = 0x8000_0000, Length = 2, AsEndpoint = 0x8000 }, SecureHost.Bearer(debug.Token));
        Assert.Equal([7, 8], read.Data.ToByteArray());
    }

    [Fact]
    public async Task Debug_tokens_can_be_turned_off()
    {
        using var strict = SecureHost.With(("Spmc:Auth:AllowDebugTokens", "false"));
        using var client = strict.Http();
        using var response = await client.PostAsync("/api/v1/systems", new StringContent($$"""{"debug":true,"manifest":{{SpmcFactory.PassthroughManifest}}}""",
            System.Text.Encoding.UTF8, "application/json"));
        var (status, detail) = await response.ProblemAsync();
        Assert.Equal(403, status);
        Assert.Contains("Spmc:Auth:AllowDebugTokens", detail);
    }
}
