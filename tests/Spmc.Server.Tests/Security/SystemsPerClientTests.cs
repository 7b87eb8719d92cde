using System.Net;
using System.Text;
using Grpc.Core;
using Spmc.Server.Security;
using Spmc.V1;

namespace Spmc.Server.Tests.Security;

/// <summary>Spmc:Quotas:MaxSystemsPerClient: per remote address, per client token; the operator exempt; the count drops on delete.</summary>
public sealed class SystemsPerClientTests
{
    private static StringContent Body() => new($$"""{"manifest":{{SpmcFactory.PassthroughManifest}}}""", Encoding.UTF8, "application/json");

    [Fact]
    public async Task Beyond_the_quota_is_429_naming_it_and_a_delete_frees_a_slot()
    {
        using var host = SecureHost.With(("Spmc:Quotas:MaxSystemsPerClient", "2"));
        var (first, firstToken) = await host.CreateAsync(token: null, remoteIp: "192.0.2.1");
        await host.CreateAsync(token: null, remoteIp: "192.0.2.1");
        using (var third = await host.Http(remoteIp: "192.0.2.1").PostAsync("/api/v1/systems", Body()))
        {
            var (status, detail) = await third.ProblemAsync();
            Assert.Equal(429, status);
            Assert.Contains("Spmc:Quotas:MaxSystemsPerClient", detail);
            Assert.Contains("ip:192.0.2.1 already holds 2 systems", detail);
        }
        await host.CreateAsync(token: null, remoteIp: "192.0.2.2");          // another address has its own count
        await host.CreateAsync(token: SecureHost.ClientToken, remoteIp: "192.0.2.1");   // a client token counts apart from its address
        for (var i = 0; i < 3; i++) await host.CreateAsync(remoteIp: "192.0.2.1");      // the operator is exempt
        using (var delete = await host.Http(firstToken).DeleteAsync($"/api/v1/systems/{first}")) Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        await host.CreateAsync(token: null, remoteIp: "192.0.2.1");
    }

    [Fact]
    public async Task Over_grpc_it_is_resource_exhausted()
    {
        using var host = SecureHost.With(("Spmc:Quotas:MaxSystemsPerClient", "1"));
        var systems = new Systems.SystemsClient(host.Channel);
        await systems.CreateAsync(new CreateSystemRequest { ManifestJson = SpmcFactory.PassthroughManifest }, SecureHost.Bearer(SecureHost.ClientToken));
        var e = await Assert.ThrowsAsync<RpcException>(() => systems.CreateAsync(new CreateSystemRequest { ManifestJson = SpmcFactory.PassthroughManifest },
            SecureHost.Bearer(SecureHost.ClientToken)).ResponseAsync);
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        Assert.Contains("client token:ci already holds 1 systems", e.Status.Detail);
    }

    [Fact]
    public async Task Mode_none_counts_remote_addresses_but_not_this_machine()
    {
        using var host = SecureHost.With(("Spmc:Auth:Mode", "none"), ("Spmc:Quotas:MaxSystemsPerClient", "1"));
        await host.CreateAsync(token: null, remoteIp: "198.51.100.7");
        using (var second = await host.Http(remoteIp: "198.51.100.7").PostAsync("/api/v1/systems", Body()))
            Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        for (var i = 0; i < 3; i++) await host.CreateAsync(token: null, remoteIp: "127.0.0.1");
        for (var i = 0; i < 2; i++) await host.CreateAsync(token: null);   // in-process: no address
    }

    [Fact]
    public async Task Zero_is_no_bound()
    {
        using var host = SecureHost.With(("Spmc:Quotas:MaxSystemsPerClient", "0"));
        for (var i = 0; i < 4; i++) await host.CreateAsync(token: null, remoteIp: "203.0.113.9");
    }

    [Fact]
    public async Task A_negative_quota_stops_the_start()
    {
        using var host = SecureHost.With(("Spmc:Quotas:MaxSystemsPerClient", "-1"));
        var e = await Assert.ThrowsAnyAsync<Exception>(() => host.Http().GetAsync("/healthz"));
        Assert.Contains("MaxSystemsPerClient", e.ToString());
    }

    [Fact]
    public void The_client_identity_is_one_function()
    {
        var http = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        http.Connection.RemoteIpAddress = IPAddress.Parse("::ffff:192.0.2.5");
        Assert.Equal("ip:192.0.2.5", ClientIdentity.Of(http));
        http.User = SpmcClaims.Principal(new System.Security.Claims.Claim(SpmcClaims.Role, SpmcClaims.ClientRole), new System.Security.Claims.Claim(SpmcClaims.Client, "ci"));
        Assert.Equal("token:ci", ClientIdentity.Of(http));
        http.User = SpmcClaims.Principal(new System.Security.Claims.Claim(SpmcClaims.Role, SpmcClaims.Operator));
        Assert.Equal("operator", ClientIdentity.Of(http));
    }
}
