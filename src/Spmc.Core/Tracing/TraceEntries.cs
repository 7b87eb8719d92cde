using System.Text.Json;
using Spmc.Core.Calls;
using Spmc.Core.Manifests;
using Spmc.Core.Systems;

namespace Spmc.Core.Tracing;

/// <summary>The trace format's name and version (docs/traces.md). A reader refuses any other version.</summary>
public static class TraceFormat
{
    public const string Name = "spmc-trace";
    public const int Version = 1;
    /// <summary>The media type of a trace (JSON Lines, UTF-8).</summary>
    public const string MediaType = "application/x-ndjson";
}

/// <summary>
/// Line 1 of a trace: the system's ID and its canonical manifest (<c>ManifestValidator.ToDocument(config)</c>),
/// enough to build the same system again. No wall-clock time: two traces of the same calls are identical.
/// </summary>
/// <param name="System">The system's ID when it was traced.</param>
/// <param name="Manifest">The canonical manifest as a JSON object.</param>
/// <param name="After">
/// The entries start at seq <c>After + 1</c> from the state the manifest builds: 0, or the last seq before the
/// system was reset (a ring export after a reset; sequences keep rising across it). Written only when not 0.
/// </param>
/// <param name="Restored">
/// The entries follow a state restored from a snapshot (docs/snapshots.md), not one the manifest builds: a replay
/// refuses the trace. Written only when true.
/// </param>
public sealed record TraceHeader(string System, JsonElement Manifest, long After = 0, bool Restored = false)
{
    /// <summary>The header of a live system: its ID and canonical manifest.</summary>
    public static TraceHeader For(SimulatedSystem system)
    {
        using var doc = JsonDocument.Parse(ManifestValidator.ToDocument(system.Config).ToJson());
        return new TraceHeader(system.Id, doc.RootElement.Clone());
    }
}

/// <summary>One line after the header, in the system's order (<see cref="Seq"/> 1, 2, ...; gaps where the ring dropped entries).</summary>
public abstract record TraceEntry(long Seq);

/// <summary>
/// One SMC as the system applied it: the call (caller, vCPU, conduit, x0..x17, memory written before and reads
/// asked after) and its outcome (answer registers, reads with data or error, decoded view with hops and notes,
/// events). <see cref="Attached"/>: made by a client playing a remote partition (PartitionHost.Attach) — such an
/// entry cannot be replayed by re-sending it.
/// </summary>
public sealed record SmcTraceEntry(long Seq, SmcCall Call, SmcOutcome Outcome, bool Attached) : TraceEntry(Seq)
{
    public static SmcTraceEntry From(CallRecord record) => new(record.Sequence, record.Call, record.Outcome, record.FromAttachedPartition);
}

/// <summary>
/// The system was reset (docs/faults.md#reset) at this point: a replay resets its system here too. A reset takes a
/// sequence number of its own; the ring (what <c>GET .../trace</c> serves) starts again after it, with the header's
/// <c>after</c> at this seq, so only followers and recordings see this line.
/// </summary>
public sealed record ResetTraceEntry(long Seq) : TraceEntry(Seq);

/// <summary>The system's fault rules after a change (docs/faults.md): a replay loads them at this point.</summary>
public sealed record FaultsTraceEntry(long Seq, Faults.FaultsSnapshot Faults) : TraceEntry(Seq)
{
    public static FaultsTraceEntry From(FaultsChangeRecord record) => new(record.Sequence, record.Faults);
}

/// <summary>A memory read or write through the API (not an SMC's own), as endpoint <see cref="As"/> (or the SPMC ID).</summary>
public sealed record MemoryTraceEntry(long Seq, ushort As, ulong Address, bool Write, byte[] Data) : TraceEntry(Seq)
{
    public static MemoryTraceEntry From(MemoryAccessRecord record) => new(record.Sequence, record.As, record.Address, record.Write, record.Data);
}

/// <summary>Why a followed trace stream ended early.</summary>
public enum TraceEndReason
{
    /// <summary>The system was deleted: nothing more will come.</summary>
    SystemDeleted,
    /// <summary>The follower read too slowly and its bounded buffer filled: entries after <see cref="TraceEntry.Seq"/> were not sent.</summary>
    Lagged,
    /// <summary>A recording's write queue filled (the disk was too slow): the file stops here.</summary>
    RecordingLagged,
}

/// <summary>
/// The last line of a followed stream or a recording that ended for a reason other than the client leaving:
/// <see cref="TraceEntry.Seq"/> is the last sequence the stream delivered. Readers accept it only as the last line;
/// replay ignores it.
/// </summary>
public sealed record TraceEnd(long Seq, TraceEndReason Reason, string Message) : TraceEntry(Seq);

/// <summary>A whole trace read from a file or a stream.</summary>
public sealed record TraceDocument(TraceHeader Header, IReadOnlyList<TraceEntry> Entries);

/// <summary>
/// The input is not a valid trace: not JSON Lines, not a spmc-trace header, another version, or a malformed entry.
/// <see cref="Line"/> is the 1-based line number at fault (the message names it too). As any unnamed
/// <see cref="SpmcRequestException"/>, hosts map it to HTTP 400 / gRPC InvalidArgument.
/// </summary>
public sealed class TraceFormatException(int line, string message) : SpmcRequestException($"trace line {line}: {message}")
{
    public int Line { get; } = line;
}
