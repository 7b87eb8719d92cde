using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Spmc.Server.Tests;

public sealed class RestApiTests(SpmcFactory factory) : IClassFixture<SpmcFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    [Fact]
    public async Task Healthz_IsHealthy()
    {
        var response = await _client.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Healthy", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task DefaultSystem_ExistsAtStartup_AsDocumented()
    {
        var system = await _client.GetFromJsonAsync<JsonElement>("/api/v1/systems/default");
        Assert.Equal("0x8000", system.GetProperty("spmcId").GetString());
        Assert.Equal("1.3", system.GetProperty("ffaVersion").GetString());
        var host = system.GetProperty("vms")[0];
        Assert.Equal("0x0000", host.GetProperty("id").GetString());
        Assert.Equal("0x80000000", host.GetProperty("memory")[0].GetProperty("base").GetString());
        Assert.Equal("0x10000000", host.GetProperty("memory")[0].GetProperty("size").GetString());
        var sps = system.GetProperty("partitions");
        Assert.Equal(["0x8001", "0x8002", "0x8003"], sps.EnumerateArray().Select(p => p.GetProperty("id").GetString()));
        Assert.Equal(["echo", "memory", "notifier"], sps.EnumerateArray().Select(p => p.GetProperty("name").GetString()));
        Assert.Equal(2, sps[2].GetProperty("uuids").GetArrayLength());
        Assert.Equal(2, sps[2].GetProperty("executionContexts").GetInt32());
        Assert.Equal(["0x60000000", "0x60100000", "0x60200000"],
            sps.EnumerateArray().Select(p => p.GetProperty("memory")[0].GetProperty("base").GetString()));
    }

    [Fact]
    public async Task Version_ExampleFromTheIssue_AnswersEighteenHexRegisters()
    {
        var system = await factory.NewSystemAsync();
        var answer = await _client.SmcAsync(system, new { caller = "0x0", vcpu = 0, conduit = "smc", x = new[] { "0x84000063", "0x10002" } });
        var x = answer.GetProperty("x");
        Assert.Equal(18, x.GetArrayLength());
        Assert.All(x.EnumerateArray(), r => Assert.StartsWith("0x", r.GetString()));
        Assert.Equal("0x10003", x[0].GetString());
        Assert.Equal("FFA_VERSION", answer.Decoded("function"));
        Assert.Equal("SMC32", answer.Decoded("width"));
        Assert.Equal(JsonValueKind.Null, answer.GetProperty("decoded").GetProperty("error").ValueKind);
    }

    [Fact]
    public async Task Smc_VmCall_ShowsTheHopsTheProxyMade_SpCallHasNone()
    {
        var system = await factory.NewSystemAsync();
        var vm = await _client.SmcAsync(system, new { caller = "0x0", x = new[] { "0x84000069", "0x0", "0x0", "0x0", "0x0", "0x0", "0x0", "0x0", "0x5" } });
        var hop = Assert.Single(vm.GetProperty("decoded").GetProperty("hops").EnumerateArray());
        Assert.Equal("0x0000", hop.GetProperty("caller").GetString());
        Assert.Equal("0x84000069", hop.GetProperty("request")[0].GetString());
        Assert.Equal("0x5", hop.GetProperty("request")[8].GetString());
        Assert.Equal("0x84000061", hop.GetProperty("answer")[0].GetString());
        Assert.Equal("FFA_ID_GET", hop.GetProperty("decoded").GetProperty("function").GetString());
        Assert.Equal(0x5UL, vm.X(8)); // SMC32: x8..x17 preserved

        var sp = await _client.SmcAsync(system, new { caller = "0x8001", x = new[] { "0x84000069" } });
        Assert.Equal(0, sp.GetProperty("decoded").GetProperty("hops").GetArrayLength());
        var state = await _client.GetFromJsonAsync<JsonElement>($"/api/v1/systems/{system}/state");
        Assert.Equal(JsonValueKind.Null, state.GetProperty("proxy").ValueKind); // passthrough keeps no state
    }

    [Fact]
    public async Task Smc_DecimalRegistersAndNumbers_AreAccepted()
    {
        var system = await factory.NewSystemAsync();
        var answer = await _client.SmcAsync(system, new { caller = 0, vcpu = "1", x = new object[] { 2214592617 } }); // FFA_ID_GET
        Assert.Equal(0x84000061UL, answer.X(0));
    }

    [Fact]
    public async Task Smc_Error_CarriesNameRuleAndReason()
    {
        var system = await factory.NewSystemAsync();
        var answer = await _client.SmcAsync(system, new { caller = "0x0", x = new[] { "0xC4000066", "0x80001000", "0x80001000", "1" } });
        Assert.Equal(0x84000060UL, answer.X(0));
        Assert.Equal(0xFFFFFFFEUL, answer.X(2));
        Assert.Equal("INVALID_PARAMETERS", answer.Decoded("error"));
        Assert.Equal("rxtx-map.overlap", answer.Decoded("rule"));
        Assert.Equal("FFA_RXTX_MAP: TX and RX ranges overlap", answer.Decoded("reason"));
    }

    [Fact]
    public async Task Smc_WritesBeforeAndReadsAfter_InOneRoundTrip()
    {
        var system = await factory.NewSystemAsync();
        var payload = Convert.ToBase64String("hello, TX"u8.ToArray());
        var answer = await _client.SmcAsync(system, new
        {
            caller = "0x0",
            x = new[] { "0x84000069" },
            writes = new[] { new { address = "0x80001000", data = payload } },
            reads = new[] { new { address = "0x80001000", length = 9 }, new { address = "0x60000000", length = 4 } },
        });
        var reads = answer.GetProperty("reads");
        Assert.Equal(payload, reads[0].GetProperty("data").GetString());
        Assert.Equal(JsonValueKind.Null, reads[1].GetProperty("data").ValueKind);
        Assert.Contains("belongs to 0x8001", reads[1].GetProperty("error").GetString());
    }

    [Fact]
    public async Task Smc_PartitionInfoThroughRxBuffer_EndToEnd()
    {
        var system = await factory.NewSystemAsync();
        await _client.SmcAsync(system, new { caller = "0x0", x = new[] { "0xC4000066", "0x80001000", "0x80000000", "1" } });
        // The host is at 1.3 (the default SPMC's version): 48-byte descriptors (DEN0077 v1.3 table 6.1).
        var answer = await _client.SmcAsync(system, new { caller = "0x0", x = new[] { "0x84000068" }, reads = new[] { new { address = "0x80000000", length = 192 } } });
        Assert.Equal(4UL, answer.X(2));
        Assert.Equal(48UL, answer.X(3));
        var rx = Convert.FromBase64String(answer.GetProperty("reads")[0].GetProperty("data").GetString()!);
        Assert.Equal(0x8001, BitConverter.ToUInt16(rx, 0));
        Assert.Equal(0x8003, BitConverter.ToUInt16(rx, 144));
        Assert.Equal("7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4a04", Abi.Ffa.FfaUuid.FromBytes(rx.AsSpan(152)).ToString());
        Assert.Equal(0x0001_0003u, BitConverter.ToUInt32(rx, 184)); // the partition's FF-A version

        var state = await _client.GetFromJsonAsync<JsonElement>($"/api/v1/systems/{system}/state");
        var host = state.GetProperty("endpoints")[0];
        Assert.Equal("full", host.GetProperty("mailbox").GetProperty("state").GetString());
        Assert.True(host.GetProperty("versionLocked").GetBoolean());
    }

    [Theory]
    [InlineData("""{"caller":"0x0","x":["0x84000063","0x1FFFFFFFFFFFFFFFF"]}""", "x[1]")]
    [InlineData("""{"caller":"0x0","x":["0x84000063","-1"]}""", "x[1]")]
    [InlineData("""{"caller":"0x0","x":["0","1","2","3","4","5","6","7","8","9","10","11","12","13","14","15","16","17","18"]}""", "x:")]
    [InlineData("""{"caller":"0x0","x":[]}""", "x:")]
    [InlineData("""{"caller":"0x10000","x":["0x84000063"]}""", "caller")]
    [InlineData("""{"x":["0x84000063"]}""", "caller")]
    [InlineData("""{"caller":"0x0","conduit":"svc","x":["0x84000063"]}""", "conduit")]
    [InlineData("""{"caller":"0x0","vcpu":4,"x":["0x84000063"]}""", "vcpu")]
    [InlineData("""{"caller":"0x7","x":["0x84000063"]}""", "caller")]
    [InlineData("""{"caller":"0x0","x":["0x84000063"],"reads":[{"address":"0x80000000","length":1048577}]}""", "reads[0].length")]
    [InlineData("""{"caller":"0x0","x":["0x84000063"],"writes":[{"address":"0x80000000","data":"!!"}]}""", "writes[0].data")]
    [InlineData("""{"caller":"0x0","x":["0x84000063"],"writes":[{"address":"0x80000000"}]}""", "writes[0].data")]
    [InlineData("""{"caller":"0x0","x":["0x84000063"],"unknown":1}""", "unknown")]
    [InlineData("""{"caller":"0x0","x":["0x84000063"]""", "")]
    [InlineData("""[1,2]""", "")]
    [InlineData("""{"caller":{"a":1},"x":["0x84000063"]}""", "caller")]
    public async Task Smc_BadInput_Is400NamingTheField(string body, string field)
    {
        var system = await factory.NewSystemAsync();
        var (status, detail) = await (await _client.PostAsync($"/api/v1/systems/{system}/smc", Json(body))).ProblemAsync();
        Assert.Equal(400, status);
        Assert.Contains(field, detail);
    }

    [Fact]
    public async Task Smc_WriteOutsideCallersMemory_Is403_AndChangesNothing()
    {
        var system = await factory.NewSystemAsync();
        var body = """{"caller":"0x0","x":["0x84000063","0x10001"],"writes":[{"address":"0x80000000","data":"AQ=="},{"address":"0x60000000","data":"AQ=="}]}""";
        var (status, detail) = await (await _client.PostAsync($"/api/v1/systems/{system}/smc", Json(body))).ProblemAsync();
        Assert.Equal(403, status);
        Assert.Contains("writes[1]", detail);
        var memory = await _client.GetFromJsonAsync<JsonElement>($"/api/v1/systems/{system}/memory/0x80000000?length=1&as=0x0");
        Assert.Equal("AA==", memory.GetProperty("data").GetString());
        var state = await _client.GetFromJsonAsync<JsonElement>($"/api/v1/systems/{system}/state");
        Assert.Equal(0, state.GetProperty("calls").GetInt64());
        Assert.False(state.GetProperty("endpoints")[0].GetProperty("versionNegotiated").GetBoolean());
    }

    [Fact]
    public async Task Smc_UnknownSystem_Is404()
    {
        var (status, detail) = await (await _client.PostAsync("/api/v1/systems/nope/smc", Json("""{"caller":"0x0","x":["0x84000063"]}"""))).ProblemAsync();
        Assert.Equal(404, status);
        Assert.Contains("nope", detail);
    }

    [Fact]
    public async Task Systems_CreateGetListDelete()
    {
        var created = await _client.PostAsync("/api/v1/systems", Json($$"""{"id":"lifecycle","manifest":{{SpmcFactory.DefaultManifest}}}"""));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("/api/v1/systems/lifecycle", created.Headers.Location?.OriginalString);
        var list = await _client.GetFromJsonAsync<JsonElement>("/api/v1/systems");
        Assert.Contains(list.EnumerateArray(), s => s.GetProperty("id").GetString() == "lifecycle");
        var again = await _client.PostAsync("/api/v1/systems", Json($$"""{"id":"lifecycle","manifest":{{SpmcFactory.DefaultManifest}}}"""));
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await _client.DeleteAsync("/api/v1/systems/lifecycle")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync("/api/v1/systems/lifecycle")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.DeleteAsync("/api/v1/systems/lifecycle")).StatusCode);
    }

    [Fact]
    public async Task Systems_CreateWithoutId_AllocatesOne()
    {
        var created = await _client.PostAsync("/api/v1/systems", Json($$"""{"manifest":{{SpmcFactory.DefaultManifest}}}"""));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var system = await created.Content.ReadFromJsonAsync<JsonElement>();
        Assert.StartsWith("sys-", system.GetProperty("id").GetString());
        Assert.Equal("pkvm-7.4", system.GetProperty("manifest").GetProperty("proxy").GetString());
    }

    [Theory]
    [InlineData("""{"id":"Bad Id!","manifest":{}}""", "id")]
    [InlineData("""{"id":"x"}""", "manifest")]
    [InlineData("""{"id":"x","manifest":"text"}""", "manifest")]
    [InlineData("""{"manifest":{"vms":[{"id":"0x0","name":"a"},{"id":"0x0","name":"b"}]}}""", "vms[1].id")]
    [InlineData("""{"manifest":{"partitions":[{"id":"0x1","name":"sp","uuids":["7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4a01"],"properties":{"directRequestReceive":true}}]}}""", "partitions[0].id")]
    [InlineData("""{"manifest":{"partitions":[{"id":"0x8001","name":"sp","uuids":["nope"],"properties":{"directRequestReceive":true}}]}}""", "partitions[0].uuids[0]")]
    [InlineData("""{"manifest":{"spmc":{"version":"1.7"}}}""", "spmc.version")]
    [InlineData("""{"manifest":{"vms":[{"id":"0x0","name":"a","memory":[{"base":"0x1000","size":"0x2000"}]},{"id":"0x1","name":"b","memory":[{"base":"0x2000","size":"0x1000"}]}]}}""", "vms[1].memory[0]")]
    [InlineData("""{"manifest":{"vmz":[]}}""", "vmz")]
    [InlineData("""{"manifest":{"vms":"x"}}""", "vms")]
    public async Task Systems_BadManifest_Is400NamingTheField(string body, string field)
    {
        var (status, detail) = await (await _client.PostAsync("/api/v1/systems", Json(body))).ProblemAsync();
        Assert.Equal(400, status);
        Assert.Contains(field, detail);
    }

    [Fact]
    public async Task Memory_WriteThenRead_AsOwner()
    {
        var system = await factory.NewSystemAsync();
        var put = await _client.PutAsync($"/api/v1/systems/{system}/memory/0x80000ffe?as=0x0", Json("""{"data":"AQIDBA=="}"""));
        Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        var memory = await _client.GetFromJsonAsync<JsonElement>($"/api/v1/systems/{system}/memory/0x80000ffc?length=8&as=0");
        Assert.Equal(Convert.ToBase64String([0, 0, 1, 2, 3, 4, 0, 0]), memory.GetProperty("data").GetString());
        Assert.Equal("0x80000FFC", memory.GetProperty("address").GetString());
        // The SPMC's own ID may read everything.
        var asSpmc = await _client.GetFromJsonAsync<JsonElement>($"/api/v1/systems/{system}/memory/0x80000ffe?length=2&as=0x8000");
        Assert.Equal(Convert.ToBase64String([1, 2]), asSpmc.GetProperty("data").GetString());
    }

    [Theory]
    [InlineData("GET", "/memory/0x60000000?length=4&as=0x0", 403, "belongs to 0x8001")]
    [InlineData("GET", "/memory/0x10?length=4&as=0x0", 403, "not memory of this system")]
    [InlineData("GET", "/memory/0x80000000?length=4", 400, "as")]
    [InlineData("GET", "/memory/0x80000000?as=0x0", 400, "length")]
    [InlineData("GET", "/memory/0x80000000?length=1048577&as=0x0", 400, "length")]
    [InlineData("GET", "/memory/zz?length=1&as=0x0", 400, "address")]
    [InlineData("GET", "/memory/0x80000000?length=1&as=0x9", 400, "as")]
    [InlineData("PUT", "/memory/0x60000000?as=0x0", 403, "belongs to 0x8001")]
    [InlineData("PUT", "/memory/0x80000000", 400, "as")]
    public async Task Memory_Refusals(string method, string path, int expected, string text)
    {
        var system = await factory.NewSystemAsync();
        var request = new HttpRequestMessage(new HttpMethod(method), $"/api/v1/systems/{system}{path}");
        if (method == "PUT") request.Content = Json("""{"data":"AQ=="}""");
        var (status, detail) = await (await _client.SendAsync(request)).ProblemAsync();
        Assert.Equal(expected, status);
        Assert.Contains(text, detail);
    }

    [Fact]
    public async Task State_ShowsConsoleLogOfPartitions()
    {
        var system = await factory.NewSystemAsync();
        // FFA_CONSOLE_LOG_32 from SP 0x8001: "hi\n" then "there\n" over two calls.
        await _client.SmcAsync(system, new { caller = "0x8001", x = new[] { "0x8400008A", "2", "0x6968" } });
        await _client.SmcAsync(system, new { caller = "0x8001", x = new[] { "0x8400008A", "1", "0x0A" } });
        var state = await _client.GetFromJsonAsync<JsonElement>($"/api/v1/systems/{system}/state");
        var line = state.GetProperty("console")[0];
        Assert.Equal("0x8001", line.GetProperty("endpoint").GetString());
        Assert.Equal("hi", line.GetProperty("text").GetString());
    }

    [Fact]
    public async Task Swagger_ServesUiAndDocumentWithExamples()
    {
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync("/swagger/index.html")).StatusCode);
        var doc = await _client.GetFromJsonAsync<JsonElement>("/swagger/v1/swagger.json");
        var paths = doc.GetProperty("paths");
        foreach (var path in new[] { "/api/v1/systems", "/api/v1/systems/{id}", "/api/v1/systems/{id}/smc", "/api/v1/systems/{id}/memory/{address}", "/api/v1/systems/{id}/state" })
            Assert.True(paths.TryGetProperty(path, out _), path);
        var examples = paths.GetProperty("/api/v1/systems/{id}/smc").GetProperty("post").GetProperty("requestBody")
            .GetProperty("content").GetProperty("application/json").GetProperty("examples");
        Assert.Equal("0x84000063", examples.GetProperty("version").GetProperty("value").GetProperty("x")[0].GetString());
    }

    [Fact]
    public async Task Swagger_CreateSystemExamples_CreateSystems()
    {
        var doc = await _client.GetFromJsonAsync<JsonElement>("/swagger/v1/swagger.json");
        var examples = doc.GetProperty("paths").GetProperty("/api/v1/systems").GetProperty("post").GetProperty("requestBody")
            .GetProperty("content").GetProperty("application/json").GetProperty("examples");
        Assert.True(examples.TryGetProperty("ffa-1.3-poison", out _));
        foreach (var example in examples.EnumerateObject())
        {
            var body = example.Value.GetProperty("value");
            var id = body.GetProperty("id").GetString()!;
            await _client.DeleteAsync($"/api/v1/systems/{id}");
            var created = await _client.PostAsync("/api/v1/systems", Json(body.GetRawText()));
            Assert.True(created.StatusCode == HttpStatusCode.Created, $"{example.Name}: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
            Assert.Equal(HttpStatusCode.NoContent, (await _client.DeleteAsync($"/api/v1/systems/{id}")).StatusCode);
        }
    }

    [Fact]
    public async Task GarbageBodies_NeverProduce500()
    {
        var system = await factory.NewSystemAsync();
        var bodies = new[]
        {
            "", "null", "{}", "[]", "\"x\"", "{\"caller\":null}", "{\"caller\":\"0x0\",\"x\":null}", "{\"caller\":\"0x0\",\"x\":[null]}",
            "{\"caller\":\"0x0\",\"x\":[true]}", "{\"caller\":\"0x0\",\"x\":[\"0x84000063\"],\"writes\":[null]}",
            "{\"caller\":\"0x0\",\"x\":[\"0x84000063\"],\"reads\":[{}]}", "{\"caller\":1e400,\"x\":[\"1\"]}", "\u0000\u0001",
            "{\"caller\":\"0x0\",\"x\":[\"0x84000063\"],\"reads\":[{\"address\":\"0xFFFFFFFFFFFFFFFF\",\"length\":16}]}",
        };
        foreach (var body in bodies)
        {
            var response = await _client.PostAsync($"/api/v1/systems/{system}/smc", Json(body));
            Assert.True((int)response.StatusCode < 500, $"{body} → {(int)response.StatusCode}");
            var created = await _client.PostAsync("/api/v1/systems", Json(body));
            Assert.True((int)created.StatusCode < 500, $"create {body} → {(int)created.StatusCode}");
        }
        var wrongType = await _client.PostAsync($"/api/v1/systems/{system}/smc", new StringContent("x", Encoding.UTF8, "text/plain"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, wrongType.StatusCode);
    }
}
