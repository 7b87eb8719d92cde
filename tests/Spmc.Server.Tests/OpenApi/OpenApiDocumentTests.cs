using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Spmc.Server.Tests.OpenApi;

/// <summary>The OpenAPI document (Microsoft.AspNetCore.OpenApi): where it is served, and that everything in it is described.</summary>
public sealed class OpenApiDocumentTests(SpmcFactory factory) : IClassFixture<SpmcFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    private static readonly string[] Methods = ["get", "put", "post", "delete", "patch"];

    [Fact]
    public async Task Document_IsServedAtOpenApiV1_AndAtTheSwaggerAddress_AndSwaggerUiAnswers()
    {
        var doc = await _client.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        Assert.StartsWith("3.", doc.GetProperty("openapi").GetString());
        Assert.Equal("Spmc", doc.GetProperty("info").GetProperty("title").GetString());
        var legacy = await _client.GetFromJsonAsync<JsonElement>("/swagger/v1/swagger.json");
        Assert.Equal(doc.GetProperty("paths").EnumerateObject().Select(p => p.Name), legacy.GetProperty("paths").EnumerateObject().Select(p => p.Name));
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync("/swagger/index.html")).StatusCode);
        var init = await _client.GetStringAsync("/swagger/index.js");
        Assert.Contains("/openapi/v1.json", init);
        // gRPC methods are not REST operations.
        Assert.DoesNotContain(doc.GetProperty("paths").EnumerateObject(), p => p.Name.StartsWith("/spmc.v1.", StringComparison.Ordinal));
    }

    [Fact]
    public async Task EveryOperationAndParameter_HasASummaryAndDescription()
    {
        var doc = await _client.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var missing = new List<string>();
        var operations = 0;
        foreach (var path in doc.GetProperty("paths").EnumerateObject())
            foreach (var op in path.Value.EnumerateObject().Where(o => Methods.Contains(o.Name)))
            {
                operations++;
                var where = $"{op.Name.ToUpperInvariant()} {path.Name}";
                if (!HasText(op.Value, "summary")) missing.Add($"{where}: summary");
                if (!HasText(op.Value, "description")) missing.Add($"{where}: description");
                if (op.Value.TryGetProperty("parameters", out var parameters))
                    foreach (var p in parameters.EnumerateArray().Where(p => !HasText(p, "description")))
                        missing.Add($"{where}: parameter {p.GetProperty("name").GetString()}");
            }
        Assert.True(operations >= 17, $"{operations} operations");
        Assert.Empty(missing);
    }

    [Fact]
    public async Task EverySchemaProperty_HasADescription()
    {
        var doc = await _client.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var missing = new List<string>();
        var properties = 0;
        foreach (var schema in doc.GetProperty("components").GetProperty("schemas").EnumerateObject())
        {
            if (!schema.Value.TryGetProperty("properties", out var props)) continue;
            foreach (var p in props.EnumerateObject())
            {
                properties++;
                if (!HasText(p.Value, "description")) missing.Add($"{schema.Name}.{p.Name}");
            }
        }
        Assert.True(properties > 150, $"{properties} properties");
        Assert.Empty(missing);
    }

    [Fact]
    public async Task RegisterAndAddressFields_AreStringsOrNumbers()
    {
        var doc = await _client.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var smc = doc.GetProperty("components").GetProperty("schemas").GetProperty("SmcRequestDto").GetProperty("properties");
        Assert.Contains("string", smc.GetProperty("caller").GetProperty("type").EnumerateArray().Select(t => t.GetString()));
        Assert.Contains("integer", smc.GetProperty("caller").GetProperty("type").EnumerateArray().Select(t => t.GetString()));
        Assert.Contains("string", smc.GetProperty("x").GetProperty("items").GetProperty("type").EnumerateArray().Select(t => t.GetString()));
    }

    [Fact]
    public async Task EveryJsonRequestBodyOfADto_HasExamples()
    {
        var doc = await _client.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var without = new List<string>();
        foreach (var path in doc.GetProperty("paths").EnumerateObject())
            foreach (var op in path.Value.EnumerateObject().Where(o => Methods.Contains(o.Name)))
            {
                if (!op.Value.TryGetProperty("requestBody", out var body) ||
                    !body.GetProperty("content").TryGetProperty("application/json", out var media)) continue;
                // Bodies of this API's own request types; a snapshot document (GET .../snapshot's answer, any JSON) and a
                // trace (JSON Lines text) are files another operation produced.
                if (!media.GetProperty("schema").TryGetProperty("$ref", out var r) || !r.GetString()!.EndsWith("Dto", StringComparison.Ordinal)) continue;
                if (!media.TryGetProperty("examples", out var examples) || !examples.EnumerateObject().Any())
                    without.Add($"{op.Name.ToUpperInvariant()} {path.Name}");
            }
        Assert.Empty(without);
    }

    private static bool HasText(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(v.GetString());
}
