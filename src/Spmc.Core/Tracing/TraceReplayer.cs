using Spmc.Core.Calls;

namespace Spmc.Core.Tracing;

/// <summary>The result of a replay: counts, and the first difference (null when every answer matched).</summary>
/// <param name="Calls">SMC entries re-sent.</param>
/// <param name="MemoryAccesses">API memory entries re-applied.</param>
/// <param name="Matched">Entries whose answer matched (stops at the first difference).</param>
/// <param name="FirstDifference">The first entry that differed, or null.</param>
public sealed record ReplayResult(int Calls, int MemoryAccesses, int Matched, ReplayDifference? FirstDifference)
{
    public bool Identical => FirstDifference is null;

    /// <summary>A short report: counts, then the difference described (both frames decoded).</summary>
    public override string ToString() => throw new NotImplementedException();
}

/// <summary>
/// The first entry whose answer differs. <see cref="Fields"/> names what differs ("x2", "reads[0].data",
/// "decoded.error", "decoded.hops[1].answer.x3", "events", "exception"); <see cref="Expected"/> is the traced
/// entry, <see cref="Actual"/> what the replayed system answered (null when it threw: <see cref="ActualError"/>).
/// </summary>
public sealed record ReplayDifference(long Seq, TraceEntry Expected, SmcOutcome? Actual, byte[]? ActualData, string? ActualError,
    IReadOnlyList<string> Fields)
{
    /// <summary>Multi-line text: the entry, the request decoded, each side's registers and decoded view, the fields that differ.</summary>
    public string Describe() => throw new NotImplementedException();
}

/// <summary>
/// Builds a fresh system from a trace's manifest and re-sends every entry in order: SMCs with their memory writes
/// and reads, API memory writes and reads. Compares every answer register by register (x0..x17), the reads (data or
/// error), the decoded view (function, width, result, error, rule, hops with their frames) and the events.
/// A trace holding entries made by attached partitions is refused before anything runs (an
/// <see cref="InvalidRequestException"/> naming the entry's seq): their answers came from a remote client that a
/// replay cannot play.
/// </summary>
public static class TraceReplayer
{
    public static Task<ReplayResult> ReplayAsync(TraceDocument trace, CancellationToken cancel = default) => throw new NotImplementedException();

    public static Task<ReplayResult> ReplayFileAsync(string path, CancellationToken cancel = default) => throw new NotImplementedException();
}
