using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Spmc.Cli.Tests;

/// <summary>
/// The real host on loopback TCP (Kestrel, not TestServer), the way a user starts it: the CLI's gRPC channel
/// needs a socket. Ports are chosen free at start; one server is shared by the tests of <see cref="CliCollection"/>,
/// each of which works on its own system.
/// </summary>
public sealed class CliServer : WebApplicationFactory<global::Program>
{
    private readonly int _rest = FreePort(), _grpc = FreePort();
    private static int _next;

    public CliServer()
    {
        UseKestrel();
        StartServer();
    }

    /// <summary>The server's default manifest, as the build copies it next to the tests.</summary>
    public static string DefaultManifest { get; } = Path.Combine(AppContext.BaseDirectory, "manifests", "default.json");

    /// <summary>The gRPC URL, what --url takes.</summary>
    public string GrpcUrl => $"http://127.0.0.1:{_grpc}";

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Kestrel:Endpoints:Rest:Url", $"http://127.0.0.1:{_rest}");
        builder.UseSetting("Kestrel:Endpoints:Grpc:Url", GrpcUrl);
    }

    /// <summary>A port nothing listens on once this returns (what an unreachable service looks like).</summary>
    public static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }

    /// <summary>Runs `spmc ARGS --url this server` in-process: exit code, stdout, stderr.</summary>
    public Task<CliRun> RunAsync(params string[] args) => RunAsync(args, null);

    /// <summary>As <see cref="RunAsync(string[])"/>, stderr going to <paramref name="error"/> (to see a line as it comes).</summary>
    public async Task<CliRun> RunAsync(string[] args, StringWriter? error, CancellationToken ct = default)
    {
        var stdout = new StringWriter();
        var stderr = error ?? new StringWriter();
        var code = await SpmcCli.RunAsync(args, stdout, stderr, GrpcUrl, ct);
        return new CliRun(code, stdout.ToString()!, stderr.ToString());
    }

    /// <summary>A fresh system from the default manifest, named uniquely; its ID.</summary>
    public async Task<string> NewSystemAsync(string prefix = "cli")
    {
        var id = $"{prefix}-{Interlocked.Increment(ref _next)}";
        var run = await RunAsync("systems", "create", DefaultManifest, "--id", id);
        Assert.Equal(0, run.Code);
        return id;
    }
}

/// <summary>What one CLI run printed.</summary>
public sealed record CliRun(int Code, string Out, string Err)
{
    public string[] Lines => Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
}

[CollectionDefinition(Name)]
public sealed class CliCollection : ICollectionFixture<CliServer>
{
    public const string Name = "cli server";
}
