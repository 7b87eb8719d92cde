using global::Grpc.Core;
using global::Grpc.Core.Interceptors;
using Spmc.Core;

namespace Spmc.Server.Grpc;

/// <summary>Maps refused requests to gRPC status codes; the message names the field or rule.</summary>
public sealed class ErrorInterceptor : Interceptor
{
    public static StatusCode CodeOf(SpmcRequestException e) => e switch
    {
        Security.UnauthenticatedException => StatusCode.Unauthenticated,
        NotFoundException => StatusCode.NotFound,
        StateConflictException => StatusCode.FailedPrecondition,
        ConflictException => StatusCode.AlreadyExists,
        AccessDeniedException => StatusCode.PermissionDenied,
        QuotaExceededException => StatusCode.ResourceExhausted,
        _ => StatusCode.InvalidArgument,
    };

    public static RpcException ToRpc(SpmcRequestException e) => new(new Status(CodeOf(e), e.Message));

    /// <summary>
    /// An allocation the runtime refused (the GC heap's hard limit in a container, docs/configuration.md#quotas): the
    /// request is answered RESOURCE_EXHAUSTED (a write or call may have been applied in part); the service goes on.
    /// </summary>
    public static RpcException ShortOfMemory() => new(new Status(StatusCode.ResourceExhausted, Rest.RestErrors.ShortOfMemoryDetail));

    /// <summary>A change applied but not stored durably (docs/persistence.md#failures): UNAVAILABLE, retry later.</summary>
    public static RpcException PersistenceUnavailable() => new(new Status(StatusCode.Unavailable, Rest.RestErrors.PersistenceUnavailableDetail));

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try { return await continuation(request, context); }
        catch (SpmcRequestException e) { throw ToRpc(e); }
        catch (OutOfMemoryException) { throw ShortOfMemory(); }
        catch (Persistence.PersistenceUnavailableException) { throw PersistenceUnavailable(); }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try { await continuation(request, responseStream, context); }
        catch (SpmcRequestException e) { throw ToRpc(e); }
        catch (OutOfMemoryException) { throw ShortOfMemory(); }
        catch (Persistence.PersistenceUnavailableException) { throw PersistenceUnavailable(); }
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try { return await continuation(requestStream, context); }
        catch (SpmcRequestException e) { throw ToRpc(e); }
        catch (OutOfMemoryException) { throw ShortOfMemory(); }
        catch (Persistence.PersistenceUnavailableException) { throw PersistenceUnavailable(); }
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try { await continuation(requestStream, responseStream, context); }
        catch (SpmcRequestException e) { throw ToRpc(e); }
        catch (OutOfMemoryException) { throw ShortOfMemory(); }
        catch (Persistence.PersistenceUnavailableException) { throw PersistenceUnavailable(); }
    }
}
