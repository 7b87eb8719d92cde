using Spmc.Abi.Ffa;
using Spmc.Core.Manifests;
using Spmc.Core.Memory;

namespace Spmc.Core.Proxy.Pkvm;

/// <summary>pKVM's page states of the host stage 2, as far as the FF-A proxy changes them (mem_protect.c).</summary>
public enum Stage2State
{
    /// <summary>PKVM_PAGE_OWNED: the host's, exclusively.</summary>
    Owned,
    /// <summary>PKVM_PAGE_SHARED_OWNED with the hypervisor (__pkvm_host_share_hyp): the host's RX/TX buffers.</summary>
    SharedWithHyp,
    /// <summary>PKVM_PAGE_SHARED_OWNED with FF-A (__pkvm_host_share_ffa): constituents of a share or lend.</summary>
    SharedWithFfa,
    /// <summary>Owned by the hypervisor (its pool): the proxy's own TX/RX; the host has no access.</summary>
    Hyp,
    /// <summary>Another VM's memory (a guest's): not host memory as far as the host stage 2 goes.</summary>
    Guest,
}

/// <summary>One run of pages with the same state; <see cref="Label"/> is what the inspector shows.</summary>
public readonly record struct Stage2Page(Stage2State State, string Label);

/// <summary>
/// The host's stage 2 as the pKVM model tracks it: a <see cref="RangeMap{T}"/> over the VMs' memory, VM 0's pages
/// "owned" except the two the hypervisor took for its FF-A buffers. The transitions are the ones the proxy makes:
/// share/unshare with the hypervisor (one page, OWNED ↔ SHARED_OWNED) and with FF-A (a range, all pages OWNED ↔
/// SHARED_OWNED). No FF-A reference count is kept, as upstream: sharing a page twice fails.
/// </summary>
public sealed class HostStage2
{
    private readonly RangeMap<Stage2Page> _map = new();

    /// <summary>The stage-2 granule: the host kernel's PAGE_SIZE (4 KiB, or 16 KiB on a 16K-page host).</summary>
    public ulong PageSize { get; }

    public HostStage2(SystemConfig config, ulong hypTx, ulong hypRx, ulong pageSize = FfaPage.Size)
    {
        PageSize = pageSize;
        foreach (var vm in config.Vms)
            foreach (var r in vm.Memory)
                _map.Set(r.Base, r.End, vm.Id == PkvmProxy.HostId ? Owned : new Stage2Page(Stage2State.Guest, $"guest {EndpointId.Format(vm.Id)}"));
        _map.Set(hypTx, hypTx + PageSize, new Stage2Page(Stage2State.Hyp, "hyp (proxy TX)"));
        _map.Set(hypRx, hypRx + PageSize, new Stage2Page(Stage2State.Hyp, "hyp (proxy RX)"));
    }

    private static readonly Stage2Page Owned = new(Stage2State.Owned, "owned");
    private static readonly Stage2Page SharedFfa = new(Stage2State.SharedWithFfa, "shared-owned (FF-A)");

    /// <summary>The ranges as they are (for a snapshot).</summary>
    public IReadOnlyList<RangeMap<Stage2Page>.Entry> Entries => _map.Entries;

    /// <summary>Replaces the ranges with a snapshot's.</summary>
    public void Load(IEnumerable<RangeMap<Stage2Page>.Entry> entries) => _map.Load(entries);

    public IReadOnlyList<Stage2RangeView> View() => _map.Entries.Select(e => new Stage2RangeView(e.Start, e.Length, e.Value.Label)).ToList();

    /// <summary>The state of the page holding <paramref name="address"/>, if it is memory of a VM.</summary>
    public Stage2State? StateAt(ulong address) => _map.TryGet(address, out var page) ? page.State : null;

    /// <summary>__pkvm_host_share_hyp of one page: it must be host memory in state OWNED. Null on success, else why not.</summary>
    public string? ShareHyp(ulong page, string what)
    {
        if (WhyNot(page, PageSize, Stage2State.Owned) is { } why) return why;
        _map.Set(page, page + PageSize, new Stage2Page(Stage2State.SharedWithHyp, $"shared-owned (hyp: {what})"));
        return null;
    }

    /// <summary>__pkvm_host_unshare_hyp: SHARED_OWNED (with the hypervisor) back to OWNED.</summary>
    public string? UnshareHyp(ulong page)
    {
        if (WhyNot(page, PageSize, Stage2State.SharedWithHyp) is { } why) return why;
        _map.Set(page, page + PageSize, Owned);
        return null;
    }

    /// <summary>
    /// __pkvm_host_share_ffa(pfn, pages): every page of the range must be host memory in state OWNED; they become
    /// SHARED_OWNED. An empty range of host memory succeeds without a change (check_range_allowed_memory only).
    /// </summary>
    public string? ShareFfa(ulong address, ulong pages)
    {
        if (WhyNot(address, pages * PageSize, Stage2State.Owned) is { } why) return why;
        if (pages > 0) _map.Set(address, address + pages * PageSize, SharedFfa);
        return null;
    }

    /// <summary>__pkvm_host_unshare_ffa: every page must be SHARED_OWNED with FF-A; they go back to OWNED.</summary>
    public string? UnshareFfa(ulong address, ulong pages)
    {
        if (WhyNot(address, pages * PageSize, Stage2State.SharedWithFfa) is { } why) return why;
        if (pages > 0) _map.Set(address, address + pages * PageSize, Owned);
        return null;
    }

    /// <summary>Null when the host may touch [address, address + length) as far as its stage 2 goes, else why not.</summary>
    public string? HostAccess(ulong address, ulong length)
    {
        if (length == 0 || address > ulong.MaxValue - length) return null;
        foreach (var s in _map.Segments(address, address + length))
            if (s.HasValue && s.Value.State == Stage2State.Hyp)
                return $"0x{s.Start:X}..0x{s.End - 1:X} is the pKVM hypervisor's own page ({s.Value.Label}): unmapped from the host stage 2";
        return null;
    }

    private string? WhyNot(ulong address, ulong length, Stage2State expected)
    {
        if (length > ulong.MaxValue - address) return $"0x{address:X} + 0x{length:X} overflows the address space";
        if (!_map.TryGet(address, out var first) && length == 0) return $"0x{address:X} is not host memory";
        if (length == 0) return first.State is Stage2State.Guest ? $"0x{address:X} is not host memory ({first.Label})" : null;
        foreach (var s in _map.Segments(address, address + length))
        {
            var where = $"0x{s.Start:X}..0x{s.End - 1:X}";
            if (!s.HasValue) return $"{where} is not host memory";
            if (s.Value.State != expected) return $"{where} is {s.Value.Label}, not {Describe(expected)}";
        }
        return null;
    }

    private static string Describe(Stage2State state) => state switch
    {
        Stage2State.Owned => "owned by the host",
        Stage2State.SharedWithHyp => "shared with the hypervisor",
        Stage2State.SharedWithFfa => "shared-owned (FF-A)",
        _ => state.ToString(),
    };
}
