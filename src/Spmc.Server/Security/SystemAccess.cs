using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using Spmc.Core;

namespace Spmc.Server.Security;

/// <summary>What a caller wants of a system: to use it (calls, memory, state, ...), or to act as its SPMC on memory.</summary>
public enum SystemCapability
{
    Access,
    Debug,
}

/// <summary>The requirement behind the policies <see cref="SystemAccess.Policy"/> and <see cref="SystemAccess.DebugPolicy"/>.</summary>
public sealed class SystemRequirement(SystemCapability capability) : IAuthorizationRequirement
{
    public SystemCapability Capability { get; } = capability;
}

/// <summary>
/// Decides a <see cref="SystemRequirement"/> for a system ID: the resource (a string), or the route value "id" when
/// the authorization middleware passes the request. Open (mode none) and the operator may do everything; a system
/// token opens its own system, and acts as its SPMC only with the debug capability.
/// </summary>
public sealed class SystemRequirementHandler(SystemTokens tokens) : AuthorizationHandler<SystemRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, SystemRequirement requirement)
    {
        var id = context.Resource switch
        {
            string s => s,
            HttpContext http => http.GetRouteValue("id") as string,
            _ => null,
        };
        var user = context.User;
        if (SpmcClaims.IsOpen(user) || SpmcClaims.IsOperator(user)) context.Succeed(requirement);
        else if (id is null) context.Fail(new AuthorizationFailureReason(this, "no system named in the request"));
        else if (requirement.Capability == SystemCapability.Access && SpmcClaims.Opens(user, id, tokens)) context.Succeed(requirement);
        else if (requirement.Capability == SystemCapability.Debug && SpmcClaims.MayDebug(user, id, tokens)) context.Succeed(requirement);
        else context.Fail(new AuthorizationFailureReason(this, SystemAccess.Refusal(user, id, requirement.Capability, tokens)));
        return Task.CompletedTask;
    }
}

/// <summary>The caller has no (valid) token where one is needed: HTTP 401, gRPC UNAUTHENTICATED.</summary>
public sealed class UnauthenticatedException(string message) : SpmcRequestException(message);

/// <summary>Checks made in code where the system ID is in the request body (gRPC, SMC sessions) or a capability depends on the request (memory as the SPMC).</summary>
public sealed class SystemAccess(IAuthorizationService authorization, AuthSettings settings, SystemTokens tokens)
{
    public const string Policy = "spmc-system";
    public const string DebugPolicy = "spmc-debug";

    /// <summary>Throws <see cref="UnauthenticatedException"/> or <see cref="AccessDeniedException"/> unless <paramref name="user"/> may <paramref name="capability"/> system <paramref name="systemId"/>.</summary>
    public async Task RequireAsync(ClaimsPrincipal user, string systemId, SystemCapability capability = SystemCapability.Access)
    {
        RequireCaller(user);
        var result = await authorization.AuthorizeAsync(user, systemId, capability == SystemCapability.Debug ? DebugPolicy : Policy);
        if (!result.Succeeded)
            throw new AccessDeniedException(string.Join("; ", result.Failure?.FailureReasons.Select(r => r.Message) ?? [Refusal(user, systemId, capability, tokens)]));
    }

    /// <summary>In mode tokens, a caller without a valid token is refused (401) before anything else.</summary>
    public void RequireCaller(ClaimsPrincipal user)
    {
        if (settings.Mode == AuthMode.Tokens && user.Identity?.IsAuthenticated != true) throw new UnauthenticatedException(TokenAuthenticationHandler.MissingToken);
    }

    /// <summary>Whether <paramref name="user"/> sees system <paramref name="systemId"/> in a listing (its own, or one its client token created).</summary>
    public static bool Sees(ClaimsPrincipal user, string systemId, SystemTokens tokens) =>
        SpmcClaims.IsOpen(user) || SpmcClaims.IsOperator(user) || SpmcClaims.Opens(user, systemId, tokens) ||
        (SpmcClaims.RoleOf(user) == SpmcClaims.ClientRole && tokens.Of(systemId)?.Client is { } client && client == ClientIdentity.OfPrincipal(user));

    /// <summary>The message of a refusal: what the caller has and what the system needs.</summary>
    public static string Refusal(ClaimsPrincipal user, string systemId, SystemCapability capability, SystemTokens tokens)
    {
        if (capability == SystemCapability.Debug && SpmcClaims.Opens(user, systemId, tokens))
            return $"acting as the SPMC on memory needs the debug capability (so do snapshots and restores, which carry every page): the operator token, or a token of system '{systemId}' created with debug: true";
        var has = SpmcClaims.RoleOf(user) switch
        {
            SpmcClaims.SystemRole => $"the token is for system '{user.FindFirst(SpmcClaims.System)?.Value}'",
            SpmcClaims.ClientRole => $"a client token ('{user.FindFirst(SpmcClaims.Client)?.Value}') creates systems but opens none",
            _ => "no token",
        };
        // The token does not open the system at all: that is the refusal, whatever capability was asked for.
        var needs = $"system '{systemId}' needs its own token or the operator token"
            + (capability == SystemCapability.Debug ? " (acting as its SPMC on memory, a snapshot or a restore: one created with debug: true)" : "");
        return $"{has}: {needs}";
    }
}
