using Spmc.Abi.Smccc;
using Spmc.Core.Calls;
using Spmc.Core.Manifests;
using Spmc.Core.Systems;
using Spmc.Core.Tests.Support;
using Spmc.Core.Tracing;
using static Spmc.Core.Tests.Support.Manifests;

namespace Spmc.Core.Tests.Tracing;

/// <summary>The ring (entries and bytes bounds), followers, and recordings to a file.</summary>
public sealed class TraceRecorderTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(10);

    private static (SystemRegistry Registry, SimulatedSystem System) Create(TraceRecorder recorder, string id = "traced")
    {
        var registry = new SystemRegistry(observers: [recorder]);
        return (registry, registry.Create(id, DefaultPassthroughJson));
    }

    private static SmcOutcome Version(SimulatedSystem system) =>
        system.Call(new SmcCall(Host, 0, Conduit.Smc, SmcFrame.From(0x8400_0063, 0x1_0002)));

    [Fact]
    public void Ring_KeepsTheNewestEntries_UpToItsCapacity()
    {
        var recorder = new TraceRecorder(new TraceRecorderOptions { Capacity = 5 });
        var (_, system) = Create(recorder);
        for (var i = 0; i < 8; i++) Version(system);

        var snapshot = recorder.Snapshot(system);

        Assert.Equal([4L, 5, 6, 7, 8], snapshot.Entries.Select(e => e.Seq));
        Assert.Equal(3, snapshot.Dropped);
        Assert.Equal(8, snapshot.LastSeq);
        Assert.Equal([7L, 8], recorder.Snapshot(system, afterSeq: 6).Entries.Select(e => e.Seq));
    }

    [Fact]
    public void Ring_DropsOldEntriesPastItsByteBound_AndKeepsAnOversizedNewestOne()
    {
        var recorder = new TraceRecorder(new TraceRecorderOptions { MaxBytes = 1 << 20 });
        var (_, system) = Create(recorder);
        var big = new byte[400 << 10]; // 800 KiB as hex: one fits under 1 MiB, two do not
        system.WriteMemory(Host, 0x8010_0000, big);
        system.WriteMemory(Host, 0x8020_0000, big);
        Version(system);

        var snapshot = recorder.Snapshot(system);
        Assert.Equal([2L, 3], snapshot.Entries.Select(e => e.Seq));
        Assert.Equal(1, snapshot.Dropped);

        var huge = new SmcCall(Host, 0, Conduit.Smc, SmcFrame.From(0x8400_0063, 0x1_0002),
            [new MemoryWrite(0x8010_0000, new byte[1 << 20])]);
        system.Call(huge);
        snapshot = recorder.Snapshot(system);
        var only = Assert.Single(snapshot.Entries);
        Assert.Equal(4, only.Seq);
    }

    [Fact]
    public void Ring_HoldsCallsWithTheirMemoryAndApiAccesses_InTheSystemsOrder()
    {
        var recorder = new TraceRecorder();
        var (_, system) = Create(recorder);
        system.WriteMemory(Host, 0x8010_0000, [1, 2, 3]);
        system.Call(new SmcCall(Host, 1, Conduit.Hvc, SmcFrame.From(0x8400_0063, 0x1_0002), [new MemoryWrite(0x8010_0000, [9])],
            [new MemoryReadRequest(0x8010_0000, 3), new MemoryReadRequest(0x6000_0000, 1)]));
        system.ReadMemory(Host, 0x8010_0000, 2);

        var entries = recorder.Snapshot(system).Entries;

        var write = Assert.IsType<MemoryTraceEntry>(entries[0]);
        Assert.True(write.Write);
        Assert.Equal([1, 2, 3], write.Data);
        var call = Assert.IsType<SmcTraceEntry>(entries[1]);
        Assert.Equal(Conduit.Hvc, call.Call.Conduit);
        Assert.Equal(1u, call.Call.Vcpu);
        Assert.Equal([9, 2, 3], call.Outcome.Reads[0].Data);
        Assert.NotNull(call.Outcome.Reads[1].Error);
        var read = Assert.IsType<MemoryTraceEntry>(entries[2]);
        Assert.False(read.Write);
        Assert.Equal([9, 2], read.Data);
    }

    [Fact]
    public async Task Follow_SendsTheKeptEntriesThenTheNewOnes_AndEndsWhenTheSystemIsDeleted()
    {
        var recorder = new TraceRecorder();
        var (registry, system) = Create(recorder);
        Version(system);
        var seen = new List<TraceEntry>();
        var reading = Task.Run(async () =>
        {
            await foreach (var e in recorder.Follow(system)) seen.Add(e);
        });
        Version(system);
        system.WriteMemory(Host, 0x8010_0000, [7]);
        await Task.Delay(50);
        registry.Delete(system.Id);
        await reading.WaitAsync(Limit);

        Assert.Equal([1L, 2, 3, 3], seen.Select(e => e.Seq));
        var end = Assert.IsType<TraceEnd>(seen[^1]);
        Assert.Equal(TraceEndReason.SystemDeleted, end.Reason);
    }

    [Fact]
    public async Task Follow_ASlowFollower_IsCutOffWithALaggedEnd_NotBufferedWithoutBound()
    {
        var recorder = new TraceRecorder(new TraceRecorderOptions { FollowerBuffer = 2 });
        var (_, system) = Create(recorder);
        await using var follower = recorder.Follow(system).GetAsyncEnumerator();
        var first = follower.MoveNextAsync(); // subscribes; waits for the first entry
        for (var i = 0; i < 6; i++) Version(system);

        var seen = new List<TraceEntry>();
        if (await first.AsTask().WaitAsync(Limit)) seen.Add(follower.Current);
        while (await follower.MoveNextAsync().AsTask().WaitAsync(Limit)) seen.Add(follower.Current);

        var end = Assert.IsType<TraceEnd>(seen[^1]);
        Assert.Equal(TraceEndReason.Lagged, end.Reason);
        Assert.True(seen.Count <= 4, $"{seen.Count} items: at most the buffer, the one in flight and the end");
        Assert.Equal(seen[^2].Seq, end.Seq);
    }

    [Fact]
    public async Task Follow_Cancelled_JustEnds()
    {
        var recorder = new TraceRecorder();
        var (_, system) = Create(recorder);
        using var cancel = new CancellationTokenSource();
        var seen = new List<TraceEntry>();
        var reading = Task.Run(async () =>
        {
            await foreach (var e in recorder.Follow(system, cancel: cancel.Token)) seen.Add(e);
        });
        Version(system);
        await Task.Delay(50);
        await cancel.CancelAsync();
        await reading.WaitAsync(Limit);
        Assert.DoesNotContain(seen, e => e is TraceEnd);
    }

    [Fact]
    public async Task Recording_WritesTheHeaderAndEveryEntry_AndIsCompleteWhenTheSystemIsDeleted()
    {
        var path = Path.Combine(Path.GetTempPath(), $"spmc-trace-{Guid.NewGuid():N}.jsonl");
        try
        {
            var recorder = new TraceRecorder();
            var (registry, system) = Create(recorder, "rec");
            recorder.StartRecording(system, path);
            Assert.True(recorder.IsRecording(system, out var recorded));
            Assert.Equal(path, recorded);
            Assert.Throws<ConflictException>(() => recorder.StartRecording(system, path));
            Version(system);
            system.WriteMemory(Host, 0x8010_0000, [0xCA, 0xFE]);
            var expected = TraceWriter.ToText(TraceHeader.For(system), recorder.Snapshot(system).Entries);

            registry.Delete("rec");

            var text = await File.ReadAllTextAsync(path);
            Assert.Equal(expected, text);
            Assert.StartsWith("{\"format\":\"spmc-trace\",\"version\":1,\"system\":\"rec\",\"manifest\":{", text, StringComparison.Ordinal);
            Assert.Contains("\"data\":\"cafe\"", text, StringComparison.Ordinal);
            Assert.False(recorder.IsRecording(system, out _));
            var replay = await TraceReplayer.ReplayFileAsync(path);
            Assert.True(replay.Identical, replay.ToString());
            Assert.Equal(1, replay.Calls);
            Assert.Equal(1, replay.MemoryAccesses);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Recording_OnAStalledDisk_NeverHoldsACall_AndEndsWithRecordingLagged()
    {
        // A disk that does not answer: the first write blocks until released. Calls must not wait for it (they
        // run under the system's lock); the recording is cut with an end line once its queue is full.
        var disk = new StallingStream();
        var recorder = new TraceRecorder(new TraceRecorderOptions { RecordingQueue = 2 });
        var (registry, system) = Create(recorder, "stalled");
        recorder.StartRecording(system, "stalled.jsonl", () => disk);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < 10; i++) Version(system);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"10 calls took {clock.Elapsed} against a stalled disk");

        disk.Release();
        registry.Delete("stalled");
        var trace = TraceReader.Parse(TraceWriter.Utf8.GetString(disk.Written));
        var end = Assert.IsType<TraceEnd>(trace.Entries[^1]);
        Assert.Equal(TraceEndReason.RecordingLagged, end.Reason);
        Assert.Equal(trace.Entries[^2].Seq, end.Seq);
        Assert.Equal(Enumerable.Range(1, (int)end.Seq).Select(i => (long)i), trace.Entries.SkipLast(1).Select(e => e.Seq));
        Assert.True(disk.Disposed);
        var replay = await TraceReplayer.ReplayAsync(trace);
        Assert.True(replay.Identical, replay.ToString());
    }

    [Fact]
    public void Recording_QueueIsBoundedByBytes_NotOnlyByEntries()
    {
        var disk = new StallingStream();
        var recorder = new TraceRecorder(new TraceRecorderOptions { RecordingMaxBytes = 10_000 });
        var (registry, system) = Create(recorder, "bytes");
        recorder.StartRecording(system, "bytes.jsonl", () => disk);
        for (var i = 0; i < 3; i++) system.WriteMemory(Host, 0x8010_0000, new byte[4096]); // ~8 KB of trace each
        disk.Release();
        registry.Delete("bytes");
        var trace = TraceReader.Parse(TraceWriter.Utf8.GetString(disk.Written));
        Assert.Equal(TraceEndReason.RecordingLagged, Assert.IsType<TraceEnd>(trace.Entries[^1]).Reason);
        Assert.True(trace.Entries.Count <= 3, $"{trace.Entries.Count} entries: the byte bound did not cut the recording");
    }

    [Fact]
    public async Task Follow_ASlowFollower_IsBoundedByBytes_NotOnlyByEntries()
    {
        var recorder = new TraceRecorder(new TraceRecorderOptions { MaxBytes = 10_000, FollowerBuffer = 1000 });
        var (_, system) = Create(recorder);
        using var cancel = new CancellationTokenSource(Limit);
        await using var follow = recorder.Follow(system, 0, cancel.Token).GetAsyncEnumerator(cancel.Token);
        Version(system);
        Assert.True(await follow.MoveNextAsync()); // subscribed; now it stops reading
        for (var i = 0; i < 5; i++) system.WriteMemory(Host, 0x8010_0000, new byte[4096]);
        var seen = new List<TraceEntry>();
        while (await follow.MoveNextAsync()) seen.Add(follow.Current);
        Assert.Equal(TraceEndReason.Lagged, Assert.IsType<TraceEnd>(seen[^1]).Reason);
        Assert.True(seen.Count <= 3, $"{seen.Count} entries buffered for a follower bounded at 10 000 bytes");
    }

    /// <summary>A stream whose writes block until <see cref="Release"/>, keeping what was written.</summary>
    private sealed class StallingStream : Stream
    {
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly MemoryStream _data = new();

        public bool Disposed { get; private set; }
        public byte[] Written
        {
            get
            {
                lock (_data) return _data.ToArray();
            }
        }

        public void Release() => _released.TrySetResult();

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await _released.Task.WaitAsync(cancellationToken);
            lock (_data) _data.Write(buffer.Span);
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => _released.Task;
        public override void Flush() { }
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => Written.Length;
        public override long Position { get => Length; set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override ValueTask DisposeAsync()
        {
            Disposed = true;
            return base.DisposeAsync();
        }
    }

    [Fact]
    public async Task Recording_StoppedEarly_KeepsWhatCameBefore()
    {
        var path = Path.Combine(Path.GetTempPath(), $"spmc-trace-{Guid.NewGuid():N}.jsonl");
        try
        {
            var recorder = new TraceRecorder();
            var (_, system) = Create(recorder);
            Version(system);
            recorder.StartRecording(system, path); // the ring still holds seq 1
            Version(system);
            await recorder.StopRecordingAsync(system);
            Version(system);

            var trace = TraceReader.ReadFile(path);
            Assert.Equal([1L, 2], trace.Entries.Select(e => e.Seq));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Recording_ToADirectoryThatDoesNotExist_FailsAtOnce()
    {
        var recorder = new TraceRecorder();
        var (_, system) = Create(recorder);
        Assert.ThrowsAny<IOException>(() => recorder.StartRecording(system, Path.Combine(Path.GetTempPath(), $"no-such-{Guid.NewGuid():N}", "t.jsonl")));
        Assert.False(recorder.IsRecording(system, out _));
    }

    [Fact]
    public void Recorder_OnASystemBuiltWithoutARegistry_StillRecords()
    {
        var recorder = new TraceRecorder();
        var system = new SimulatedSystem("bare", ManifestValidator.Validate(DefaultPassthroughJson), [recorder]);
        Version(system);
        Assert.Single(recorder.Snapshot(system).Entries);
        Assert.Equal("bare", recorder.Snapshot(system).Header.System);
    }

    [Fact]
    public void Options_OutOfRange_AreRefused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new TraceRecorder(new TraceRecorderOptions { Capacity = 0 }));
}
