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
/// that run other programs (or the CLI, or shell commands) against the server: linked from tests/Shared, not copied;
/// a project's fixture derives from it to add its own helpers.
/// </summary>
public class LiveSpmc : WebApplicationFactory<Program>
{
    public LiveSpmc()
    {
        UseKestrel();
        StartServer();
    }

    public int RestPort { get; } = FreePort();

    public int GrpcPort { get; } = FreePort();

    /// <summary>The REST base URL, e.g. http://127.0.0.1:40123.</summary>
    public string Url => $"http://127.0.0.1:{RestPort}";

    /// <summary>The gRPC URL (what Spmc.Client and the CLI's --url take), e.g. http://127.0.0.1:40124.</summary>
    public string GrpcUrl => $"http://127.0.0.1:{GrpcPort}";

    /// <summary>The gRPC endpoint as host:port (what grpc clients take), e.g. 127.0.0.1:40124.</summary>
    public string GrpcTarget => $"127.0.0.1:{GrpcPort}";

    /// <summary>The server's default manifest, as the build copies it next to the tests.</summary>
    public static string DefaultManifest { get; } = System.IO.Path.Combine(AppContext.BaseDirectory, "manifests", "default.json");

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Kestrel:Endpoints:Rest:Url", Url);
        builder.UseSetting("Kestrel:Endpoints:Grpc:Url", GrpcUrl);
    }

    /// <summary>A port nothing listens on once this returns (also what an unreachable service looks like).</summary>
    public static int FreePort()
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
