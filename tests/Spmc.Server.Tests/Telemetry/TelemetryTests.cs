using System.Diagnostics;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using Spmc.V1;

namespace Spmc.Server.Tests.Telemetry;

/// <summary>SMC log events, the Prometheus scrape and SMC spans with their hops, each through the real host.</summary>
public sealed class TelemetryTests : IDisposable
{
    private readonly TelemetryFactory _factory = new();
    private readonly HttpClient _client;

    public TelemetryTests() => _client = _factory.CreateClient();

    public void Dispose()
    {
        _client.Dispose();
        _factory.Dispose();
    }

    private static readonly object FfaVersion = new { caller = "0x0", x = new[] { "0x84000063", "0x10002" } };
    private static readonly object FfaIdGet = new { caller = "0x0", x = new[] { "0x84000069" } };

    [Fact]
    public async Task SmcLog_EveryCallAtDebug_ErrorsAtInformationWithTheirRule()
    {
        var system = await _factory.NewSystemAsync(SpmcFactory.DefaultManifest); // pKVM: FFA_ID_GET before FFA_VERSION is refused
        await _client.SmcAsync(system, FfaIdGet);
        await _client.SmcAsync(system, FfaVersion);

        var events = _factory.Logs.Events.Where(e => e.Category == "Spmc.Smc" && Equals(e.Fields.GetValueOrDefault("System"), system)).ToList();
        Assert.Equal(2, events.Count);

        var refused = events[0];
        Assert.Equal(LogLevel.Information, refused.Level);
        Assert.Equal("SmcFailed", refused.Event.Name);
        Assert.Equal(1L, refused.Fields["Sequence"]);
        Assert.Equal("0x0000", refused.Fields["Caller"]);
        Assert.Equal(0u, refused.Fields["Vcpu"]);
        Assert.Equal("FFA_ID_GET", refused.Fields["Function"]);
        Assert.Equal("SMC32", refused.Fields["Width"]);
        Assert.Equal("FFA_ERROR_32", refused.Fields["Result"]);
        Assert.Equal("INVALID_PARAMETERS", refused.Fields["Error"]);
        Assert.Equal("pkvm.version.not-negotiated", refused.Fields["Rule"]);
        Assert.Equal(0, refused.Fields["HopCount"]);
        Assert.Equal(false, refused.Fields["FromAttachedPartition"]);
        Assert.IsType<double>(refused.Fields["DurationUs"]);
        Assert.Contains("pkvm.version.not-negotiated", refused.Message, StringComparison.Ordinal);

        var version = events[1];
        Assert.Equal(LogLevel.Debug, version.Level);
        Assert.Equal("SmcAnswered", version.Event.Name);
        Assert.Equal(2L, version.Fields["Sequence"]);
        Assert.Equal("FFA_VERSION", version.Fields["Function"]);
        Assert.False(version.Fields.ContainsKey("Error"));
        Assert.True((int)version.Fields["HopCount"]! >= 2, version.Message);
        Assert.Contains("FFA_ID_GET", (string)version.Fields["Hops"]!, StringComparison.Ordinal);

        Assert.Contains(_factory.Logs.Events, e => e.Category == "Spmc.Systems" && e.Event.Name == "SystemCreated" && Equals(e.Fields["System"], system));
        Assert.Contains(_factory.Logs.Events, e => e.Category == "Spmc.Hosting" && e.Event.Name == "Listening");
        Assert.Contains(_factory.Logs.Events, e => e.Message.StartsWith("System 'default' created from manifest /", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SmcLog_AtInformation_DebugCallsAreNotLogged()
    {
        using var quiet = _factory.WithWebHostBuilder(b => b.UseSetting("Logging:LogLevel:Spmc", "Information"));
        var logs = _factory.Logs;
        using var client = quiet.CreateClient();
        var body = $$"""{"id":"quiet","manifest":{{SpmcFactory.PassthroughManifest}}}""";
        (await client.PostAsync("/api/v1/systems", new StringContent(body, System.Text.Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();
        await client.SmcAsync("quiet", FfaVersion);
        await client.DeleteAsync("/api/v1/systems/quiet");
        Assert.DoesNotContain(logs.Events, e => e.Category == "Spmc.Smc" && Equals(e.Fields.GetValueOrDefault("System"), "quiet"));
        Assert.Contains(logs.Events, e => e.Event.Name == "SystemDeleted" && Equals(e.Fields["System"], "quiet") && e.Level == LogLevel.Information);
    }

    [Fact]
    public async Task Metrics_ScrapeShowsCallCountersMove_AndTheGauges()
    {
        var system = await _factory.NewSystemAsync(SpmcFactory.DefaultManifest);
        const string ok = """spmc_calls_total{function="FFA_VERSION",result="ok",error=""}""";
        const string failed = """spmc_calls_total{function="FFA_ID_GET",result="error",error="INVALID_PARAMETERS"}""";
        var before = await ScrapeAsync();
        var put = await _client.PutAsync($"/api/v1/systems/{system}/memory/0x80000000?as=0x0",
            new StringContent("""{"data":"AQIDBA=="}""", System.Text.Encoding.UTF8, "application/json"));
        put.EnsureSuccessStatusCode();
        await _client.SmcAsync(system, FfaIdGet);
        await _client.SmcAsync(system, FfaVersion);
        await _client.SmcAsync(system, FfaVersion);

        // A Session stream open while scraping.
        var channel = GrpcChannel.ForAddress(_factory.Server.BaseAddress, new GrpcChannelOptions { HttpHandler = _factory.Server.CreateHandler() });
        using var session = new SmcGateway.SmcGatewayClient(channel).Session();
        await session.RequestStream.WriteAsync(new SmcRequest { SystemId = system, Caller = 0, X = { 0x84000063, 0x10002 } });
        Assert.True(await session.ResponseStream.MoveNext(CancellationToken.None));

        var after = await ScrapeAsync();
        Assert.Equal(Value(before, ok) + 3, Value(after, ok));
        Assert.Equal(Value(before, failed) + 1, Value(after, failed));
        Assert.True(Value(after, """spmc_call_duration_seconds_count{function="FFA_VERSION"}""") >= 3);
        Assert.True(Value(after, "spmc_systems") >= 2); // "default" and this one
        Assert.Equal(1, Value(after, """spmc_streams{method="SmcGateway/Session"}"""));
        Assert.Contains("""spmc_streams{method="Systems/Watch"} 0""", after, StringComparison.Ordinal);
        Assert.True(Value(after, "spmc_memory_resident_bytes") >= Value(before, "spmc_memory_resident_bytes") + 4096, after); // the page written
        Assert.Contains("\nspmc_shares_outstanding ", after, StringComparison.Ordinal);
        Assert.Contains("\nspmc_attachments ", after, StringComparison.Ordinal);

        await session.RequestStream.CompleteAsync();
        Assert.False(await session.ResponseStream.MoveNext(CancellationToken.None));
        channel.Dispose();
    }

    [Fact]
    public async Task Tracing_PkvmFfaVersion_IsASpanUnderTheRequest_WithAChildSpanPerHop()
    {
        var system = await _factory.NewSystemAsync(SpmcFactory.DefaultManifest);
        var answer = await _client.SmcAsync(system, FfaVersion);
        var hops = answer.GetProperty("decoded").GetProperty("hops").EnumerateArray()
            .Select(h => h.GetProperty("decoded").GetProperty("function").GetString()).ToList();
        Assert.Contains("FFA_ID_GET", hops);
        Assert.Contains("FFA_FEATURES", hops);

        Activity? smc = null;
        for (var i = 0; i < 50 && smc is null; i++)
        {
            lock (_factory.Spans) smc = _factory.Spans.FirstOrDefault(a => a.DisplayName == "smc FFA_VERSION" && Equals(a.GetTagItem("spmc.system"), system));
            if (smc is null) await Task.Delay(20);
        }
        Assert.NotNull(smc);
        Assert.Equal("0x0000", smc.GetTagItem("spmc.caller"));
        Assert.Equal("FFA_VERSION", smc.GetTagItem("spmc.function"));
        Assert.Equal(1L, smc.GetTagItem("spmc.sequence"));
        Assert.Equal(hops.Count, smc.GetTagItem("spmc.hops"));

        List<Activity> children;
        lock (_factory.Spans) children = [.. _factory.Spans.Where(a => a.ParentSpanId == smc.SpanId)];
        Assert.Equal(hops.Select(h => $"hop {h}"), children.OrderBy(c => c.StartTimeUtc).Select(c => c.DisplayName));
        Assert.All(children, c => Assert.Equal(smc.TraceId, c.TraceId));
        Assert.Equal("FFA_SUCCESS_32", children.Single(c => c.DisplayName == "hop FFA_ID_GET").GetTagItem("spmc.result"));

        // The SMC's span hangs under the HTTP request's (ASP.NET Core instrumentation), once that one has ended.
        Activity? request = null;
        for (var i = 0; i < 50 && request is null; i++)
        {
            lock (_factory.Spans) request = _factory.Spans.FirstOrDefault(a => a.SpanId == smc.ParentSpanId);
            if (request is null) await Task.Delay(20);
        }
        Assert.NotNull(request);
        Assert.Equal(ActivityKind.Server, request.Kind);
    }

    private async Task<string> ScrapeAsync()
    {
        var response = await _client.GetAsync("/metrics");
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>The sample of <paramref name="series"/> (name and labels as printed), 0 when absent.</summary>
    private static double Value(string scrape, string series)
    {
        foreach (var line in scrape.Split('\n'))
            if (line.StartsWith(series + " ", StringComparison.Ordinal))
                return double.Parse(line[(series.Length + 1)..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
        return 0;
    }
}
