using System.Net;
using System.Text.Json;

namespace Spmc.Server.Tests.TraceApi;

public sealed class RestTraceTests(TraceFactory factory) : IClassFixture<TraceFactory>
{
    private readonly HttpClient _client = factory.CreateClient();
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    internal static object IdGet => new { caller = "0x0", x = new[] { "0x84000069" } };
    internal static object SpmIdGet => new { caller = "0x0", x = new[] { "0x84000085" } };

    internal static List<JsonElement> Lines(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();

    [Fact]
    public async Task Export_AfterCalls_IsTheHeaderThenTheEntriesInSequenceOrder()
    {
        var system = await factory.NewSystemAsync();
        await _client.SmcAsync(system, IdGet);
        await _client.SmcAsync(system, SpmIdGet);
        await _client.SmcAsync(system, IdGet);

        var response = await _client.GetAsync($"/api/v1/systems/{system}/trace");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/x-ndjson", response.Content.Headers.ContentType?.MediaType);
        var lines = Lines(await response.Content.ReadAsStringAsync());

        Assert.Equal("spmc-trace", lines[0].GetProperty("format").GetString());
        Assert.Equal(1, lines[0].GetProperty("version").GetInt32());
        Assert.Equal(system, lines[0].GetProperty("system").GetString());
        Assert.Equal(JsonValueKind.Object, lines[0].GetProperty("manifest").ValueKind);
        var entries = lines.Skip(1).ToList();
        Assert.Equal(3, entries.Count);
        Assert.All(entries, e => Assert.Equal("smc", e.GetProperty("type").GetString()));
        var seqs = entries.Select(e => e.GetProperty("seq").GetInt64()).ToList();
        Assert.Equal(seqs.Order(), seqs);
        Assert.Equal(3, seqs.Distinct().Count());
        Assert.Equal("0x84000085", entries[1].GetProperty("x")[0].GetString());
        Assert.Equal(["3"], response.Headers.GetValues("X-Spmc-Trace-Last"));
    }

    [Fact]
    public async Task Export_After_KeepsOnlyLaterEntries()
    {
        var system = await factory.NewSystemAsync();
        await _client.SmcAsync(system, IdGet);
        await _client.SmcAsync(system, SpmIdGet);
        var all = Lines(await _client.GetStringAsync($"/api/v1/systems/{system}/trace"));
        var first = all[1].GetProperty("seq").GetInt64();

        var later = Lines(await _client.GetStringAsync($"/api/v1/systems/{system}/trace?after={first}"));
        Assert.Equal("spmc-trace", later[0].GetProperty("format").GetString());
        var entry = Assert.Single(later.Skip(1));
        Assert.Equal(all[2].GetProperty("seq").GetInt64(), entry.GetProperty("seq").GetInt64());
        Assert.Single(Lines(await _client.GetStringAsync($"/api/v1/systems/{system}/trace?after=1000")));
    }

    [Theory]
    [InlineData("after=-1", "after:")]
    [InlineData("after=abc", "after:")]
    [InlineData("follow=maybe", "follow:")]
    public async Task Export_BadQuery_Is400NamingTheField(string query, string field)
    {
        var system = await factory.NewSystemAsync();
        var (status, detail) = await (await _client.GetAsync($"/api/v1/systems/{system}/trace?{query}")).ProblemAsync();
        Assert.Equal(400, status);
        Assert.StartsWith(field, detail);
    }

    [Fact]
    public async Task Export_UnknownSystem_Is404()
    {
        var (status, detail) = await (await _client.GetAsync("/api/v1/systems/nope/trace")).ProblemAsync();
        Assert.Equal(404, status);
        Assert.Contains("nope", detail);
    }

    [Fact]
    public async Task Follow_SeesACallMadeAfterItStarted_AndEndsWhenTheSystemIsDeleted()
    {
        var system = await factory.NewSystemAsync();
        await _client.SmcAsync(system, IdGet);
        using var cts = new CancellationTokenSource(Patience);
        using var response = await _client.SendAsync(new HttpRequestMessage(HttpMethod.Get, $"/api/v1/systems/{system}/trace?follow=true"),
            HttpCompletionOption.ResponseHeadersRead, cts.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cts.Token));

        Assert.Equal("spmc-trace", Parse(await reader.ReadLineAsync(cts.Token)).GetProperty("format").GetString());
        var old = Parse(await reader.ReadLineAsync(cts.Token));
        Assert.Equal("0x84000069", old.GetProperty("x")[0].GetString());

        await _client.SmcAsync(system, SpmIdGet);
        var live = Parse(await reader.ReadLineAsync(cts.Token));
        Assert.Equal("0x84000085", live.GetProperty("x")[0].GetString());
        Assert.True(live.GetProperty("seq").GetInt64() > old.GetProperty("seq").GetInt64());

        Assert.Equal(HttpStatusCode.NoContent, (await _client.DeleteAsync($"/api/v1/systems/{system}", cts.Token)).StatusCode);
        var end = Parse(await reader.ReadLineAsync(cts.Token));
        Assert.Equal("end", end.GetProperty("type").GetString());
        Assert.Equal("system-deleted", end.GetProperty("reason").GetString());
        Assert.Null(await reader.ReadLineAsync(cts.Token));
    }

    private static JsonElement Parse(string? line)
    {
        Assert.NotNull(line);
        return JsonDocument.Parse(line).RootElement.Clone();
    }
}
