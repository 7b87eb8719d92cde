using System.Text.Json;
using Grpc.Core;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Spmc.Persistence;
using Spmc.Server.Grpc;
using Spmc.Server.Rest;

namespace Spmc.Server.Tests.Quotas;

/// <summary>A change that could not be made durable is answered 503 / UNAVAILABLE, never a 500 / UNKNOWN.</summary>
public class PersistenceUnavailableTests
{
    [Fact]
    public async Task Rest_AnswersServiceUnavailable()
    {
        var services = new ServiceCollection().AddLogging().AddProblemDetails().BuildServiceProvider();
        var context = new DefaultHttpContext { RequestServices = services };
        context.Response.Body = new MemoryStream();
        var handler = new RestErrors(services.GetRequiredService<IProblemDetailsService>());

        Assert.True(await handler.TryHandleAsync(context, new PersistenceUnavailableException("disk full at /secret/path"), CancellationToken.None));

        Assert.Equal(StatusCodes.Status503ServiceUnavailable, context.Response.StatusCode);
        context.Response.Body.Position = 0;
        var detail = JsonDocument.Parse(context.Response.Body).RootElement.GetProperty("detail").GetString();
        Assert.Equal(RestErrors.PersistenceUnavailableDetail, detail);   // the store's path stays in the log
    }

    [Fact]
    public async Task Grpc_AnswersUnavailable()
    {
        var e = await Assert.ThrowsAsync<RpcException>(() => new ErrorInterceptor().UnaryServerHandler<string, string>("x", null!,
            (_, _) => throw new PersistenceUnavailableException("disk full")));
        Assert.Equal(StatusCode.Unavailable, e.StatusCode);
    }
}
