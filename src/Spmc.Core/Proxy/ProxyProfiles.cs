namespace Spmc.Core.Proxy;

/// <summary>
/// The proxy profiles a manifest may name. Each profile is one entry here; the faithful pKVM releases
/// join this list as data when the proxy model lands.
/// </summary>
public static class ProxyProfiles
{
    /// <summary>A trusted remote hypervisor model: frames reach the SPMC unchanged, the caller's ID as the sender.</summary>
    public const string Passthrough = "passthrough";

    public const string Default = Passthrough;

    public static IReadOnlyList<string> Known { get; } = [Passthrough];

    public static bool IsKnown(string name) => Known.Contains(name);

    public static IHypervisorProxy Create(string name, ProxyContext context) => name switch
    {
        Passthrough => new PassthroughProxy(),
        _ => throw new InvalidRequestException($"proxy: unknown profile '{name}'"),
    };
}
