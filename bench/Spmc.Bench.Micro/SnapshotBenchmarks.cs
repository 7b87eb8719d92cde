using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using Google.Protobuf;
using Spmc.Abi.Smccc;
using Spmc.Core.Calls;
using Spmc.Core.Manifests;
using Spmc.Core.Snapshots;
using Spmc.Core.Systems;
using Spmc.Server.Grpc;

namespace Spmc.Bench.Micro;

/// <summary>Builds the systems the snapshot benchmarks measure (docs/snapshots.md, "Cost").</summary>
internal static class SnapshotSystems
{
    private static string DefaultManifest => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "manifests", "default.json"));

    /// <summary>The default system (pkvm-7.4) after boot, with the host's FFA_VERSION negotiated.</summary>
    public static SimulatedSystem Booted(string manifest)
    {
        var system = new SimulatedSystem("bench", ManifestValidator.Validate(manifest));
        var frame = new SmcFrame();
        (frame[0], frame[1]) = (0x84000063, 0x10002);
        var answer = system.Call(new SmcCall(0, 0, Conduit.Smc, frame));
        if (answer.Frame.X0 >= 0x8000_0000) throw new InvalidOperationException($"FFA_VERSION answered 0x{answer.Frame.X0:X}");
        return system;
    }

    public static SimulatedSystem Default() => Booted(DefaultManifest);

    /// <summary>
    /// The default system with the host's memory grown to 2 GiB and the first 1 GiB of it written, every page (a non-zero
    /// word per page). pKVM keeps its own buffers at the top of the host's memory, so not all of it is the host's.
    /// </summary>
    public static SimulatedSystem OneGiBWritten()
    {
        const ulong Base = 0x8000_0000, Size = 1UL << 30;
        var system = Booted(DefaultManifest.Replace("\"size\": \"0x10000000\"", "\"size\": \"0x80000000\"", StringComparison.Ordinal));
        var chunk = new byte[1 << 20];
        for (ulong offset = 0; offset < Size; offset += (ulong)chunk.Length)
        {
            for (var i = 0; i < chunk.Length; i += 4096) BitConverter.TryWriteBytes(chunk.AsSpan(i), offset + (ulong)i + 1);
            system.WriteMemory(0, Base + offset, chunk);
        }
        if (system.GetState().ResidentPages != (int)(Size / 4096)) throw new InvalidOperationException("not every page is resident");
        return system;
    }
}

/// <summary>
/// Snapshot and restore of the default system after boot (goal: at most 1 ms each), and the document's two forms.
/// </summary>
[Config(typeof(Config))]
[MemoryDiagnoser]
public class SnapshotBenchmarks
{
    private sealed class Config : ManualConfig
    {
        public Config() => AddJob(Job.ShortRun);
    }

    private SimulatedSystem _system = null!;
    private SystemSnapshot _snapshot = null!;

    [GlobalSetup]
    public void Setup()
    {
        _system = SnapshotSystems.Default();
        _snapshot = _system.Snapshot();
    }

    [Benchmark]
    public SystemSnapshot Snapshot() => _system.Snapshot();

    [Benchmark]
    public void RestoreInPlace() => _system.RestoreInPlace(_snapshot);

    [Benchmark]
    public SimulatedSystem FromSnapshot() => SimulatedSystem.FromSnapshot("copy", _snapshot);

    [Benchmark]
    public byte[] ToJson() => _snapshot.ToJson();

    [Benchmark]
    public byte[] ToProtobuf() => SnapshotProto.ToProto(_snapshot).ToByteArray();
}

/// <summary>
/// The same with 1 GiB of written memory (262,144 resident pages): Snapshot, RestoreInPlace and FromSnapshot share
/// the pages (copy-on-write), serialising writes them. Serialising goes to Stream.Null (the JSON form is 1.4 GB).
/// One invocation per iteration: each takes from milliseconds to seconds.
/// </summary>
[Config(typeof(Config))]
[MemoryDiagnoser]
public class LargeSnapshotBenchmarks
{
    private sealed class Config : ManualConfig
    {
        public Config() => AddJob(Job.Dry.WithStrategy(RunStrategy.Monitoring).WithWarmupCount(1).WithIterationCount(5).WithId("Monitoring"));
    }

    private SimulatedSystem _system = null!;
    private SystemSnapshot _snapshot = null!;

    [GlobalSetup]
    public void Setup()
    {
        _system = SnapshotSystems.OneGiBWritten();
        _snapshot = _system.Snapshot();
    }

    [Benchmark]
    public SystemSnapshot Snapshot1GiB() => _system.Snapshot();

    [Benchmark]
    public void RestoreInPlace1GiB() => _system.RestoreInPlace(_snapshot);

    [Benchmark]
    public SimulatedSystem FromSnapshot1GiB() => SimulatedSystem.FromSnapshot("copy", _snapshot);

    [Benchmark]
    public void WriteJson1GiB() => _snapshot.WriteJson(Stream.Null);

    [Benchmark]
    public void WriteProtobuf1GiB() => SnapshotProto.ToProto(_snapshot).WriteTo(Stream.Null);
}
