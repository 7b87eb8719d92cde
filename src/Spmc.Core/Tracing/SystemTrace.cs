using System.Buffers;
using System.Threading.Channels;
using Spmc.Core.Systems;

namespace Spmc.Core.Tracing;

/// <summary>
/// One system's ring, followers and recording. <see cref="Add"/> runs under the system's lock: it only appends
/// to the ring and posts to bounded channels (never waits). Its own lock orders ring changes and subscriptions,
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
    /// Under the system's lock, so entries arrive one at a time and in order. Followers get a non-blocking post; a
    /// recording is lossless, so when its queue is full the call waits for the disk (up to
    /// <see cref="Recording.StallTimeout"/>, then the recording stops with recording-lagged).
    /// </summary>
    public void Add(TraceEntry entry)
    {
        var size = EstimateBytes(entry);
        Recording? recording;
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
            foreach (var f in _followers) f.Post(entry);
            recording = _recording;
        }
        recording?.Post(entry);
    }

    public TraceSnapshot Snapshot(long afterSeq)
    {
        lock (_gate) return new TraceSnapshot(Header, Kept(afterSeq), _lastSeq, _dropped);
    }

    public (List<TraceEntry> Kept, Subscriber Follower) Subscribe(long afterSeq, int buffer)
    {
        var follower = new Subscriber(buffer, TraceEndReason.Lagged,
            $"the follower fell more than {buffer} entries behind and was cut off; follow again after this seq");
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

    public void StartRecording(string path, int queue)
    {
        lock (_gate)
        {
            if (_closed) throw new NotFoundException($"system '{system.Id}' was deleted");
            if (_recording is not null) throw new ConflictException($"system '{system.Id}' is already being recorded to '{_recording.Path}'");
            // Opened under the lock so no entry falls between the kept ones and the queue; it is one open call.
            var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read);
            _recording = new Recording(path, stream, Header, Kept(0), queue);
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

    /// <summary>A bounded queue of entries for one reader; when it fills, the reader is cut off with a <see cref="TraceEnd"/>.</summary>
    internal sealed class Subscriber(int capacity, TraceEndReason lagReason, string lagMessage)
    {
        public Channel<TraceEntry> Channel { get; } = System.Threading.Channels.Channel.CreateBounded<TraceEntry>(
            new BoundedChannelOptions(capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

        public TraceEnd? End { get; private set; }
        public long LastPosted { get; set; }
        private volatile bool _stopped;

        public bool Stopped => _stopped;

        /// <summary>Under the trace's lock (a recording's: under the system's lock).</summary>
        public void Post(TraceEntry entry)
        {
            if (End is not null || _stopped) return;
            if (Channel.Writer.TryWrite(entry)) LastPosted = entry.Seq;
            else Finish(lagReason, $"{lagMessage} ({LastPosted})");
        }

        public void Finish(TraceEndReason reason, string message)
        {
            End ??= new TraceEnd(LastPosted, reason, message);
            Channel.Writer.TryComplete();
        }

        /// <summary>Ends the stream normally (a stopped recording): no end line.</summary>
        public void Complete()
        {
            _stopped = true;
            Channel.Writer.TryComplete();
        }
    }

    /// <summary>A file being written by a background task from a bounded queue.</summary>
    internal sealed class Recording
    {
        /// <summary>How long a call waits for room in a full recording queue before the recording gives up.</summary>
        public static readonly TimeSpan StallTimeout = TimeSpan.FromSeconds(2);

        public Recording(string path, FileStream stream, TraceHeader header, List<TraceEntry> kept, int queue)
        {
            Path = path;
            Subscriber = new Subscriber(queue, TraceEndReason.RecordingLagged,
                $"the recording's write queue stayed full for {StallTimeout.TotalSeconds:0} s (the disk is too slow); the recording stops after this seq");
            Subscriber.LastPosted = kept.Count > 0 ? kept[^1].Seq : 0;
            Writer = Task.Run(() => WriteAsync(stream, header, kept));
        }

        public string Path { get; }
        public Subscriber Subscriber { get; }
        public Task Writer { get; }

        /// <summary>Queues the entry; when the queue is full, waits for the writer (bounded), so a recording is complete.</summary>
        public void Post(TraceEntry entry)
        {
            if (Subscriber.End is not null || Subscriber.Stopped) return;
            var writer = Subscriber.Channel.Writer;
            if (writer.TryWrite(entry))
            {
                Subscriber.LastPosted = entry.Seq;
                return;
            }
            try
            {
                if (writer.WaitToWriteAsync().AsTask().Wait(StallTimeout) && writer.TryWrite(entry))
                {
                    Subscriber.LastPosted = entry.Seq;
                    return;
                }
            }
            catch (AggregateException)
            {
                // The channel was completed meanwhile (the recording is stopping).
            }
            Subscriber.Post(entry); // full or closed: ends the recording with recording-lagged
        }

        private async Task WriteAsync(FileStream stream, TraceHeader header, List<TraceEntry> kept)
        {
            await using var file = stream;
            var buffer = new ArrayBufferWriter<byte>(1 << 16);
            TraceWriter.AppendHeaderLine(buffer, header);
            foreach (var e in kept) TraceWriter.AppendEntryLine(buffer, e);
            await file.WriteAsync(buffer.WrittenMemory).ConfigureAwait(false);
            await file.FlushAsync().ConfigureAwait(false);
            var reader = Subscriber.Channel.Reader;
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                while (reader.TryRead(out var e))
                {
                    buffer.ResetWrittenCount();
                    TraceWriter.AppendEntryLine(buffer, e);
                    await file.WriteAsync(buffer.WrittenMemory).ConfigureAwait(false);
                }
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
