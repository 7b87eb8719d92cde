using Spmc.Core.Systems;

namespace Spmc.Core.Tracing;

/// <summary>Bounds of the trace ring, followers and recordings (defaults are the documented ones).</summary>
public sealed class TraceRecorderOptions
{
    /// <summary>Entries kept per system; the oldest are dropped first.</summary>
    public int Capacity { get; set; } = 1000;

    /// <summary>Approximate bytes kept per system (the entries' JSON size); the oldest are dropped first. The newest entry is always kept.</summary>
    public long MaxBytes { get; set; } = 16L << 20;

    /// <summary>Entries buffered per follower; a follower that falls further behind gets a <see cref="TraceEndReason.Lagged"/> end.</summary>
    public int FollowerBuffer { get; set; } = 1000;

    /// <summary>Entries queued for a recording's file; if the disk falls further behind, the recording ends with <see cref="TraceEndReason.RecordingLagged"/>.</summary>
    public int RecordingQueue { get; set; } = 10_000;
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
/// only serialize the entry once, append it to the ring and post it to bounded channels — never block on a
/// follower or the disk. Register one instance as an <see cref="ISystemObserver"/> and use the same instance to read.
/// </summary>
public sealed class TraceRecorder(TraceRecorderOptions? options = null) : ISystemObserver, IAsyncDisposable
{
    public TraceRecorderOptions Options { get; } = options ?? new TraceRecorderOptions();

    public void OnCreated(SimulatedSystem system) => throw new NotImplementedException();

    public void OnCall(SimulatedSystem system, CallRecord record) => throw new NotImplementedException();

    public void OnMemoryAccess(SimulatedSystem system, MemoryAccessRecord record) => throw new NotImplementedException();

    public void OnDeleted(SimulatedSystem system) => throw new NotImplementedException();

    /// <summary>The ring's entries with a sequence above <paramref name="afterSeq"/> (0: all kept). Unknown system: <see cref="NotFoundException"/>.</summary>
    public TraceSnapshot Snapshot(SimulatedSystem system, long afterSeq = 0) => throw new NotImplementedException();

    /// <summary>
    /// The kept entries after <paramref name="afterSeq"/>, then every new entry as it happens, until
    /// <paramref name="cancel"/> fires (the stream just ends) or the system is deleted / the follower lags
    /// (the stream's last item is a <see cref="TraceEnd"/>). The header is <see cref="Snapshot"/>'s or <see cref="TraceHeader.For"/>.
    /// </summary>
    public IAsyncEnumerable<TraceEntry> Follow(SimulatedSystem system, long afterSeq = 0, CancellationToken cancel = default) =>
        throw new NotImplementedException();

    /// <summary>
    /// Appends the system's trace to <paramref name="path"/> (created or truncated): the header, the entries the ring
    /// still holds (all of them when called right after creation), then every new entry. A background writer
    /// drains a bounded queue and flushes after each line; the file is flushed and closed when the system is
    /// deleted, on <see cref="StopRecordingAsync"/> or on dispose. One recording per system:
    /// a second call is a <see cref="ConflictException"/>. I/O errors opening the file surface here (IOException,
    /// UnauthorizedAccessException).
    /// </summary>
    public void StartRecording(SimulatedSystem system, string path) => throw new NotImplementedException();

    /// <summary>True while <paramref name="system"/> is being recorded; <paramref name="path"/> is the file.</summary>
    public bool IsRecording(SimulatedSystem system, out string? path) => throw new NotImplementedException();

    /// <summary>Stops a recording: the queued entries are written, the file flushed and closed. No-op when not recording.</summary>
    public Task StopRecordingAsync(SimulatedSystem system) => throw new NotImplementedException();

    /// <summary>Flushes and closes every recording and ends every follower.</summary>
    public ValueTask DisposeAsync() => throw new NotImplementedException();
}
