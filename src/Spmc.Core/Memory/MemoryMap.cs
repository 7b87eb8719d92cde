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

/// <summary>
/// The state of a run of pages: who owns it, which world it belongs to, what it is used for, and the memory
/// transaction (handle) it is shared, lent or donated in, if any. At most one transaction covers a page,
/// because only exclusively owned pages can be sent. <see cref="ReadOnly"/> and <see cref="Device"/> come from the
/// manifest region and stay with the pages (the owner's stage-2 attributes, in Hafnium's terms).
/// </summary>
public readonly record struct PageState(ushort Owner, bool Secure, PageUse Use, ulong? Share = null, bool ReadOnly = false, bool Device = false);

/// <summary>
/// What the pages of a range are, as the memory-sharing rules ask it (Hafnium ffa_send_check_transition's mode checks).
/// <see cref="Uniform"/> is false when the range mixes read-only and read-write, or device and normal, pages (Hafnium
/// constituents_get_mode: differing modes, DENIED).
/// </summary>
public readonly record struct RangeAttributes(bool AnyReadOnly, bool AnyDevice, bool AllDevice, bool AllReadOnly = false)
{
    public bool Uniform => AnyReadOnly == AllReadOnly && AnyDevice == AllDevice;
}

/// <summary>What an endpoint may do with a page.</summary>
public enum PageAccess
{
    None,
    ReadOnly,
    ReadWrite,
}

/// <summary>Answers who may access pages that are part of a memory transaction (the SPMC's share states).</summary>
public interface IShareAccess
{
    /// <summary>The access <paramref name="endpoint"/> has to pages of transaction <paramref name="handle"/>, and if none, why.</summary>
    (PageAccess Access, string? Why) AccessOf(ulong handle, ushort endpoint);
}

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
            foreach (var r in vm.Memory) _map.Set(r.Base, r.End, new PageState(vm.Id, false, PageUse.Owned, ReadOnly: r.ReadOnly, Device: r.Device));
        foreach (var sp in config.Partitions)
            foreach (var r in sp.Memory) _map.Set(r.Base, r.End, new PageState(sp.Id, true, PageUse.Owned, ReadOnly: r.ReadOnly, Device: r.Device));
    }

    public IReadOnlyList<RangeMap<PageState>.Entry> Entries => _map.Entries;

    /// <summary>Replaces the ownership ranges with a snapshot's (see <see cref="Entries"/>).</summary>
    public void Load(IEnumerable<RangeMap<PageState>.Entry> entries) => _map.Load(entries);

    /// <summary>
    /// Null when <paramref name="endpoint"/> may read (or write) every byte of the range, else the reason. Pages in a
    /// memory transaction are decided by <paramref name="shares"/> (the SPMC's share states).
    /// </summary>
    public string? CheckAccess(ushort endpoint, ulong address, ulong length, bool write, IShareAccess shares)
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
            if (state.Share is { } handle)
            {
                var (access, why) = shares.AccessOf(handle, endpoint);
                if (access == PageAccess.None) return $"{where}: {why}";
                if (write && access == PageAccess.ReadOnly) return $"{where}: {EndpointId.Format(endpoint)} has read-only access (handle 0x{handle:X})";
                continue;
            }
            if (state.Owner != endpoint)
                return $"{where} belongs to {EndpointId.Format(state.Owner)}, not {EndpointId.Format(endpoint)}";
            if (write && state.ReadOnly)
                return $"{where} is read-only memory of {EndpointId.Format(endpoint)} (its manifest region says access \"ro\")";
            // Hafnium maps an SP's RX buffer read-only in its stage 2 (api_vm_configure_pages).
            if (write && state.Secure && state.Use == PageUse.RxBuffer)
                return $"{where} is {EndpointId.Format(endpoint)}'s RX buffer, mapped read-only for its owner";
        }
        return null;
    }

    /// <summary>
    /// Null when <paramref name="owner"/> owns every page of [address, address + length) and uses them for nothing else
    /// (not an RX/TX buffer, in no memory transaction), else why not.
    /// </summary>
    public string? WhyNotOwnedExclusively(ushort owner, ulong address, ulong length) =>
        FirstUnfitPage(address, length, (where, v) =>
            v.Owner != owner ? $"{where} belongs to {EndpointId.Format(v.Owner)}"
            : v.Use != PageUse.Owned ? $"{where} is {EndpointId.Format(owner)}'s {BufferName(v.Use)} buffer"
            : v.Share is { } h ? $"{where} is already in memory transaction 0x{h:X}"
            : null);

    /// <summary>
    /// Null when every page of [address, address + length) is normal-world (non-secure) memory of the system that is
    /// not an RX/TX buffer and in no memory transaction, whichever VM's manifest region holds it, else why not. For
    /// VMs the manifest does not declare: Hafnium's SPMC keeps one table for the whole normal world.
    /// </summary>
    public string? WhyNotFreeNormalWorld(ulong address, ulong length) =>
        FirstUnfitPage(address, length, (where, v) =>
            v.Secure ? $"{where} is secure memory of {EndpointId.Format(v.Owner)}, not normal-world memory"
            : v.Use != PageUse.Owned ? $"{where} is an RX/TX buffer already ({BufferName(v.Use)}, in {EndpointId.Format(v.Owner)}'s region)"
            : v.Share is { } h ? $"{where} is already in memory transaction 0x{h:X}"
            : null);

    /// <summary>
    /// The shared walk of the WhyNot checks: refuses an empty or overflowing range and pages outside every region,
    /// then asks <paramref name="unfit"/> (given the segment's "0xA..0xB" and state) about each segment in turn.
    /// </summary>
    private string? FirstUnfitPage(ulong address, ulong length, Func<string, PageState, string?> unfit)
    {
        if (length == 0) return "the range is empty";
        if (address > ulong.MaxValue - length) return $"0x{address:X} + 0x{length:X} overflows the address space";
        foreach (var s in _map.Segments(address, address + length))
        {
            var where = $"0x{s.Start:X}..0x{s.End - 1:X}";
            if (!s.HasValue) return $"{where} is not memory of this system";
            if (unfit(where, s.Value) is { } why) return why;
        }
        return null;
    }

    private static string BufferName(PageUse use) => use == PageUse.RxBuffer ? "RX" : "TX";

    /// <summary>
    /// Whether any page of [address, address + length) is read-only or device memory, and whether all are (pages
    /// outside every region count as neither). For the memory-sharing rules: Hafnium refuses to give a
    /// receiver more access than the sender has (RO memory sent with RW: DENIED), to zero RO memory (DENIED), to send
    /// device memory other than by LEND to one borrower (DENIED), and Normal attributes for device memory (DENIED).
    /// </summary>
    public RangeAttributes AttributesOf(ulong address, ulong length) =>
        AttributesWhere([(address, length)], s => s.HasValue ? (s.Value.ReadOnly, s.Value.Device) : (false, false));

    /// <summary>
    /// The mode of <paramref name="owner"/>'s own pages across several ranges (the constituents of a memory
    /// transaction), as Hafnium's constituents_get_mode reads the sender's stage 2 over every constituent. Pages
    /// that are not <paramref name="owner"/>'s are left out: the ownership rule judges those. With no page of the
    /// owner's, the answer is uniform and has neither attribute.
    /// </summary>
    public RangeAttributes AttributesOf(ushort owner, IEnumerable<(ulong Address, ulong Length)> ranges) =>
        AttributesWhere(ranges, s => s.HasValue && s.Value.Owner == owner ? (s.Value.ReadOnly, s.Value.Device) : null);

    /// <summary>
    /// The mode of the normal-world pages across several ranges, whoever's manifest region holds them: what an
    /// undeclared VM sends is judged by the one normal-world table, as Hafnium does (see <see cref="WhyNotFreeNormalWorld"/>).
    /// Secure pages are left out: the ownership rule judges those.
    /// </summary>
    public RangeAttributes AttributesOfNormalWorld(IEnumerable<(ulong Address, ulong Length)> ranges) =>
        AttributesWhere(ranges, s => s.HasValue && !s.Value.Secure ? (s.Value.ReadOnly, s.Value.Device) : null);

    /// <summary>
    /// The shared loop of the AttributesOf variants: <paramref name="mode"/> gives a segment's (read-only, device)
    /// attributes, or null to leave the segment out. Empty or overflowing ranges count for nothing.
    /// </summary>
    private RangeAttributes AttributesWhere(IEnumerable<(ulong Address, ulong Length)> ranges,
        Func<RangeMap<PageState>.Segment, (bool ReadOnly, bool Device)?> mode)
    {
        bool any = false, anyRo = false, anyDevice = false, allRo = true, allDevice = true;
        foreach (var (address, length) in ranges)
        {
            if (length == 0 || address > ulong.MaxValue - length) continue;
            foreach (var s in _map.Segments(address, address + length))
            {
                if (mode(s) is not var (readOnly, device)) continue;
                any = true;
                anyRo |= readOnly;
                anyDevice |= device;
                allRo &= readOnly;
                allDevice &= device;
            }
        }
        return any ? new RangeAttributes(anyRo, anyDevice, allDevice, allRo) : default;
    }

    /// <summary>Puts [address, address + length) into (or, with null, out of) a memory transaction, keeping owner and use.</summary>
    public void SetShare(ulong address, ulong length, ulong? handle)
    {
        foreach (var s in _map.Segments(address, address + length).ToList())
            if (s.HasValue) _map.Set(s.Start, s.End, s.Value with { Share = handle });
    }

    /// <summary>
    /// Gives [address, address + length) to a new owner (FFA_MEM_DONATE), out of any transaction. The pages stay
    /// device memory if they were; whether they are read-only is now <paramref name="readOnly"/>: Hafnium maps them
    /// in the new owner's stage 2 with the data access it retrieved them with (ffa_partition_retrieve_request:
    /// ffa_memory_permissions_to_mode(granted permissions, sender_orig_mode) keeps only MM_MODE_D of the sender's mode).
    /// </summary>
    public void SetOwner(ulong address, ulong length, ushort owner, bool readOnly)
    {
        foreach (var s in _map.Segments(address, address + length).ToList())
            if (s.HasValue) _map.Set(s.Start, s.End, s.Value with { Owner = owner, Share = null, ReadOnly = readOnly });
    }

    /// <summary>True when the page at <paramref name="address"/> is secure memory (an SP's region).</summary>
    public bool IsSecure(ulong address) => _map.TryGet(address, out var state) && state.Secure;

    /// <summary>
    /// Marks pages as an RX or TX buffer (or back to plain memory); they must be owned by the same endpoint. Each
    /// page keeps its own attributes (a normal-world buffer may span read-only and read-write regions).
    /// </summary>
    public void SetUse(ulong address, ulong length, PageUse use)
    {
        if (!_map.TryGet(address, out _)) throw new InvalidOperationException($"0x{address:X} is not mapped");
        foreach (var s in _map.Segments(address, address + length).ToList())
            if (s.HasValue) _map.Set(s.Start, s.End, s.Value with { Use = use });
    }

    public bool TryGetState(ulong address, out PageState state) => _map.TryGet(address, out state);
}
