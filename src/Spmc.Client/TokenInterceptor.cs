using Google.Protobuf;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Spmc.Client;

/// <summary>
/// Adds <c>authorization: Bearer TOKEN</c> to each call that has none: the token the client holds for the system the
/// request names (its system_id or id field), else the client's <see cref="SpmcClient.Token"/>. Streams whose first
/// message names the system (Session, Attach, RestoreStream) get <see cref="SpmcClient.Token"/> unless the caller passes
/// <see cref="SpmcClient.HeadersFor"/>.
/// </summary>
internal sealed class TokenInterceptor(SpmcClient client) : Interceptor
{
    public override TResponse BlockingUnaryCall<TRequest, TResponse>(TRequest request, ClientInterceptorContext<TRequest, TResponse> context,
        BlockingUnaryCallContinuation<TRequest, TResponse> continuation) => continuation(request, With(context, SystemOf(request)));

    public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(TRequest request, ClientInterceptorContext<TRequest, TResponse> context,
        AsyncUnaryCallContinuation<TRequest, TResponse> continuation) => continuation(request, With(context, SystemOf(request)));

    public override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(TRequest request,
        ClientInterceptorContext<TRequest, TResponse> context, AsyncServerStreamingCallContinuation<TRequest, TResponse> continuation) =>
        continuation(request, With(context, SystemOf(request)));

    public override AsyncClientStreamingCall<TRequest, TResponse> AsyncClientStreamingCall<TRequest, TResponse>(
        ClientInterceptorContext<TRequest, TResponse> context, AsyncClientStreamingCallContinuation<TRequest, TResponse> continuation) =>
        continuation(With(context, null));

    public override AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(
        ClientInterceptorContext<TRequest, TResponse> context, AsyncDuplexStreamingCallContinuation<TRequest, TResponse> continuation) =>
        continuation(With(context, null));

    private static string? SystemOf<TRequest>(TRequest request) =>
        request is IMessage message && (message.Descriptor.FindFieldByName("system_id") ?? message.Descriptor.FindFieldByName("id")) is { } field &&
        field.FieldType == Google.Protobuf.Reflection.FieldType.String
            ? field.Accessor.GetValue(message) as string
            : null;

    private ClientInterceptorContext<TRequest, TResponse> With<TRequest, TResponse>(ClientInterceptorContext<TRequest, TResponse> context, string? system)
        where TRequest : class where TResponse : class
    {
        if (context.Options.Headers?.Get("authorization") is not null) return context;
        var token = (string.IsNullOrEmpty(system) ? null : client.TokenFor(system)) ?? client.Token;
        if (string.IsNullOrEmpty(token)) return context;
        var headers = new Metadata();
        foreach (var entry in context.Options.Headers ?? []) headers.Add(entry);
        headers.Add("authorization", "Bearer " + token);
        return new ClientInterceptorContext<TRequest, TResponse>(context.Method, context.Host, context.Options.WithHeaders(headers));
    }
}
