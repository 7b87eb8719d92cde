using System.Security.Claims;

namespace Spmc.Server.Security;

/// <summary>The claims the token scheme gives a caller (docs/security.md).</summary>
public static class SpmcClaims
{
    public const string Scheme = "SpmcToken";

    /// <summary>"open" (mode none), "operator", "client" or "system".</summary>
    public const string Role = "spmc:role";

    /// <summary>A system the caller's token opens (one per system).</summary>
    public const string System = "spmc:system";

    /// <summary>Present ("true") when the caller may act as the SPMC on memory.</summary>
    public const string Debug = "spmc:debug";

    /// <summary>The name of a client token.</summary>
    public const string Client = "spmc:client";

    public const string Open = "open", Operator = "operator", ClientRole = "client", SystemRole = "system";

    public static ClaimsPrincipal Principal(params Claim[] claims) => new(new ClaimsIdentity(claims, Scheme, null, Role));

    public static string? RoleOf(ClaimsPrincipal user) => user.Identity?.IsAuthenticated == true ? user.FindFirst(Role)?.Value : null;

    public static bool IsOpen(ClaimsPrincipal user) => RoleOf(user) == Open;

    public static bool IsOperator(ClaimsPrincipal user) => RoleOf(user) == Operator;

    public static bool Opens(ClaimsPrincipal user, string systemId) => user.HasClaim(System, systemId);

    public static bool MayDebug(ClaimsPrincipal user, string systemId) => Opens(user, systemId) && user.HasClaim(Debug, "true");
}
