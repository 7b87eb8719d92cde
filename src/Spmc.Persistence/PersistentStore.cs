using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Spmc.Core;
using Spmc.Core.Calls;
using Spmc.Core.Snapshots;
using Spmc.Core.Systems;
using Spmc.Core.Tracing;

namespace Spmc.Persistence;

/// <summary>
/// Opaque per-system records kept beside a system and removed with it (e.g. access-token hashes). With persistence
/// on they are files in the system's directory and survive restarts; off, they live in memory.
/// </summary>
public interface ISystemMetadata
{
    /// <summary>Stores <paramref name="value"/> under <paramref name="key"/> (1-63 of a-z 0-9 . _ -) for a live system.</summary>
    void PutMeta(string systemId, string key, ReadOnlySpan<byte> value);

    /// <summary>The record, or null when there is none.</summary>
    byte[]? GetMeta(string systemId, string key);
}

/// <summary>
/// Durable systems (docs/persistence.md). As an <see cref="ISystemObserver"/> it journals every acknowledged state
/// change of every system — creation (a checkpoint), each call (its frame, caller and writes: what a replay re-sends),
/// API memory accesses, fault rule changes, resets, restores (a checkpoint), deletion — under the system's lock,
/// before the answer leaves (strict) or for a background flush (batched). <see cref="RestoreAsync"/> rebuilds every
/// stored system on start: its newest checkpoint, then the journal after it replayed with
/// <see cref="TraceReplayer.ApplyAsync"/>, every answer compared.
/// </summary>
public sealed partial class PersistentStore : ISystemObserver, ISystemMetadata, IAsyncDisposable
{
    private readonly PersistenceOptions _options;
    private readonly ILogger _log;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, SystemJournal> _byId = new(StringComparer.Ordinal);
    private readonly ConditionalWeakTable<SimulatedSystem, SystemJournal> _bySystem = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task? _flusher;
    private int _disposed;

    public PersistentStore(PersistenceOptions options, ILogger<PersistentStore>? log = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Mode == PersistenceMode.Off) throw new ArgumentException("persistence is off: no store to open", nameof(options));
        if (options.Problem() is { } problem) throw new ArgumentException(problem, nameof(options));
        _options = options;
        _log = (ILogger?)log ?? NullLogger.Instance;
        Root = System.IO.Path.GetFullPath(options.Path);
        Directory.CreateDirectory(SystemsDirectory);
        if (options.Mode == PersistenceMode.Batched) _flusher = Task.Run(FlushLoopAsync);
    }

    /// <summary>The store's directory, absolute.</summary>
    public string Root { get; }

    private string SystemsDirectory => System.IO.Path.Combine(Root, "systems");

    public PersistenceMode Mode => _options.Mode;

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,62}$")]
    private static partial Regex NamePattern();

    /// <summary>
    /// Rebuilds every stored system into <paramref name="registry"/> (whose observers include this store): the newest
    /// checkpoint, then its journal replayed, each answer compared with the journaled one. A torn journal tail is
    /// dropped with a logged warning; anything else unreadable, or a journal that does not replay identically, is an
    /// <see cref="InvalidDataException"/> naming the system and file. Returns the IDs restored.
    /// </summary>
    public async Task<IReadOnlyList<string>> RestoreAsync(SystemRegistry registry, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(registry);
        var restored = new List<string>();
        var trash = SystemJournal.TrashDirectory(SystemsDirectory);
        if (Directory.Exists(trash))
        {
            // Systems whose delete a stop or crash interrupted after they left systems/.
            Directory.Delete(trash, recursive: true);
            _log.LogInformation("Persistence: removed what interrupted deletes left in {Trash}", trash);
        }
        foreach (var directory in Directory.EnumerateDirectories(SystemsDirectory).Order(StringComparer.Ordinal))
        {
            cancel.ThrowIfCancellationRequested();
            var id = System.IO.Path.GetFileName(directory);
            if (!NamePattern().IsMatch(id))
                throw new InvalidDataException($"'{directory}' is not a system's directory (a system ID is 1-63 of a-z 0-9 . _ -); move it out of {SystemsDirectory}");
            if (!SystemJournal.Files(directory).Any())
            {
                // Created and never checkpointed: the creation was not acknowledged.
                Directory.Delete(directory, recursive: true);
                _log.LogWarning("Persistence: dropped '{Directory}', a system's directory with no checkpoint (its creation was interrupted)", directory);
                continue;
            }
            var stored = SystemJournal.Load(id, directory);
            foreach (var w in stored.Warnings) _log.LogWarning("Persistence: system '{Id}': {Warning}", id, w);
            var final = await ReplayAsync(stored, registry, cancel).ConfigureAwait(false);
            try
            {
                registry.Create(id, final);
            }
            catch (SpmcRequestException e)
            {
                throw new InvalidDataException($"system '{id}': cannot host the restored system: {e.Message}", e);
            }
            _log.LogInformation("Persistence: restored system '{Id}' from checkpoint {Generation} and {Entries} journal entries", id, stored.Generation, stored.Entries.Count);
            restored.Add(id);
        }
        return restored;
    }

    /// <summary>
    /// The checkpoint's system with the journal applied, as a snapshot: no observers, and the per-system bounds the
    /// live system had (the registry's per-system memory bound and <see cref="SystemQuotas"/>) so answers that depended
    /// on them come back the same. The total bound is not applied: answers refused by it are checkpointed, never journaled.
    /// </summary>
    private static async Task<SystemSnapshot> ReplayAsync(SystemJournal.Stored stored, SystemRegistry registry, CancellationToken cancel)
    {
        SimulatedSystem system;
        try
        {
            system = SimulatedSystem.FromSnapshot(stored.Id, stored.Snapshot, quota: new Core.Memory.MemoryQuota(registry.MemoryQuota.MaxBytesPerSystem, 0),
                quotas: registry.Quotas);
        }
        catch (SpmcRequestException e)
        {
            throw new InvalidDataException($"system '{stored.Id}': checkpoint {stored.Generation} does not build a system: {e.Message}", e);
        }
        try
        {
            if (stored.Entries.Count == 0) return stored.Snapshot;
            var result = await TraceReplayer.ApplyAsync(system, stored.Entries, cancel).ConfigureAwait(false);
            if (!result.Identical)
                throw new InvalidDataException($"system '{stored.Id}': its journal does not replay identically after checkpoint {stored.Generation}: {result}");
            var final = system.Snapshot();
            if (final.Sequence != stored.Entries[^1].Seq)
                throw new InvalidDataException($"system '{stored.Id}': the journal ends at seq {stored.Entries[^1].Seq} but its replay at {final.Sequence}");
            return final;
        }
        finally
        {
            system.Shutdown();
        }
    }

    // --- Observer hooks: under the system's lock (except OnCreated and OnDeleted), in the system's order. -------------

    public void OnCreated(SimulatedSystem system)
    {
        if (_bySystem.TryGetValue(system, out _)) return;
        Open(system, system.Snapshot());
    }

    public void OnCall(SimulatedSystem system, CallRecord record)
    {
        if (!record.FromAttachedPartition && QuotaRefused(record.Outcome.Decoded) && _bySystem.TryGetValue(system, out var j) && !j.Deleted && system.IsSettled)
        {
            // An answer a memory quota decided may have depended on the other systems (the total bound), which a replay
            // of this system alone cannot see: the state after it is a checkpoint instead of a journal entry.
            j.ResetSequence = -1;
            Checkpoint(j, system);
            return;
        }
        Record(system, () => WithoutReadData(SmcTraceEntry.From(record)), replayable: !record.FromAttachedPartition);
    }

    /// <summary>
    /// The entry without the bytes its reads returned (reads change nothing, and 16 x 1 MiB of them would double the
    /// entry): each read keeps its address and error, and a successful one has neither data nor error, which the
    /// replayer takes as "succeeded, bytes not recorded".
    /// </summary>
    private static SmcTraceEntry WithoutReadData(SmcTraceEntry entry) =>
        entry.Outcome.Reads.Count == 0 ? entry
            : entry with { Outcome = entry.Outcome with { Reads = [.. entry.Outcome.Reads.Select(r => r with { Data = null })] } };

    /// <summary>Whether a memory quota decided part of an answer: the rxtx-map.no-memory rule, or a quota refusal in its notes (its hops' included).</summary>
    internal static bool QuotaRefused(Decoded decoded) =>
        decoded.Rule == Core.Spm.Handlers.MailboxRules.NoMemory.Id
        || decoded.Notes?.Any(n => n.Contains(Core.Memory.MemoryQuota.RefusalPrefix, StringComparison.Ordinal)) == true
        || decoded.Hops?.Any(h => QuotaRefused(h.Decoded)) == true;

    public void OnMemoryAccess(SimulatedSystem system, MemoryAccessRecord record) =>
        Record(system, () => MemoryTraceEntry.From(record), replayable: true);

    public void OnFaultsChanged(SimulatedSystem system, FaultsChangeRecord record)
    {
        // A reset restarts the rules itself (and says so next): replaying the reset does the same.
        if (_bySystem.TryGetValue(system, out var j) && j.ResetSequence == record.Sequence - 1) return;
        Record(system, () => FaultsTraceEntry.From(record), replayable: true);
    }

    public void OnReset(SimulatedSystem system)
    {
        var sequence = system.LastSequence;
        // Only a system with rules announces them again right after its reset (SimulatedSystem.Reset). When the reset's
        // entry was the one that triggered a checkpoint (SinceCheckpoint back to 0), the new generation holds no reset to
        // restart the rules on replay: their announcement must then be journaled like any rule change.
        if (Record(system, () => new ResetTraceEntry(sequence), replayable: true) is { SinceCheckpoint: > 0 } j && system.ListFaults().Count > 0)
            j.ResetSequence = sequence;
    }

    /// <summary>A restore in place (the system is settled: it was refused otherwise): a checkpoint of the new state.</summary>
    public void OnRestored(SimulatedSystem system)
    {
        // A system built from a snapshot hears this before it is registered (and may never be): OnCreated opens it.
        if (_bySystem.TryGetValue(system, out var j)) Checkpoint(j, system);
    }

    /// <summary>What attached partitions changed cannot be replayed: a checkpoint as soon as the system is settled.</summary>
    public void OnSettled(SimulatedSystem system)
    {
        if (_bySystem.TryGetValue(system, out var j) && j.Unreplayable) Checkpoint(j, system);
    }

    public void OnDeleted(SimulatedSystem system)
    {
        lock (_gate)
        {
            if (!_bySystem.TryGetValue(system, out var j)) return;
            j.Delete();
            if (_byId.TryGetValue(system.Id, out var current) && current == j) _byId.Remove(system.Id);
        }
    }

    /// <summary>Journals one change; null when the system's changes are not journaled (deleted, or covered by a checkpoint).</summary>
    private SystemJournal? Record(SimulatedSystem system, Func<TraceEntry> entry, bool replayable)
    {
        if (!_bySystem.TryGetValue(system, out var j))
        {
            // A call that came between the registry's add and OnCreated: the checkpoint taken now holds it.
            Open(system, system.Snapshot());
            return null;
        }
        if (j.Deleted) return null;
        if (!replayable || !system.IsSettled)
        {
            // docs/persistence.md: while a client is attached to a remote partition (or a call waits on one), calls are
            // answered by a remote client a replay cannot play; the state is checkpointed once the system is settled.
            j.Unreplayable = true;
            return null;
        }
        if (j.Unreplayable || j.NeedsCheckpoint)
        {
            // After a failed write, a checkpoint of the state (this change included) is retried; failing again it throws
            // PersistenceUnavailableException and the change is not acknowledged as durable.
            Checkpoint(j, system);
            return null;
        }
        j.ResetSequence = -1;
        try
        {
            j.Append(entry());
        }
        catch (PersistenceUnavailableException e)
        {
            _log.LogError(e, "Persistence: {Message}", e.Message);
            throw;
        }
        catch (ArgumentOutOfRangeException)
        {
            // An entry too big to frame (JournalFrames.MaxPayload; not expected given the per-call limits): a checkpoint holds it.
            Checkpoint(j, system);
            return null;
        }
        if (j.SinceCheckpoint >= _options.CheckpointEvery) Checkpoint(j, system);
        return j;
    }

    /// <summary>A checkpoint of the system's present state; a failure is logged and thrown (the change is not durable).</summary>
    private void Checkpoint(SystemJournal j, SimulatedSystem system)
    {
        try
        {
            j.Checkpoint(system.Snapshot());
        }
        catch (PersistenceUnavailableException e)
        {
            _log.LogError(e, "Persistence: {Message}", e.Message);
            throw;
        }
    }

    /// <summary>The system's journal, begun with a checkpoint of <paramref name="snapshot"/> (or the one another thread opened first).</summary>
    private SystemJournal Open(SimulatedSystem system, SystemSnapshot snapshot)
    {
        lock (_gate)
        {
            if (_bySystem.TryGetValue(system, out var existing)) return existing;
            // An earlier system of this ID left the registry and its OnDeleted has not run yet: its files go first.
            if (_byId.Remove(system.Id, out var earlier)) earlier.Delete();
            var j = new SystemJournal(system.Id, System.IO.Path.Combine(SystemsDirectory, system.Id), _options.Mode);
            j.Checkpoint(snapshot);
            _byId[system.Id] = j;
            _bySystem.Add(system, j);
            return j;
        }
    }

    // --- Metadata ---------------------------------------------------------------------------------------------------

    public void PutMeta(string systemId, string key, ReadOnlySpan<byte> value)
    {
        var directory = MetaDirectory(systemId, key);
        Directory.CreateDirectory(directory);
        var bytes = value.ToArray();
        DurableFiles.WriteAtomically(System.IO.Path.Combine(directory, key), s => s.Write(bytes), sync: true);
    }

    public byte[]? GetMeta(string systemId, string key)
    {
        var path = System.IO.Path.Combine(MetaDirectory(systemId, key), key);
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    private string MetaDirectory(string systemId, string key)
    {
        if (!NamePattern().IsMatch(key ?? "")) throw new InvalidRequestException($"key: '{key}' must be 1-63 characters of a-z, 0-9, '.', '_' or '-'");
        lock (_gate)
        {
            if (!_byId.TryGetValue(systemId ?? "", out var j) || j.Deleted) throw new NotFoundException($"system '{systemId}' does not exist");
            return System.IO.Path.Combine(j.Directory, "meta");
        }
    }

    // --- Batched mode's flusher, and stop -------------------------------------------------------------------------

    private SystemJournal[] Journals()
    {
        lock (_gate) return [.. _byId.Values];
    }

    private async Task FlushLoopAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(_options.BatchWindowMs));
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false)) FlushAll();
        }
        catch (OperationCanceledException)
        {
            // Stopping: DisposeAsync flushes what is left.
        }
    }

    /// <summary>Writes and fsyncs every system's pending entries (batched mode; what the flusher does each window).</summary>
    public void FlushAll()
    {
        foreach (var j in Journals())
        {
            try
            {
                j.Flush();
            }
            catch (IOException e)
            {
                _log.LogError(e, "Persistence: cannot write the journal of system '{Id}'", j.Id);
            }
        }
    }

    /// <summary>Stops the flusher, then flushes and closes every journal (a clean stop keeps everything).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_flusher is not null) await _flusher.ConfigureAwait(false);
        foreach (var j in Journals()) j.Close();
        _stop.Dispose();
    }
}

/// <summary>Metadata when persistence is off: in memory, dropped with the system.</summary>
public sealed class InMemorySystemMetadata : ISystemMetadata, ISystemObserver
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string System, string Key), byte[]> _records = new();

    public void PutMeta(string systemId, string key, ReadOnlySpan<byte> value)
    {
        _records[(systemId, key)] = value.ToArray();
    }

    public byte[]? GetMeta(string systemId, string key) => _records.TryGetValue((systemId, key), out var v) ? v : null;

    public void OnCall(SimulatedSystem system, CallRecord record) { }

    public void OnDeleted(SimulatedSystem system)
    {
        foreach (var k in _records.Keys.Where(k => k.System == system.Id).ToList()) _records.TryRemove(k, out _);
    }
}

/// <summary>
/// A change could not be made durable (a journal or checkpoint write failed, e.g. the disk is full or read-only): it
/// was applied in memory but is not acknowledged; the host answers HTTP 503 / gRPC UNAVAILABLE. The next change
/// retries with a checkpoint.
/// </summary>
public sealed class PersistenceUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
