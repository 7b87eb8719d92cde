using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Spmc.Server.Security;

/// <summary>
/// The "SpmcToken" scheme: <c>Authorization: Bearer TOKEN</c> (an HTTP header, or gRPC metadata) becomes the operator,
/// a named client, or the system the token was issued for. In mode none every caller is "open". A challenge answers
/// 401 with <c>WWW-Authenticate: Bearer</c> and a problem document saying what is missing.
/// </summary>
public sealed class TokenAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    AuthSettings settings, SystemTokens tokens, IProblemDetailsService problems)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string Realm = "spmc";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (settings.Mode == AuthMode.None)
            return Task.FromResult(Success(SpmcClaims.Principal(new Claim(SpmcClaims.Role, SpmcClaims.Open))));
        string? header = Request.Headers.Authorization;
        if (string.IsNullOrEmpty(header)) return Task.FromResult(AuthenticateResult.NoResult());
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return Task.FromResult(AuthenticateResult.Fail("Authorization: only a Bearer token is accepted (Authorization: Bearer TOKEN)"));
        var token = header["Bearer ".Length..].Trim();
        if (token.Length == 0) return Task.FromResult(AuthenticateResult.Fail("Authorization: the Bearer token is empty"));
        var hash = AuthSettings.Hash(token);
        if (settings.IsOperator(hash))
            return Task.FromResult(Success(SpmcClaims.Principal(new Claim(SpmcClaims.Role, SpmcClaims.Operator))));
        if (settings.ClientOf(hash) is { } client)
            return Task.FromResult(Success(SpmcClaims.Principal(new Claim(SpmcClaims.Role, SpmcClaims.ClientRole), new Claim(SpmcClaims.Client, client))));
        if (tokens.Find(hash) is { } record)
        {
            var claims = new List<Claim> { new(SpmcClaims.Role, SpmcClaims.SystemRole), new(SpmcClaims.System, record.SystemId), new(SpmcClaims.TokenHash, record.Sha256Hex) };
            if (record.Debug && settings.AllowDebugTokens) claims.Add(new Claim(SpmcClaims.Debug, "true"));
            return Task.FromResult(Success(SpmcClaims.Principal([.. claims])));
        }
        return Task.FromResult(AuthenticateResult.Fail("Authorization: the Bearer token is not known here (a wrong token, or its system was deleted)"));
    }

    private AuthenticateResult Success(ClaimsPrincipal principal) => AuthenticateResult.Success(new AuthenticationTicket(principal, SpmcClaims.Scheme));

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        var detail = result.Failure?.Message ?? MissingToken;
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = Challenge(result.Failure is not null);
        await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = { Status = 401, Title = "Unauthorized", Detail = detail },
        });
    }

    /// <summary>The WWW-Authenticate value (RFC 6750 §3).</summary>
    public static string Challenge(bool invalidToken) => invalidToken ? $"Bearer realm=\"{Realm}\", error=\"invalid_token\"" : $"Bearer realm=\"{Realm}\"";

    public const string MissingToken = "Authorization: a Bearer token is required (the system's token from its creation, or the operator token)";
}
