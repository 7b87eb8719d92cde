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
            foreach (var f in _followers) f.Post(entry);
            _recording?.Post(entry);
        }
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
    internal static long EstimateBytes(TraceEntry entry) => entry switch
    {
        SmcTraceEntry s => 1200 + 1100L * (s.Outcome.Decoded.Hops?.Count ?? 0) + 200L * (s.Outcome.Events?.Count ?? 0)
            + (s.Call.Writes ?? []).Sum(w => 40L + 2L * w.Data.Length) + 40L * (s.Call.Reads?.Count ?? 0)
            + s.Outcome.Reads.Sum(r => 80L + 2L * (r.Data?.Length ?? 0) + (r.Error?.Length ?? 0))
            + (s.Outcome.Decoded.Reason?.Length ?? 0) + (s.Outcome.Decoded.Notes ?? []).Sum(n => (long)n.Length),
        MemoryTraceEntry m => 100 + 2L * m.Data.Length,
        _ => 100,
    };

    /// <summary>A bounded queue of entries for one reader; when it fills, the reader is cut off with a <see cref="TraceEnd"/>.</summary>
    internal sealed class Subscriber(int capacity, TraceEndReason lagReason, string lagMessage)
    {
        public Channel<TraceEntry> Channel { get; } = System.Threading.Channels.Channel.CreateBounded<TraceEntry>(
            new BoundedChannelOptions(capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

        public TraceEnd? End { get; private set; }
        public long LastPosted { get; set; }

        /// <summary>Under the trace's lock.</summary>
        public void Post(TraceEntry entry)
        {
            if (End is not null) return;
            if (Channel.Writer.TryWrite(entry)) LastPosted = entry.Seq;
            else Finish(lagReason, $"{lagMessage} ({LastPosted})");
        }

        public void Finish(TraceEndReason reason, string message)
        {
            End ??= new TraceEnd(LastPosted, reason, message);
            Channel.Writer.TryComplete();
        }

        public void Complete() => Channel.Writer.TryComplete();
    }

    /// <summary>A file being written by a background task from a bounded queue.</summary>
    internal sealed class Recording
    {
        public Recording(string path, FileStream stream, TraceHeader header, List<TraceEntry> kept, int queue)
        {
            Path = path;
            Subscriber = new Subscriber(queue, TraceEndReason.RecordingLagged,
                "the recording's write queue filled (the disk is too slow); the recording stops after this seq");
            Subscriber.LastPosted = kept.Count > 0 ? kept[^1].Seq : 0;
            Writer = Task.Run(() => WriteAsync(stream, header, kept));
        }

        public string Path { get; }
        public Subscriber Subscriber { get; }
        public Task Writer { get; }

        public void Post(TraceEntry entry) => Subscriber.Post(entry);

        private async Task WriteAsync(FileStream stream, TraceHeader header, List<TraceEntry> kept)
        {
            await using var writer = new StreamWriter(stream, TraceWriter.Utf8, 1 << 16);
            writer.NewLine = "\n";
            await writer.WriteLineAsync(TraceWriter.FormatHeader(header)).ConfigureAwait(false);
            foreach (var e in kept) await writer.WriteLineAsync(TraceWriter.FormatEntry(e)).ConfigureAwait(false);
            await writer.FlushAsync().ConfigureAwait(false);
            var reader = Subscriber.Channel.Reader;
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                while (reader.TryRead(out var e)) await writer.WriteLineAsync(TraceWriter.FormatEntry(e)).ConfigureAwait(false);
                await writer.FlushAsync().ConfigureAwait(false);
            }
            if (Subscriber.End is { Reason: TraceEndReason.RecordingLagged } end)
                await writer.WriteLineAsync(TraceWriter.FormatEntry(end)).ConfigureAwait(false);
        }
    }
}
