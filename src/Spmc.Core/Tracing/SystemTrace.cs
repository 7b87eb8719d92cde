using System.Buffers;
using System.Threading.Channels;
using Spmc.Core.Systems;

namespace Spmc.Core.Tracing;

/// <summary>
/// One system's ring, followers and recording. <see cref="Add"/> runs under the system's lock: it only appends
/// to the ring and posts to bounded channels (never waits, not even for a recording's disk). Its own lock orders ring changes and subscriptions,
/// so a follower sees every entry once, with no gap between the kept entries and the live ones.
/// </summary>
internal sealed class SystemTrace(SimulatedSystem system, TraceRecorderOptions options)
{
    private readonly Lock _gate = new();
    private readonly Queue<(TraceEntry Entry, long Bytes)> _ring = new();
    private readonly List<Subscriber> _followers = [];
    private TraceHeader? _header;
    private Recording? _recording;
    private long _bytes;
    private long _dropped;
    private long _lastSeq;
    private bool _closed;

    public TraceHeader Header => _header ??= TraceHeader.For(system);

    public string? RecordingPath
    {
        get
        {
            lock (_gate) return _recording?.Path;
        }
    }

    /// <summary>
    /// Under the system's lock, so entries arrive one at a time and in order. Followers and a recording get a
    /// non-blocking post: one whose queue is full (entries or bytes) is cut off with an end line, the call never
    /// waits for a reader or the disk (a wait here would hold the system's lock and a pool thread).
    /// </summary>
    public void Add(TraceEntry entry)
    {
        var size = EstimateBytes(entry);
        lock (_gate)
        {
            if (_closed) return;
            _ring.Enqueue((entry, size));
            _bytes += size;
            while (_ring.Count > options.Capacity || (_bytes > options.MaxBytes && _ring.Count > 1))
            {
                _bytes -= _ring.Dequeue().Bytes;
                _dropped++;
            }
            _lastSeq = entry.Seq;
            foreach (var f in _followers) f.Post(entry, size);
            _recording?.Subscriber.Post(entry, size);
        }
    }

    /// <summary>
    /// The system was reset, taking sequence <paramref name="sequence"/>: followers and a recording get a
    /// <see cref="ResetTraceEntry"/> and go on (a replay of them resets its system there); the ring drops what it kept
    /// (counted as dropped), so what it holds from now on replays from the header's manifest (<c>after</c> = the reset).
    /// </summary>
    public void Reset(long sequence)
    {
        var entry = new ResetTraceEntry(sequence);
        lock (_gate)
        {
            if (_closed) return;
            var size = EstimateBytes(entry);
            foreach (var f in _followers) f.Post(entry, size);
            _recording?.Subscriber.Post(entry, size);
        }
        Restart(sequence, restored: false);
    }

    /// <summary>
    /// The system was restored from a snapshot: as on a reset the ring drops what it kept, and the header says the
    /// entries follow a restored state (<c>restored</c>, with <c>after</c> the snapshot's sequence) that its manifest
    /// alone does not build, so a replay refuses it. Followers and a recording go on.
    /// </summary>
    public void Restored(long sequence) => Restart(sequence, restored: true);

    /// <summary>Drops what the ring kept; what it keeps from now on follows the state reset or restored at that point.</summary>
    private void Restart(long? sequence, bool restored)
    {
        lock (_gate)
        {
            _dropped += _ring.Count;
            _ring.Clear();
            _bytes = 0;
            if (sequence is { } seq) _lastSeq = seq;
            _header = Header with { After = _lastSeq, Restored = restored };
        }
    }

    public TraceSnapshot Snapshot(long afterSeq)
    {
        lock (_gate) return new TraceSnapshot(Header, Kept(afterSeq), _lastSeq, _dropped);
    }

    public (List<TraceEntry> Kept, Subscriber Follower) Subscribe(long afterSeq, int buffer)
    {
        var follower = new Subscriber(buffer, options.MaxBytes, TraceEndReason.Lagged,
            $"the follower fell more than {buffer} entries or {options.MaxBytes} bytes behind and was cut off; follow again after this seq");
        lock (_gate)
        {
            var kept = Kept(afterSeq);
            follower.LastPosted = kept.Count > 0 ? kept[^1].Seq : Math.Max(afterSeq, 0);
            if (_closed) follower.Finish(TraceEndReason.SystemDeleted, $"system '{system.Id}' was deleted");
            else _followers.Add(follower);
            return (kept, follower);
        }
    }

    public void Unsubscribe(Subscriber follower)
    {
        lock (_gate) _followers.Remove(follower);
    }

    public void StartRecording(string path) =>
        StartRecording(path, () => new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read));

    /// <summary>As <see cref="StartRecording(string)"/> to a stream of the caller's (tests: a disk that stalls).</summary>
    internal void StartRecording(string path, Func<Stream> open)
    {
        lock (_gate)
        {
            if (_closed) throw new NotFoundException($"system '{system.Id}' was deleted");
            if (_recording is not null) throw new ConflictException($"system '{system.Id}' is already being recorded to '{_recording.Path}'");
            // Opened under the lock so no entry falls between the kept ones and the queue; it is one open call.
            _recording = new Recording(path, open(), Header, Kept(0), options.RecordingQueue, options.RecordingMaxBytes);
        }
    }

    public Recording? StopRecording()
    {
        Recording? recording;
        lock (_gate)
        {
            recording = _recording;
            _recording = null;
        }
        recording?.Subscriber.Complete();
        return recording;
    }

    /// <summary>Ends every follower with <paramref name="reason"/>, drops the ring and hands back the recording to wait for.</summary>
    public Recording? Close(TraceEndReason reason, string message)
    {
        lock (_gate)
        {
            _closed = true;
            foreach (var f in _followers) f.Finish(reason, message);
            _followers.Clear();
            _ring.Clear();
            _bytes = 0;
        }
        return StopRecording();
    }

    private List<TraceEntry> Kept(long afterSeq) => _ring.Where(e => e.Entry.Seq > afterSeq).Select(e => e.Entry).ToList();

    /// <summary>About the entry's JSON size: fixed parts plus two hex digits per byte of memory.</summary>
    internal static long EstimateBytes(TraceEntry entry)
    {
        if (entry is MemoryTraceEntry m) return 100 + 2L * m.Data.Length;
        if (entry is FaultsTraceEntry f) return 100 + 300L * f.Faults.Rules.Count;
        if (entry is not SmcTraceEntry s) return 100;
        var decoded = s.Outcome.Decoded;
        long bytes = 1200 + 1100L * (decoded.Hops?.Count ?? 0) + 200L * (s.Outcome.Events?.Count ?? 0) + (decoded.Reason?.Length ?? 0);
        if (s.Call.Writes is { } writes)
            foreach (var w in writes) bytes += 40 + 2L * w.Data.Length;
        bytes += 40L * (s.Call.Reads?.Count ?? 0);
        foreach (var r in s.Outcome.Reads) bytes += 80 + 2L * (r.Data?.Length ?? 0) + (r.Error?.Length ?? 0);
        if (decoded.Notes is { } notes)
            foreach (var n in notes) bytes += n.Length;
        return bytes;
    }

    /// <summary>
    /// A bounded queue of entries for one reader, by count and by (estimated) bytes: when it fills, the reader is cut
    /// off with a <see cref="TraceEnd"/>. An entry larger than the byte bound still goes into an empty queue.
    /// </summary>
    internal sealed class Subscriber(int capacity, long maxBytes, TraceEndReason lagReason, string lagMessage)
    {
        private readonly Channel<(TraceEntry Entry, long Bytes)> _channel = Channel.CreateBounded<(TraceEntry, long)>(
            new BoundedChannelOptions(capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        private long _queuedBytes;
        private volatile bool _stopped;

        public TraceEnd? End { get; private set; }
        public long LastPosted { get; set; }
        public bool Stopped => _stopped;

        /// <summary>Bytes (estimated) queued and not yet read.</summary>
        public long QueuedBytes => Interlocked.Read(ref _queuedBytes);

        public ValueTask<bool> WaitToReadAsync(CancellationToken cancel = default) => _channel.Reader.WaitToReadAsync(cancel);

        public bool TryRead(out TraceEntry entry)
        {
            if (_channel.Reader.TryRead(out var item))
            {
                Interlocked.Add(ref _queuedBytes, -item.Bytes);
                entry = item.Entry;
                return true;
            }
            entry = null!;
            return false;
        }

        /// <summary>Under the trace's lock: never waits.</summary>
        public void Post(TraceEntry entry, long bytes)
        {
            if (End is not null || _stopped) return;
            var queued = QueuedBytes;
            if ((queued == 0 || queued + bytes <= maxBytes) && _channel.Writer.TryWrite((entry, bytes)))
            {
                Interlocked.Add(ref _queuedBytes, bytes);
                LastPosted = entry.Seq;
            }
            else Finish(lagReason, $"{lagMessage} ({LastPosted})");
        }

        public void Finish(TraceEndReason reason, string message)
        {
            End ??= new TraceEnd(LastPosted, reason, message);
            _channel.Writer.TryComplete();
        }

        /// <summary>Ends the stream normally (a stopped recording): no end line.</summary>
        public void Complete()
        {
            _stopped = true;
            _channel.Writer.TryComplete();
        }
    }

    /// <summary>A file being written by a background task from a bounded queue (entries and bytes).</summary>
    internal sealed class Recording
    {
        public Recording(string path, Stream stream, TraceHeader header, List<TraceEntry> kept, int queue, long maxBytes)
        {
            Path = path;
            Subscriber = new Subscriber(queue, maxBytes, TraceEndReason.RecordingLagged,
                $"the recording's write queue filled ({queue} entries or {maxBytes} bytes: the disk is too slow); the recording stops after this seq");
            Subscriber.LastPosted = kept.Count > 0 ? kept[^1].Seq : 0;
            Writer = Task.Run(() => WriteAsync(stream, header, kept));
        }

        public string Path { get; }
        public Subscriber Subscriber { get; }
        public Task Writer { get; }

        /// <summary>Writes what is queued in one go (up to about 1 MiB per write), flushing whenever the queue is empty.</summary>
        private async Task WriteAsync(Stream stream, TraceHeader header, List<TraceEntry> kept)
        {
            await using var file = stream;
            var buffer = new ArrayBufferWriter<byte>(1 << 16);
            TraceWriter.AppendHeaderLine(buffer, header);
            foreach (var e in kept) TraceWriter.AppendEntryLine(buffer, e);
            await file.WriteAsync(buffer.WrittenMemory).ConfigureAwait(false);
            await file.FlushAsync().ConfigureAwait(false);
            while (await Subscriber.WaitToReadAsync().ConfigureAwait(false))
            {
                buffer.ResetWrittenCount();
                while (Subscriber.TryRead(out var e))
                {
                    TraceWriter.AppendEntryLine(buffer, e);
                    if (buffer.WrittenCount < 1 << 20) continue;
                    await file.WriteAsync(buffer.WrittenMemory).ConfigureAwait(false);
                    buffer.ResetWrittenCount();
                }
                await file.WriteAsync(buffer.WrittenMemory).ConfigureAwait(false);
                await file.FlushAsync().ConfigureAwait(false);
            }
            if (Subscriber.End is { Reason: TraceEndReason.RecordingLagged } end)
            {
                buffer.ResetWrittenCount();
                TraceWriter.AppendEntryLine(buffer, end);
                await file.WriteAsync(buffer.WrittenMemory).ConfigureAwait(false);
            }
        }
    }
}
