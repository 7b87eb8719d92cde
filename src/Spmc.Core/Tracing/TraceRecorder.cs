using System.Runtime.CompilerServices;
using Spmc.Core.Systems;

namespace Spmc.Core.Tracing;

/// <summary>Bounds of the trace ring, followers and recordings (defaults are the documented ones).</summary>
public sealed class TraceRecorderOptions
{
    /// <summary>Entries kept per system; the oldest are dropped first.</summary>
    public int Capacity { get; set; } = 1000;

    /// <summary>Approximate bytes kept per system (the entries' JSON size); the oldest are dropped first. The newest entry is always kept.</summary>
    public long MaxBytes { get; set; } = 16L << 20;

    /// <summary>
    /// Entries buffered per follower; a follower that falls further behind (or holds more than <see cref="MaxBytes"/>
    /// queued) gets a <see cref="TraceEndReason.Lagged"/> end.
    /// </summary>
    public int FollowerBuffer { get; set; } = 1000;

    /// <summary>Entries queued for a recording's file; if the disk falls further behind, the recording ends with <see cref="TraceEndReason.RecordingLagged"/>.</summary>
    public int RecordingQueue { get; set; } = 10_000;

    /// <summary>Approximate bytes (of the entries' JSON) queued for a recording's file; beyond, the recording ends with <see cref="TraceEndReason.RecordingLagged"/>.</summary>
    public long RecordingMaxBytes { get; set; } = 64L << 20;
}

/// <summary>What the ring holds for a system now.</summary>
/// <param name="Header">The system's header (ID and canonical manifest).</param>
/// <param name="Entries">The kept entries after the sequence asked for, oldest first.</param>
/// <param name="LastSeq">The system's latest sequence seen (0 before any entry).</param>
/// <param name="Dropped">How many entries the ring has dropped since the system was created.</param>
public sealed record TraceSnapshot(TraceHeader Header, IReadOnlyList<TraceEntry> Entries, long LastSeq, long Dropped);

/// <summary>
/// Keeps, per system, a bounded ring of its recent entries (calls and API memory accesses), serves snapshots and
/// followers, and appends to a recording file when asked. Observer callbacks run under the system's lock: they
/// only estimate the entry's size, append it to the ring and post it to bounded channels (readers write the JSON) — never block on a
/// follower or the disk. Register one instance as an <see cref="ISystemObserver"/> and use the same instance to read.
/// </summary>
public sealed class TraceRecorder(TraceRecorderOptions? options = null) : ISystemObserver, IAsyncDisposable
{
    /// <summary>How long deleting a system waits for its recording to reach the disk.</summary>
    public static readonly TimeSpan FlushOnDeleteTimeout = TimeSpan.FromSeconds(5);

    private readonly ConditionalWeakTable<SimulatedSystem, SystemTrace> _traces = new();

    public TraceRecorderOptions Options { get; } = Validated(options ?? new TraceRecorderOptions());

    public void OnCreated(SimulatedSystem system) => TraceOf(system);

    public void OnCall(SimulatedSystem system, CallRecord record) => TraceOf(system).Add(SmcTraceEntry.From(record));

    public void OnMemoryAccess(SimulatedSystem system, MemoryAccessRecord record) => TraceOf(system).Add(MemoryTraceEntry.From(record));

    public void OnFaultsChanged(SimulatedSystem system, FaultsChangeRecord record) => TraceOf(system).Add(FaultsTraceEntry.From(record));

    /// <summary>A reset empties the system's ring; followers and a recording get a reset line (see <see cref="SystemTrace.Reset"/>).</summary>
    public void OnReset(SimulatedSystem system)
    {
        if (_traces.TryGetValue(system, out var trace)) trace.Reset(system.LastSequence);
    }

    /// <summary>A restore empties the system's ring and marks its header restored (see <see cref="SystemTrace.Restored"/>).</summary>
    public void OnRestored(SimulatedSystem system) => TraceOf(system).Restored(system.LastSequence);

    public void OnDeleted(SimulatedSystem system)
    {
        if (!_traces.TryGetValue(system, out var trace)) return;
        var recording = trace.Close(TraceEndReason.SystemDeleted, $"system '{system.Id}' was deleted");
        if (recording is null) return;
        try
        {
            recording.Writer.Wait(FlushOnDeleteTimeout);
        }
        catch (AggregateException)
        {
            // The writer's own failure is kept in the recording; deletion goes on.
        }
    }

    /// <summary>The ring's entries with a sequence above <paramref name="afterSeq"/> (0: all kept).</summary>
    public TraceSnapshot Snapshot(SimulatedSystem system, long afterSeq = 0) => TraceOf(system).Snapshot(afterSeq);

    /// <summary>
    /// The kept entries after <paramref name="afterSeq"/>, then every new entry as it happens, until
    /// <paramref name="cancel"/> fires (the stream just ends) or the system is deleted / the follower lags
    /// (the stream's last item is a <see cref="TraceEnd"/>). The header is <see cref="Snapshot"/>'s or <see cref="TraceHeader.For"/>.
    /// </summary>
    public async IAsyncEnumerable<TraceEntry> Follow(SimulatedSystem system, long afterSeq = 0,
        [EnumeratorCancellation] CancellationToken cancel = default)
    {
        var trace = TraceOf(system);
        var (kept, follower) = trace.Subscribe(afterSeq, Options.FollowerBuffer);
        try
        {
            foreach (var e in kept)
            {
                if (cancel.IsCancellationRequested) yield break;
                yield return e;
            }
            while (true)
            {
                bool more;
                try
                {
                    more = await follower.WaitToReadAsync(cancel).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    more = false;
                }
                if (!more || cancel.IsCancellationRequested) break;
                while (follower.TryRead(out var e)) yield return e;
            }
            if (!cancel.IsCancellationRequested && follower.End is { } end) yield return end;
        }
        finally
        {
            trace.Unsubscribe(follower);
        }
    }

    /// <summary>
    /// Appends the system's trace to <paramref name="path"/> (created or truncated): the header, the entries the ring
    /// still holds (all of them when called right after creation), then every new entry. A background writer
    /// drains a bounded queue and flushes whenever the queue is empty (so at most the entries still queued are
    /// not yet on disk); the file is flushed and closed when the system is deleted (deletion waits for it, up to
    /// <see cref="FlushOnDeleteTimeout"/>), on <see cref="StopRecordingAsync"/> or on dispose. A call never waits
    /// for the disk: if it falls more than <see cref="TraceRecorderOptions.RecordingQueue"/> entries (or
    /// <see cref="TraceRecorderOptions.RecordingMaxBytes"/>) behind, the recording stops with an <c>end</c> line
    /// (reason recording-lagged) and the system goes on. One recording per system: a second call is a
    /// <see cref="ConflictException"/>. I/O errors opening the file surface here (IOException, UnauthorizedAccessException).
    /// </summary>
    public void StartRecording(SimulatedSystem system, string path) => TraceOf(system).StartRecording(path);

    /// <summary>As <see cref="StartRecording(SimulatedSystem, string)"/> to a stream (tests).</summary>
    internal void StartRecording(SimulatedSystem system, string path, Func<Stream> open) => TraceOf(system).StartRecording(path, open);

    /// <summary>True while <paramref name="system"/> is being recorded; <paramref name="path"/> is the file.</summary>
    public bool IsRecording(SimulatedSystem system, out string? path)
    {
        path = _traces.TryGetValue(system, out var trace) ? trace.RecordingPath : null;
        return path is not null;
    }

    /// <summary>Stops a recording: the queued entries are written, the file flushed and closed. No-op when not recording.</summary>
    public async Task StopRecordingAsync(SimulatedSystem system)
    {
        if (_traces.TryGetValue(system, out var trace) && trace.StopRecording() is { } recording)
            await recording.Writer.ConfigureAwait(false);
    }

    /// <summary>Flushes and closes every recording and ends every follower.</summary>
    public async ValueTask DisposeAsync()
    {
        var writers = new List<Task>();
        foreach (var (system, trace) in _traces)
            if (trace.Close(TraceEndReason.SystemDeleted, $"the service is stopping; system '{system.Id}' is gone") is { } r)
                writers.Add(r.Writer);
        try
        {
            await Task.WhenAll(writers).WaitAsync(FlushOnDeleteTimeout).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or TimeoutException)
        {
            // Nothing more can be done for those files at shutdown.
        }
    }

    private SystemTrace TraceOf(SimulatedSystem system) => _traces.GetValue(system, s => new SystemTrace(s, Options));

    private static TraceRecorderOptions Validated(TraceRecorderOptions o)
    {
        if (o.Capacity < 1) throw new ArgumentOutOfRangeException(nameof(o), $"Capacity: {o.Capacity} must be at least 1");
        if (o.MaxBytes < 1) throw new ArgumentOutOfRangeException(nameof(o), $"MaxBytes: {o.MaxBytes} must be at least 1");
        if (o.FollowerBuffer < 1) throw new ArgumentOutOfRangeException(nameof(o), $"FollowerBuffer: {o.FollowerBuffer} must be at least 1");
        if (o.RecordingQueue < 1) throw new ArgumentOutOfRangeException(nameof(o), $"RecordingQueue: {o.RecordingQueue} must be at least 1");
        if (o.RecordingMaxBytes < 1) throw new ArgumentOutOfRangeException(nameof(o), $"RecordingMaxBytes: {o.RecordingMaxBytes} must be at least 1");
        return o;
    }
}
