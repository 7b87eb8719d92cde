using Spmc.Abi.Calls;
using Spmc.Core;
using Spmc.Core.Memory;
using Spmc.Core.Systems;

namespace Spmc.Persistence.Tests;

/// <summary>Regressions found by the persistence review (one test per defect).</summary>
public class ReviewFixTests
{
    private const long Page = 4096;

    /// <summary>Writes a byte to one new host page after another until the memory quota refuses one.</summary>
    private static void FillUntilRefused(SimulatedSystem system)
    {
        for (ulong at = 0x8020_0000; ; at += (ulong)Page)
        {
            try
            {
                system.WriteMemory(0, at, "x"u8);
            }
            catch (QuotaExceededException)
            {
                return;
            }
        }
    }

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
            FillUntilRefused(system);   // the system's 4 pages (what it holds already counts)
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
            FillUntilRefused(other);
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

    [Fact]
    public void AZeroLengthFrameIsNoEntry()
    {
        using var buffer = new MemoryStream();
        JournalFrames.Append(buffer, "kept"u8);
        var whole = buffer.Length;
        buffer.Write(new byte[8]);   // CRC-32 of nothing is 0: 8 zero bytes would pass as an empty frame
        var (frames, end) = JournalFrames.Read(buffer.ToArray());
        Assert.Single(frames);
        Assert.Equal(whole, end);
    }

    [Theory]
    [InlineData(8)]
    [InlineData(4096)]   // a file system that extended the file with zeros before a crash
    public async Task AZeroFilledTailIsTornAndDropped(int zeros)
    {
        using var dir = new TempDir();
        var store = Host.Store(dir.Path);
        var system = new SystemRegistry(observers: [store]).Create("a", Host.DefaultManifest);
        Host.Boot(system);
        var expected = system.Snapshot().ToJson();
        await store.DisposeAsync();
        var journal = Directory.GetFiles(Path.Combine(dir.Path, "systems", "a"), "*.journal").Single();
        using (var file = new FileStream(journal, FileMode.Append)) file.Write(new byte[zeros]);
        await using var again = Host.Store(dir.Path);
        var restored = new SystemRegistry(observers: [again]);
        await again.RestoreAsync(restored);
        Assert.Equal(expected, restored.Get("a").Snapshot().ToJson());
    }

    [Theory]
    [InlineData(false)]   // a frame failing its CRC
    [InlineData(true)]    // a zero-length frame
    public async Task ABadFrameBeforeGoodOnesFailsTheStartNamingFileAndOffset(bool zeroLength)
    {
        using var dir = new TempDir();
        var store = Host.Store(dir.Path);
        var system = new SystemRegistry(observers: [store]).Create("a", Host.DefaultManifest);
        Host.Call(system, Abi.Smccc.SmcFrame.From(0x8400_0063, 0x1_0002));
        await store.DisposeAsync();
        var journal = Directory.GetFiles(Path.Combine(dir.Path, "systems", "a"), "*.journal").Single();
        var good = File.ReadAllBytes(journal);
        var bad = good.ToArray();
        if (zeroLength) bad = new byte[8];
        else bad[JournalFrames.HeaderBytes] ^= 0x20;
        File.WriteAllBytes(journal, [.. bad, .. good]);
        await using var again = Host.Store(dir.Path);
        var e = await Assert.ThrowsAsync<InvalidDataException>(() => again.RestoreAsync(new SystemRegistry(observers: [again])));
        Assert.Contains(Path.GetFileName(journal), e.Message);
        Assert.Contains("byte 0", e.Message);
        Assert.Equal(bad.Length + good.Length, new FileInfo(journal).Length);   // nothing cut
    }

    [Fact]
    public async Task ACallMovingTheMostDataIsJournaledAndReadBack()
    {
        using var dir = new TempDir();
        byte[] expected;
        const int ops = Core.Systems.SystemLimits.MaxMemoryOpsPerCall, size = Core.Systems.SystemLimits.MaxTransfer;
        await using (var store = Host.Store(dir.Path))
        {
            var system = new SystemRegistry(observers: [store]).Create("a", Host.DefaultManifest);
            var writes = Enumerable.Range(0, ops).Select(i => new Core.Calls.MemoryWrite(0x8100_0000 + (ulong)i * (ulong)size, Enumerable.Repeat((byte)(i + 1), size).ToArray())).ToList();
            var reads = writes.Select(w => new Core.Calls.MemoryReadRequest(w.Address, size)).ToList();
            var answer = system.Call(new Core.Calls.SmcCall(0, 0, Abi.Smccc.Conduit.Smc, Abi.Smccc.SmcFrame.From(0x8400_0063, 0x1_0002), writes, reads));
            Assert.Equal(ops, answer.Reads.Count(r => r.Data?.Length == size));
            Host.Boot(system);   // entries after the big one must survive too
            expected = system.Snapshot().ToJson();
        }
        var journal = Directory.GetFiles(Path.Combine(dir.Path, "systems", "a"), "*.journal").Single();
        Assert.True(new FileInfo(journal).Length < JournalFrames.MaxPayload, "read data is not journaled");
        await using var again = Host.Store(dir.Path);
        var restored = new SystemRegistry(observers: [again]);
        await again.RestoreAsync(restored);
        Assert.Equal(expected, restored.Get("a").Snapshot().ToJson());
    }

    [Fact]
    public void AnEntryAboveTheFrameLimitIsRefusedNotWritten()
    {
        using var buffer = new MemoryStream();
        Assert.Throws<ArgumentOutOfRangeException>(() => JournalFrames.Append(buffer, new byte[JournalFrames.MaxPayload + 1]));
        Assert.Equal(0, buffer.Length);
    }

    [Fact]
    public async Task AFailedCheckpointIsRetriedAndNothingIsDroppedSilently()
    {
        using var dir = new TempDir();
        var directory = Path.Combine(dir.Path, "systems", "a");
        await using var store = Host.Store(dir.Path, checkpointEvery: 2);
        var system = new SystemRegistry(observers: [store]).Create("a", Host.DefaultManifest);
        Host.Call(system, Abi.Smccc.SmcFrame.From(0x8400_0063, 0x1_0002));   // entry 1
        // The seam: a file where the system's directory was, so the next checkpoint cannot be written (root ignores modes).
        Directory.Delete(directory, recursive: true);
        File.WriteAllText(directory, "");
        Assert.Throws<PersistenceUnavailableException>(() => Host.Call(system, Abi.Smccc.SmcFrame.From(0x8400_0063, 0x1_0002)));   // entry 2: checkpoint
        // Still failing: the next change is refused as not durable, not dropped.
        Assert.Throws<PersistenceUnavailableException>(() => system.WriteMemory(0, 0x8020_0000, "lost?"u8));
        File.Delete(directory);
        // Repaired: the next change is a checkpoint holding everything applied so far.
        Host.Boot(system);
        var expected = system.Snapshot().ToJson();
        await store.DisposeAsync();
        await using var again = Host.Store(dir.Path);
        var restored = new SystemRegistry(observers: [again]);
        await again.RestoreAsync(restored);
        Assert.Equal(expected, restored.Get("a").Snapshot().ToJson());
        Assert.Equal("lost?"u8.ToArray(), restored.Get("a").ReadMemory(0, 0x8020_0000, 5));
    }
}
