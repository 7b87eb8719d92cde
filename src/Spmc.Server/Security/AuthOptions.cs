using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace Spmc.Server.Security;

/// <summary>Access control (section "Spmc:Auth", environment Spmc__Auth__Mode, ...; docs/security.md).</summary>
public sealed class AuthOptions
{
    public const string Section = "Spmc:Auth";

    /// <summary>"none", "tokens", or empty: none when every Kestrel endpoint binds loopback, tokens otherwise.</summary>
    public string Mode { get; set; } = "";

    /// <summary>The operator's bearer token (at least 16 characters): lists and manages every system. Empty: no operator.</summary>
    public string OperatorToken { get; set; } = "";

    /// <summary>Whether a system may be created with <c>debug: true</c> (its token may then act as the SPMC on memory).</summary>
    public bool AllowDebugTokens { get; set; } = true;

    /// <summary>Named client tokens (Spmc:Auth:ClientTokens:NAME=TOKEN): the systems-per-client quota counts per name, not per address.</summary>
    public Dictionary<string, string> ClientTokens { get; set; } = new(StringComparer.Ordinal);
}

public enum AuthMode
{
    /// <summary>Open: every caller may do everything (a laptop on loopback).</summary>
    None,

    /// <summary>Bearer tokens: a system's calls need its token or the operator's.</summary>
    Tokens,
}

/// <summary>The access settings resolved once from configuration: the mode (and why), the operator's and clients' token hashes.</summary>
public sealed class AuthSettings
{
    public const int MinOperatorTokenLength = 16;

    private readonly byte[]? _operator;
    private readonly (string Name, byte[] Hash)[] _clients;

    public AuthSettings(AuthOptions options, IEnumerable<string> urls)
    {
        var bound = urls.Where(u => !string.IsNullOrWhiteSpace(u)).Select(u => u.Trim()).ToList();
        NonLoopback = bound.Where(u => !IsLoopbackUrl(u)).ToList();
        var mode = options.Mode?.Trim().ToLowerInvariant() ?? "";
        (Mode, Automatic) = mode switch
        {
            "" or "auto" => (NonLoopback.Count > 0 ? AuthMode.Tokens : AuthMode.None, true),
            "none" => (AuthMode.None, false),
            "tokens" => (AuthMode.Tokens, false),
            _ => throw new InvalidOperationException($"{AuthOptions.Section}:Mode: '{options.Mode}' is neither none nor tokens (or empty: chosen by the bind address)"),
        };
        if (!string.IsNullOrEmpty(options.OperatorToken))
        {
            if (options.OperatorToken.Length < MinOperatorTokenLength)
                throw new InvalidOperationException($"{AuthOptions.Section}:OperatorToken: at least {MinOperatorTokenLength} characters (e.g. openssl rand -base64 32)");
            // deploy/secret.yaml ships a placeholder: applied as is, every pod of the cluster would know the operator token.
            if (options.OperatorToken.StartsWith("replace-me", StringComparison.OrdinalIgnoreCase))
                throw new InvalidOperationException($"{AuthOptions.Section}:OperatorToken: still the placeholder of deploy/secret.yaml; set a random one (e.g. openssl rand -base64 32)");
            _operator = Hash(options.OperatorToken);
        }
        _clients = options.ClientTokens.Select(kv => kv.Value.Length >= MinOperatorTokenLength
                ? (kv.Key, Hash(kv.Value))
                : throw new InvalidOperationException($"{AuthOptions.Section}:ClientTokens:{kv.Key}: at least {MinOperatorTokenLength} characters"))
            .ToArray();
        AllowDebugTokens = options.AllowDebugTokens;
    }

    /// <summary>The settings of a host: Spmc:Auth and the URLs of Kestrel's endpoints (Kestrel:Endpoints:*:Url, urls).</summary>
    public static AuthSettings From(IConfiguration configuration)
    {
        var options = new AuthOptions();
        configuration.GetSection(AuthOptions.Section).Bind(options);
        return new AuthSettings(options, BoundUrls(configuration));
    }

    public AuthMode Mode { get; }

    /// <summary>True when the mode was chosen from the bind addresses (Spmc:Auth:Mode unset).</summary>
    public bool Automatic { get; }

    /// <summary>The configured URLs that do not bind loopback.</summary>
    public IReadOnlyList<string> NonLoopback { get; }

    public bool AllowDebugTokens { get; }

    public bool HasOperator => _operator is not null;

    /// <summary>One line for the start-up log: the mode and why.</summary>
    public string Describe() => (Mode, Automatic) switch
    {
        (AuthMode.None, true) => "access control: none (Spmc:Auth:Mode unset and every endpoint binds loopback)",
        (AuthMode.Tokens, true) => $"access control: tokens (Spmc:Auth:Mode unset and {string.Join(", ", NonLoopback)} is not loopback)",
        (AuthMode.None, false) => "access control: none (Spmc:Auth:Mode=none)",
        _ => "access control: tokens (Spmc:Auth:Mode=tokens)",
    };

    public bool IsOperator(byte[] tokenHash) => _operator is { } h && CryptographicOperations.FixedTimeEquals(h, tokenHash);

    /// <summary>The name of the client token whose hash is <paramref name="tokenHash"/>, or null.</summary>
    public string? ClientOf(byte[] tokenHash)
    {
        string? found = null;
        foreach (var (name, hash) in _clients)
            if (CryptographicOperations.FixedTimeEquals(hash, tokenHash)) found = name;
        return found;
    }

    public static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    /// <summary>
    /// Every URL Kestrel may bind: its named endpoints, and the hosting addresses — "urls" (ASPNETCORE_URLS) or, without
    /// them, "http_ports"/"https_ports" (ASPNETCORE_HTTP_PORTS, as the aspnet base image sets: every interface) — when
    /// there are no named endpoints or "preferHostingUrls" lets them win. Nothing at all is Kestrel's default, localhost.
    /// When in doubt a URL counts as bound, so the automatic mode errs towards tokens.
    /// </summary>
    public static IEnumerable<string> BoundUrls(IConfiguration configuration)
    {
        var endpoints = configuration.GetSection("Kestrel:Endpoints").GetChildren().Select(e => e["Url"]).OfType<string>().ToList();
        var hosting = (configuration["urls"] ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        if (hosting.Count == 0)
            foreach (var (key, scheme) in new[] { ("http_ports", "http"), ("https_ports", "https") })
                hosting.AddRange((configuration[key] ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    .Select(port => $"{scheme}://*:{port}"));
        var preferHosting = string.Equals(configuration["preferHostingUrls"], "true", StringComparison.OrdinalIgnoreCase);
        return endpoints.Count == 0 || preferHosting ? [.. endpoints, .. hosting] : endpoints;
    }

    /// <summary>Whether a Kestrel URL binds loopback only: localhost, 127.0.0.0/8 or [::1]; "*", "+", 0.0.0.0 and names are not.</summary>
    public static bool IsLoopbackUrl(string url)
    {
        var rest = url.Contains("://", StringComparison.Ordinal) ? url[(url.IndexOf("://", StringComparison.Ordinal) + 3)..] : url;
        string host;
        if (rest.StartsWith('['))
        {
            var close = rest.IndexOf(']');
            if (close < 0) return false;
            host = rest[1..close];
        }
        else
        {
            var end = rest.IndexOfAny([':', '/']);
            host = end < 0 ? rest : rest[..end];
        }
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase)) return true;
        return IPAddress.TryParse(host, out var address) && IPAddress.IsLoopback(address);
    }
}
