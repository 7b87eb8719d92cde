using System.Text;
using global::Grpc.Core;
using Google.Protobuf;
using Microsoft.AspNetCore.RateLimiting;
using Spmc.Core;
using Spmc.Core.Systems;
using Spmc.Server.Hosting;
using Spmc.V1;

namespace Spmc.Server.Grpc;

/// <summary>spmc.v1.SmcGateway: frames in, answers out.</summary>
public sealed class SmcGatewayService(SystemRegistry registry, Microsoft.Extensions.Options.IOptions<RateLimiterOptions> rateLimit) : SmcGateway.SmcGatewayBase
{
    public override Task<SmcResponse> Call(SmcRequest request, ServerCallContext context) =>
        Handle(registry.Get(ProtoMapping.RequireSystemId(request.SystemId)), request, context.CancellationToken);

    /// <summary>A call that lends cycles to a remote partition waits for it (bounded by the system's remote timeout).</summary>
    private static async Task<SmcResponse> Handle(SimulatedSystem system, SmcRequest request, CancellationToken cancel) =>
        ProtoMapping.ToProto(await system.CallAsync(ProtoMapping.ToDomain(request), cancel), request.Tag);

    /// <summary>
    /// Answers each frame in order; a refused frame gets a rejection and the stream continues. The session takes a
    /// stream slot on each system it reaches (Spmc:Quotas:MaxStreamsPerSystem) and gives them back when it ends.
    /// </summary>
    public override async Task Session(IAsyncStreamReader<SmcRequest> requestStream, IServerStreamWriter<SmcResponse> responseStream,
        ServerCallContext context)
    {
        var slots = new Dictionary<SimulatedSystem, IDisposable>();
        // Each frame pays the client's request rate (Spmc:RateLimit), as a unary call does: opening the stream paid once.
        var limiter = rateLimit.Value.GlobalLimiter;
        var http = context.GetHttpContext();
        try
        {
            await foreach (var request in requestStream.ReadAllAsync(context.CancellationToken))
            {
                SmcResponse response;
                using var lease = limiter?.AttemptAcquire(http);
                try
                {
                    if (lease is { IsAcquired: false })
                        throw new QuotaExceededException($"rate limit Spmc:RateLimit reached for client {RateLimitPartition.Key(http)}: this frame was not run; slow down and send it again");
                    var system = registry.Get(ProtoMapping.RequireSystemId(request.SystemId));
                    if (!slots.ContainsKey(system))
                    {
                        ForgetDeleted(slots); // a long session over many short-lived systems holds none that are gone
                        slots[system] = system.OpenStream("Session");
                    }
                    response = await Handle(system, request, context.CancellationToken);
                }
                catch (SpmcRequestException e)
                {
                    response = new SmcResponse { Tag = request.Tag, Rejection = new Rejection { Code = ErrorInterceptor.CodeOf(e).ToString(), Message = e.Message } };
                }
                await responseStream.WriteAsync(response, context.CancellationToken);
            }
        }
        finally
        {
            foreach (var slot in slots.Values) slot.Dispose();
        }
    }

    private static void ForgetDeleted(Dictionary<SimulatedSystem, IDisposable> slots)
    {
        foreach (var (system, slot) in slots)
            if (system.IsDeleted)
            {
                slot.Dispose();
                slots.Remove(system);
            }
    }
}

/// <summary>spmc.v1.Systems: create, read, list and delete simulated systems.</summary>
public sealed partial class SystemsService(SystemRegistry registry, Traces traces, Microsoft.Extensions.Options.IOptions<SpmcOptions> options) : Systems.SystemsBase
{
    private QuotasOptions Quotas => options.Value.Quotas;

    [EnableRateLimiting(RateLimiting.Uploads)]
    public override Task<SystemInfo> Create(CreateSystemRequest request, ServerCallContext context)
    {
        var given = new[] { request.ManifestJson.Length > 0, request.SnapshotJson.Length > 0, request.Snapshot is not null }.Count(x => x);
        if (given > 1)
            throw new InvalidRequestException("snapshot_json: give one of manifest_json, snapshot_json and snapshot, not several (a snapshot holds its manifest)");
        var system = request.Snapshot is { } doc ? traces.Create(request.Id, SnapshotProto.ToDomain(doc), request.Record)
            : request.SnapshotJson.Length > 0 ? traces.Create(request.Id, Core.Snapshots.SystemSnapshot.FromJson(Encoding.UTF8.GetBytes(request.SnapshotJson)), request.Record)
            : traces.Create(request.Id, request.ManifestJson, request.Record);
        return Task.FromResult(Info(system));
    }

    /// <summary>The JSON form in <c>snapshot_json</c> (the default, as before the protobuf form) or the protobuf form in <c>snapshot</c>.</summary>
    public override Task<SnapshotResponse> Snapshot(SnapshotRequest request, ServerCallContext context)
    {
        var system = registry.Get(request.Id);
        return Task.FromResult(request.Format switch
        {
            SnapshotFormat.Json => new SnapshotResponse { SnapshotJson = Encoding.UTF8.GetString(system.Snapshot().ToJson()) },
            SnapshotFormat.Protobuf => new SnapshotResponse { Snapshot = SnapshotProto.ToProto(system.Snapshot()) },
            _ => throw new InvalidRequestException($"format: {(int)request.Format} is neither JSON (0) nor PROTOBUF (1)"),
        });
    }

    [EnableRateLimiting(RateLimiting.Uploads)]
    public override Task<RestoreResponse> Restore(RestoreRequest request, ServerCallContext context)
    {
        var system = registry.Get(request.Id);
        if (request.SnapshotJson.Length > 0 && request.Snapshot is not null)
            throw new InvalidRequestException("snapshot: give either snapshot_json or snapshot, not both");
        var snapshot = request.Snapshot is { } doc ? SnapshotProto.ToDomain(doc)
            : request.SnapshotJson.Length > 0 ? Core.Snapshots.SystemSnapshot.FromJson(Encoding.UTF8.GetBytes(request.SnapshotJson))
            : throw new InvalidRequestException("snapshot_json: required (a snapshot document, or its protobuf form in snapshot)");
        system.RestoreInPlace(snapshot);
        return Task.FromResult(new RestoreResponse());
    }

    /// <summary>The snapshot taken under the system's lock, then sent in chunks (the pages are shared, not copied).</summary>
    public override async Task SnapshotStream(SnapshotRequest request, IServerStreamWriter<SnapshotChunk> responseStream, ServerCallContext context)
    {
        var system = registry.Get(request.Id);
        using var slot = system.OpenStream("SnapshotStream"); // Spmc:Quotas:MaxStreamsPerSystem
        var snapshot = system.Snapshot();
        foreach (var chunk in SnapshotProto.ToChunks(snapshot)) await responseStream.WriteAsync(chunk, context.CancellationToken);
    }

    [EnableRateLimiting(RateLimiting.Uploads)]
    public override async Task<RestoreResponse> RestoreStream(IAsyncStreamReader<RestoreStreamRequest> requestStream, ServerCallContext context)
    {
        var id = "";
        var snapshot = await SnapshotProto.ReadStream(requestStream, r => r.Chunk, r => id = r.Id, Quotas.MaxSnapshotStreamBytes,
            Quotas.SnapshotStreamIdleTimeout, context.CancellationToken);
        registry.Get(id).RestoreInPlace(snapshot);
        return new RestoreResponse();
    }

    [EnableRateLimiting(RateLimiting.Uploads)]
    public override async Task<SystemInfo> CreateStream(IAsyncStreamReader<CreateStreamRequest> requestStream, ServerCallContext context)
    {
        var (id, record) = ("", false);
        var snapshot = await SnapshotProto.ReadStream(requestStream, r => r.Chunk, r => (id, record) = (r.Id, r.Record),
            Quotas.MaxSnapshotStreamBytes, Quotas.SnapshotStreamIdleTimeout, context.CancellationToken);
        return Info(traces.Create(id.Length > 0 ? id : null, snapshot, record));
    }

    public override Task<SystemInfo> Get(GetSystemRequest request, ServerCallContext context) =>
        Task.FromResult(Info(registry.Get(request.Id)));

    public override Task<ListSystemsResponse> List(ListSystemsRequest request, ServerCallContext context)
    {
        var response = new ListSystemsResponse();
        response.Systems.Add(registry.List().Select(Info));
        return Task.FromResult(response);
    }

    private SystemInfo Info(SimulatedSystem system)
    {
        var info = ProtoMapping.ToProto(system);
        info.Recording = traces.RecordingOf(system) ?? "";
        return info;
    }

    public override Task<DeleteSystemResponse> Delete(DeleteSystemRequest request, ServerCallContext context)
    {
        registry.Delete(request.Id);
        return Task.FromResult(new DeleteSystemResponse());
    }

    public override Task<ResetSystemResponse> Reset(ResetSystemRequest request, ServerCallContext context)
    {
        registry.Get(request.Id).Reset();
        return Task.FromResult(new ResetSystemResponse());
    }

    /// <summary>Subscribes, sends the response headers (so a client knows it is live), then streams events.</summary>
    public override async Task Watch(WatchRequest request, IServerStreamWriter<V1.SystemEvent> responseStream, ServerCallContext context)
    {
        var system = registry.Get(ProtoMapping.RequireSystemId(request.SystemId));
        if (request.HasEndpoint && request.Endpoint > 0xFFFF) throw new InvalidRequestException($"endpoint: {request.Endpoint} is not a 16-bit endpoint ID");
        using var watch = system.Watch(request.HasEndpoint ? (ushort)request.Endpoint : null);
        using var slot = system.OpenStream("Watch"); // Spmc:Quotas:MaxStreamsPerSystem
        await context.WriteResponseHeadersAsync(new Metadata());
        await foreach (var e in watch.Reader.ReadAllAsync(context.CancellationToken))
            await responseStream.WriteAsync(ProtoMapping.ToProto(e), context.CancellationToken);
    }
}

/// <summary>spmc.v1.Memory: simulated physical memory, accessed as a named endpoint.</summary>
public sealed class MemoryService(SystemRegistry registry) : V1.Memory.MemoryBase
{
    public override Task<ReadMemoryResponse> Read(ReadMemoryRequest request, ServerCallContext context)
    {
        var system = registry.Get(ProtoMapping.RequireSystemId(request.SystemId));
        if (request.Length > SystemLimits.MaxTransfer)
            throw new InvalidRequestException($"length: {request.Length} is above {SystemLimits.MaxTransfer} (1 MiB)");
        var data = system.ReadMemory(Endpoint(request.AsEndpoint), request.Address, (int)request.Length);
        return Task.FromResult(new ReadMemoryResponse { Address = request.Address, Data = ByteString.CopyFrom(data) });
    }

    public override Task<WriteMemoryResponse> Write(WriteMemoryRequest request, ServerCallContext context)
    {
        var system = registry.Get(ProtoMapping.RequireSystemId(request.SystemId));
        system.WriteMemory(Endpoint(request.AsEndpoint), request.Address, request.Data.Span);
        return Task.FromResult(new WriteMemoryResponse());
    }

    private static ushort Endpoint(uint id) =>
        id > 0xFFFF ? throw new InvalidRequestException($"as_endpoint: 0x{id:X} is not a 16-bit endpoint ID") : (ushort)id;
}

/// <summary>spmc.v1.Inspector: a read-only view of a system.</summary>
public sealed class InspectorService(SystemRegistry registry) : Inspector.InspectorBase
{
    public override Task<V1.SystemState> GetState(GetStateRequest request, ServerCallContext context) =>
        Task.FromResult(ProtoMapping.ToProto(registry.Get(ProtoMapping.RequireSystemId(request.SystemId)).GetState()));

    public override Task<MemoryShare> GetShare(GetShareRequest request, ServerCallContext context)
    {
        var (offset, limit) = ProtoMapping.Page(request.Offset, request.Limit);
        return Task.FromResult(ProtoMapping.ToProto(registry.Get(ProtoMapping.RequireSystemId(request.SystemId)).GetShare(request.Handle, offset, limit)));
    }

    public override Task<V1.MemoryMapPage> GetMemoryMap(GetMemoryMapRequest request, ServerCallContext context)
    {
        var (offset, limit) = ProtoMapping.Page(request.Offset, request.Limit);
        return Task.FromResult(ProtoMapping.ToProto(registry.Get(ProtoMapping.RequireSystemId(request.SystemId)).GetMemoryMap(offset, limit)));
    }
}

/// <summary>spmc.v1.PartitionHost: clients that play remote partitions.</summary>
public sealed class PartitionHostService(SystemRegistry registry) : PartitionHost.PartitionHostBase
{
    public override async Task Attach(IAsyncStreamReader<PartitionMessage> requestStream, IServerStreamWriter<PartitionDelivery> responseStream,
        ServerCallContext context)
    {
        var cancel = context.CancellationToken;
        if (!await requestStream.MoveNext(cancel)) return;
        if (requestStream.Current.KindCase != PartitionMessage.KindOneofCase.Attach)
            throw new InvalidRequestException("the first message on PartitionHost.Attach must be 'attach' (system_id, partition_id)");
        var request = requestStream.Current.Attach;
        var system = registry.Get(ProtoMapping.RequireSystemId(request.SystemId));
        if (request.PartitionId > 0xFFFF) throw new InvalidRequestException($"partition_id: {request.PartitionId} is not a 16-bit endpoint ID");
        var partition = (ushort)request.PartitionId;

        var gate = new SemaphoreSlim(1, 1);
        async Task Send(PartitionDelivery delivery)
        {
            await gate.WaitAsync(cancel);
            try { await responseStream.WriteAsync(delivery, cancel); }
            finally { gate.Release(); }
        }

        var attachment = system.Attach(partition);
        var inflight = new List<Task>();
        Task pump = Task.CompletedTask;
        // Reading stops when the client leaves or the system detaches it (delete, reset): the stream then ends with a status.
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(cancel, attachment.Ended);
        try
        {
            await Send(new PartitionDelivery
            {
                Attached = new Attached
                {
                    SystemId = system.Id,
                    PartitionId = partition,
                    RemoteTimeoutMs = system.Config.RemoteTimeoutMs,
                    ExecutionContexts = system.Config.Partitions.Single(p => p.Id == partition).ExecutionContexts,
                },
            });
            pump = PumpEvents(attachment, Send, cancel);
            while (await requestStream.MoveNext(reading.Token))
            {
                var message = requestStream.Current;
                if (message.KindCase != PartitionMessage.KindOneofCase.Frame)
                {
                    await Send(Rejected(0, new InvalidRequestException("only 'frame' messages may follow 'attach'")));
                    continue;
                }
                inflight.Add(Answer(attachment, partition, message.Frame, Send, cancel));
            }
        }
        catch (OperationCanceledException) when (attachment.EndReason is not null && !cancel.IsCancellationRequested)
        {
            // The system detached this client; its answers and events still go out before the status below.
        }
        finally
        {
            // Detaching answers the partition's parked calls (ABORTED) and whoever waited on it.
            attachment.Dispose();
        }
        await Task.WhenAll(inflight);
        await pump;
        if (attachment.EndReason is { } reason)
            throw new RpcException(new Status(attachment.SystemDeleted ? StatusCode.NotFound : StatusCode.Aborted, reason));
    }

    private static async Task PumpEvents(PartitionAttachment attachment, Func<PartitionDelivery, Task> send, CancellationToken cancel)
    {
        try
        {
            await foreach (var e in attachment.Events.ReadAllAsync(cancel))
                await send(new PartitionDelivery { Event = ProtoMapping.ToProto(e) });
        }
        catch (OperationCanceledException) { }
    }

    private static async Task Answer(PartitionAttachment attachment, ushort partition, SmcRequest frame, Func<PartitionDelivery, Task> send,
        CancellationToken cancel)
    {
        SmcResponse response;
        try
        {
            if (frame.Caller != 0 && frame.Caller != partition)
                throw new InvalidRequestException($"caller: 0x{frame.Caller:X4} is not the attached partition 0x{partition:X4} (leave it 0)");
            var call = ProtoMapping.ToDomain(frame);
            var outcome = await attachment.CallAsync(call.Vcpu, call.Frame, call.Writes, call.Reads, cancel);
            response = ProtoMapping.ToProto(outcome, frame.Tag);
        }
        catch (SpmcRequestException e)
        {
            response = Rejected(frame.Tag, e).Answer;
        }
        catch (OperationCanceledException)
        {
            return;
        }
        try { await send(new PartitionDelivery { Answer = response }); }
        catch (Exception e) when (e is OperationCanceledException or InvalidOperationException) { }
    }

    private static PartitionDelivery Rejected(ulong tag, SpmcRequestException e) => new()
    {
        Answer = new SmcResponse { Tag = tag, Rejection = new Rejection { Code = ErrorInterceptor.CodeOf(e).ToString(), Message = e.Message } },
    };
}
