using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;

namespace Spmc.Server.Tests.TraceApi;

public sealed class RecordAndReplayTests(TraceFactory factory) : IClassFixture<TraceFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    private static StringContent Trace(string text) => new(text, Encoding.UTF8, "application/x-ndjson");

    private async Task<string> ExportAfterCallsAsync()
    {
        var system = await factory.NewSystemAsync();
        await _client.SmcAsync(system, RestTraceTests.IdGet);
        await _client.SmcAsync(system, RestTraceTests.SpmIdGet);
        return await _client.GetStringAsync($"/api/v1/systems/{system}/trace");
    }

    [Fact]
    public async Task Record_WritesHeaderAndEveryCallToTheConfiguredDirectory()
    {
        var system = await factory.NewSystemAsync(record: true);
        var info = await _client.GetFromJsonAsync<JsonElement>($"/api/v1/systems/{system}");
        var path = Path.Combine(factory.TraceDirectory, system + ".jsonl");
        Assert.Equal(path, info.GetProperty("recording").GetString());
        await _client.SmcAsync(system, RestTraceTests.IdGet);
        await _client.SmcAsync(system, RestTraceTests.SpmIdGet);

        // The recorder writes in the background and flushes per line.
        List<JsonElement> lines = [];
        for (var i = 0; i < 200 && lines.Count < 3; i++)
        {
            await Task.Delay(50);
            if (File.Exists(path)) lines = RestTraceTests.Lines(await ReadSharedAsync(path));
        }
        Assert.Equal(3, lines.Count);
        Assert.Equal(system, lines[0].GetProperty("system").GetString());
        Assert.Equal(["0x84000069", "0x84000085"], lines.Skip(1).Select(l => l.GetProperty("x")[0].GetString()));

        var plain = await factory.NewSystemAsync();
        var plainInfo = await _client.GetFromJsonAsync<JsonElement>($"/api/v1/systems/{plain}");
        Assert.Equal(JsonValueKind.Null, plainInfo.GetProperty("recording").ValueKind);
        Assert.False(File.Exists(Path.Combine(factory.TraceDirectory, plain + ".jsonl")));
    }

    [Fact]
    public async Task Record_WhereNoDirectoryCanBe_Is400NamingRecord_AndLeavesNoSystem()
    {
        var blocker = Path.Combine(factory.TraceDirectory + "-file");
        await File.WriteAllTextAsync(blocker, "a file where the directory should be");
        try
        {
            using var host = factory.WithWebHostBuilder(b => b.ConfigureAppConfiguration(c =>
                c.AddInMemoryCollection(new Dictionary<string, string?> { ["Spmc:Traces:Directory"] = blocker })));
            using var client = host.CreateClient();
            var body = new JsonObject { ["id"] = "no-dir", ["manifest"] = JsonNode.Parse(SpmcFactory.PassthroughManifest), ["record"] = true };
            var (status, detail) = await (await client.PostAsync("/api/v1/systems",
                new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"))).ProblemAsync();
            Assert.Equal(400, status);
            Assert.StartsWith("record:", detail);
            Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/v1/systems/no-dir")).StatusCode);
        }
        finally
        {
            File.Delete(blocker);
        }
    }

    private static async Task<string> ReadSharedAsync(string path)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        return await new StreamReader(stream).ReadToEndAsync();
    }

    [Fact]
    public async Task Replay_AnExportedTrace_IsIdentical()
    {
        var response = await _client.PostAsync("/api/v1/replay", Trace(await ExportAfterCallsAsync()));
        var report = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.IsSuccessStatusCode, report.ToString());
        Assert.True(report.GetProperty("identical").GetBoolean(), report.ToString());
        Assert.Equal(2, report.GetProperty("replayed").GetInt32());
        Assert.Equal(2, report.GetProperty("matched").GetInt32());
        Assert.Equal(JsonValueKind.Null, report.GetProperty("difference").ValueKind);
    }

    [Fact]
    public async Task Replay_AChangedAnswer_ReportsTheFirstDifferenceWithBothSidesDecoded()
    {
        var lines = (await ExportAfterCallsAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var changed = JsonNode.Parse(lines[2])!;
        var seq = changed["seq"]!.GetValue<long>();
        changed["answer"]!["x"]![2] = "0x8001";       // FFA_SPM_ID_GET answered 0x8000
        lines[2] = changed.ToJsonString();

        var report = await (await _client.PostAsync("/api/v1/replay", Trace(string.Join('\n', lines) + "\n"))).Content.ReadFromJsonAsync<JsonElement>();
        Assert.False(report.GetProperty("identical").GetBoolean());
        Assert.Equal(1, report.GetProperty("matched").GetInt32());
        var difference = report.GetProperty("difference");
        Assert.Equal(seq, difference.GetProperty("seq").GetInt64());
        Assert.Contains("x2", difference.GetProperty("fields").EnumerateArray().Select(f => f.GetString()));
        Assert.Equal("0x8001", difference.GetProperty("expected").GetProperty("x")[2].GetString());
        Assert.Equal("0x8000", difference.GetProperty("actual").GetProperty("x")[2].GetString());
        Assert.Equal("FFA_SPM_ID_GET", difference.GetProperty("actual").Decoded("function"));
        Assert.False(string.IsNullOrWhiteSpace(difference.GetProperty("description").GetString()));

        var text = await _client.PostAsync("/api/v1/replay?format=text", Trace(string.Join('\n', lines) + "\n"));
        Assert.Equal(["false"], text.Headers.GetValues("X-Spmc-Replay-Identical"));
        Assert.Contains($"seq {seq} differs in x2", await text.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("", "body:")]
    [InlineData("not json\n", "trace line 1")]
    [InlineData("{\"format\":\"spmc-trace\",\"version\":99,\"system\":\"x\",\"manifest\":{}}\n", "trace line 1")]
    public async Task Replay_BadTrace_Is400(string body, string text)
    {
        var (status, detail) = await (await _client.PostAsync("/api/v1/replay", Trace(body))).ProblemAsync();
        Assert.Equal(400, status);
        Assert.Contains(text, detail);
    }

    [Fact]
    public async Task Replay_HostileTraces_Are400NamingTheLine()
    {
        var header = (await _client.GetStringAsync($"/api/v1/systems/{await factory.NewSystemAsync()}/trace")).Split('\n')[0];
        string[] bodies =
        [
            header + "\n" + new string('[', 100_000) + new string(']', 100_000) + "\n",
            header + "\n{\"type\":\"memory\",\"seq\":1,\"op\":\"write\",\"as\":\"0x0\",\"address\":\"0x80000000\",\"data\":\"zz\"}\n",
            header + "\n{\"type\":\"smc\",\"seq\":1,\"caller\":\"0x0\",\"vcpu\":0,\"conduit\":\"smc\",\"x\":[\"0xZZ\"]}\n",
        ];
        foreach (var body in bodies)
        {
            var (status, detail) = await (await _client.PostAsync("/api/v1/replay", Trace(body))).ProblemAsync();
            Assert.Equal(400, status);
            Assert.Contains("trace line 2", detail);
        }
        using var notUtf8 = new ByteArrayContent([.. System.Text.Encoding.UTF8.GetBytes(header + "\n"), 0xFF, 0xFE, (byte)'\n']);
        notUtf8.Headers.ContentType = new("application/x-ndjson");
        var (utf8Status, utf8Detail) = await (await _client.PostAsync("/api/v1/replay", notUtf8)).ProblemAsync();
        Assert.Equal(400, utf8Status);
        Assert.Contains("UTF-8", utf8Detail);
    }

    [Fact]
    public async Task Replay_AboveTheLimit_Is413()
    {
        var (status, detail) = await (await _client.PostAsync("/api/v1/replay", Trace(new string(' ', TraceFactory.MaxReplayBytes + 1)))).ProblemAsync();
        Assert.Equal(413, status);
        Assert.Contains("MaxReplayBytes", detail);
    }
}
