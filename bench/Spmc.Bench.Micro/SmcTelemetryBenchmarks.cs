using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using Microsoft.Extensions.Logging;
using Spmc.Abi.Smccc;
using Spmc.Core.Calls;
using Spmc.Core.Observability;
using Spmc.Core.Systems;
using Spmc.Server.Hosting;

namespace Spmc.Bench.Micro;

/// <summary>
/// One SMC through <see cref="SimulatedSystem.Call"/> on a passthrough system (one hop to the SPMC), in-process, as the
/// ratio of each telemetry set-up to <see cref="Baseline"/> (no observer, no listener: the path before telemetry
/// existed, plus one ActivitySource.HasListeners() test per call and per hop, which is also "tracing, no listener").
/// Each benchmark runs in its own process, so a listener of one never sees another's calls.
/// </summary>
[Config(typeof(Config))]
[MemoryDiagnoser]
public class SmcTelemetryBenchmarks
{
    private sealed class Config : ManualConfig
    {
        public Config()
        {
            // A short job: the whole suite (7 benchmarks x 2 calls) takes a couple of minutes.
            AddJob(Job.ShortRun.WithWarmupCount(3).WithIterationCount(5));
            SummaryStyle = BenchmarkDotNet.Reports.SummaryStyle.Default.WithRatioStyle(BenchmarkDotNet.Columns.RatioStyle.Trend);
        }
    }

    /// <summary>FFA_VERSION (1.2) from the host; an echo direct request from the host to SP 0x8001.</summary>
    [Params("FFA_VERSION", "DIRECT_REQ echo")]
    public string Smc { get; set; } = "FFA_VERSION";

    private SimulatedSystem _system = null!;
    private SmcCall _call = null!;
    private readonly List<IDisposable> _disposables = [];

    private void Setup(params ISystemObserver[] observers)
    {
        var manifest = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "manifests", "default.json"))
            .Replace("\"proxy\": \"pkvm-7.4\"", "\"proxy\": \"passthrough\"", StringComparison.Ordinal);
        _system = new SystemRegistry(observers: observers).Create("bench", manifest);
        _call = Smc == "FFA_VERSION"
            ? new SmcCall(0, 0, Conduit.Smc, Frame(0x84000063, 0x10002))
            : new SmcCall(0, 0, Conduit.Smc, Frame(0x8400006F, 0x0000_8001, 0, 1, 2, 3, 4, 5));
        var expected = Smc == "FFA_VERSION" ? 0x10003UL : 0x84000070UL;
        var answer = _system.Call(_call);
        if (answer.Frame.X0 != expected) throw new InvalidOperationException($"{Smc} answered {answer.Decoded.Result} {answer.Decoded.Error} {answer.Decoded.Reason}");
    }

    private static SmcFrame Frame(params ulong[] x)
    {
        var frame = new SmcFrame();
        for (var i = 0; i < x.Length; i++) frame[i] = x[i];
        return frame;
    }

    private ISystemObserver LogAtInformation()
    {
        var loggers = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Information).AddConsole());
        _disposables.Add(loggers);
        return new SmcLogObserver(loggers);
    }

    private SpmcMetrics Metrics()
    {
        var metrics = new SpmcMetrics();
        _disposables.Add(metrics);
        return metrics;
    }

    [GlobalSetup(Target = nameof(Baseline))]
    public void SetupBaseline() => Setup();

    [GlobalSetup(Target = nameof(LogsAtInformation))]
    public void SetupLogs() => Setup(LogAtInformation());

    [GlobalSetup(Target = nameof(MetricsNoListener))]
    public void SetupMetricsNoListener() => Setup(Metrics());

    [GlobalSetup(Target = nameof(MetricsPrometheus))]
    public void SetupMetricsPrometheus()
    {
        var metrics = Metrics();
        _disposables.Add(new PrometheusBridge(metrics, processMetrics: false));
        Setup(metrics);
    }

    [GlobalSetup(Target = nameof(ServerDefault))]
    public void SetupServerDefault()
    {
        var metrics = Metrics();
        _disposables.Add(new PrometheusBridge(metrics, processMetrics: true));
        Setup(LogAtInformation(), metrics);
    }

    [GlobalSetup(Target = nameof(TracingSampled))]
    public void SetupTracing()
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == SpmcTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        _disposables.Add(listener);
        Setup();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var d in _disposables) d.Dispose();
        _disposables.Clear();
    }

    /// <summary>(a) No observer, no listener.</summary>
    [Benchmark(Baseline = true)]
    public SmcOutcome Baseline() => _system.Call(_call);

    /// <summary>(b) The SMC log observer, level Information: an answered call is not logged.</summary>
    [Benchmark]
    public SmcOutcome LogsAtInformation() => _system.Call(_call);

    /// <summary>The metrics observer with nobody collecting.</summary>
    [Benchmark]
    public SmcOutcome MetricsNoListener() => _system.Call(_call);

    /// <summary>(c) The metrics observer collected into prometheus-net (what /metrics serves).</summary>
    [Benchmark]
    public SmcOutcome MetricsPrometheus() => _system.Call(_call);

    /// <summary>What the server runs by default: logs at Information, metrics into prometheus-net, no tracer.</summary>
    [Benchmark]
    public SmcOutcome ServerDefault() => _system.Call(_call);

    /// <summary>(e) An ActivityListener sampling every span (the SMC's and its hop's), no exporter.</summary>
    [Benchmark]
    public SmcOutcome TracingSampled() => _system.Call(_call);
}
