using System.Text;
using Spmc.Core.Faults;
using Spmc.Core.Systems;

namespace Spmc.Persistence.Tests;

public class JournalFramesTests
{
    [Fact]
    public void FramesReadBackInOrder()
    {
        using var buffer = new MemoryStream();
        JournalFrames.Append(buffer, "one"u8);
        JournalFrames.Append(buffer, "two"u8);
        var (frames, end) = JournalFrames.Read(buffer.ToArray());
        Assert.Equal(["one", "two"], frames.Select(f => Encoding.UTF8.GetString(f.Span)));
        Assert.Equal(buffer.Length, end);
    }

    [Theory]
    [InlineData(1)]   // a header cut short
    [InlineData(9)]   // a payload cut short
    public void ACutLastFrameIsTheTornTail(int keep)
    {
        using var buffer = new MemoryStream();
        JournalFrames.Append(buffer, "kept"u8);
        var whole = buffer.Length;
        JournalFrames.Append(buffer, "torn entry"u8);
        var (frames, end) = JournalFrames.Read(buffer.ToArray().AsMemory(0, (int)whole + keep));
        Assert.Single(frames);
        Assert.Equal(whole, end);
    }

    [Fact]
    public void AFrameFailingItsCrcEndsTheValidFrames()
    {
        using var buffer = new MemoryStream();
        JournalFrames.Append(buffer, "kept"u8);
        var whole = (int)buffer.Length;
        JournalFrames.Append(buffer, "flipped"u8);
        var bytes = buffer.ToArray();
        bytes[whole + JournalFrames.HeaderBytes] ^= 0x20;
        var (frames, end) = JournalFrames.Read(bytes);
        Assert.Single(frames);
        Assert.Equal(whole, end);
    }
}

public class InMemoryMetadataTests
{
    [Fact]
    public void RecordsGoWithTheirSystem()
    {
        var metadata = new InMemorySystemMetadata();
        var registry = new SystemRegistry(observers: [metadata]);
        registry.Create("a", Host.DefaultManifest);
        metadata.PutMeta("a", "token", [7]);
        Assert.Equal([7], metadata.GetMeta("a", "token"));
        registry.Delete("a");
        Assert.Null(metadata.GetMeta("a", "token"));
    }
}

public class RestoreTests
{
    /// <summary>Every kind of change: calls with writes, shares, API memory writes and reads, fault rules, a reset.</summary>
    private static void Drive(SimulatedSystem system)
    {
        Host.Boot(system);
        Host.Share(system, 0x8010_0000);
        system.WriteMemory(0, 0x8020_0000, "hello"u8);
        system.AddFault(new FaultRuleSpec("FFA_MEM_RECLAIM", "BUSY", Nth: 2));
        Assert.Equal("hello"u8.ToArray(), system.ReadMemory(0, 0x8020_0000, 5));
        system.Reset();   // fault rules kept, restarted: their own sequence number follows the reset's
        Host.Boot(system);
        Host.Share(system, 0x8010_1000);
        Host.Share(system, 0x8010_2000);
        system.WriteMemory(0, 0x8020_1000, "world"u8);
    }

    [Theory]
    [InlineData(1000)]
    [InlineData(3)]   // several checkpoints on the way
    [InlineData(1)]
    public async Task ARestartRebuildsTheSameState(int checkpointEvery)
    {
        using var dir = new TempDir();
        byte[] expected;
        await using (var store = Host.Store(dir.Path, checkpointEvery: checkpointEvery))
        {
            var registry = new SystemRegistry(observers: [store]);
            var system = registry.Create("a", Host.DefaultManifest);
            Drive(system);
            expected = system.Snapshot().ToJson();
        }
        await using var again = Host.Store(dir.Path, checkpointEvery: checkpointEvery);
        var restored = new SystemRegistry(observers: [again]);
        Assert.Equal(["a"], await again.RestoreAsync(restored));
        Assert.Equal(expected, restored.Get("a").Snapshot().ToJson());
        // It goes on: the next share gets the next handle, and the change is journaled too.
        Host.Share(restored.Get("a"), 0x8010_3000);
        expected = restored.Get("a").Snapshot().ToJson();
        await again.DisposeAsync();
        await using var third = Host.Store(dir.Path);
        var registry3 = new SystemRegistry(observers: [third]);
        await third.RestoreAsync(registry3);
        Assert.Equal(expected, registry3.Get("a").Snapshot().ToJson());
    }

    [Fact]
    public async Task ARuleAddedRightAfterAResetIsKept()
    {
        using var dir = new TempDir();
        var store = Host.Store(dir.Path);
        var system = new SystemRegistry(observers: [store]).Create("a", Host.DefaultManifest);
        system.Reset();   // no rules: the reset announces none, so the next change is a rule of its own
        system.AddFault(new FaultRuleSpec("FFA_MEM_RECLAIM", "BUSY"));
        var expected = system.Snapshot().ToJson();
        await store.DisposeAsync();
        Assert.Equal(expected, await RestoredAsync(dir.Path));
    }

    [Fact]
    public async Task StrictIsOnDiskWithoutAStop()
    {
        using var dir = new TempDir();
        var store = Host.Store(dir.Path);   // never disposed: as after kill -9 (strict fsyncs each entry)
        var system = new SystemRegistry(observers: [store]).Create("a", Host.DefaultManifest);
        Drive(system);
        var expected = system.Snapshot().ToJson();
        await using var again = Host.Store(dir.Path);
        var restored = new SystemRegistry(observers: [again]);
        await again.RestoreAsync(restored);
        Assert.Equal(expected, restored.Get("a").Snapshot().ToJson());
    }

    [Fact]
    public async Task BatchedWritesWhatIsPendingOnFlushAndOnStop()
    {
        using var dir = new TempDir();
        var store = Host.Store(dir.Path, PersistenceMode.Batched);
        var system = new SystemRegistry(observers: [store]).Create("a", Host.DefaultManifest);
        var created = system.Snapshot().ToJson();
        Host.Boot(system);
        // Not flushed yet (the window is a minute here): a crash now loses the calls, never half of one.
        Assert.Equal(created, await RestoredAsync(dir.Path));
        store.FlushAll();
        var booted = system.Snapshot().ToJson();
        Assert.Equal(booted, await RestoredAsync(dir.Path));
        Host.Share(system, 0x8010_0000);
        await store.DisposeAsync();   // a clean stop keeps everything
        Assert.Equal(system.Snapshot().ToJson(), await RestoredAsync(dir.Path));
    }

    private static async Task<byte[]> RestoredAsync(string path)
    {
        // A copy of the directory, so restoring (which compacts) does not touch the live store's files.
        var copy = Directory.CreateTempSubdirectory("spmc-persist-copy-").FullName;
        try
        {
            foreach (var file in Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories))
            {
                var target = Path.Combine(copy, Path.GetRelativePath(path, file));
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                using var source = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                using var to = File.Create(target);
                source.CopyTo(to);
            }
            await using var store = Host.Store(copy);
            var registry = new SystemRegistry(observers: [store]);
            await store.RestoreAsync(registry);
            return registry.Get("a").Snapshot().ToJson();
        }
        finally
        {
            Directory.Delete(copy, recursive: true);
        }
    }

    [Fact]
    public async Task ATornTailIsDroppedAndTheRestKept()
    {
        using var dir = new TempDir();
        var store = Host.Store(dir.Path);
        var system = new SystemRegistry(observers: [store]).Create("a", Host.DefaultManifest);
        Host.Boot(system);
        var expected = system.Snapshot().ToJson();
        var journal = Directory.GetFiles(Path.Combine(dir.Path, "systems", "a"), "*.journal").Single();
        var intact = new FileInfo(journal).Length;
        Host.Share(system, 0x8010_0000);
        await store.DisposeAsync();
        // As if the crash came in the middle of the share's entry: part of its frame is on disk.
        using (var file = new FileStream(journal, FileMode.Open)) file.SetLength(intact + 20);
        await using var again = Host.Store(dir.Path);
        var restored = new SystemRegistry(observers: [again]);
        await again.RestoreAsync(restored);
        Assert.Equal(expected, restored.Get("a").Snapshot().ToJson());
        Assert.Empty(restored.Get("a").GetState().Shares);
    }

    [Fact]
    public async Task AnUnreadableCheckpointFailsTheRestoreNamingIt()
    {
        using var dir = new TempDir();
        await using (var store = Host.Store(dir.Path))
            new SystemRegistry(observers: [store]).Create("a", Host.DefaultManifest);
        var checkpoint = Directory.GetFiles(Path.Combine(dir.Path, "systems", "a"), "*.checkpoint.json").Single();
        File.WriteAllText(checkpoint, "{\"version\": 2");
        await using var again = Host.Store(dir.Path);
        var e = await Assert.ThrowsAsync<InvalidDataException>(() => again.RestoreAsync(new SystemRegistry(observers: [again])));
        Assert.Contains("system 'a'", e.Message);
        Assert.Contains(Path.GetFileName(checkpoint), e.Message);
    }

    [Fact]
    public async Task AnEntryThatIsNoTraceEntryFailsTheRestore()
    {
        using var dir = new TempDir();
        await using (var store = Host.Store(dir.Path))
            new SystemRegistry(observers: [store]).Create("a", Host.DefaultManifest);
        var journal = Directory.GetFiles(Path.Combine(dir.Path, "systems", "a"), "*.journal").Single();
        using (var file = new FileStream(journal, FileMode.Append)) JournalFrames.Append(file, "{\"type\":\"nonsense\"}"u8);
        await using var again = Host.Store(dir.Path);
        var e = await Assert.ThrowsAsync<InvalidDataException>(() => again.RestoreAsync(new SystemRegistry(observers: [again])));
        Assert.Contains("entry 1", e.Message);
    }

    [Fact]
    public async Task ARestoreInPlaceIsACheckpoint()
    {
        using var dir = new TempDir();
        byte[] expected;
        await using (var store = Host.Store(dir.Path))
        {
            var system = new SystemRegistry(observers: [store]).Create("a", Host.DefaultManifest);
            var fresh = system.Snapshot();
            Host.Boot(system);
            Host.Share(system, 0x8010_0000);
            system.RestoreInPlace(fresh);
            expected = system.Snapshot().ToJson();
            Assert.Single(Directory.GetFiles(Path.Combine(dir.Path, "systems", "a"), "*.checkpoint.json"));
        }
        Assert.Equal(expected, await RestoredAsync(dir.Path));
    }

    [Fact]
    public async Task DeleteRemovesTheSystemAndItsMetadata()
    {
        using var dir = new TempDir();
        await using (var store = Host.Store(dir.Path))
        {
            var registry = new SystemRegistry(observers: [store]);
            registry.Create("a", Host.DefaultManifest);
            registry.Create("b", Host.DefaultManifest);
            store.PutMeta("a", "token", [1, 2, 3]);
            store.PutMeta("b", "token", [4]);
            registry.Delete("b");
            Assert.False(Directory.Exists(Path.Combine(dir.Path, "systems", "b")));
            Assert.Throws<Core.NotFoundException>(() => store.PutMeta("b", "token", [4]));
            Assert.Throws<Core.InvalidRequestException>(() => store.PutMeta("a", "../x", [4]));
        }
        // As if a crash interrupted a delete after its rename: what is left in trash/ is removed, never restored.
        var leftover = Path.Combine(dir.Path, "trash", "c.0123");
        Directory.CreateDirectory(leftover);
        File.WriteAllText(Path.Combine(leftover, "0000000001.journal"), "");
        await using var again = Host.Store(dir.Path);
        var restored = new SystemRegistry(observers: [again]);
        Assert.Equal(["a"], await again.RestoreAsync(restored));
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "trash")));
        Assert.Equal([1, 2, 3], again.GetMeta("a", "token"));
        Assert.Null(again.GetMeta("a", "other"));
    }

    [Fact]
    public async Task ASystemRecreatedUnderTheSameIdStartsAfresh()
    {
        using var dir = new TempDir();
        await using (var store = Host.Store(dir.Path))
        {
            var registry = new SystemRegistry(observers: [store]);
            Host.Boot(registry.Create("a", Host.DefaultManifest));
            store.PutMeta("a", "token", [1]);
            registry.Delete("a");
            registry.Create("a", Host.DefaultManifest);
        }
        await using var again = Host.Store(dir.Path);
        var restored = new SystemRegistry(observers: [again]);
        await again.RestoreAsync(restored);
        Assert.Equal(0L, restored.Get("a").GetState().Calls);
        Assert.Null(again.GetMeta("a", "token"));
    }

    private const string RemoteManifest = """
        {
          "spmc": { "version": "1.2" },
          "proxy": "passthrough",
          "vms": [ { "id": 0, "name": "host", "vcpus": 1, "memory": [ { "base": "0x80000000", "size": "0x100000" } ] } ],
          "partitions": [
            { "id": "0x8004", "name": "remote", "behaviour": "remote", "uuids": [ "7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4a44" ],
              "properties": { "directRequestReceive": true },
              "memory": [ { "base": "0x60400000", "size": "0x100000" } ] }
          ]
        }
        """;

    [Fact]
    public async Task WhatChangesWhileAPartitionIsAttachedIsCheckpointedWhenSettled()
    {
        using var dir = new TempDir();
        await using var store = Host.Store(dir.Path);
        var system = new SystemRegistry(observers: [store]).Create("a", RemoteManifest);
        system.WriteMemory(0, 0x8000_0000, "before"u8);
        var before = system.Snapshot().ToJson();
        var client = system.Attach(0x8004);
        var wait = client.CallAsync(0, Abi.Smccc.SmcFrame.From(0x8400_006B));   // FFA_MSG_WAIT: parked until detached
        Assert.False(system.IsSettled);
        system.WriteMemory(0, 0x8000_1000, "during"u8);
        // A crash now: the attached era cannot be replayed, so the last state a replay can rebuild comes back.
        Assert.Equal(before, await RestoredAsync(dir.Path));
        client.Dispose();
        try
        {
            await wait.WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (Core.SpmcRequestException)
        {
            // The parked call may end refused once detached; either way it is no longer waiting.
        }
        Assert.True(system.IsSettled);
        var settled = system.Snapshot().ToJson();
        Assert.NotEqual(before, settled);
        Assert.Equal(settled, await RestoredAsync(dir.Path));
        // And journaling goes on from that checkpoint.
        system.WriteMemory(0, 0x8000_2000, "after"u8);
        Assert.Equal(system.Snapshot().ToJson(), await RestoredAsync(dir.Path));
    }
}

