using System.Net;
using Microsoft.Extensions.Configuration;
using Spmc.Server.Security;

namespace Spmc.Server.Tests.Security;

/// <summary>The mode: chosen by the bind addresses when unset, explicit none and tokens, and refused settings.</summary>
public sealed class ModeTests
{
    private static AuthSettings Settings(string? mode, params string[] urls) =>
        new(new AuthOptions { Mode = mode ?? "" }, urls);

    [Theory]
    [InlineData("http://127.0.0.1:5080", true)]
    [InlineData("http://localhost:5080", true)]
    [InlineData("http://[::1]:5081", true)]
    [InlineData("http://127.0.0.2:5081", true)]
    [InlineData("http://0.0.0.0:5080", false)]
    [InlineData("http://*:5080", false)]
    [InlineData("http://+:5080", false)]
    [InlineData("http://[::]:5080", false)]
    [InlineData("http://spmc.example:5080", false)]
    [InlineData("http://10.1.2.3:5080", false)]
    public void Loopback_urls(string url, bool loopback) => Assert.Equal(loopback, AuthSettings.IsLoopbackUrl(url));

    [Fact]
    public void Unset_is_none_on_loopback_and_tokens_otherwise()
    {
        var loopback = Settings(null, "http://127.0.0.1:5080", "http://127.0.0.1:5081");
        Assert.Equal(AuthMode.None, loopback.Mode);
        Assert.True(loopback.Automatic);
        var open = Settings(null, "http://127.0.0.1:5080", "http://0.0.0.0:5081");
        Assert.Equal(AuthMode.Tokens, open.Mode);
        Assert.Contains("http://0.0.0.0:5081 is not loopback", open.Describe());
        Assert.Equal(AuthMode.None, Settings(null).Mode);   // Kestrel's default: localhost
    }

    [Fact]
    public void Explicit_modes_win_over_the_bind_address()
    {
        var none = Settings("none", "http://0.0.0.0:5080");
        Assert.Equal(AuthMode.None, none.Mode);
        Assert.Equal(["http://0.0.0.0:5080"], none.NonLoopback);   // logged as a warning at start
        Assert.Equal(AuthMode.Tokens, Settings("Tokens", "http://127.0.0.1:5080").Mode);
    }

    [Fact]
    public void Bound_urls_come_from_the_kestrel_endpoints_or_urls()
    {
        var kestrel = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Kestrel:Endpoints:Rest:Url"] = "http://0.0.0.0:5080",
            ["Kestrel:Endpoints:Grpc:Url"] = "http://127.0.0.1:5081",
            ["urls"] = "http://127.0.0.1:1",
        }).Build();
        Assert.Equal(AuthMode.Tokens, AuthSettings.From(kestrel).Mode);
        var urls = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["urls"] = "http://localhost:1;http://[::1]:2" }).Build();
        Assert.Equal(AuthMode.None, AuthSettings.From(urls).Mode);
    }

    [Theory]
    [InlineData("http_ports", "8080")]          // ASPNETCORE_HTTP_PORTS, as the aspnet base image sets: every interface
    [InlineData("https_ports", "8443")]
    public void Hosting_ports_bind_every_interface_so_unset_is_tokens(string key, string ports)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [key] = ports }).Build();
        Assert.Equal(AuthMode.Tokens, AuthSettings.From(configuration).Mode);
    }

    [Fact]
    public void Preferred_hosting_urls_count_beside_the_kestrel_endpoints()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Kestrel:Endpoints:Rest:Url"] = "http://127.0.0.1:5080",
            ["urls"] = "http://0.0.0.0:5090",
            ["preferHostingUrls"] = "true",
        }).Build();
        Assert.Equal(AuthMode.Tokens, AuthSettings.From(configuration).Mode);
    }

    [Theory]
    [InlineData("Spmc:Auth:Mode", "open", "neither none nor tokens")]
    [InlineData("Spmc:Auth:OperatorToken", "short", "at least 16 characters")]
    [InlineData("Spmc:Auth:OperatorToken", "replace-me-with-a-random-token-of-32-characters", "still the placeholder of deploy/secret.yaml")]
    public async Task A_bad_setting_stops_the_first_request_naming_it(string key, string value, string message)
    {
        using var host = SecureHost.With((key, value));
        var e = await Assert.ThrowsAnyAsync<Exception>(async () => await host.Http().GetAsync("/api/v1/systems"));
        Assert.Contains(message, e.ToString());
        Assert.Contains(key, e.ToString());
    }

    [Fact]
    public async Task Unset_mode_on_a_public_bind_is_tokens()
    {
        using var host = SecureHost.With(("Spmc:Auth:Mode", null), ("Kestrel:Endpoints:Rest:Url", "http://0.0.0.0:5080"));
        using var response = await host.Http().GetAsync("/api/v1/systems/default/state");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Mode_none_is_open_as_before_and_answers_no_token()
    {
        using var host = SecureHost.With(("Spmc:Auth:Mode", "none"), ("Kestrel:Endpoints:Rest:Url", "http://0.0.0.0:5080"));
        using var state = await host.Http().GetAsync("/api/v1/systems/default/state");
        Assert.Equal(HttpStatusCode.OK, state.StatusCode);
        var (id, token) = await host.CreateAsync(token: null);
        Assert.Null(token);
        using var spmc = await host.Http().GetAsync($"/api/v1/systems/{id}/memory/0x80000000?length=4&as=0x8000");
        Assert.Equal(HttpStatusCode.OK, spmc.StatusCode);   // memory as the SPMC, as today
        using var delete = await host.Http().DeleteAsync($"/api/v1/systems/{id}");
        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
    }
}
