using Spmc.Core.Tracing;

namespace Spmc.Server.Rest;

/// <summary>
/// The replay report: entries replayed (SMCs and API memory accesses), how many matched, and the first difference
/// with both answers decoded (<c>expected</c> from the trace, <c>actual</c> from the fresh system).
/// </summary>
public sealed record ReplayReportDto(int Replayed, int Calls, int MemoryAccesses, int Matched, bool Identical, ReplayDifferenceDto? Difference);

/// <summary>
/// The first entry whose answer differs: <c>fields</c> names what ("x2", "decoded.error", "reads[0].data", ...),
/// <c>description</c> is the multi-line text (request decoded, both sides). For an SMC, <c>expected</c>/<c>actual</c>
/// are answers as POST .../smc gives them; for an API memory read, <c>expectedData</c>/<c>actualData</c> (base64);
/// <c>actualError</c> when the fresh system refused the entry.
/// </summary>
public sealed record ReplayDifferenceDto(long Seq, IReadOnlyList<string> Fields, string Description, SmcResponseDto? Expected,
    SmcResponseDto? Actual, string? ExpectedData, string? ActualData, string? ActualError);

public static class TraceMapping
{
    public static ReplayReportDto ToDto(ReplayResult r) =>
        new(r.Calls + r.MemoryAccesses, r.Calls, r.MemoryAccesses, r.Matched, r.Identical, r.FirstDifference is { } d ? ToDto(d) : null);

    private static ReplayDifferenceDto ToDto(ReplayDifference d) => new(d.Seq, d.Fields, d.Describe(),
        d.Expected is SmcTraceEntry smc ? RestMapping.ToDto(smc.Outcome) : null,
        d.Actual is { } actual ? RestMapping.ToDto(actual) : null,
        d.Expected is MemoryTraceEntry m ? Convert.ToBase64String(m.Data) : null,
        d.ActualData is { } data ? Convert.ToBase64String(data) : null,
        d.ActualError);
}
