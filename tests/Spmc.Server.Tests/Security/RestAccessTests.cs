using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Spmc.Server.Tests.Security;

/// <summary>
/// Every REST route of a system, taken from the host's endpoint data source (a new route cannot be missed): refused
/// without a token (401 + WWW-Authenticate) and with another system's token (403 naming the system), let in with
/// the system's own token and with the operator token.
/// </summary>
public sealed class RestAccessTests(SecureHost host) : IClassFixture<SecureHost>
{
    /// <summary>Each route with an {id}: method and pattern, e.g. ("PUT", "/api/v1/systems/{id}/memory/{address}").</summary>
    private List<(string Method, string Pattern)> SystemRoutes()
    {
        _ = host.Server;
        var routes = host.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.GetParameter("id") is not null && e.RoutePattern.RawText!.StartsWith("/api/v1/systems", StringComparison.Ordinal))
            .SelectMany(e => (e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()?.HttpMethods ?? ["GET"]).Select(m => (m, e.RoutePattern.RawText!)))
            .Distinct().OrderBy(r => r.Item2, StringComparer.Ordinal).ThenBy(r => r.m, StringComparer.Ordinal).ToList();
        return routes;
    }

    private static HttpRequestMessage Request(string method, string pattern, string id)
    {
        var path = pattern.Replace("{id}", id, StringComparison.Ordinal).Replace("{address}", "0x80000000", StringComparison.Ordinal)
            .Replace("{handle}", "1", StringComparison.Ordinal).Replace("{ruleId}", "1", StringComparison.Ordinal);
        var query = path.Contains("/memory/", StringComparison.Ordinal) ? "?as=0x0&length=4" : "";
        var request = new HttpRequestMessage(new HttpMethod(method), path.TrimEnd('/') + query);
        if (method is "POST" or "PUT") request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
        return request;
    }

    [Fact]
    public void The_route_list_covers_every_kind_of_system_route()
    {
        var patterns = SystemRoutes().Select(r => $"{r.Method} {r.Pattern}").ToList();
        foreach (var expected in new[]
                 {
                     "GET /api/v1/systems/{id}", "DELETE /api/v1/systems/{id}", "POST /api/v1/systems/{id}/smc", "GET /api/v1/systems/{id}/memory/{address}",
                     "PUT /api/v1/systems/{id}/memory/{address}", "GET /api/v1/systems/{id}/state", "GET /api/v1/systems/{id}/trace",
                     "GET /api/v1/systems/{id}/snapshot", "POST /api/v1/systems/{id}/restore", "POST /api/v1/systems/{id}/reset",
                 })
            Assert.Contains(expected, patterns);
        Assert.Contains(patterns, p => p.Contains("/faults", StringComparison.Ordinal));
        Assert.True(patterns.Count >= 15, string.Join("\n", patterns));
    }

    [Fact]
    public async Task Every_system_route_is_refused_without_a_token()
    {
        var (id, _) = await host.CreateAsync();
        using var client = host.Http();
        foreach (var (method, pattern) in SystemRoutes())
        {
            using var response = await client.SendAsync(Request(method, pattern, id));
            var (status, detail) = await response.ProblemAsync();
            Assert.True(status == 401, $"{method} {pattern}: {status} {detail}");
            Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
            Assert.Contains("Bearer token is required", detail);
        }
    }

    [Fact]
    public async Task Every_system_route_is_refused_with_another_systems_token()
    {
        var (id, _) = await host.CreateAsync();
        var (other, otherToken) = await host.CreateAsync();
        using var client = host.Http(otherToken);
        foreach (var (method, pattern) in SystemRoutes())
        {
            using var response = await client.SendAsync(Request(method, pattern, id));
            var (status, detail) = await response.ProblemAsync();
            Assert.True(status == 403, $"{method} {pattern}: {status} {detail}");
            Assert.Contains($"the token is for system '{other}'", detail);
            Assert.Contains($"system '{id}' needs its own token or the operator token", detail);
        }
        using var still = await host.Http(SecureHost.OperatorToken).GetAsync($"/api/v1/systems/{id}");
        Assert.Equal(HttpStatusCode.OK, still.StatusCode);
    }

    [Fact]
    public async Task A_wrong_token_is_401_invalid_token()
    {
        var (id, _) = await host.CreateAsync();
        using var response = await host.Http("not-a-token").GetAsync($"/api/v1/systems/{id}/state");
        var (status, detail) = await response.ProblemAsync();
        Assert.Equal(401, status);
        Assert.Contains("invalid_token", response.Headers.WwwAuthenticate.ToString());
        Assert.Contains("not known", detail);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Every_system_route_lets_in_its_own_token_and_the_operator(bool asOperator)
    {
        foreach (var (method, pattern) in SystemRoutes())
        {
            // A fresh system per route (one of them deletes it); snapshots and restores need the debug capability.
            var (id, token) = await host.CreateAsync(debug: pattern.EndsWith("/snapshot", StringComparison.Ordinal) || pattern.EndsWith("/restore", StringComparison.Ordinal));
            using var client = host.Http(asOperator ? SecureHost.OperatorToken : token);
            using var response = await client.SendAsync(Request(method, pattern, id));
            var status = (int)response.StatusCode;
            Assert.True(status is not (401 or 403 or 500), $"{method} {pattern}: {status} {await response.Content.ReadAsStringAsync()}");
        }
    }

    [Fact]
    public async Task Health_metrics_and_the_openapi_document_stay_open()
    {
        using var client = host.Http();
        foreach (var path in new[] { "/healthz", "/openapi/v1.json", "/metrics" })
        {
            using var response = await client.GetAsync(path);
            Assert.True(response.StatusCode is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden), $"{path}: {(int)response.StatusCode}");
        }
    }

    [Fact]
    public async Task The_openapi_document_declares_the_bearer_scheme_on_every_system_route()
    {
        var doc = await host.Http().GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        Assert.Equal("bearer", doc.GetProperty("components").GetProperty("securitySchemes").GetProperty("Bearer").GetProperty("scheme").GetString());
        foreach (var (method, pattern) in SystemRoutes())
        {
            var operation = doc.GetProperty("paths").GetProperty(pattern.TrimEnd('/')).GetProperty(method.ToLowerInvariant());
            Assert.True(operation.TryGetProperty("security", out var security) && security[0].TryGetProperty("Bearer", out _), $"{method} {pattern}");
        }
    }

    [Fact]
    public async Task Creating_is_open_and_answers_the_token_once()
    {
        var (id, token) = await host.CreateAsync(token: null);
        Assert.NotNull(token);
        Assert.Equal(43, token.Length);   // 32 bytes as base64url, no padding
        using var client = host.Http(token);
        var info = await client.GetFromJsonAsync<JsonElement>($"/api/v1/systems/{id}");
        Assert.False(info.TryGetProperty("token", out _));
        using var delete = await client.DeleteAsync($"/api/v1/systems/{id}");
        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        using var after = await client.GetAsync($"/api/v1/systems/{id}");
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);   // the token went with its system
    }

    [Fact]
    public async Task Listing_shows_what_the_token_opens()
    {
        var (mine, token) = await host.CreateAsync(token: null);
        var (byClient, _) = await host.CreateAsync(token: SecureHost.ClientToken);
        using (var anonymous = await host.Http().GetAsync("/api/v1/systems")) Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal([mine], await Ids(host.Http(token)));
        Assert.Equal([byClient], await Ids(host.Http(SecureHost.ClientToken)));
        var all = await Ids(host.Http(SecureHost.OperatorToken));
        Assert.Contains("default", all);
        Assert.Contains(mine, all);
        Assert.Contains(byClient, all);

        static async Task<List<string>> Ids(HttpClient client)
        {
            using (client)
                return (await client.GetFromJsonAsync<JsonElement>("/api/v1/systems")).EnumerateArray().Select(s => s.GetProperty("id").GetString()!).ToList();
        }
    }

    [Fact]
    public async Task The_operator_manages_the_start_up_system()
    {
        using (var anonymous = await host.Http().GetAsync("/api/v1/systems/default/state")) Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        var (_, token) = await host.CreateAsync(token: null);
        using (var other = await host.Http(token).GetAsync("/api/v1/systems/default/state")) Assert.Equal(HttpStatusCode.Forbidden, other.StatusCode);
        using var op = await host.Http(SecureHost.OperatorToken).GetAsync("/api/v1/systems/default/state");
        Assert.Equal(HttpStatusCode.OK, op.StatusCode);
    }
}
