using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;

namespace Spmc.Server.Tests.TraceApi;

/// <summary>The host in memory with recordings in a private temporary directory and a 1 MiB replay limit.</summary>
public sealed class TraceFactory : WebApplicationFactory<Program>
{
    public const int MaxReplayBytes = 1 << 20;

    private GrpcChannel? _channel;
    private static int _next;

    public string TraceDirectory { get; } = Path.Combine(Path.GetTempPath(), $"spmc-traces-{Guid.NewGuid():N}");

    public GrpcChannel Channel => _channel ??= GrpcChannel.ForAddress(Server.BaseAddress,
        new GrpcChannelOptions { HttpHandler = Server.CreateHandler() });

    protected override void ConfigureWebHost(IWebHostBuilder builder) =>
        builder.ConfigureAppConfiguration(c => c.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Spmc:Traces:Directory"] = TraceDirectory,
            ["Spmc:Traces:MaxReplayBytes"] = MaxReplayBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }));

    /// <summary>A fresh system (the passthrough variant of the default manifest), recording when asked.</summary>
    public async Task<string> NewSystemAsync(bool record = false)
    {
        var id = $"tr-{Interlocked.Increment(ref _next)}-{Guid.NewGuid():N}"[..30];
        using var client = CreateClient();
        var body = new JsonObject { ["id"] = id, ["manifest"] = JsonNode.Parse(SpmcFactory.PassthroughManifest), ["record"] = record };
        var response = await client.PostAsync("/api/v1/systems", new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return id;
    }

    protected override void Dispose(bool disposing)
    {
        _channel?.Dispose();
        base.Dispose(disposing);
        try { if (Directory.Exists(TraceDirectory)) Directory.Delete(TraceDirectory, recursive: true); }
        catch (IOException) { }
    }
}
