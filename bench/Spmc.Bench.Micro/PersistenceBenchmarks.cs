using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using Spmc.Abi.Smccc;
using Spmc.Core.Calls;
using Spmc.Core.Systems;
using Spmc.Persistence;

namespace Spmc.Bench.Micro;

/// <summary>
/// The cost of durable systems (docs/persistence.md): one echo direct request from the host to SP 0x8001 through
/// <see cref="SimulatedSystem.Call"/> (in-process, passthrough), with persistence off, batched (journaled in memory,
/// flushed every 50 ms by the background flusher) and strict (written and fsynced before the call returns), the store
/// in a temporary directory (the disk of $TMPDIR decides strict's figure). Calls/s = 1 s / Mean.
/// Run: scripts/bench-micro.sh --filter '*Persistence*'.
/// </summary>
[Config(typeof(Config))]
[MemoryDiagnoser]
public class PersistenceBenchmarks
{
    private sealed class Config : ManualConfig
    {
        public Config()
        {
            AddJob(Job.ShortRun.WithWarmupCount(3).WithIterationCount(5));
        }
    }

    [Params(PersistenceMode.Off, PersistenceMode.Batched, PersistenceMode.Strict)]
    public PersistenceMode Mode { get; set; }

    private SimulatedSystem _system = null!;
    private PersistentStore? _store;
    private string? _directory;
    private readonly SmcCall _call = new(0, 0, Conduit.Smc, SmcFrame.From(0x8400006F, 0x0000_8001, 0, 1, 2, 3, 4, 5));

    [GlobalSetup]
    public void Setup()
    {
        var manifest = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "manifests", "default.json"))
            .Replace("\"proxy\": \"pkvm-7.4\"", "\"proxy\": \"passthrough\"", StringComparison.Ordinal);
        if (Mode != PersistenceMode.Off)
        {
            _directory = Directory.CreateTempSubdirectory("spmc-bench-persist-").FullName;
            _store = new PersistentStore(new PersistenceOptions { Mode = Mode, Path = _directory });
        }
        _system = new SystemRegistry(observers: _store is null ? [] : [_store]).Create("bench", manifest);
        var answer = _system.Call(_call);
        if (answer.Frame.X0 != 0x84000070UL) throw new InvalidOperationException($"answered {answer.Decoded.Result} {answer.Decoded.Error}");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _store?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        if (_directory is not null) Directory.Delete(_directory, recursive: true);
    }

    [Benchmark]
    public SmcOutcome Call() => _system.Call(_call);
}
