using Grpc.Core;
using Grpc.Core.Interceptors;
using Spmc.Core.Observability;

namespace Spmc.Server.Hosting;

/// <summary>Counts the open server-streaming and duplex gRPC calls (Session, Watch, Attach, ...) for <c>spmc.streams</c>.</summary>
public sealed class StreamCountingInterceptor(SpmcMetrics metrics) : Interceptor
{
    /// <summary>The streams of the API, shown at 0 from the start (others appear when first opened).</summary>
    public static readonly string[] KnownStreams = ["SmcGateway/Session", "Systems/Watch", "Systems/Trace", "PartitionHost/Attach"];

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream,
        IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        using var open = metrics.OpenStream(Method(context));
        await continuation(requestStream, responseStream, context);
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        using var open = metrics.OpenStream(Method(context));
        await continuation(request, responseStream, context);
    }

    /// <summary>"/spmc.v1.SmcGateway/Session" → "SmcGateway/Session".</summary>
    private static string Method(ServerCallContext context)
    {
        var method = context.Method.TrimStart('/');
        var slash = method.IndexOf('/');
        var dot = slash > 0 ? method.LastIndexOf('.', slash) : -1;
        return dot >= 0 ? method[(dot + 1)..] : method;
    }
}
