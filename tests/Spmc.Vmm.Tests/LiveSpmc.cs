using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Spmc.Vmm.Tests;

/// <summary>
/// The real host listening on loopback TCP (Kestrel, not TestServer): QEMU and the C client are separate processes
/// and need a socket. REST and gRPC get free ports chosen at start.
/// </summary>
public sealed class LiveSpmc : WebApplicationFactory<Program>
{
    private readonly int[] _ports = [FreePort(), FreePort()];
    private static int _next;

    public LiveSpmc()
    {
        UseKestrel();
        StartServer();
    }

    /// <summary>The REST base URL, e.g. http://127.0.0.1:40123.</summary>
    public string Url => $"http://127.0.0.1:{_ports[0]}";

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

    /// <summary>Creates a system from the qemu-virt manifest with <paramref name="proxy"/> in front; returns its ID.</summary>
    /// <param name="edit">"no-echo" takes the echo partition's behaviour away (its requests are then BUSY).</param>
    public async Task<string> NewQemuSystemAsync(string proxy, string? edit = null)
    {
        var manifest = JsonNode.Parse(File.ReadAllText(Repo.Path("examples", "manifests", "qemu-virt.json")))!.AsObject();
        manifest["proxy"] = proxy;
        if (edit == "no-echo") manifest["partitions"]![0]!.AsObject().Remove("behaviour");
        else if (edit is not null) throw new ArgumentException($"unknown manifest edit '{edit}'", nameof(edit));
        var id = $"vmm-{Interlocked.Increment(ref _next)}-{proxy}";
        using var http = Http();
        var response = await http.PostAsJsonAsync("/api/v1/systems", new { id, manifest });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return id;
    }

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
