using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Grpc.Core;
using Spmc.V1;

namespace Spmc.Container.Tests;

/// <summary>The image has access tokens on (it binds 0.0.0.0): anonymous callers reach only health and creation.</summary>
[Collection(ContainerCollection.Name)]
public sealed class ContainerAccessTests(SpmcContainerFixture fx)
{
    [Fact]
    public async Task Anonymous_callers_are_refused_and_a_created_systems_token_opens_it()
    {
        using var anonymous = new HttpClient { BaseAddress = fx.RestAddress, Timeout = TimeSpan.FromSeconds(30) };
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/healthz")).StatusCode);
        var refused = await anonymous.GetAsync("/api/v1/systems/default/state");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal("Bearer", refused.Headers.WwwAuthenticate.Single().Scheme);

        using var grpc = SpmcContainerFixture.Channel(fx.GrpcAddress, token: null);
        var systems = new Systems.SystemsClient(grpc);
        var e = await Assert.ThrowsAsync<RpcException>(() => systems.ListAsync(new ListSystemsRequest(), deadline: DateTime.UtcNow.AddSeconds(30)).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, e.StatusCode);

        using var op = SpmcContainerFixture.Channel(fx.GrpcAddress);
        var manifest = (await new Systems.SystemsClient(op).GetAsync(new GetSystemRequest { Id = "default" })).ManifestJson;
        var created = await systems.CreateAsync(new CreateSystemRequest { Id = $"ct-token-{fx.RunId}", ManifestJson = manifest });
        Assert.Equal(43, created.Token.Length);
        using var own = new HttpClient(new SpmcContainerFixture.BearerHandler(created.Token) { InnerHandler = new HttpClientHandler() })
        {
            BaseAddress = fx.RestAddress,
            Timeout = TimeSpan.FromSeconds(30),
        };
        var answer = await own.PostAsJsonAsync($"/api/v1/systems/{created.Id}/smc", new JsonObject { ["caller"] = "0x0", ["x"] = new JsonArray("0x84000063", "0x10002") });
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await own.GetAsync("/api/v1/systems/default/state")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await own.DeleteAsync($"/api/v1/systems/{created.Id}")).StatusCode);
    }
}
