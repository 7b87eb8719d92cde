using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Spmc.Server.Tests.OpenApi;

/// <summary>Every request example of the document, sent as-is in its documented order, succeeds.</summary>
public sealed class OpenApiExamplesTests(SpmcFactory factory) : IClassFixture<SpmcFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private async Task<IReadOnlyList<(string Name, JsonElement Value)>> ExamplesAsync(string path, string method)
    {
        var doc = await _client.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var examples = doc.GetProperty("paths").GetProperty(path).GetProperty(method).GetProperty("requestBody")
            .GetProperty("content").GetProperty("application/json").GetProperty("examples");
        return examples.EnumerateObject().Select(e => (e.Name, e.Value.GetProperty("value"))).ToList();
    }

    [Fact]
    public async Task SmcExamples_InOrder_OnAFreshDefaultSystem_AllSucceedWithoutAnFfaError()
    {
        // The default manifest as shipped (pkvm-7.4 proxy), in a system of its own: as a fresh server's "default".
        var system = await factory.NewSystemAsync(SpmcFactory.DefaultManifest);
        var examples = await ExamplesAsync("/api/v1/systems/{id}/smc", "post");
        Assert.Contains(examples, e => e.Name == "info-regs");
        foreach (var (name, value) in examples)
        {
            var response = await _client.PostAsync($"/api/v1/systems/{system}/smc", Json(value.GetRawText()));
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{name}: {(int)response.StatusCode} {text}");
            var answer = JsonDocument.Parse(text).RootElement;
            Assert.True(answer.GetProperty("decoded").GetProperty("error").ValueKind == JsonValueKind.Null, $"{name}: {answer.GetProperty("decoded")}");
            foreach (var read in answer.GetProperty("reads").EnumerateArray())
                Assert.True(read.GetProperty("error").ValueKind == JsonValueKind.Null, $"{name}: {read}");
        }
    }

    [Fact]
    public async Task InfoRegsExample_ListsTheDefaultSystemsPartitions()
    {
        var system = await factory.NewSystemAsync(SpmcFactory.DefaultManifest);
        var example = (await ExamplesAsync("/api/v1/systems/{id}/smc", "post")).Single(e => e.Name == "info-regs").Value;
        var answer = await _client.SmcAsync(system, example);
        Assert.Equal("FFA_SUCCESS_64", answer.Decoded("result"));
        // x2: 48-byte entries (the SP is at FF-A 1.3), current index 1, last index 3 (the notifier has two UUIDs): docs/api.md.
        Assert.Equal(0x30000000010003UL, answer.X(2));
        Assert.Equal(0x8001UL, answer.X(3) & 0xFFFF);
    }

    [Fact]
    public async Task CreateSystemExamples_CreateSystems()
    {
        foreach (var (name, value) in await ExamplesAsync("/api/v1/systems", "post"))
        {
            var id = value.GetProperty("id").GetString()!;
            await _client.DeleteAsync($"/api/v1/systems/{id}");
            var created = await _client.PostAsync("/api/v1/systems", Json(value.GetRawText()));
            Assert.True(created.StatusCode == HttpStatusCode.Created, $"{name}: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
            Assert.Equal(HttpStatusCode.NoContent, (await _client.DeleteAsync($"/api/v1/systems/{id}")).StatusCode);
        }
    }

    [Fact]
    public async Task WriteMemoryExamples_WriteHello()
    {
        var system = await factory.NewSystemAsync(SpmcFactory.DefaultManifest);
        var examples = await ExamplesAsync("/api/v1/systems/{id}/memory/{address}", "put");
        Assert.Equal(["hex", "base64"], examples.Select(e => e.Name));
        foreach (var (name, value) in examples)
        {
            Assert.Equal(HttpStatusCode.NoContent, (await _client.PutAsync($"/api/v1/systems/{system}/memory/0x80002000?as=0x0", Json("""{"hex":"0000000000"}"""))).StatusCode);
            var put = await _client.PutAsync($"/api/v1/systems/{system}/memory/0x80002000?as=0x0", Json(value.GetRawText()));
            Assert.True(put.StatusCode == HttpStatusCode.NoContent, $"{name}: {(int)put.StatusCode} {await put.Content.ReadAsStringAsync()}");
            var read = await _client.GetFromJsonAsync<JsonElement>($"/api/v1/systems/{system}/memory/0x80002000?length=5&as=0x0");
            Assert.Equal("48656c6c6f", read.GetProperty("hex").GetString());
        }
    }

    [Fact]
    public async Task AddFaultExamples_AddRules()
    {
        var system = await factory.NewSystemAsync(SpmcFactory.DefaultManifest);
        var examples = await ExamplesAsync("/api/v1/systems/{id}/faults", "post");
        Assert.NotEmpty(examples);
        foreach (var (name, value) in examples)
        {
            var added = await _client.PostAsync($"/api/v1/systems/{system}/faults", Json(value.GetRawText()));
            Assert.True(added.StatusCode == HttpStatusCode.Created, $"{name}: {(int)added.StatusCode} {await added.Content.ReadAsStringAsync()}");
        }
    }
}
