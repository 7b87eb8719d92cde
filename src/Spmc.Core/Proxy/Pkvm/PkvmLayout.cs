using Spmc.Core.Manifests;

namespace Spmc.Core.Proxy.Pkvm;

/// <summary>
/// Where the pKVM model puts its pages in the host's memory: the hypervisor's TX then RX (one kernel page each, the
/// pages hyp_ffa_init was donated) at the top of VM 0's highest region, aligned down to PAGE_SIZE; with a built-in
/// arm_ffa driver, that driver's own TX then RX (one kernel page each, as alloc_pages_exact gives it) just below.
/// </summary>
public sealed record PkvmLayout(ulong HypTx, ulong HypRx, ulong? DriverTx, ulong? DriverRx)
{
    /// <summary>The layout on <paramref name="host"/>, or why the host's memory cannot hold it.</summary>
    public static (PkvmLayout? Layout, string? Problem) Of(VmConfig? host, ProxyOptions options)
    {
        if (host is null || host.Memory.Count == 0) return (null, "there is no VM 0 with memory");
        var page = (ulong)options.PageSize;
        var region = host.Memory.MaxBy(r => r.Base);
        var top = region.End / page * page;
        var pages = options.FfaDriverBuiltIn ? 4UL : 2UL;
        var needed = pages * page;
        if (top < region.Base + needed)
            return (null, $"needs VM 0's highest region at least {needed / 1024} KiB once aligned to PAGE_SIZE ({page / 1024} KiB) for " +
                          $"the hypervisor's TX/RX{(options.FfaDriverBuiltIn ? " and the built-in arm_ffa driver's TX/RX" : "")}, taken from the top of it; " +
                          $"VM 0's highest region is {region}");
        return (new PkvmLayout(top - 2 * page, top - page,
            options.FfaDriverBuiltIn ? top - 4 * page : null, options.FfaDriverBuiltIn ? top - 3 * page : null), null);
    }
}
