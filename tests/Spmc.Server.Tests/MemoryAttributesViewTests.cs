using System.Net.Http.Json;
using System.Text.Json;
using Spmc.V1;

namespace Spmc.Server.Tests;

/// <summary>
/// The state views show each memory range's <c>access</c> ("rw"/"ro") and <c>device</c>, as the manifest gave them
/// (examples/manifests/memory-attributes.json), over REST and gRPC.
/// </summary>
public sealed class MemoryAttributesViewTests(SpmcFactory factory) : IClassFixture<SpmcFactory>
{
    private static string Example()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "examples", "manifests", "memory-attributes.json"))) dir = dir.Parent;
        return File.ReadAllText(Path.Combine(dir!.FullName, "examples", "manifests", "memory-attributes.json"));
    }

    [Fact]
    public async Task Rest_State_ShowsAccessAndDevice()
    {
        var system = await factory.NewSystemAsync(Example());
        using var client = factory.CreateClient();
        var state = await client.GetFromJsonAsync<JsonElement>($"/api/v1/systems/{system}/state");
        var ranges = state.GetProperty("memory").EnumerateArray().ToDictionary(r => r.GetProperty("base").GetString()!);
        Assert.Equal("rw", ranges["0x80000000"].GetProperty("access").GetString());
        Assert.False(ranges["0x80000000"].GetProperty("device").GetBoolean());
        Assert.Equal("ro", ranges["0x80100000"].GetProperty("access").GetString());
        Assert.True(ranges["0x80200000"].GetProperty("device").GetBoolean());
        Assert.Equal("ro", ranges["0x60200000"].GetProperty("access").GetString());
        Assert.True(ranges["0x60200000"].GetProperty("device").GetBoolean());
    }

    [Fact]
    public async Task Grpc_State_ShowsAccessAndDevice()
    {
        var system = await factory.NewSystemAsync(Example());
        var state = await new Inspector.InspectorClient(factory.Channel).GetStateAsync(new GetStateRequest { SystemId = system });
        Assert.Contains(state.Memory, r => r.Base == 0x8010_0000 && r.Access == "ro" && !r.Device && r.Owner == 0);
        Assert.Contains(state.Memory, r => r.Base == 0x8020_0000 && r.Access == "rw" && r.Device);
        Assert.Contains(state.Memory, r => r.Base == 0x6020_0000 && r.Access == "ro" && r.Device && r.Owner == 0x8001);
        Assert.Contains(state.Memory, r => r.Base == 0x6050_0000 && r.Access == "rw" && r.Device && r.Owner == 0x8002);
    }
}
