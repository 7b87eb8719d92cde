using System.Text;
using global::Grpc.Core;
using Google.Protobuf;
using Microsoft.AspNetCore.RateLimiting;
using Spmc.Core;
using Spmc.Core.Systems;
using Spmc.Server.Hosting;
using Spmc.Server.Security;
using Spmc.V1;

namespace Spmc.Server.Grpc;

/// <summary>spmc.v1.SmcGateway: frames in, answers out.</summary>
public sealed class SmcGatewayService(SystemRegistry registry, SystemAccess access, Microsoft.Extensions.Options.IOptions<RateLimiterOptions> rateLimit)
    : SmcGateway.SmcGatewayBase
{
    public override async Task<SmcResponse> Call(SmcRequest request, ServerCallContext context) =>
        await Handle(await OpenAsync(request, context), request, context.CancellationToken);

    /// <summary>The frame's system, if the caller's token opens it (docs/security.md).</summary>
    private Task<SimulatedSystem> OpenAsync(SmcRequest request, ServerCallContext context) =>
        access.OpenAsync(registry, context, ProtoMapping.RequireSystemId(request.SystemId));

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
        // No token at all ends the session at once; a frame for a system the token does not open is rejected alone.
        access.RequireCaller(context);
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
                    var system = await OpenAsync(request, context);
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
public sealed partial class SystemsService(SystemRegistry registry, Traces traces, SystemAccess access, SystemCreation creation, SystemTokens tokens,
    Microsoft.Extensions.Options.IOptions<SpmcOptions> options) : Systems.SystemsBase
{
    private QuotasOptions Quotas => options.Value.Quotas;

    [EnableRateLimiting(RateLimiting.Uploads)]
    public override Task<SystemInfo> Create(CreateSystemRequest request, ServerCallContext context)
    {
        var given = new[] { request.ManifestJson.Length > 0, request.SnapshotJson.Length > 0, request.Snapshot is not null }.Count(x => x);
        if (given > 1)
            throw new InvalidRequestException("snapshot_json: give one of manifest_json, snapshot_json and snapshot, not several (a snapshot holds its manifest)");
        Func<SimulatedSystem> create = request.Snapshot is { } doc ? Snapshot(SnapshotProto.ToDomain(doc))
            : request.SnapshotJson.Length > 0 ? Snapshot(Core.Snapshots.SystemSnapshot.FromJson(Encoding.UTF8.GetBytes(request.SnapshotJson)))
            : () => traces.Create(request.Id, request.ManifestJson, request.Record);
        return Task.FromResult(Created(creation.Create(context.GetHttpContext(), request.Debug, create)));

        Func<SimulatedSystem> Snapshot(Core.Snapshots.SystemSnapshot snapshot) => () => traces.Create(request.Id, snapshot, request.Record);
    }

    /// <summary>The new system's info with its token (in mode tokens).</summary>
    private SystemInfo Created(CreatedSystem created)
    {
        var info = Info(created.System);
        info.Token = created.Token;
        return info;
    }

    /// <summary>
    /// Snapshots and restores carry every page of the system, the SPMC's view: they need the debug capability
    /// (docs/security.md), as memory access as the SPMC does.
    /// The JSON form in <c>snapshot_json</c> (the default, as before the protobuf form) or the protobuf form in <c>snapshot</c>.</summary>
    public override async Task<SnapshotResponse> Snapshot(SnapshotRequest request, ServerCallContext context)
    {
        var system = await access.OpenAsync(registry, context, request.Id, SystemCapability.Debug);
        return request.Format switch
        {
            SnapshotFormat.Json => new SnapshotResponse { SnapshotJson = Encoding.UTF8.GetString(system.Snapshot().ToJson()) },
            SnapshotFormat.Protobuf => new SnapshotResponse { Snapshot = SnapshotProto.ToProto(system.Snapshot()) },
            _ => throw new InvalidRequestException($"format: {(int)request.Format} is neither JSON (0) nor PROTOBUF (1)"),
        };
    }

    [EnableRateLimiting(RateLimiting.Uploads)]
    public override async Task<RestoreResponse> Restore(RestoreRequest request, ServerCallContext context)
    {
        var system = await access.OpenAsync(registry, context, request.Id, SystemCapability.Debug);
        if (request.SnapshotJson.Length > 0 && request.Snapshot is not null)
            throw new InvalidRequestException("snapshot: give either snapshot_json or snapshot, not both");
        var snapshot = request.Snapshot is { } doc ? SnapshotProto.ToDomain(doc)
            : request.SnapshotJson.Length > 0 ? Core.Snapshots.SystemSnapshot.FromJson(Encoding.UTF8.GetBytes(request.SnapshotJson))
            : throw new InvalidRequestException("snapshot_json: required (a snapshot document, or its protobuf form in snapshot)");
        system.RestoreInPlace(snapshot);
        return new RestoreResponse();
    }

    /// <summary>The snapshot taken under the system's lock, then sent in chunks (the pages are shared, not copied).</summary>
    public override async Task SnapshotStream(SnapshotRequest request, IServerStreamWriter<SnapshotChunk> responseStream, ServerCallContext context)
    {
        var system = await access.OpenAsync(registry, context, request.Id, SystemCapability.Debug);
        using var slot = system.OpenStream("SnapshotStream"); // Spmc:Quotas:MaxStreamsPerSystem
        var snapshot = system.Snapshot();
        foreach (var chunk in SnapshotProto.ToChunks(snapshot)) await responseStream.WriteAsync(chunk, context.CancellationToken);
    }

    [EnableRateLimiting(RateLimiting.Uploads)]
    public override async Task<RestoreResponse> RestoreStream(IAsyncStreamReader<RestoreStreamRequest> requestStream, ServerCallContext context)
    {
        access.RequireCaller(context);
        SimulatedSystem? system = null;
        // The first message names the system: refused there, before any page is read. The system found then is the
        // one restored (if it is deleted meanwhile, the restore is refused, never applied to a new system of that ID).
        var snapshot = await SnapshotProto.ReadStream(requestStream, r => r.Chunk, async r => system = await access.OpenAsync(registry, context, r.Id, SystemCapability.Debug),
            Quotas.MaxSnapshotStreamBytes, Quotas.SnapshotStreamIdleTimeout, context.CancellationToken);
        system!.RestoreInPlace(snapshot);
        return new RestoreResponse();
    }

    [EnableRateLimiting(RateLimiting.Uploads)]
    public override async Task<SystemInfo> CreateStream(IAsyncStreamReader<CreateStreamRequest> requestStream, ServerCallContext context)
    {
        var (id, record, debug) = ("", false, false);
        var snapshot = await SnapshotProto.ReadStream(requestStream, r => r.Chunk,
            r => { (id, record, debug) = (r.Id, r.Record, r.Debug); return Task.CompletedTask; },
            Quotas.MaxSnapshotStreamBytes, Quotas.SnapshotStreamIdleTimeout, context.CancellationToken);
        return Created(creation.Create(context.GetHttpContext(), debug, () => traces.Create(id.Length > 0 ? id : null, snapshot, record)));
    }

    public override async Task<SystemInfo> Get(GetSystemRequest request, ServerCallContext context) =>
        Info(await access.OpenAsync(registry, context, request.Id));

    public override Task<ListSystemsResponse> List(ListSystemsRequest request, ServerCallContext context)
    {
        access.RequireCaller(context);
        var user = context.GetHttpContext().User;
        var response = new ListSystemsResponse();
        response.Systems.Add(registry.List().Where(s => SystemAccess.Sees(user, s.Id, tokens)).Select(Info));
        return Task.FromResult(response);
    }

    private SystemInfo Info(SimulatedSystem system)
    {
        var info = ProtoMapping.ToProto(system);
        info.Recording = traces.RecordingOf(system) ?? "";
        return info;
    }

    public override async Task<DeleteSystemResponse> Delete(DeleteSystemRequest request, ServerCallContext context)
    {
        await access.RequireAsync(context, request.Id);
        registry.Delete(request.Id);
        return new DeleteSystemResponse();
    }

    public override async Task<ResetSystemResponse> Reset(ResetSystemRequest request, ServerCallContext context)
    {
        (await access.OpenAsync(registry, context, request.Id)).Reset();
        return new ResetSystemResponse();
    }

    /// <summary>Subscribes, sends the response headers (so a client knows it is live), then streams events.</summary>
    public override async Task Watch(WatchRequest request, IServerStreamWriter<V1.SystemEvent> responseStream, ServerCallContext context)
    {
        var system = await access.OpenAsync(registry, context, ProtoMapping.RequireSystemId(request.SystemId));
        if (request.HasEndpoint && request.Endpoint > 0xFFFF) throw new InvalidRequestException($"endpoint: {request.Endpoint} is not a 16-bit endpoint ID");
        using var watch = system.Watch(request.HasEndpoint ? (ushort)request.Endpoint : null);
        using var slot = system.OpenStream("Watch"); // Spmc:Quotas:MaxStreamsPerSystem
        await context.WriteResponseHeadersAsync(new Metadata());
        await foreach (var e in watch.Reader.ReadAllAsync(context.CancellationToken))
            await responseStream.WriteAsync(ProtoMapping.ToProto(e), context.CancellationToken);
    }
}

/// <summary>spmc.v1.Memory: simulated physical memory, accessed as a named endpoint.</summary>
public sealed class MemoryService(SystemRegistry registry, SystemAccess access) : V1.Memory.MemoryBase
{
    public override async Task<ReadMemoryResponse> Read(ReadMemoryRequest request, ServerCallContext context)
    {
        var system = await access.OpenAsync(registry, context, ProtoMapping.RequireSystemId(request.SystemId));
        if (request.Length > SystemLimits.MaxTransfer)
            throw new InvalidRequestException($"length: {request.Length} is above {SystemLimits.MaxTransfer} (1 MiB)");
        var actor = await Actor(system, request.AsEndpoint, context);
        var data = system.ReadMemory(actor, request.Address, (int)request.Length);
        return new ReadMemoryResponse { Address = request.Address, Data = ByteString.CopyFrom(data) };
    }

    public override async Task<WriteMemoryResponse> Write(WriteMemoryRequest request, ServerCallContext context)
    {
        var system = await access.OpenAsync(registry, context, ProtoMapping.RequireSystemId(request.SystemId));
        var actor = await Actor(system, request.AsEndpoint, context);
        system.WriteMemory(actor, request.Address, request.Data.Span);
        return new WriteMemoryResponse();
    }

    /// <summary>The endpoint to act as; the system's SPMC only with the debug capability (docs/security.md).</summary>
    private async Task<ushort> Actor(SimulatedSystem system, uint id, ServerCallContext context)
    {
        var actor = Endpoint(id);
        if (actor == system.Config.SpmcId) await access.RequireAsync(context, system.Id, SystemCapability.Debug);
        return actor;
    }

    private static ushort Endpoint(uint id) =>
        id > 0xFFFF ? throw new InvalidRequestException($"as_endpoint: 0x{id:X} is not a 16-bit endpoint ID") : (ushort)id;
}

/// <summary>spmc.v1.Inspector: a read-only view of a system.</summary>
public sealed class InspectorService(SystemRegistry registry, SystemAccess access) : Inspector.InspectorBase
{
    public override async Task<V1.SystemState> GetState(GetStateRequest request, ServerCallContext context) =>
        ProtoMapping.ToProto((await access.OpenAsync(registry, context, ProtoMapping.RequireSystemId(request.SystemId))).GetState());

    public override async Task<MemoryShare> GetShare(GetShareRequest request, ServerCallContext context)
    {
        var system = await access.OpenAsync(registry, context, ProtoMapping.RequireSystemId(request.SystemId));
        var (offset, limit) = ProtoMapping.Page(request.Offset, request.Limit);
        return ProtoMapping.ToProto(system.GetShare(request.Handle, offset, limit));
    }

    public override async Task<V1.MemoryMapPage> GetMemoryMap(GetMemoryMapRequest request, ServerCallContext context)
    {
        var system = await access.OpenAsync(registry, context, ProtoMapping.RequireSystemId(request.SystemId));
        var (offset, limit) = ProtoMapping.Page(request.Offset, request.Limit);
        return ProtoMapping.ToProto(system.GetMemoryMap(offset, limit));
    }
}

/// <summary>spmc.v1.PartitionHost: clients that play remote partitions.</summary>
public sealed class PartitionHostService(SystemRegistry registry, SystemAccess access) : PartitionHost.PartitionHostBase
{
    public override async Task Attach(IAsyncStreamReader<PartitionMessage> requestStream, IServerStreamWriter<PartitionDelivery> responseStream,
        ServerCallContext context)
    {
        var cancel = context.CancellationToken;
        access.RequireCaller(context);
        if (!await requestStream.MoveNext(cancel)) return;
        if (requestStream.Current.KindCase != PartitionMessage.KindOneofCase.Attach)
            throw new InvalidRequestException("the first message on PartitionHost.Attach must be 'attach' (system_id, partition_id)");
        var request = requestStream.Current.Attach;
        var system = await access.OpenAsync(registry, context, ProtoMapping.RequireSystemId(request.SystemId));
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
