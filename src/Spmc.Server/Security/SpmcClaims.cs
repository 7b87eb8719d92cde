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

    /// <summary>
    /// The SHA-256 (hex) of a system token: the token opens its system only while that system's record still holds this
    /// hash, so a stream authenticated before the system was deleted cannot reach a new system of the same ID.
    /// </summary>
    public const string TokenHash = "spmc:token-sha256";

    /// <summary>Present ("true") when the caller may act as the SPMC on memory.</summary>
    public const string Debug = "spmc:debug";

    /// <summary>The name of a client token.</summary>
    public const string Client = "spmc:client";

    public const string Open = "open", Operator = "operator", ClientRole = "client", SystemRole = "system";

    public static ClaimsPrincipal Principal(params Claim[] claims) => new(new ClaimsIdentity(claims, Scheme, null, Role));

    public static string? RoleOf(ClaimsPrincipal user) => user.Identity?.IsAuthenticated == true ? user.FindFirst(Role)?.Value : null;

    public static bool IsOpen(ClaimsPrincipal user) => RoleOf(user) == Open;

    public static bool IsOperator(ClaimsPrincipal user) => RoleOf(user) == Operator;

    /// <summary>Whether the caller's system token was issued for <paramref name="systemId"/> as it exists now (<see cref="TokenHash"/>).</summary>
    public static bool Opens(ClaimsPrincipal user, string systemId, SystemTokens tokens) =>
        user.HasClaim(System, systemId) && tokens.Of(systemId) is { } record && user.HasClaim(TokenHash, record.Sha256Hex);

    public static bool MayDebug(ClaimsPrincipal user, string systemId, SystemTokens tokens) => Opens(user, systemId, tokens) && user.HasClaim(Debug, "true");
}
