using Spmc.Core.Memory;
using Spmc.Core.Spm.Shares;

namespace Spmc.Core.Systems;

/// <summary>The inspector's paged views: the long lists <see cref="GetState"/> only begins (issue 19: bounded state views).</summary>
public sealed partial class SimulatedSystem
{
    /// <summary>
    /// Memory transaction <paramref name="handle"/> with its constituents from index <paramref name="offset"/>, at most
    /// <paramref name="limit"/> of them. <see cref="NotFoundException"/> when the system holds no such handle.
    /// </summary>
    public ShareView GetShare(ulong handle, int offset, int limit)
    {
        StateLimits.Check(offset, limit);
        lock (_gate)
        {
            if (!_spmc.State.Shares.TryGetValue(handle, out var share))
                throw new NotFoundException($"handle: system '{Id}' has no memory transaction 0x{handle:X}");
            return View(share, offset, limit);
        }
    }

    /// <summary>The memory map's ranges (ownership by page run, in address order) from index <paramref name="offset"/>, at most <paramref name="limit"/>.</summary>
    public MemoryMapPage GetMemoryMap(int offset, int limit)
    {
        StateLimits.Check(offset, limit);
        lock (_gate)
        {
            var entries = _map.Entries;
            var ranges = new List<MemoryRegionView>(Math.Max(0, Math.Min(limit, entries.Count - offset)));
            for (var i = offset; i < entries.Count && ranges.Count < limit; i++) ranges.Add(View(entries[i]));
            return new MemoryMapPage(entries.Count, offset, ranges);
        }
    }

    private static MemoryRegionView View(RangeMap<PageState>.Entry e) =>
        new(e.Start, e.Length, e.Value.Owner, e.Value.Secure, e.Value.Use, e.Value.Share, e.Value.ReadOnly, e.Value.Device);

    private static ShareView View(ShareState s, int offset, int limit)
    {
        ulong pages = 0;
        foreach (var c in s.Constituents) pages += c.PageCount;
        var constituents = s.Constituents.Skip(offset).Take(limit).ToList();
        return new ShareView(s.Handle, s.Operation, s.Sender, s.Attributes, s.Flags.Value, s.Tag,
            s.Receivers.Select(r => new ShareReceiverView(r.Id, r.Sent, r.State, r.GrantedData, r.GrantedInstruction, r.Retrievals,
                r.Response?.Delivered, r.Response?.Bytes.Length)).ToList(),
            constituents, s.SendingComplete, s.Received, s.Pending?.Length ?? s.Received, s.Fragments,
            s.HypervisorResponse is not null, s.Constituents.Count, pages, offset);
    }
}
