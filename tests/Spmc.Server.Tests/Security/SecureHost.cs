using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Spmc.Server.Tests.Security;

/// <summary>
/// The real host in memory with access control set by configuration. A request may carry X-Test-Remote-Ip: a
/// start-up filter sets the connection's remote address from it (TestServer has none), to play several clients.
/// </summary>
public sealed class SecureHost : WebApplicationFactory<Program>
{
    public const string OperatorToken = "operator-token-for-tests-0123456789";
    public const string ClientToken = "client-token-for-tests-0123456789";
    public const string RemoteIpHeader = "X-Test-Remote-Ip";

    private readonly Dictionary<string, string?> _settings;
    private GrpcChannel? _channel;

    private SecureHost((string Key, string? Value)[] settings)
    {
        _settings = new Dictionary<string, string?>
        {
            ["Spmc:Auth:Mode"] = "tokens",
            ["Spmc:Auth:OperatorToken"] = OperatorToken,
            ["Spmc:Auth:ClientTokens:ci"] = ClientToken,
        };
        foreach (var (key, value) in settings) _settings[key] = value;
    }

    /// <summary>Mode tokens with an operator and a client token "ci" (the class fixture).</summary>
    public SecureHost() : this([]) { }

    /// <summary>A host with <paramref name="settings"/> over those of the fixture (a null value removes one).</summary>
    public static SecureHost With(params (string Key, string? Value)[] settings) => new(settings);

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in _settings) builder.UseSetting(key, value);
        builder.ConfigureServices(s => s.AddSingleton<IStartupFilter, RemoteIpFilter>());
    }

    public GrpcChannel Channel => _channel ??= GrpcChannel.ForAddress(Server.BaseAddress, new GrpcChannelOptions { HttpHandler = Server.CreateHandler() });

    /// <summary>A REST client sending <paramref name="token"/> (none when null) from <paramref name="remoteIp"/> (none when null).</summary>
    public HttpClient Http(string? token = null, string? remoteIp = null)
    {
        var client = CreateClient();
        if (token is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (remoteIp is not null) client.DefaultRequestHeaders.Add(RemoteIpHeader, remoteIp);
        return client;
    }

    public static Metadata Bearer(string? token) => token is null ? [] : new Metadata { { "authorization", "Bearer " + token } };

    /// <summary>Creates a system over REST; returns its ID and the token of the answer (null when absent).</summary>
    public async Task<(string Id, string? Token)> CreateAsync(string? token = OperatorToken, bool debug = false, string? remoteIp = null, string? id = null)
    {
        using var client = Http(token, remoteIp);
        id ??= $"s-{Guid.NewGuid():N}"[..20];
        var body = $$"""{"id":"{{id}}","debug":{{(debug ? "true" : "false")}},"manifest":{{SpmcFactory.PassthroughManifest}}}""";
        var response = await client.PostAsync("/api/v1/systems", new StringContent(body, Encoding.UTF8, "application/json"));
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{(int)response.StatusCode}: {json}");
        return (id, json.TryGetProperty("token", out var t) ? t.GetString() : null);
    }

    protected override void Dispose(bool disposing)
    {
        _channel?.Dispose();
        base.Dispose(disposing);
    }

    private sealed class RemoteIpFilter : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, nextMiddleware) =>
            {
                if (context.Request.Headers[RemoteIpHeader] is [{ } ip]) context.Connection.RemoteIpAddress = IPAddress.Parse(ip);
                return nextMiddleware(context);
            });
            next(app);
        };
    }
}
