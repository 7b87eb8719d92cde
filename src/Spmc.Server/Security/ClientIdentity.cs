using System.Net;
using System.Security.Claims;

namespace Spmc.Server.Security;

/// <summary>
/// Who a caller is for per-client limits (systems per client; request rates): "operator" for the operator token,
/// "token:NAME" for a configured client token (mode tokens), else "ip:ADDRESS", the remote address (IPv4-mapped
/// addresses as IPv4; "ip:local" when there is none, as in-process tests).
/// </summary>
public static class ClientIdentity
{
    public const string Operator = "operator";

    public static string Of(HttpContext http) => OfPrincipal(http.User) ?? "ip:" + Address(http);

    /// <summary>The identity a token gives (operator or a client token), or null when the address decides.</summary>
    public static string? OfPrincipal(ClaimsPrincipal user) => SpmcClaims.RoleOf(user) switch
    {
        SpmcClaims.Operator => Operator,
        SpmcClaims.ClientRole => "token:" + user.FindFirst(SpmcClaims.Client)?.Value,
        _ => null,
    };

    /// <summary>Whether the caller comes from this machine (loopback, or in-process with no address).</summary>
    public static bool IsLocal(HttpContext http) => http.Connection.RemoteIpAddress is not { } a || IPAddress.IsLoopback(a);

    private static string Address(HttpContext http) => http.Connection.RemoteIpAddress is { } a
        ? (a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a).ToString()
        : "local";
}
