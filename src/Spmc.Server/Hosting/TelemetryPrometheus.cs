using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Prometheus;
using Spmc.Core.Observability;

namespace Spmc.Server.Hosting;

/// <summary>
/// Publishes this host's "Spmc" meter in a prometheus-net registry of its own, with Prometheus names: counters
/// <c>spmc_calls_total</c>, the histogram <c>spmc_call_duration_seconds</c>, gauges <c>spmc_systems</c>,
/// <c>spmc_shares_outstanding</c>, <c>spmc_memory_resident_bytes</c>, <c>spmc_streams</c>, <c>spmc_attachments</c>.
/// (prometheus-net's own MeterAdapter would publish every meter of the process as <c>spmc_spmc_calls</c> gauges.)
/// Gauges are read when the registry is scraped; the listener only hears the meter of this host.
/// </summary>
public sealed class PrometheusBridge : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly MetricFactory _factory;
    private readonly ConcurrentDictionary<Instrument, Collector> _collectors = new();
    private bool _disposed;

    public PrometheusBridge(SpmcMetrics metrics, bool processMetrics)
    {
        Registry = Metrics.NewCustomRegistry();
        _factory = Metrics.WithCustomRegistry(Registry);
        if (processMetrics) DotNetStats.Register(Registry);
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter, metrics.Meter)) listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
        _listener.Start();
        Registry.AddBeforeCollectCallback(() =>
        {
            if (!Volatile.Read(ref _disposed)) _listener.RecordObservableInstruments();
        });
    }

    public CollectorRegistry Registry { get; }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (!_collectors.TryGetValue(instrument, out var collector)) collector = _collectors.GetOrAdd(instrument, Create(instrument, tags));
        // Our tags are few (at most 3) and their values strings: no allocation once a label set exists.
        var buffer = System.Buffers.ArrayPool<string>.Shared.Rent(tags.Length);
        try
        {
            for (var i = 0; i < tags.Length; i++) buffer[i] = tags[i].Value as string ?? tags[i].Value?.ToString() ?? "";
            var labels = new ReadOnlySpan<string>(buffer, 0, tags.Length);
            switch (collector)
            {
                case Counter c: c.WithLabels(labels).Inc(value); break;
                case Histogram h: h.WithLabels(labels).Observe(value); break;
                case Gauge g: g.WithLabels(labels).Set(value); break;
            }
        }
        finally
        {
            System.Buffers.ArrayPool<string>.Shared.Return(buffer, clearArray: true);
        }
    }

    /// <summary>spmc.calls → spmc_calls_total; a unit of seconds or bytes becomes the suffix.</summary>
    private Collector Create(Instrument instrument, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var name = instrument.Name.Replace('.', '_') + instrument.Unit switch { "s" => "_seconds", "By" => "_bytes", _ => "" };
        var labels = new string[tags.Length];
        for (var i = 0; i < tags.Length; i++) labels[i] = tags[i].Key.Replace('.', '_');
        var help = instrument.Description ?? instrument.Name;
        return instrument switch
        {
            Counter<long> => _factory.CreateCounter(name + "_total", help, labels),
            Histogram<double> => _factory.CreateHistogram(name, help, new HistogramConfiguration
            {
                LabelNames = labels,
                Buckets = [1e-6, 2e-6, 5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 1e-2, 0.1, 1, 10],
            }),
            _ => _factory.CreateGauge(name, help, labels),
        };
    }

    public void Dispose()
    {
        Volatile.Write(ref _disposed, true);
        _listener.Dispose();
    }
}
