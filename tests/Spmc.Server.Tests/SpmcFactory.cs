using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Spmc.Server.Tests;

/// <summary>The real host in memory (TestServer): REST through HttpClient, gRPC through a channel on the same handler.</summary>
public sealed class SpmcFactory : WebApplicationFactory<Program>
{
    private GrpcChannel? _channel;

    public GrpcChannel Channel => _channel ??= GrpcChannel.ForAddress(Server.BaseAddress,
        new GrpcChannelOptions { HttpHandler = Server.CreateHandler() });

    /// <summary>The manifest the server ships for its default system (proxy pkvm-7.4).</summary>
    public static string DefaultManifest { get; } = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "manifests", "default.json"));

    /// <summary>The default manifest with a passthrough proxy: VM calls reach the SPMC as made (the SPMC's own rules under test).</summary>
    public static string PassthroughManifest { get; } = WithProxy(DefaultManifest, "passthrough");

    /// <summary>A manifest with its "proxy" field set to <paramref name="profile"/>.</summary>
    public static string WithProxy(string manifest, string profile)
    {
        var node = JsonNode.Parse(manifest)!.AsObject();
        node["proxy"] = profile;
        return node.ToJsonString();
    }

    private static int _next;

    /// <summary>A fresh system, so tests never share state: the passthrough variant of the default manifest unless given one.</summary>
    public async Task<string> NewSystemAsync(string? manifest = null)
    {
        var id = $"t-{Interlocked.Increment(ref _next)}-{Guid.NewGuid():N}"[..30];
        using var client = CreateClient();
        var body = $$"""{"id":"{{id}}","manifest":{{manifest ?? PassthroughManifest}}}""";
        var response = await client.PostAsync("/api/v1/systems", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        return id;
    }

    protected override void Dispose(bool disposing)
    {
        _channel?.Dispose();
        base.Dispose(disposing);
    }
}

/// <summary>Small helpers for the REST SMC endpoint.</summary>
public static class Rest
{
    public static async Task<JsonElement> SmcAsync(this HttpClient client, string system, object body)
    {
        var response = await client.PostAsJsonAsync($"/api/v1/systems/{system}/smc", body);
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {json}");
        return json;
    }

    public static ulong X(this JsonElement answer, int i) => Convert.ToUInt64(answer.GetProperty("x")[i].GetString(), 16);

    public static string? Decoded(this JsonElement answer, string field) =>
        answer.GetProperty("decoded").GetProperty(field).GetString();

    public static async Task<(int Status, string Detail)> ProblemAsync(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        var detail = "";
        try { detail = JsonDocument.Parse(text).RootElement.GetProperty("detail").GetString() ?? ""; } catch (JsonException) { }
        return ((int)response.StatusCode, detail);
    }
}
