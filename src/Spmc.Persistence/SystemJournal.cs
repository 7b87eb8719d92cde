using System.Globalization;
using System.Text;
using Spmc.Core.Snapshots;
using Spmc.Core.Tracing;

namespace Spmc.Persistence;

/// <summary>
/// One system's directory: checkpoints <c>{generation}.checkpoint.json</c> (snapshot documents, written atomically)
/// and journals <c>{generation}.journal</c> (the entries after the checkpoint of the same generation), plus
/// <c>meta/</c>. A checkpoint starts a new generation and drops the older files once it is durable.
/// </summary>
internal sealed class SystemJournal(string id, string directory, PersistenceMode mode)
{
    private const string CheckpointSuffix = ".checkpoint.json";
    private const string JournalSuffix = ".journal";

    private readonly Lock _gate = new();
    // Batched mode: entries waiting for the flusher, formatted there (off the system's lock). Trace entries are immutable.
    private readonly List<TraceEntry> _pending = [];
    private FileStream? _journal;
    private long _generation = LastGeneration(directory);

    public string Id { get; } = id;
    public string Directory { get; } = directory;

    /// <summary>Entries journaled since the last checkpoint.</summary>
    public int SinceCheckpoint { get; private set; }

    /// <summary>The system changed in ways a replay cannot redo (a remote partition was attached): checkpoint when settled.</summary>
    public bool Unreplayable { get; set; }

    /// <summary>The sequence of a reset just journaled: the fault rules it restarted (the next sequence) need no entry of their own.</summary>
    public long ResetSequence { get; set; } = -1;

    public bool Deleted { get; private set; }

    /// <summary>Entries journaled and not yet written (batched mode).</summary>
    public int Pending
    {
        get
        {
            lock (_gate) return _pending.Count;
        }
    }

    public static string CheckpointName(long generation) => generation.ToString("D10", CultureInfo.InvariantCulture) + CheckpointSuffix;
    public static string JournalName(long generation) => generation.ToString("D10", CultureInfo.InvariantCulture) + JournalSuffix;

    /// <summary>
    /// Writes <paramref name="snapshot"/> as the next generation's checkpoint (always fsynced, whatever the mode:
    /// the older files are dropped after it), opens that generation's journal and drops everything older.
    /// </summary>
    public void Checkpoint(SystemSnapshot snapshot)
    {
        lock (_gate)
        {
            if (Deleted) return;
            try
            {
                System.IO.Directory.CreateDirectory(Directory);
                CloseJournal();
                var generation = _generation + 1;
                DurableFiles.WriteAtomically(Path.Combine(Directory, CheckpointName(generation)), snapshot.WriteJson, sync: true);
                _journal = new FileStream(Path.Combine(Directory, JournalName(generation)), FileMode.Append, FileAccess.Write, FileShare.Read, 1 << 16);
                DurableFiles.SyncDirectory(Directory);
                _generation = generation;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Fail();
                throw new PersistenceUnavailableException($"system '{Id}': cannot write a checkpoint in '{Directory}': {e.Message}", e);
            }
            NeedsCheckpoint = false;
            SinceCheckpoint = 0;
            Unreplayable = false;
            foreach (var (g, path) in Files(Directory))
                if (g < _generation) File.Delete(path);
        }
    }

    /// <summary>
    /// A write failed: the journal is closed and what was pending dropped, and the next change must be a checkpoint
    /// (<see cref="NeedsCheckpoint"/>); until one succeeds no change is acknowledged as durable. Under the journal's lock.
    /// </summary>
    private void Fail()
    {
        NeedsCheckpoint = true;
        _pending.Clear();
        try
        {
            _journal?.Dispose();
        }
        catch (IOException)
        {
            // Its buffered bytes could not be written either: the checkpoint that comes next replaces them.
        }
        _journal = null;
    }

    /// <summary>Journals one entry: strict writes and fsyncs it now, batched leaves it for <see cref="Flush"/>.</summary>
    public void Append(TraceEntry entry)
    {
        lock (_gate)
        {
            if (Deleted) return;
            // Never dropped silently: PersistentStore checkpoints instead while NeedsCheckpoint is set.
            if (_journal is null || NeedsCheckpoint) throw new PersistenceUnavailableException($"system '{Id}': its journal is not open (a write failed); a checkpoint must come first");
            if (mode == PersistenceMode.Strict)
            {
                var payload = Payload(entry);
                if (payload.Length > JournalFrames.MaxPayload) throw new ArgumentOutOfRangeException(nameof(entry), payload.Length, $"a journal entry is at most {JournalFrames.MaxPayload} bytes");
                try
                {
                    JournalFrames.Append(_journal, payload);
                    _journal.Flush(flushToDisk: true);
                }
                catch (IOException e)
                {
                    Fail();
                    throw new PersistenceUnavailableException($"system '{Id}': cannot write its journal in '{Directory}': {e.Message}", e);
                }
            }
            else _pending.Add(entry);
            SinceCheckpoint++;
        }
    }

    /// <summary>A journal write or checkpoint failed: the next change is to be a checkpoint (retried until one succeeds).</summary>
    public bool NeedsCheckpoint { get; private set; }

    private static byte[] Payload(TraceEntry entry) => Encoding.UTF8.GetBytes(TraceWriter.FormatEntry(entry));

    /// <summary>Formats and writes the pending entries (not yet fsynced). Under the journal's lock.</summary>
    private void WritePending()
    {
        if (_pending.Count == 0) return;
        using var buffer = new MemoryStream();
        foreach (var e in _pending)
        {
            var payload = Payload(e);
            // Not expected given the per-call limits (JournalFrames.MaxPayload); a write failure: the next change checkpoints.
            if (payload.Length > JournalFrames.MaxPayload) throw new IOException($"a journal entry of {payload.Length} bytes (seq {e.Seq}) is above the frame limit of {JournalFrames.MaxPayload}");
            JournalFrames.Append(buffer, payload);
        }
        _pending.Clear();
        _journal!.Write(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
    }

    /// <summary>Writes and fsyncs what is pending (batched mode's flusher; also on stop).</summary>
    public void Flush()
    {
        lock (_gate)
        {
            if (Deleted || _journal is null || _pending.Count == 0) return;
            try
            {
                WritePending();
                _journal.Flush(flushToDisk: true);
            }
            catch (IOException)
            {
                // Batched entries were acknowledged before this write (docs/persistence.md): the next change checkpoints.
                Fail();
                throw;
            }
        }
    }

    /// <summary>Flushes and closes the journal (the service stops).</summary>
    public void Close()
    {
        lock (_gate) CloseJournal();
    }

    private void CloseJournal()
    {
        if (_journal is null) return;
        WritePending();
        _journal.Flush(flushToDisk: true);
        _journal.Dispose();
        _journal = null;
    }

    /// <summary>The system was deleted: its directory goes (metadata included), durably.</summary>
    public void Delete()
    {
        lock (_gate)
        {
            if (Deleted) return;
            Deleted = true;
            _journal?.Dispose();
            _journal = null;
            _pending.Clear();
            if (!System.IO.Directory.Exists(Directory)) return;
            // Moved out of systems/ in one rename first, so a crash in the middle of the recursive delete never leaves a
            // half-deleted system for the next start to find (leftovers in trash/ are removed then).
            var trash = TrashDirectory(Path.GetDirectoryName(Directory)!);
            System.IO.Directory.CreateDirectory(trash);
            var moved = Path.Combine(trash, $"{Id}.{Guid.NewGuid():N}");
            System.IO.Directory.Move(Directory, moved);
            DurableFiles.SyncDirectory(Path.GetDirectoryName(Directory)!);
            System.IO.Directory.Delete(moved, recursive: true);
        }
    }

    /// <summary>Where deleted systems' directories go before they are removed: beside <c>systems/</c>.</summary>
    internal static string TrashDirectory(string systemsDirectory) => Path.Combine(Path.GetDirectoryName(systemsDirectory)!, "trash");

    /// <summary>The generation of every checkpoint and journal in <paramref name="directory"/>.</summary>
    internal static IEnumerable<(long Generation, string Path)> Files(string directory)
    {
        if (!System.IO.Directory.Exists(directory)) yield break;
        foreach (var path in System.IO.Directory.EnumerateFiles(directory))
        {
            var name = Path.GetFileName(path);
            var suffix = name.EndsWith(CheckpointSuffix, StringComparison.Ordinal) ? CheckpointSuffix
                : name.EndsWith(JournalSuffix, StringComparison.Ordinal) ? JournalSuffix : null;
            if (suffix is not null && long.TryParse(name.AsSpan(0, name.Length - suffix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var g))
                yield return (g, path);
        }
    }

    private static long LastGeneration(string directory) => Files(directory).Select(f => f.Generation).DefaultIfEmpty(0).Max();

    /// <summary>What a system's directory holds: the newest checkpoint and the entries journaled after it, in order.</summary>
    internal sealed record Stored(string Id, SystemSnapshot Snapshot, long Generation, List<TraceEntry> Entries, List<string> Warnings);

    /// <summary>
    /// Reads a system's directory. A torn tail of the newest journal (a frame cut short or failing its CRC) is cut off
    /// with a warning; anything else unreadable — no checkpoint, a checkpoint that does not parse, a bad frame in an
    /// older journal, an entry that is not a trace entry — is an <see cref="InvalidDataException"/> naming the file.
    /// </summary>
    internal static Stored Load(string id, string directory)
    {
        var warnings = new List<string>();
        foreach (var temp in System.IO.Directory.EnumerateFiles(directory, "*.tmp"))
        {
            File.Delete(temp);
            warnings.Add($"dropped '{Path.GetFileName(temp)}', a checkpoint or metadata write a crash interrupted");
        }
        var files = Files(directory).OrderBy(f => f.Generation).ThenBy(f => f.Path, StringComparer.Ordinal).ToList();
        var checkpoint = files.LastOrDefault(f => f.Path.EndsWith(CheckpointSuffix, StringComparison.Ordinal));
        if (checkpoint.Path is null)
            throw new InvalidDataException($"system '{id}': '{directory}' holds no checkpoint ({files.Count} journal file(s)); cannot rebuild it");
        SystemSnapshot snapshot;
        try
        {
            snapshot = SystemSnapshot.FromJson(File.ReadAllBytes(checkpoint.Path));
        }
        catch (Exception e) when (e is Core.SpmcRequestException or System.Text.Json.JsonException)
        {
            throw new InvalidDataException($"system '{id}': checkpoint '{checkpoint.Path}' is unreadable: {e.Message}", e);
        }
        var journals = files.Where(f => f.Generation >= checkpoint.Generation && f.Path.EndsWith(JournalSuffix, StringComparison.Ordinal)).ToList();
        var entries = new List<TraceEntry>();
        for (var i = 0; i < journals.Count; i++)
        {
            var path = journals[i].Path;
            var bytes = File.ReadAllBytes(path);
            var (frames, end) = JournalFrames.Read(bytes);
            if (end < bytes.Length)
            {
                if (i < journals.Count - 1)
                    throw new InvalidDataException($"system '{id}': journal '{path}' is corrupt at byte {end} and a newer journal follows it");
                if (!JournalFrames.IsTornTail(bytes, end))
                    throw new InvalidDataException($"system '{id}': journal '{path}' is corrupt at byte {end} of {bytes.Length}: a bad entry with more data after it (not a torn tail); move the file aside or restore it from a backup");
                using (var file = new FileStream(path, FileMode.Open, FileAccess.Write)) file.SetLength(end);
                warnings.Add($"dropped a torn tail of {bytes.Length - end} byte(s) at byte {end} of '{Path.GetFileName(path)}' (an entry a crash interrupted: never acknowledged in strict mode)");
            }
            for (var n = 0; n < frames.Count; n++)
            {
                try
                {
                    entries.Add(TraceReader.ParseEntry(Encoding.UTF8.GetString(frames[n].Span), n + 1));
                }
                catch (TraceFormatException e)
                {
                    throw new InvalidDataException($"system '{id}': journal '{path}' entry {n + 1}: {e.Message}", e);
                }
            }
        }
        return new Stored(id, snapshot, checkpoint.Generation, entries, warnings);
    }
}
