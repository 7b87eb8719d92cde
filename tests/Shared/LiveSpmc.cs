using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Spmc.Tests.Shared;

/// <summary>
/// The real host listening on loopback TCP (Kestrel, not TestServer): QEMU, the C client and the Python client are
/// separate processes and need a socket. REST and gRPC get free ports chosen at start. Shared by the test projects
/// that run other programs against the server (linked from tests/Shared, not copied).
/// </summary>
public sealed class LiveSpmc : WebApplicationFactory<Program>
{
    private readonly int[] _ports = [FreePort(), FreePort()];

    public LiveSpmc()
    {
        UseKestrel();
        StartServer();
    }

    /// <summary>The REST base URL, e.g. http://127.0.0.1:40123.</summary>
    public string Url => $"http://127.0.0.1:{_ports[0]}";

    /// <summary>The gRPC endpoint as host:port (what grpc clients take), e.g. 127.0.0.1:40124.</summary>
    public string GrpcTarget => $"127.0.0.1:{_ports[1]}";

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Kestrel:Endpoints:Rest:Url", $"http://127.0.0.1:{_ports[0]}");
        builder.UseSetting("Kestrel:Endpoints:Grpc:Url", $"http://127.0.0.1:{_ports[1]}");
    }

    private static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }

    /// <summary>A REST client on the real socket.</summary>
    public HttpClient Http() => new() { BaseAddress = new Uri(Url), Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>The system's state document (GET /api/v1/systems/{id}/state).</summary>
    public async Task<JsonElement> StateAsync(string id)
    {
        using var http = Http();
        return await http.GetFromJsonAsync<JsonElement>($"/api/v1/systems/{id}/state");
    }
}

/// <summary>Paths in the repository this test runs from.</summary>
public static class Repo
{
    public static string Root { get; } = FindRoot();

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Spmc.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no Spmc.sln above {AppContext.BaseDirectory}");
    }
}
