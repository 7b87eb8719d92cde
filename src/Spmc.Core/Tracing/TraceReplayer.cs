using System.Text;
using Spmc.Abi.Smccc;
using Spmc.Core.Calls;
using Spmc.Core.Manifests;
using Spmc.Core.Systems;

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
    public override string ToString() =>
        $"replayed {Calls} call(s) and {MemoryAccesses} memory access(es): {Matched} matched" +
        (FirstDifference is null ? ", identical" : $", first difference:\n{FirstDifference.Describe()}");
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
    public string Describe()
    {
        var text = new StringBuilder();
        text.Append("seq ").Append(Seq).Append(" differs in ").AppendLine(string.Join(", ", Fields));
        switch (Expected)
        {
            case SmcTraceEntry s:
                text.Append("  request: ").Append(s.Outcome.Decoded.Function).Append(" from ").Append(TraceWriter.Id(s.Call.Caller))
                    .Append(" vcpu ").Append(s.Call.Vcpu).Append(' ').Append(s.Call.Conduit == Conduit.Hvc ? "hvc" : "smc").AppendLine();
                text.Append("    ").AppendLine(Registers(s.Call.Frame));
                text.AppendLine("  expected:");
                Outcome(text, s.Outcome);
                text.AppendLine("  actual:");
                if (Actual is { } a) Outcome(text, a);
                else text.Append("    refused: ").AppendLine(ActualError);
                break;
            case MemoryTraceEntry m:
                text.Append("  memory ").Append(m.Write ? "write" : "read").Append(" as ").Append(TraceWriter.Id(m.As)).Append(" at ")
                    .Append(TraceWriter.Hex(m.Address)).Append(" (+").Append(m.Data.Length).AppendLine(")");
                text.Append("  expected: ").AppendLine(Convert.ToHexStringLower(m.Data));
                text.Append("  actual:   ").AppendLine(ActualData is { } d ? Convert.ToHexStringLower(d) : $"refused: {ActualError}");
                break;
            case FaultsTraceEntry f:
                text.Append("  fault rules (").Append(f.Faults.Rules.Count).Append(") refused: ").AppendLine(ActualError);
                break;
        }
        return text.ToString();
    }

    private static void Outcome(StringBuilder text, SmcOutcome o)
    {
        text.Append("    ").AppendLine(Registers(o.Frame));
        DecodedLine(text, o.Decoded, "    ");
        var hops = o.Decoded.Hops ?? [];
        for (var i = 0; i < hops.Count; i++)
        {
            text.Append("    hop ").Append(i).Append(" as ").Append(TraceWriter.Id(hops[i].Caller)).AppendLine(":");
            text.Append("      request ").AppendLine(Registers(hops[i].Request));
            text.Append("      answer  ").AppendLine(Registers(hops[i].Answer));
            DecodedLine(text, hops[i].Decoded, "      ");
        }
        foreach (var r in o.Reads)
            text.Append("    read ").Append(TraceWriter.Hex(r.Address)).Append(": ")
                .AppendLine(r.Data is { } d ? $"{d.Length} byte(s)" : $"error: {r.Error}");
        foreach (var e in o.Events ?? [])
            text.Append("    event ").Append(e.Sequence).Append(' ').Append(e.Kind).Append(' ').Append(TraceWriter.Id(e.Endpoint)).Append(": ").AppendLine(e.Detail);
    }

    private static void DecodedLine(StringBuilder text, Decoded d, string indent) =>
        text.Append(indent).Append(d.Function).Append(' ').Append(d.Width).Append(" -> ").Append(d.Result)
            .Append(d.Error is null ? "" : $" {d.Error}").Append(d.Rule is null ? "" : $" [{d.Rule}]")
            .AppendLine(d.Reason is null ? "" : $": {d.Reason}");

    private static string Registers(SmcFrame frame)
    {
        var last = Spmc.Abi.Smccc.Registers.Count - 1;
        while (last > 0 && frame[last] == 0) last--;
        var parts = new List<string>();
        for (var i = 0; i <= last; i++) parts.Add($"x{i}={TraceWriter.Hex(frame[i])}");
        return string.Join(' ', parts) + (last < Spmc.Abi.Smccc.Registers.Count - 1 ? $" (x{last + 1}..x17 = 0)" : "");
    }
}

/// <summary>
/// Builds a fresh system from a trace's manifest and re-sends every entry in order: SMCs with their memory writes
/// and reads, API memory writes and reads, the fault rules of each <c>faults</c> entry, and a reset where a <c>reset</c> entry says. Compares every answer register by register (x0..x17), the reads (data or
/// error), the decoded view (function, width, result, error, reason, rule, notes, hops with their frames) and the
/// events. Stops at the first difference.
/// A trace holding entries made by attached partitions is refused before anything runs (an
/// <see cref="InvalidRequestException"/> naming the entry's seq): their answers came from a remote client that a
/// replay cannot play. So is a trace whose entries do not run 1, 2, 3, ... (a ring export that dropped entries, or an
/// edited file): a replay must start from the state the manifest builds.
/// </summary>
public static class TraceReplayer
{
    /// <param name="trace">Every entry from the first, with the manifest in its header.</param>
    /// <param name="cancel">Ends the replay.</param>
    /// <param name="quota">
    /// The memory quota the replayed system counts against (a service passes its registry's, so a trace of scattered writes
    /// cannot make more memory resident than a live system could; refused with <see cref="QuotaExceededException"/>). Its
    /// pages are given back when the replay ends.
    /// </param>
    public static async Task<ReplayResult> ReplayAsync(TraceDocument trace, CancellationToken cancel = default, Memory.MemoryQuota? quota = null)
    {
        if (trace.Header.Restored)
            throw new InvalidRequestException($"trace: the entries follow a restore from a snapshot (header \"restored\"); a replay starts from the state the manifest builds and cannot replay them");
        var expectedSeq = trace.Header.After + 1; // after a reset the ring's entries continue its sequence
        foreach (var entry in trace.Entries)
        {
            if (entry is TraceEnd) continue;
            if (entry is SmcTraceEntry { Attached: true })
                throw new InvalidRequestException($"trace: seq {entry.Seq} was made by an attached (remote) partition; a replay cannot play a remote client's answers");
            if (entry.Seq != expectedSeq)
                throw new InvalidRequestException($"trace: seq {entry.Seq} where {expectedSeq} was expected; a replay needs every entry from seq {trace.Header.After + 1} (was the ring export cut?)");
            expectedSeq++;
        }
        var config = ManifestValidator.Validate(trace.Header.Manifest.GetRawText());
        var system = new SimulatedSystem(trace.Header.System, config, quota: quota);
        try
        {
            return await ApplyAsync(system, trace.Entries, cancel).ConfigureAwait(false);
        }
        finally
        {
            system.Shutdown();
        }
    }

    /// <summary>
    /// Re-sends <paramref name="entries"/> to <paramref name="system"/> as it is now (no header checks: the caller
    /// vouches that the entries follow its state, e.g. a persisted checkpoint), comparing every answer as
    /// <see cref="ReplayAsync"/> does and stopping at the first difference. Attached entries are not skipped: check
    /// them first.
    /// </summary>
    public static async Task<ReplayResult> ApplyAsync(SimulatedSystem system, IEnumerable<TraceEntry> entries, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(entries);
        int calls = 0, memory = 0, matched = 0;
        foreach (var entry in entries)
        {
            cancel.ThrowIfCancellationRequested();
            ReplayDifference? difference;
            switch (entry)
            {
                case SmcTraceEntry s:
                    calls++;
                    difference = await ReplayCallAsync(system, s, cancel).ConfigureAwait(false);
                    break;
                case MemoryTraceEntry m:
                    memory++;
                    difference = ReplayMemory(system, m);
                    break;
                case ResetTraceEntry:
                    // docs/faults.md#reset: back to the manifest's state, fault rules kept with their counters restarted.
                    system.Reset();
                    continue;
                case FaultsTraceEntry f:
                    // The rules as they were at this point (docs/faults.md): later calls get the same injected answers.
                    try
                    {
                        system.LoadFaults(f.Faults);
                        continue;
                    }
                    catch (SpmcRequestException e)
                    {
                        return new ReplayResult(calls, memory, matched, new ReplayDifference(f.Seq, f, null, null, e.Message, ["exception"]));
                    }
                default:
                    continue;
            }
            if (difference is not null) return new ReplayResult(calls, memory, matched, difference);
            matched++;
        }
        return new ReplayResult(calls, memory, matched, null);
    }

    public static Task<ReplayResult> ReplayFileAsync(string path, CancellationToken cancel = default) =>
        ReplayAsync(TraceReader.ReadFile(path), cancel);

    private static async Task<ReplayDifference?> ReplayCallAsync(SimulatedSystem system, SmcTraceEntry entry, CancellationToken cancel)
    {
        SmcOutcome actual;
        try
        {
            actual = await system.CallAsync(entry.Call, cancel).ConfigureAwait(false);
        }
        catch (SpmcRequestException e)
        {
            return new ReplayDifference(entry.Seq, entry, null, null, e.Message, ["exception"]);
        }
        var fields = new List<string>();
        Compare(entry.Outcome, actual, fields);
        return fields.Count == 0 ? null : new ReplayDifference(entry.Seq, entry, actual, null, null, fields);
    }

    private static ReplayDifference? ReplayMemory(SimulatedSystem system, MemoryTraceEntry entry)
    {
        try
        {
            if (entry.Write)
            {
                system.WriteMemory(entry.As, entry.Address, entry.Data);
                return null;
            }
            var data = system.ReadMemory(entry.As, entry.Address, entry.Data.Length);
            return data.AsSpan().SequenceEqual(entry.Data) ? null : new ReplayDifference(entry.Seq, entry, null, data, null, ["data"]);
        }
        catch (SpmcRequestException e)
        {
            return new ReplayDifference(entry.Seq, entry, null, null, e.Message, ["exception"]);
        }
    }

    /// <summary>Names every field of <paramref name="actual"/> that differs from <paramref name="expected"/>.</summary>
    internal static void Compare(SmcOutcome expected, SmcOutcome actual, List<string> fields)
    {
        CompareFrame(expected.Frame, actual.Frame, "", fields);
        if (expected.Reads.Count != actual.Reads.Count) fields.Add("reads");
        else
            for (var i = 0; i < expected.Reads.Count; i++)
            {
                var (e, a) = (expected.Reads[i], actual.Reads[i]);
                if (e.Address != a.Address) fields.Add($"reads[{i}].address");
                // Neither data nor error: a read whose bytes were not recorded (a persistence journal keeps no read data,
                // docs/persistence.md); only that it succeeded is compared.
                if (e.Data is null && e.Error is null)
                {
                    if (a.Error is not null) fields.Add($"reads[{i}].error");
                    continue;
                }
                if (!(e.Data ?? []).AsSpan().SequenceEqual(a.Data ?? []) || (e.Data is null) != (a.Data is null)) fields.Add($"reads[{i}].data");
                if (e.Error != a.Error) fields.Add($"reads[{i}].error");
            }
        CompareDecoded(expected.Decoded, actual.Decoded, "decoded", fields);
        var (ee, ae) = (expected.Events ?? [], actual.Events ?? []);
        if (ee.Count != ae.Count) fields.Add("events");
        else
            for (var i = 0; i < ee.Count; i++)
                if (ee[i] != ae[i] || ee[i].Sequence != ae[i].Sequence) fields.Add($"events[{i}]");
    }

    private static void CompareFrame(SmcFrame expected, SmcFrame actual, string prefix, List<string> fields)
    {
        for (var i = 0; i < Registers.Count; i++)
            if (expected[i] != actual[i]) fields.Add($"{prefix}x{i}");
    }

    private static void CompareDecoded(Decoded e, Decoded a, string prefix, List<string> fields)
    {
        if (e.Function != a.Function) fields.Add($"{prefix}.function");
        if (e.Width != a.Width) fields.Add($"{prefix}.width");
        if (e.Result != a.Result) fields.Add($"{prefix}.result");
        if (e.Error != a.Error) fields.Add($"{prefix}.error");
        if (e.Reason != a.Reason) fields.Add($"{prefix}.reason");
        if (e.Rule != a.Rule) fields.Add($"{prefix}.rule");
        if (!(e.Notes ?? []).SequenceEqual(a.Notes ?? [])) fields.Add($"{prefix}.notes");
        var (eh, ah) = (e.Hops ?? [], a.Hops ?? []);
        if (eh.Count != ah.Count)
        {
            fields.Add($"{prefix}.hops");
            return;
        }
        for (var i = 0; i < eh.Count; i++)
        {
            var hop = $"{prefix}.hops[{i}]";
            if (eh[i].Caller != ah[i].Caller) fields.Add($"{hop}.caller");
            CompareFrame(eh[i].Request, ah[i].Request, $"{hop}.request.", fields);
            CompareFrame(eh[i].Answer, ah[i].Answer, $"{hop}.answer.", fields);
            CompareDecoded(eh[i].Decoded, ah[i].Decoded, $"{hop}.decoded", fields);
        }
    }
}
