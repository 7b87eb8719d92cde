using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Spmc.Server.Tests.OpenApi;

/// <summary>REST memory as hex: reads show hex beside base64; writes take exactly one of hex or data (base64).</summary>
public sealed class HexMemoryTests(SpmcFactory factory) : IClassFixture<SpmcFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private async Task<HttpResponseMessage> Put(string system, string body) =>
        await _client.PutAsync($"/api/v1/systems/{system}/memory/0x80000100?as=0x0", Json(body));

    private async Task<JsonElement> Read(string system, int length) =>
        await _client.GetFromJsonAsync<JsonElement>($"/api/v1/systems/{system}/memory/0x80000100?length={length}&as=0x0");

    [Fact]
    public async Task Read_ShowsTheSameBytesAsHexAndBase64()
    {
        var system = await factory.NewSystemAsync();
        Assert.Equal(HttpStatusCode.NoContent, (await Put(system, """{"data":"3q2+7wAB"}""")).StatusCode);
        var read = await Read(system, 6);
        Assert.Equal("3q2+7wAB", read.GetProperty("data").GetString());
        Assert.Equal("deadbeef0001", read.GetProperty("hex").GetString());
        Assert.Equal(6, read.GetProperty("length").GetInt32());
    }

    [Theory]
    [InlineData("deadbeef")]
    [InlineData("DEADBEEF")]
    [InlineData("0xdeadbeef")]
    [InlineData("de ad be ef")]
    [InlineData("de ad\nbe ef")]
    public async Task Write_AcceptsHex_InEitherCase_WithSpacesOrA0xPrefix(string hex)
    {
        var system = await factory.NewSystemAsync();
        var put = await Put(system, JsonSerializer.Serialize(new { hex }));
        Assert.True(put.StatusCode == HttpStatusCode.NoContent, await put.Content.ReadAsStringAsync());
        Assert.Equal("3q2+7w==", (await Read(system, 4)).GetProperty("data").GetString());
    }

    [Theory]
    [InlineData("""{"hex":"0102","data":"AQI="}""", "hex: give either hex or data")]
    [InlineData("""{}""", "data: required")]
    [InlineData("""{"hex":"01x2"}""", "hex: 'x' is not a hex digit")]
    [InlineData("""{"hex":"012"}""", "hex: an odd number of hex digits")]
    [InlineData("""{"data":"not base64!"}""", "data: not valid base64")]
    public async Task Write_RefusesBadOrAmbiguousBytes_NamingTheField(string body, string detail)
    {
        var system = await factory.NewSystemAsync();
        var (status, message) = await (await Put(system, body)).ProblemAsync();
        Assert.Equal(400, status);
        Assert.StartsWith(detail, message);
    }

    [Fact]
    public async Task Smc_WritesTakeHex_AndReadsShowHex()
    {
        var system = await factory.NewSystemAsync();
        var answer = await _client.SmcAsync(system, new
        {
            caller = "0x0",
            x = new[] { "0x84000063", "0x10002" },
            writes = new object[] { new { address = "0x80000100", hex = "cafe" }, new { address = "0x80000102", data = "AQI=" } },
            reads = new[] { new { address = "0x80000100", length = 4 } },
        });
        var read = Assert.Single(answer.GetProperty("reads").EnumerateArray());
        Assert.Equal("cafe0102", read.GetProperty("hex").GetString());
        Assert.Equal("yv4BAg==", read.GetProperty("data").GetString());
    }

    [Theory]
    [InlineData("""{"address":"0x80000100","hex":"00","data":"AA=="}""", "writes[0].hex: give either hex or data")]
    [InlineData("""{"address":"0x80000100"}""", "writes[0].data: required")]
    [InlineData("""{"address":"0x80000100","hex":"0g"}""", "writes[0].hex: 'g' is not a hex digit")]
    public async Task Smc_RefusesAWriteWithoutExactlyOneOfHexOrData(string write, string detail)
    {
        var system = await factory.NewSystemAsync();
        var body = $$"""{"caller":"0x0","x":["0x84000063","0x10002"],"writes":[{{write}}]}""";
        var (status, message) = await (await _client.PostAsync($"/api/v1/systems/{system}/smc", Json(body))).ProblemAsync();
        Assert.Equal(400, status);
        Assert.StartsWith(detail, message);
    }

    [Fact]
    public async Task Smc_ARefusedReadHasNeitherHexNorData()
    {
        var system = await factory.NewSystemAsync();
        var answer = await _client.SmcAsync(system, new { caller = "0x8001", x = new[] { "0x84000069" }, reads = new[] { new { address = "0x80000000", length = 4 } } });
        var read = Assert.Single(answer.GetProperty("reads").EnumerateArray());
        Assert.Equal(JsonValueKind.Null, read.GetProperty("hex").ValueKind);
        Assert.Equal(JsonValueKind.Null, read.GetProperty("data").ValueKind);
        Assert.Equal(JsonValueKind.String, read.GetProperty("error").ValueKind);
    }
}
