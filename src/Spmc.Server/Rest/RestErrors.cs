using Microsoft.AspNetCore.Diagnostics;
using Spmc.Core;

namespace Spmc.Server.Rest;

/// <summary>Maps refused requests to problem+json with the status of their kind; the detail names the field or rule.</summary>
public sealed class RestErrors(IProblemDetailsService problems) : IExceptionHandler
{
    public static int StatusOf(SpmcRequestException e) => e switch
    {
        Security.UnauthenticatedException => StatusCodes.Status401Unauthorized,
        NotFoundException => StatusCodes.Status404NotFound,
        ConflictException => StatusCodes.Status409Conflict,
        AccessDeniedException => StatusCodes.Status403Forbidden,
        QuotaExceededException => StatusCodes.Status429TooManyRequests,
        _ => StatusCodes.Status400BadRequest,
    };

    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        var (status, detail) = exception switch
        {
            SpmcRequestException e => (StatusOf(e), e.Message),
            BadHttpRequestException e => (e.StatusCode, e.Message),
            _ => (0, null),
        };
        if (status == 0) return false;
        context.Response.StatusCode = status;
        if (exception is Security.UnauthenticatedException)
            context.Response.Headers.WWWAuthenticate = Security.TokenAuthenticationHandler.Challenge(context.Request.Headers.Authorization.Count > 0);
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = { Status = status, Title = ReasonPhrase(status), Detail = detail },
            Exception = exception,
        });
    }

    private static string ReasonPhrase(int status) => Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status);
}
