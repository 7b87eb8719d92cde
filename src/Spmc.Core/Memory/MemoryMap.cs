using Spmc.Abi.Ffa;
using Spmc.Core.Manifests;

namespace Spmc.Core.Memory;

/// <summary>What a page is used for by its owner.</summary>
public enum PageUse
{
    /// <summary>Ordinary memory, owned exclusively.</summary>
    Owned,
    /// <summary>The owner's RX buffer, registered with FFA_RXTX_MAP.</summary>
    RxBuffer,
    /// <summary>The owner's TX buffer, registered with FFA_RXTX_MAP.</summary>
    TxBuffer,
}

/// <summary>The state of a run of pages: who owns it, which world it belongs to, and what it is used for.</summary>
public readonly record struct PageState(ushort Owner, bool Secure, PageUse Use);

/// <summary>
/// Ownership and access of a system's physical memory, kept as ranges (see <see cref="RangeMap{T}"/>). Every
/// address that exists belongs to the endpoint whose manifest region contains it; the SPMC may access
/// everything. The checks here are the single place the memory API and the SPMC ask "may X touch this?".
/// </summary>
public sealed class MemoryMap
{
    private readonly RangeMap<PageState> _map = new();
    private readonly ushort _spmcId;

    public MemoryMap(SystemConfig config)
    {
        _spmcId = config.SpmcId;
        foreach (var vm in config.Vms)
            foreach (var r in vm.Memory) _map.Set(r.Base, r.End, new PageState(vm.Id, false, PageUse.Owned));
        foreach (var sp in config.Partitions)
            foreach (var r in sp.Memory) _map.Set(r.Base, r.End, new PageState(sp.Id, true, PageUse.Owned));
    }

    public IReadOnlyList<RangeMap<PageState>.Entry> Entries => _map.Entries;

    /// <summary>Null when <paramref name="endpoint"/> may read (or write) every byte of the range, else the reason.</summary>
    public string? CheckAccess(ushort endpoint, ulong address, ulong length, bool write)
    {
        if (length == 0) return null;
        if (address > ulong.MaxValue - length) return $"0x{address:X} + 0x{length:X} overflows the 64-bit address space";
        var end = address + length;
        foreach (var s in _map.Segments(address, end))
        {
            var where = $"0x{s.Start:X}..0x{s.End - 1:X}";
            if (!s.HasValue) return $"{where} is not memory of this system (no manifest region covers it)";
            if (endpoint == _spmcId) continue;
            var state = s.Value;
            if (state.Owner != endpoint)
                return $"{where} belongs to {EndpointId.Format(state.Owner)}, not {EndpointId.Format(endpoint)}";
            // Hafnium maps an SP's RX buffer read-only in its stage 2 (api_vm_configure_pages).
            if (write && state.Secure && state.Use == PageUse.RxBuffer)
                return $"{where} is {EndpointId.Format(endpoint)}'s RX buffer, mapped read-only for its owner";
        }
        return null;
    }

    /// <summary>True when <paramref name="owner"/> owns every page of [address, address + length) and uses them for nothing else.</summary>
    public bool IsOwnedExclusively(ushort owner, ulong address, ulong length) =>
        length > 0 && address <= ulong.MaxValue - length &&
        _map.All(address, address + length, s => s.Owner == owner && s.Use == PageUse.Owned);

    /// <summary>Marks pages as an RX or TX buffer (or back to plain memory); they must be owned by the same endpoint.</summary>
    public void SetUse(ulong address, ulong length, PageUse use)
    {
        if (!_map.TryGet(address, out var state)) throw new InvalidOperationException($"0x{address:X} is not mapped");
        _map.Set(address, address + length, state with { Use = use });
    }

    public bool TryGetState(ulong address, out PageState state) => _map.TryGet(address, out state);
}
