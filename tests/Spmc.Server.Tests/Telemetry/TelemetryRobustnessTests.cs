using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net.Http.Json;
using Spmc.Core;
using Spmc.Core.Calls;
using Spmc.Core.Observability;
using Spmc.Core.Systems;

namespace Spmc.Server.Tests.Telemetry;

/// <summary>Spans of calls that fail before an answer, span names clients cannot multiply, gauges under create/delete races.</summary>
public sealed class TelemetryRobustnessTests : IDisposable
{
    private readonly TelemetryFactory _factory = new();
    private readonly HttpClient _client;

    public TelemetryRobustnessTests() => _client = _factory.CreateClient();

    public void Dispose()
    {
        _client.Dispose();
        _factory.Dispose();
    }

    [Fact]
    public async Task Tracing_ACallRefusedByTheSystem_EndsItsSpanMarkedError()
    {
        var system = await _factory.NewSystemAsync(SpmcFactory.PassthroughManifest);
        var response = await _client.PostAsJsonAsync($"/api/v1/systems/{system}/smc", new { caller = "0x7777", x = new[] { "0x84000063", "0x10002" } });
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);

        var smc = await SpanAsync(a => a.DisplayName == "smc FFA_VERSION" && Equals(a.GetTagItem("spmc.system"), system));
        Assert.Equal(ActivityStatusCode.Error, smc.Status);
        Assert.Equal(typeof(InvalidRequestException).FullName, smc.GetTagItem("error.type"));
        Assert.Contains(smc.Events, e => e.Name == "exception");
    }

    [Fact]
    public async Task Tracing_FunctionIdsOutsideTheTable_ShareOneSpanName_WithTheIdAsATag()
    {
        var system = await _factory.NewSystemAsync(SpmcFactory.PassthroughManifest);
        foreach (var id in new[] { "0x12345678", "0x8400FF01" })
            (await _client.PostAsJsonAsync($"/api/v1/systems/{system}/smc", new { caller = "0x0", x = new[] { id } })).EnsureSuccessStatusCode();

        await SpanAsync(a => Equals(a.GetTagItem("spmc.system"), system) && Equals(a.GetTagItem("spmc.sequence"), 2L));
        List<Activity> spans;
        lock (_factory.Spans) spans = [.. _factory.Spans.Where(a => Equals(a.GetTagItem("spmc.system"), system) && a.DisplayName.StartsWith("smc ", StringComparison.Ordinal))];
        Assert.Equal(["smc unknown", "smc unknown"], spans.Select(s => s.DisplayName));
        Assert.Equal(["0x12345678", "0x8400FF01"], spans.Select(s => s.GetTagItem("spmc.function_id")));
    }

    [Fact]
    public void Metrics_ASystemDeletedWhileBeingCreated_IsNotCountedForever()
    {
        using var metrics = new SpmcMetrics();
        SystemRegistry? registry = null;
        // Another request deletes the system between its registration and the metrics' OnCreated.
        var deleter = new DeleteOnCreate(id => registry!.Delete(id));
        registry = new SystemRegistry(10, [deleter, metrics]);
        registry.Create("racy", SpmcFactory.PassthroughManifest);
        Assert.Empty(registry.List());
        Assert.Equal(0, Gauge(metrics, SpmcMetrics.Names.Systems));
    }

    private static long Gauge(SpmcMetrics metrics, string name)
    {
        long value = -1;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (i, l) =>
        {
            if (ReferenceEquals(i.Meter, metrics.Meter) && i.Name == name) l.EnableMeasurementEvents(i);
        };
        listener.SetMeasurementEventCallback<long>((_, v, _, _) => value = v);
        listener.Start();
        listener.RecordObservableInstruments();
        return value;
    }

    private sealed class DeleteOnCreate(Action<string> delete) : ISystemObserver
    {
        public void OnCreated(SimulatedSystem system) => delete(system.Id);

        public void OnCall(SimulatedSystem system, CallRecord record) { }

        public void OnDeleted(SimulatedSystem system) { }
    }

    private async Task<Activity> SpanAsync(Func<Activity, bool> match)
    {
        for (var i = 0; i < 200; i++)
        {
            lock (_factory.Spans)
                if (_factory.Spans.FirstOrDefault(match) is { } found) return found;
            await Task.Delay(25);
        }
        lock (_factory.Spans)
            throw new Xunit.Sdk.XunitException($"no such span was exported; spans: {string.Join(", ", _factory.Spans.Select(a => a.DisplayName))}");
    }
}
