using Spmc.Core.Proxy.Pkvm;

namespace Spmc.Core.Proxy;

/// <summary>
/// The proxy profiles a manifest may name: the trusted passthrough, and one entry per pKVM release from
/// <see cref="PkvmProfile.All"/> (the profiles' differences are data there, not code here).
/// </summary>
public static class ProxyProfiles
{
    /// <summary>A trusted remote hypervisor model: frames reach the SPMC unchanged, the caller's ID as the sender.</summary>
    public const string Passthrough = "passthrough";

    /// <summary>The newest pKVM release modelled; the repository's default system (manifests/default.json) uses it.</summary>
    public const string LatestPkvm = "pkvm-7.4";

    /// <summary>
    /// What a manifest without a "proxy" field gets. It stays passthrough: a pKVM profile needs a host VM 0 with
    /// memory for the hypervisor's pages, which SP-only or guest-only manifests do not have.
    /// </summary>
    public const string Default = Passthrough;

    public static IReadOnlyList<string> Known { get; } = [Passthrough, .. PkvmProfile.All.Select(p => p.Name)];

    public static bool IsKnown(string name) => Known.Contains(name);

    /// <summary>The host memory (VM 0) a profile needs, or null when it needs none.</summary>
    public static ulong? HostMemoryNeeded(string name) => PkvmProfile.Find(name) is null ? null : PkvmProfile.MinHostMemory;

    public static IHypervisorProxy Create(string name, ProxyContext context) => name switch
    {
        Passthrough => new PassthroughProxy(),
        _ when PkvmProfile.Find(name) is { } pkvm => new PkvmProxy(pkvm, context),
        _ => throw new InvalidRequestException($"proxy: unknown profile '{name}'"),
    };
}
