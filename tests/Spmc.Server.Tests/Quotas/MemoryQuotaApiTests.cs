using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Spmc.V1;

namespace Spmc.Server.Tests.Quotas;

/// <summary>The memory quotas over REST (429, problem+json naming the quota) and gRPC (ResourceExhausted); nothing written.</summary>
public sealed class MemoryQuotaApiTests
{
    private const int Page = 4096;
    private const ulong Base = 0x8000_0000;

    /// <summary>A host with its own quotas (no default system, so the total is this test's alone).</summary>
    private static WebApplicationFactory<Program> Host(long perSystem, long total) => new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
    {
        b.UseSetting("Spmc:DefaultManifest", "");
        b.UseSetting("Spmc:Quotas:MaxResidentBytesPerSystem", perSystem.ToString(System.Globalization.CultureInfo.InvariantCulture));
        b.UseSetting("Spmc:Quotas:MaxResidentBytesTotal", total.ToString(System.Globalization.CultureInfo.InvariantCulture));
    });

    private static async Task Create(HttpClient client, string id)
    {
        var body = $$"""{"id":"{{id}}","manifest":{{SpmcFactory.PassthroughManifest}}}""";
        var response = await client.PostAsync("/api/v1/systems", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    private static Task<HttpResponseMessage> Put(HttpClient client, string id, ulong address, int pages) =>
        client.PutAsJsonAsync($"/api/v1/systems/{id}/memory/0x{address:X}?as=0x0",
            new { data = Convert.ToBase64String(Enumerable.Repeat((byte)0x5A, pages * Page).ToArray()) });

    private static async Task<byte[]> Get(HttpClient client, string id, ulong address, int length)
    {
        var json = await client.GetFromJsonAsync<JsonElement>($"/api/v1/systems/{id}/memory/0x{address:X}?length={length}&as=0x0");
        return Convert.FromBase64String(json.GetProperty("data").GetString()!);
    }

    [Fact]
    public async Task Rest_WriteBeyondThePerSystemQuota_Is429_NamingIt_AndWritesNothing()
    {
        using var host = Host(2 * Page, 0);
        var client = host.CreateClient();
        await Create(client, "q");
        Assert.Equal(HttpStatusCode.NoContent, (await Put(client, "q", Base, 1)).StatusCode);
        var refused = await Put(client, "q", Base + 4 * Page, 2);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Contains("MaxResidentBytesPerSystem", await refused.Content.ReadAsStringAsync());
        Assert.All(await Get(client, "q", Base + 4 * Page, 2 * Page), b => Assert.Equal(0, b));
    }

    [Fact]
    public async Task Replay_CountsAgainstTheTotalQuota_StopsAtTheRefusedWrite_AndGivesItsPagesBack()
    {
        using var host = Host(0, 4 * Page);
        var client = host.CreateClient();
        await Create(client, "r");
        Assert.Equal(HttpStatusCode.NoContent, (await Put(client, "r", Base, 1)).StatusCode);
        var trace = await client.GetStringAsync("/api/v1/systems/r/trace");
        // One page live and one replayed fit the four-page total.
        var fits = await client.PostAsync("/api/v1/replay", new StringContent(trace, Encoding.UTF8, "application/x-ndjson"));
        Assert.Equal(HttpStatusCode.OK, fits.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await Put(client, "r", Base + Page, 2)).StatusCode);   // the replay gave its page back

        Assert.Equal(HttpStatusCode.NoContent, (await Put(client, "r", Base + 8 * Page, 1)).StatusCode);   // now four live pages
        var refused = await client.PostAsync("/api/v1/replay", new StringContent(trace, Encoding.UTF8, "application/x-ndjson"));
        // The replay stops at the write the quota refuses and reports it as the difference; nothing more is made resident.
        Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
        var report = await refused.Content.ReadFromJsonAsync<JsonElement>();
        Assert.False(report.GetProperty("identical").GetBoolean());
        Assert.Contains("MaxResidentBytesTotal", report.GetProperty("difference").GetProperty("actualError").GetString());
    }

    [Fact]
    public async Task Rest_WriteBeyondTheTotalQuota_Is429_AndDeletingASystemFreesIt()
    {
        using var host = Host(0, 3 * Page);
        var client = host.CreateClient();
        await Create(client, "a");
        await Create(client, "b");
        Assert.Equal(HttpStatusCode.NoContent, (await Put(client, "a", Base, 2)).StatusCode);
        var refused = await Put(client, "b", Base, 2);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Contains("MaxResidentBytesTotal", await refused.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync("/api/v1/systems/a")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await Put(client, "b", Base, 2)).StatusCode);
    }

    [Fact]
    public async Task Grpc_WriteBeyondTheQuota_IsResourceExhausted_NamingIt()
    {
        using var host = Host(2 * Page, 0);
        await Create(host.CreateClient(), "g");
        using var channel = GrpcChannel.ForAddress(host.Server.BaseAddress, new GrpcChannelOptions { HttpHandler = host.Server.CreateHandler() });
        var memory = new Memory.MemoryClient(channel);
        var data = ByteString.CopyFrom(Enumerable.Repeat((byte)0x5A, 3 * Page).ToArray());
        var e = await Assert.ThrowsAsync<RpcException>(() => memory.WriteAsync(new WriteMemoryRequest { SystemId = "g", Address = Base, AsEndpoint = 0, Data = data }).ResponseAsync);
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        Assert.Contains("MaxResidentBytesPerSystem", e.Status.Detail);
        var read = await memory.ReadAsync(new ReadMemoryRequest { SystemId = "g", Address = Base, Length = 3 * Page, AsEndpoint = 0 });
        Assert.All(read.Data.ToByteArray(), b => Assert.Equal(0, b));
    }
}
