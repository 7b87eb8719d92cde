using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Spmc.Server.Hosting;

namespace Spmc.Server.Tests.Hygiene;

/// <summary>Kestrel:Limits reaches Kestrel, and idle or excess connections on the gRPC port are closed by the server.</summary>
public sealed class KestrelLimitsTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    /// <summary>The HTTP/2 client preface and an empty SETTINGS frame (RFC 9113 §3.4).</summary>
    private static readonly byte[] Preface =
        [.. "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray(), 0, 0, 0, 4, 0, 0, 0, 0, 0];

    private static async Task<Socket> OpenHttp2Async(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, port);
        await socket.SendAsync(Preface);
        return socket;
    }

    /// <summary>Reads frames until the server closes the connection; the frame types seen, in order.</summary>
    private static async Task<List<byte>> ReadUntilClosedAsync(Socket socket, TimeSpan bound)
    {
        using var timeout = new CancellationTokenSource(bound);
        var data = new List<byte>();
        var buffer = new byte[4096];
        try
        {
            while (true)
            {
                var n = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
                if (n == 0) break;
                data.AddRange(buffer.AsSpan(0, n));
            }
        }
        catch (SocketException) { } // reset: closed too
        var types = new List<byte>();
        for (var at = 0; at + 9 <= data.Count; at += 9 + (data[at] << 16 | data[at + 1] << 8 | data[at + 2])) types.Add(data[at + 3]);
        return types;
    }

    [Fact]
    public async Task IdleHttp2Connection_IsClosedWithGoAway_AfterTheKeepAliveTimeout()
    {
        using var host = KestrelFactory.With(new() { ["Kestrel:Limits:KeepAliveTimeout"] = "00:00:02" });
        using var socket = await OpenHttp2Async(host.GrpcPort);
        var frames = await ReadUntilClosedAsync(socket, Bound);
        Assert.Equal(4, frames[0]);     // the server's SETTINGS
        Assert.Contains((byte)7, frames); // GOAWAY, then the close
    }

    [Fact]
    public async Task ConnectionsOverTheCap_AreClosed_AndTheOthersServed()
    {
        using var host = KestrelFactory.With(new() { ["Kestrel:Limits:MaxConcurrentConnections"] = "2" });
        using var first = await OpenHttp2Async(host.GrpcPort);
        using var second = await OpenHttp2Async(host.GrpcPort);
        var buffer = new byte[9];
        Assert.True(await first.ReceiveAsync(buffer) > 0); // SETTINGS: both are served
        Assert.True(await second.ReceiveAsync(buffer) > 0);
        using var third = await OpenHttp2Async(host.GrpcPort);
        var frames = await ReadUntilClosedAsync(third, Bound);
        Assert.Empty(frames); // closed without a single frame
    }

    /// <summary>A duplex stream sends nothing while its partition has nothing to say: the body rate must not end it.</summary>
    [Fact]
    public async Task QuietDuplexStream_OutlivesTheRequestBodyRate()
    {
        using var host = KestrelFactory.With(new()
        {
            ["Kestrel:Limits:MinRequestBodyDataRate:BytesPerSecond"] = "100000",
            ["Kestrel:Limits:MinRequestBodyDataRate:GracePeriod"] = "00:00:02",
        });
        var system = (await new V1.Systems.SystemsClient(host.Channel).CreateAsync(new V1.CreateSystemRequest { ManifestJson = SpmcFactory.PassthroughManifest })).Id;
        using var session = new V1.SmcGateway.SmcGatewayClient(host.Channel).Session();
        await Task.Delay(TimeSpan.FromSeconds(5)); // two and a half grace periods of silence
        var version = new V1.SmcRequest { SystemId = system, Tag = 1 };
        version.X.Add(0x84000063); // FFA_VERSION
        version.X.Add(0x10002);
        await session.RequestStream.WriteAsync(version);
        Assert.True(await session.ResponseStream.MoveNext(CancellationToken.None).WaitAsync(Bound));
        Assert.Equal(1UL, session.ResponseStream.Current.Tag);
        await session.RequestStream.CompleteAsync();
    }

    [Fact]
    public void Configuration_ReachesKestrel()
    {
        using var host = KestrelFactory.With(new()
        {
            ["Kestrel:Limits:KeepAliveTimeout"] = "00:00:40",
            ["Kestrel:Limits:RequestHeadersTimeout"] = "00:00:07",
            ["Kestrel:Limits:MaxConcurrentConnections"] = "",
            ["Kestrel:Limits:MinRequestBodyDataRate:BytesPerSecond"] = "0",
            ["Kestrel:Limits:MinResponseDataRate:BytesPerSecond"] = "1000",
            ["Kestrel:Limits:MinResponseDataRate:GracePeriod"] = "00:00:03",
            ["Kestrel:Limits:Http2:MaxStreamsPerConnection"] = "16",
            ["Kestrel:Limits:Http2:KeepAlivePingDelay"] = "00:00:10",
            ["Kestrel:Limits:Http2:KeepAlivePingTimeout"] = "00:00:05",
        });
        var limits = host.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits;
        Assert.Equal(TimeSpan.FromSeconds(40), limits.KeepAliveTimeout);
        Assert.Equal(TimeSpan.FromSeconds(7), limits.RequestHeadersTimeout);
        Assert.Null(limits.MaxConcurrentConnections);
        Assert.Null(limits.MinRequestBodyDataRate);
        Assert.Equal(1000, limits.MinResponseDataRate!.BytesPerSecond);
        Assert.Equal(TimeSpan.FromSeconds(3), limits.MinResponseDataRate.GracePeriod);
        Assert.Equal(16, limits.Http2.MaxStreamsPerConnection);
        Assert.Equal(TimeSpan.FromSeconds(10), limits.Http2.KeepAlivePingDelay);
        Assert.Equal(TimeSpan.FromSeconds(5), limits.Http2.KeepAlivePingTimeout);
    }

    [Fact]
    public void Defaults_AreTheDocumentedOnes()
    {
        var limits = new KestrelServerLimits();
        KestrelLimits.Apply(limits, new ConfigurationBuilder().Build());
        Assert.Equal(TimeSpan.FromMinutes(2), limits.KeepAliveTimeout);
        Assert.Equal(TimeSpan.FromSeconds(15), limits.RequestHeadersTimeout);
        Assert.Equal(1000, limits.MaxConcurrentConnections);
        Assert.Equal(240, limits.MinRequestBodyDataRate!.BytesPerSecond);
        Assert.Equal(240, limits.MinResponseDataRate!.BytesPerSecond);
        Assert.Equal(100, limits.Http2.MaxStreamsPerConnection);
        Assert.Equal(TimeSpan.FromSeconds(30), limits.Http2.KeepAlivePingDelay);
        Assert.Equal(TimeSpan.FromSeconds(20), limits.Http2.KeepAlivePingTimeout);
    }

    [Theory]
    [InlineData("KeepAliveTimeout", "soon")]
    [InlineData("KeepAliveTimeout", "-00:00:01")]
    [InlineData("MaxConcurrentConnections", "-1")]
    [InlineData("Http2:MaxStreamsPerConnection", "0")]
    [InlineData("MinResponseDataRate:BytesPerSecond", "-5")]
    public void BadValue_StopsStartUp_NamingTheKey(string key, string value)
    {
        var section = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [key] = value }).Build();
        var e = Assert.Throws<InvalidOperationException>(() => KestrelLimits.Apply(new KestrelServerLimits(), section));
        Assert.Contains($"Kestrel:Limits:{key.Split(':')[0]}", e.Message);
    }
}
