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
            // The GC heap's hard limit (a container's memory limit) refused an allocation this request needed: the
            // request fails (a write may stand in part) and the service goes on (docs/configuration.md#quotas).
            OutOfMemoryException => (StatusCodes.Status503ServiceUnavailable, ShortOfMemoryDetail),
            // A change applied but not stored durably (docs/persistence.md#failures); the store logged why.
            Persistence.PersistenceUnavailableException => (StatusCodes.Status503ServiceUnavailable, PersistenceUnavailableDetail),
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

    public const string ShortOfMemoryDetail =
        "the service is short of memory for this request (its memory limit is reached) and it failed; a write or call may have been applied in part: retry later, or ask for less (a paged view, a streamed snapshot)";

    public const string PersistenceUnavailableDetail =
        "the change was applied but could not be stored durably (persistence is failing: see the service log) and is not acknowledged; retry later";

    private static string ReasonPhrase(int status) => Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status);
}
