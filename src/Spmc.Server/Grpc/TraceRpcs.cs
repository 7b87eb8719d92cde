using global::Grpc.Core;
using Google.Protobuf;
using Spmc.Core;
using Spmc.Core.Tracing;
using Spmc.Server.Security;
using Spmc.V1;
using ReplayDifference = Spmc.V1.ReplayDifference;
using TraceEnd = Spmc.Core.Tracing.TraceEnd;

namespace Spmc.Server.Grpc;

/// <summary>spmc.v1.Systems.Trace and Replay: a system's trace as JSON lines, and replaying one.</summary>
public sealed partial class SystemsService
{
    /// <summary>
    /// The header (sequence 0), then the ring's entries after <c>after</c>; with <c>follow</c>, each new entry until the
    /// client cancels, the service stops (status OK) or the system is deleted: the last message is then the trace's
    /// "end" line and the status OK.
    /// A follower that fell behind gets the "end" line (lagged) and ResourceExhausted.
    /// </summary>
    public override async Task Trace(TraceRequest request, IServerStreamWriter<V1.TraceEntry> responseStream, ServerCallContext context)
    {
        if (request.HasAfter && request.After < 0) throw new InvalidRequestException($"after: {request.After} is negative (a sequence is 0 or more)");
        var system = await access.OpenAsync(registry, context, ProtoMapping.RequireSystemId(request.SystemId));
        var after = request.HasAfter ? request.After : 0;
        var cancel = context.CancellationToken;
        if (!request.Follow)
        {
            var snapshot = traces.Recorder.Snapshot(system, after);
            await responseStream.WriteAsync(new V1.TraceEntry { Sequence = 0, Json = TraceWriter.FormatHeader(snapshot.Header) }, cancel);
            foreach (var entry in snapshot.Entries)
                await responseStream.WriteAsync(new V1.TraceEntry { Sequence = entry.Seq, Json = TraceWriter.FormatEntry(entry) }, cancel);
            return;
        }

        using var slot = system.OpenStream("Trace follow"); // Spmc:Quotas:MaxStreamsPerSystem
        await responseStream.WriteAsync(new V1.TraceEntry { Sequence = 0, Json = TraceWriter.FormatHeader(TraceHeader.For(system)) }, cancel);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancel, traces.Stopping);
        try
        {
            await foreach (var entry in traces.Recorder.Follow(system, after, linked.Token))
            {
                await responseStream.WriteAsync(new V1.TraceEntry { Sequence = entry.Seq, Json = TraceWriter.FormatEntry(entry) }, cancel);
                if (entry is TraceEnd { Reason: not TraceEndReason.SystemDeleted } end)
                    throw new RpcException(new Status(StatusCode.ResourceExhausted, $"trace follower ended: {end.Message}"));
            }
        }
        catch (OperationCanceledException) when (linked.IsCancellationRequested)
        {
            // The client cancelled, or the service is stopping (the stream ends OK).
        }
    }

    /// <summary>Replays a whole trace (bounded by the 8 MiB gRPC message size; REST takes up to Spmc:Traces:MaxReplayBytes).</summary>
    [Microsoft.AspNetCore.RateLimiting.EnableRateLimiting(Hosting.RateLimiting.Uploads)]
    public override async Task<ReplayReport> Replay(ReplayRequest request, ServerCallContext context)
    {
        if (string.IsNullOrWhiteSpace(request.Trace)) throw new InvalidRequestException("trace: required (a trace in JSON Lines)");
        var result = await TraceReplayer.ReplayAsync(TraceReader.Parse(request.Trace), context.CancellationToken, registry.MemoryQuota);
        var report = new ReplayReport
        {
            Calls = result.Calls,
            MemoryAccesses = result.MemoryAccesses,
            Matched = result.Matched,
            Identical = result.Identical,
        };
        if (result.FirstDifference is { } d)
        {
            var difference = new ReplayDifference { Sequence = d.Seq, Description = d.Describe(), ActualError = d.ActualError ?? "" };
            difference.Fields.Add(d.Fields);
            if (d.Expected is SmcTraceEntry smc) difference.Expected = ProtoMapping.ToProto(smc.Outcome, 0);
            if (d.Expected is MemoryTraceEntry memory) difference.ExpectedData = ByteString.CopyFrom(memory.Data);
            if (d.Actual is { } actual) difference.Actual = ProtoMapping.ToProto(actual, 0);
            if (d.ActualData is { } data) difference.ActualData = ByteString.CopyFrom(data);
            report.Difference = difference;
        }
        return report;
    }
}
