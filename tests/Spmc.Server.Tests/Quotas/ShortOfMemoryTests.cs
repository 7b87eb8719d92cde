using System.Text.Json;
using Grpc.Core;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Spmc.Server.Grpc;
using Spmc.Server.Rest;

namespace Spmc.Server.Tests.Quotas;

/// <summary>
/// An allocation the runtime refuses (the GC heap's hard limit under a container's memory limit) fails the request
/// with 503 / RESOURCE_EXHAUSTED, never a 500 / UNKNOWN, and the service goes on.
/// </summary>
public class ShortOfMemoryTests
{
    [Fact]
    public async Task Rest_AnswersServiceUnavailable_WithProblemJson()
    {
        var services = new ServiceCollection().AddLogging().AddProblemDetails().BuildServiceProvider();
        var context = new DefaultHttpContext { RequestServices = services };
        context.Response.Body = new MemoryStream();
        var handler = new RestErrors(services.GetRequiredService<IProblemDetailsService>());

        Assert.True(await handler.TryHandleAsync(context, new OutOfMemoryException(), CancellationToken.None));

        Assert.Equal(StatusCodes.Status503ServiceUnavailable, context.Response.StatusCode);
        context.Response.Body.Position = 0;
        var problem = JsonDocument.Parse(context.Response.Body).RootElement;
        Assert.Equal(503, problem.GetProperty("status").GetInt32());
        Assert.StartsWith("the service is short of memory for this request", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Rest_LeavesOtherServerErrorsToTheDefaultHandler()
    {
        var services = new ServiceCollection().AddLogging().AddProblemDetails().BuildServiceProvider();
        var handler = new RestErrors(services.GetRequiredService<IProblemDetailsService>());
        Assert.False(await handler.TryHandleAsync(new DefaultHttpContext { RequestServices = services }, new InvalidOperationException(), CancellationToken.None));
    }

    [Fact]
    public async Task Grpc_AnswersResourceExhausted()
    {
        var interceptor = new ErrorInterceptor();
        var e = await Assert.ThrowsAsync<RpcException>(() => interceptor.UnaryServerHandler<string, string>("x", null!,
            (_, _) => throw new OutOfMemoryException()));
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        Assert.StartsWith("the service is short of memory for this request", e.Status.Detail);
    }
}
