using Spmc.Abi.Calls;
using Spmc.Core;
using Spmc.Core.Memory;
using Spmc.Core.Systems;

namespace Spmc.Persistence.Tests;

/// <summary>Regressions found by the persistence review (one test per defect).</summary>
public class ReviewFixTests
{
    private const long Page = 4096;

    [Fact]
    public async Task AnAnswerRefusedByThePerSystemQuotaReplaysIdentically()
    {
        using var dir = new TempDir();
        byte[] expected;
        await using (var store = Host.Store(dir.Path))
        {
            var registry = new SystemRegistry(observers: [store], memoryQuota: new MemoryQuota(4 * Page, 0));
            var system = registry.Create("a", Host.DefaultManifest);
            Host.Call(system, Abi.Smccc.SmcFrame.From(0x8400_0063, 0x1_0002));
            // Fill the system's 4 pages (what it holds already counts).
            for (ulong at = 0x8020_0000; ; at += (ulong)Page)
            {
                try
                {
                    system.WriteMemory(0, at, "x"u8);
                }
                catch (QuotaExceededException)
                {
                    break;
                }
            }
            var answer = Host.Call(system, new RxTxMap(Host.Tx, Host.Rx, 1).Encode());
            Assert.Equal("rxtx-map.no-memory", answer.Decoded.Rule);
            expected = system.Snapshot().ToJson();
        }
        await using var again = Host.Store(dir.Path);
        var restored = new SystemRegistry(observers: [again], memoryQuota: new MemoryQuota(4 * Page, 0));
        Assert.Equal(["a"], await again.RestoreAsync(restored));
        Assert.Equal(expected, restored.Get("a").Snapshot().ToJson());
    }

    [Fact]
    public async Task AnAnswerRefusedByTheTotalQuotaIsCheckpointed()
    {
        using var dir = new TempDir();
        byte[] expected;
        await using (var store = Host.Store(dir.Path))
        {
            var registry = new SystemRegistry(observers: [store], memoryQuota: new MemoryQuota(0, 8 * Page));
            var other = registry.Create("b", Host.DefaultManifest);
            var system = registry.Create("a", Host.DefaultManifest);
            Host.Call(system, Abi.Smccc.SmcFrame.From(0x8400_0063, 0x1_0002));
            for (ulong at = 0x8020_0000; ; at += (ulong)Page)
            {
                try
                {
                    other.WriteMemory(0, at, "x"u8);
                }
                catch (QuotaExceededException)
                {
                    break;
                }
            }
            var answer = Host.Call(system, new RxTxMap(Host.Tx, Host.Rx, 1).Encode());
            Assert.Equal("rxtx-map.no-memory", answer.Decoded.Rule);
            expected = system.Snapshot().ToJson();
        }
        // Restored alone, under no total bound: only a checkpoint can bring the refusal back.
        await using var again = Host.Store(dir.Path);
        var restored = new SystemRegistry(observers: [again], memoryQuota: new MemoryQuota(0, 64 * Page));
        await again.RestoreAsync(restored);
        Assert.Equal(expected, restored.Get("a").Snapshot().ToJson());
    }

    [Theory]
    [InlineData(3)]   // the reset is the entry that triggers the checkpoint
    [InlineData(2)]   // the entry right after the reset does
    public async Task AResetOnTheCheckpointBoundaryRestoresTheSameState(int checkpointEvery)
    {
        using var dir = new TempDir();
        byte[] expected;
        await using (var store = Host.Store(dir.Path, checkpointEvery: checkpointEvery))
        {
            var system = new SystemRegistry(observers: [store]).Create("a", Host.DefaultManifest);
            system.AddFault(new Core.Faults.FaultRuleSpec("FFA_MEM_RECLAIM", "BUSY", Nth: 2));   // entry 1
            Host.Call(system, Abi.Smccc.SmcFrame.From(0x8400_0063, 0x1_0002));                  // entry 2
            system.Reset();                                                                       // entry 3
            Host.Boot(system);
            expected = system.Snapshot().ToJson();
        }
        await using var again = Host.Store(dir.Path, checkpointEvery: checkpointEvery);
        var restored = new SystemRegistry(observers: [again]);
        Assert.Equal(["a"], await again.RestoreAsync(restored));
        Assert.Equal(expected, restored.Get("a").Snapshot().ToJson());
    }
}
