using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Spmc.Client;

namespace Spmc.Docs.Tests;

/// <summary>
/// The real host on loopback TCP (Kestrel, not TestServer) on free ports, as a user starts it, so that the
/// examples' shell commands (curl, the spmc CLI) reach it as they would reach `dotnet run --project src/Spmc.Server`.
/// </summary>
public sealed class DocsServer : WebApplicationFactory<global::Program>
{
    public DocsServer()
    {
        UseKestrel();
        StartServer();
    }

    public int RestPort { get; } = FreePort();

    public int GrpcPort { get; } = FreePort();

    public string GrpcUrl => $"http://127.0.0.1:{GrpcPort}";

    /// <summary>The server's default manifest, as the build copies it next to the tests.</summary>
    public static string DefaultManifest { get; } = Path.Combine(AppContext.BaseDirectory, "manifests", "default.json");

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Kestrel:Endpoints:Rest:Url", $"http://127.0.0.1:{RestPort}");
        builder.UseSetting("Kestrel:Endpoints:Grpc:Url", GrpcUrl);
    }

    /// <summary>Back to the server as just started: every system deleted, `default` created from the default manifest.</summary>
    public async Task FreshAsync()
    {
        using var client = new SpmcClient(GrpcUrl);
        foreach (var system in await client.ListSystemsAsync()) await client.DeleteSystemAsync(system.Id);
        await client.CreateSystemFromFileAsync(DefaultManifest, "default");
    }

    private static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }
}
