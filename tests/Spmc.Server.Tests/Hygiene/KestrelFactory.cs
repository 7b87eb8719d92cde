using System.Net;
using System.Net.Sockets;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Spmc.Server.Tests.Hygiene;

/// <summary>
/// The real host on real Kestrel sockets (loopback, free ports), so HTTP/2 framing, trailers and connection limits are
/// those a client meets. <paramref name="settings"/> override configuration (e.g. Kestrel:Limits:...).
/// </summary>
public sealed class KestrelFactory : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> _settings;
    private GrpcChannel? _channel;

    public KestrelFactory() : this([]) { }

    private KestrelFactory(Dictionary<string, string?> settings)
    {
        RestPort = FreePort();
        GrpcPort = FreePort();
        _settings = new(settings)
        {
            ["Kestrel:Endpoints:Rest:Url"] = $"http://127.0.0.1:{RestPort}",
            ["Kestrel:Endpoints:Grpc:Url"] = $"http://127.0.0.1:{GrpcPort}",
        };
        UseKestrel();
        StartServer();
    }

    /// <summary>A host with these configuration settings (the caller disposes it).</summary>
    public static KestrelFactory With(Dictionary<string, string?> settings) => new(settings);

    public int RestPort { get; }
    public int GrpcPort { get; }

    public GrpcChannel Channel => _channel ??= GrpcChannel.ForAddress($"http://127.0.0.1:{GrpcPort}");

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in _settings) builder.UseSetting(key, value);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    protected override void Dispose(bool disposing)
    {
        _channel?.Dispose();
        base.Dispose(disposing);
    }
}
