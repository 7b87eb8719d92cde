using Spmc.Core.Manifests;
using Spmc.Core.Proxy.Pkvm;

namespace Spmc.Core.Proxy;

/// <summary>
/// The proxy profiles a manifest may name: the trusted passthrough, one entry per pKVM release from
/// <see cref="PkvmProfile.All"/>, and the opt-in profiles of unmerged series from <see cref="PkvmProfile.Unmerged"/>
/// (the profiles' differences are data there, not code here).
/// </summary>
public static class ProxyProfiles
{
    /// <summary>A trusted remote hypervisor model: frames reach the SPMC unchanged, the caller's ID as the sender.</summary>
    public const string Passthrough = "passthrough";

    /// <summary>The newest merged pKVM release modelled; the repository's default system (manifests/default.json) uses it.</summary>
    public const string LatestPkvm = "pkvm-7.4";

    /// <summary>
    /// What a manifest without a "proxy" field gets. It stays passthrough: a pKVM profile needs a host VM 0 with
    /// memory for the hypervisor's pages, which SP-only or guest-only manifests do not have.
    /// </summary>
    public const string Default = Passthrough;

    public static IReadOnlyList<string> Known { get; } =
        [Passthrough, .. PkvmProfile.All.Select(p => p.Name), .. PkvmProfile.Unmerged.Select(p => p.Name)];

    public static bool IsKnown(string name) => Known.Contains(name);

    /// <summary>The host memory (VM 0) a profile needs, or null when it needs none.</summary>
    public static ulong? HostMemoryNeeded(string name) => PkvmProfile.Find(name) is null ? null : PkvmProfile.MinHostMemory;

    /// <summary>
    /// Null when <paramref name="host"/> (VM 0, or null when the manifest has none) has the memory profile
    /// <paramref name="name"/> needs with <paramref name="options"/>, else what is missing: at least
    /// <see cref="PkvmProfile.MinHostMemory"/> in all, and a highest region holding the hypervisor's two kernel pages
    /// (16 KiB each on a 16K-page host, aligned to 16 KiB) — four with a built-in arm_ffa driver, whose own RX/TX
    /// pages the model places below them.
    /// </summary>
    public static string? HostMemoryProblem(string name, ProxyOptions options, VmConfig? host)
    {
        if (HostMemoryNeeded(name) is not { } needed) return null;
        var total = host?.Memory.Aggregate(0UL, (sum, r) => sum + r.Size) ?? 0;
        if (host is null || total < needed)
            return $"proxy: profile '{name}' needs a host VM (ID 0) with at least {needed / 1024} KiB of memory, its highest region at least " +
                   $"{(options.FfaDriverBuiltIn ? 4 : 2) * options.PageSize / 1024} KiB (the hypervisor takes its RX/TX pages from the top of it); " +
                   (host is null ? "there is no VM 0" : $"VM 0 has {total / 1024} KiB");
        return PkvmLayout.Of(host, options).Problem is { } problem ? $"proxy: profile '{name}' {problem}" : null;
    }

    public static IHypervisorProxy Create(string name, ProxyContext context) => name switch
    {
        Passthrough => new PassthroughProxy(),
        _ when PkvmProfile.Find(name) is { } pkvm => new PkvmProxy(pkvm, context),
        _ => throw new InvalidRequestException($"proxy: unknown profile '{name}'"),
    };
}
