using Spmc.Abi.Calls;
using Spmc.Abi.Smccc;
using Spmc.Client;
using Spmc.Core.Calls;
using Spmc.Core.Systems;
using Spmc.Persistence;

namespace Spmc.Persistence.Tests;

/// <summary>A temporary store directory, removed at the end.</summary>
public sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("spmc-persist-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A child process may still hold a file for a moment; the OS temp directory is cleaned anyway.
        }
    }
}

/// <summary>Calls on the repository's default system (host VM 0x0 behind pKVM; partition 0x8002 'memory').</summary>
public static class Host
{
    public const ulong Tx = 0x8000_0000, Rx = 0x8000_1000;
    public const ushort Memory = 0x8002;
    public const ulong Success32 = 0x8400_0061;

    public static string DefaultManifest { get; } = File.ReadAllText(System.IO.Path.Combine(AppContext.BaseDirectory, "manifests", "default.json"));

    public static SmcOutcome Call(SimulatedSystem system, SmcFrame frame, IReadOnlyList<MemoryWrite>? writes = null) =>
        system.Call(new SmcCall(0, 0, Conduit.Smc, frame, writes, null));

    /// <summary>FFA_VERSION 1.2 and an RX/TX pair: what a share needs first.</summary>
    public static void Boot(SimulatedSystem system)
    {
        Call(system, SmcFrame.From(0x8400_0063, 0x1_0002));
        Assert.Equal(Success32, Call(system, new RxTxMap(Tx, Rx, 1).Encode()).Frame[0]);
    }

    /// <summary>Shares one page at <paramref name="address"/> with the 'memory' partition; returns the handle.</summary>
    public static ulong Share(SimulatedSystem system, ulong address)
    {
        var descriptor = MemoryDescriptors.Transaction(0x0, Memory, address, 1);
        var answer = Call(system, new MemShare((uint)descriptor.Length, (uint)descriptor.Length).Encode(), [new MemoryWrite(Tx, descriptor)]);
        Assert.Equal(Success32, answer.Frame[0]);
        return answer.Frame[2] | answer.Frame[3] << 32;
    }

    public static PersistentStore Store(string path, PersistenceMode mode = PersistenceMode.Strict, int checkpointEvery = 1000) =>
        new(new PersistenceOptions { Mode = mode, Path = path, CheckpointEvery = checkpointEvery, BatchWindowMs = 60_000 });
}
