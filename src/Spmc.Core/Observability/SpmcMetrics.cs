using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Spmc.Core.Calls;
using Spmc.Core.Systems;

namespace Spmc.Core.Observability;

/// <summary>
/// The "Spmc" meter of one registry: a counter and a duration histogram fed by every call (as an observer), and
/// gauges read when a collector asks (systems, outstanding shares, resident simulated memory, open gRPC streams,
/// attached partition clients). With no listener a call costs one enabled-check per instrument.
/// </summary>
public sealed class SpmcMetrics : ISystemObserver, IDisposable
{
    /// <summary>Instrument names (OpenTelemetry style; Prometheus shows them as spmc_calls_total, spmc_call_duration_seconds, ...).</summary>
    public static class Names
    {
        public const string Calls = "spmc.calls", CallDuration = "spmc.call.duration", Systems = "spmc.systems",
            SharesOutstanding = "spmc.shares.outstanding", MemoryResident = "spmc.memory.resident", Streams = "spmc.streams",
            Attachments = "spmc.attachments";
    }

    private readonly bool _ownsMeter;
    private readonly Counter<long> _calls;
    private readonly Histogram<double> _duration;
    private readonly ConcurrentDictionary<SimulatedSystem, byte> _systems = new(ReferenceEqualityComparer.Instance);
    private readonly ConcurrentDictionary<string, StrongBox<long>> _streams = new(StringComparer.Ordinal);

    /// <summary>Creates the meter through <paramref name="factory"/> (the host's), or on its own (tests, benchmarks).</summary>
    public SpmcMetrics(IMeterFactory? factory = null)
    {
        var version = typeof(SpmcMetrics).Assembly.GetName().Version?.ToString();
        _ownsMeter = factory is null;
        Meter = factory?.Create(new MeterOptions(SpmcTelemetry.Name) { Version = version }) ?? new Meter(SpmcTelemetry.Name, version);
        _calls = Meter.CreateCounter<long>(Names.Calls, "{call}", "SMCs answered, by function, result kind (ok, error) and FF-A error");
        _duration = Meter.CreateHistogram<double>(Names.CallDuration, "s", "Time from an SMC's arrival to its answer (waits for remote partitions included)",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [1e-6, 2e-6, 5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 1e-2, 0.1, 1, 10] });
        Meter.CreateObservableGauge(Names.Systems, () => (long)_systems.Count, "{system}", "Simulated systems hosted");
        Meter.CreateObservableGauge(Names.SharesOutstanding, () => Sum(static c => c.Shares), "{share}",
            "Memory transactions (share, lend, donate) not yet reclaimed, over all systems");
        Meter.CreateObservableGauge(Names.MemoryResident, () => Sum(static c => c.ResidentBytes), "By", "Simulated physical memory written so far, over all systems");
        Meter.CreateObservableGauge(Names.Attachments, () => Sum(static c => c.Attachments), "{attachment}", "Remote partitions with an attached client (PartitionHost.Attach)");
        Meter.CreateObservableGauge(Names.Streams, ObserveStreams, "{stream}", "Open gRPC streams, by method (SmcGateway/Session, Systems/Watch, PartitionHost/Attach, ...)");
    }

    public Meter Meter { get; }

    public void OnCreated(SimulatedSystem system)
    {
        // The registry deletes under its creation lock, so a delete from another thread waits for every OnCreated. An
        // observer called before this one may still delete the system on this thread (the lock is re-entrant): then its
        // OnDeleted has already run, and without this test the deleted system would be counted, and kept, for ever.
        _systems.TryAdd(system, 0);
        if (system.IsDeleted) _systems.TryRemove(system, out _);
    }

    public void OnDeleted(SimulatedSystem system) => _systems.TryRemove(system, out _);

    public void OnCall(SimulatedSystem system, CallRecord record)
    {
        var decoded = record.Outcome.Decoded;
        var function = FunctionTag(decoded.Function);
        if (_calls.Enabled)
        {
            var tags = new TagList { { "function", function }, { "result", decoded.Error is null ? "ok" : "error" }, { "error", decoded.Error ?? "" } };
            _calls.Add(1, in tags);
        }
        if (_duration.Enabled) _duration.Record(record.Elapsed.TotalSeconds, new KeyValuePair<string, object?>("function", function));
    }

    /// <summary>Shows <paramref name="method"/> in <c>spmc.streams</c> (at 0) before its first stream opens.</summary>
    public void DeclareStream(string method) => _streams.GetOrAdd(method, static _ => new StrongBox<long>());

    /// <summary>A gRPC stream of <paramref name="method"/> is open until the returned scope is disposed.</summary>
    public StreamScope OpenStream(string method)
    {
        var count = _streams.GetOrAdd(method, static _ => new StrongBox<long>());
        Interlocked.Increment(ref count.Value);
        return new StreamScope(count);
    }

    /// <summary>Closes its stream once.</summary>
    public struct StreamScope(StrongBox<long> count) : IDisposable
    {
        private StrongBox<long>? _count = count;

        public void Dispose()
        {
            if (_count is { } c) Interlocked.Decrement(ref c.Value);
            _count = null;
        }
    }

    /// <summary>Function names come from the FF-A table; anything else (an unknown ID) is "other", so tags stay few.</summary>
    private static string FunctionTag(string function) =>
        function.StartsWith("FFA_", StringComparison.Ordinal) || function == "SMCCC_VERSION" ? function : "other";

    private long Sum(Func<SystemCounts, long> pick)
    {
        long sum = 0;
        foreach (var system in _systems.Keys) sum += pick(system.GetCounts());
        return sum;
    }

    private IEnumerable<Measurement<long>> ObserveStreams()
    {
        foreach (var (method, count) in _streams)
            yield return new Measurement<long>(Volatile.Read(ref count.Value), new KeyValuePair<string, object?>("method", method));
    }

    public void Dispose()
    {
        if (_ownsMeter) Meter.Dispose();
    }
}
