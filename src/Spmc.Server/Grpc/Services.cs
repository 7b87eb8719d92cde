using global::Grpc.Core;
using Google.Protobuf;
using Spmc.Core;
using Spmc.Core.Systems;
using Spmc.V1;

namespace Spmc.Server.Grpc;

/// <summary>spmc.v1.SmcGateway: frames in, answers out.</summary>
public sealed class SmcGatewayService(SystemRegistry registry) : SmcGateway.SmcGatewayBase
{
    public override Task<SmcResponse> Call(SmcRequest request, ServerCallContext context) =>
        Task.FromResult(Handle(request));

    private SmcResponse Handle(SmcRequest request)
    {
        var system = registry.Get(ProtoMapping.RequireSystemId(request.SystemId));
        return ProtoMapping.ToProto(system.Call(ProtoMapping.ToDomain(request)), request.Tag);
    }

    /// <summary>Answers each frame in order; a refused frame gets a rejection and the stream continues.</summary>
    public override async Task Session(IAsyncStreamReader<SmcRequest> requestStream, IServerStreamWriter<SmcResponse> responseStream,
        ServerCallContext context)
    {
        await foreach (var request in requestStream.ReadAllAsync(context.CancellationToken))
        {
            SmcResponse response;
            try
            {
                response = Handle(request);
            }
            catch (SpmcRequestException e)
            {
                response = new SmcResponse { Tag = request.Tag, Rejection = new Rejection { Code = ErrorInterceptor.CodeOf(e).ToString(), Message = e.Message } };
            }
            await responseStream.WriteAsync(response, context.CancellationToken);
        }
    }
}

/// <summary>spmc.v1.Systems: create, read, list and delete simulated systems.</summary>
public sealed class SystemsService(SystemRegistry registry) : Systems.SystemsBase
{
    public override Task<SystemInfo> Create(CreateSystemRequest request, ServerCallContext context) =>
        Task.FromResult(ProtoMapping.ToProto(registry.Create(request.Id, request.ManifestJson)));

    public override Task<SystemInfo> Get(GetSystemRequest request, ServerCallContext context) =>
        Task.FromResult(ProtoMapping.ToProto(registry.Get(request.Id)));

    public override Task<ListSystemsResponse> List(ListSystemsRequest request, ServerCallContext context)
    {
        var response = new ListSystemsResponse();
        response.Systems.Add(registry.List().Select(ProtoMapping.ToProto));
        return Task.FromResult(response);
    }

    public override Task<DeleteSystemResponse> Delete(DeleteSystemRequest request, ServerCallContext context)
    {
        registry.Delete(request.Id);
        return Task.FromResult(new DeleteSystemResponse());
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
}
