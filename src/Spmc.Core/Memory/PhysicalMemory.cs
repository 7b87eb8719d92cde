using Spmc.Abi.Ffa;
namespace Spmc.Core.Memory;

/// <summary>
/// Sparse, zero-filled physical memory in 4 KiB pages. A page exists only once a non-zero byte was written
/// to it, so the cost follows the bytes touched and never the size of the address space. No access checks:
/// callers (the SPMC, the memory API) check first.
/// <para>
/// Copy-on-write: <see cref="ExportPages"/> and <see cref="LoadPages"/> hand page buffers over by reference, so a
/// snapshot or a restore costs one reference per page, not a copy of the bytes. A buffer is owned (writable in place)
/// only by the generation that allocated it; exporting or loading starts a new generation, which makes every buffer
/// present shared (immutable), and the first write to a shared page copies it. Whoever holds exported buffers must
/// treat them as immutable too (a snapshot does).
/// </para>
/// </summary>
/// <para>
/// Resident pages count against a <see cref="MemoryQuota"/>: a write that needs more pages than it allows is refused
/// (<see cref="QuotaExceededException"/>) before any byte changes. <see cref="Release"/> gives the pages back when
/// the memory is dropped (system deleted, reset, replaced by a restore).
/// </para>
public sealed class PhysicalMemory(MemoryQuota? quota = null)
{
    public const int PageSize = FfaPage.Size;

    /// <summary>A page buffer and the generation that owns it; another generation must copy it before writing.</summary>
    private readonly record struct Page(byte[] Bytes, long Owner);

    private readonly Dictionary<ulong, Page> _pages = [];
    private long _generation;
    private readonly MemoryQuota _quota = quota ?? MemoryQuota.Unlimited();
    private bool _released;

    /// <summary>Returns every resident page to the quota; the memory must not be used afterwards.</summary>
    public void Release()
    {
        if (_released) return;
        _released = true;
        _quota.Release(_pages.Count);
    }

    /// <summary>Releases the pages and drops them (the system was deleted); the memory must not be used afterwards.</summary>
    public void Discard()
    {
        Release();
        _pages.Clear();
    }

    /// <summary>
    /// Undoes <see cref="Release"/> (a restore that was refused keeps the memory it had released for its replacement):
    /// the pages count again, unchecked, since they were held a moment ago.
    /// </summary>
    public void Reclaim()
    {
        if (!_released) return;
        _released = false;
        _quota.Force(_pages.Count);
    }

    private void Reserve(long newPages)
    {
        if (_released) throw new InvalidOperationException("this memory was released");
        _quota.Reserve(_pages.Count, newPages);
    }

    private void Drop(ulong page)
    {
        if (_pages.Remove(page) && !_released) _quota.Release(1);
    }

    /// <summary>Pages absent now that writing <paramref name="writes"/> would create (a page is created by a non-zero byte).</summary>
    private int NewPages(IEnumerable<(ulong Address, ReadOnlyMemory<byte> Data)> writes)
    {
        HashSet<ulong>? seen = null;
        foreach (var (address, data) in writes) NewPages(address, data.Span, seen ??= []);
        return seen?.Count ?? 0;
    }

    /// <summary>Counts (or, with <paramref name="seen"/>, collects) the absent pages one write would create.</summary>
    private int NewPages(ulong address, ReadOnlySpan<byte> source, HashSet<ulong>? seen = null)
    {
        var count = 0;
        var done = 0;
        while (done < source.Length)
        {
            var addr = address + (ulong)done;
            var page = addr / PageSize;
            var n = Math.Min(PageSize - (int)(addr % PageSize), source.Length - done);
            if (!_pages.ContainsKey(page) && source.Slice(done, n).ContainsAnyExcept((byte)0) && (seen?.Add(page) ?? true)) count++;
            done += n;
        }
        return count;
    }

    /// <summary>
    /// Writes every entry, in order, or none: the pages they need together are reserved against the quota first.
    /// </summary>
    public void WriteAll(IReadOnlyList<(ulong Address, ReadOnlyMemory<byte> Data)> writes)
    {
        var reserved = NewPages(writes);
        Reserve(reserved);
        var before = _pages.Count;
        try
        {
            foreach (var (address, data) in writes) WriteReserved(address, data.Span);
        }
        catch (OutOfMemoryException)
        {
            Unreserve(reserved, before);
            throw;
        }
    }

    /// <summary>
    /// After an allocation the runtime refused part-way through a write (a container's memory limit): the pages that
    /// were reserved but not made go back to the quota, so the count stays the pages that exist.
    /// </summary>
    private void Unreserve(int reserved, int before) => _quota.Release(reserved - (_pages.Count - before));

    /// <summary>Pages that hold data (for the inspector and tests).</summary>
    public int ResidentPages => _pages.Count;

    /// <summary>Pages whose buffer is still shared with a snapshot (for tests and the inspector).</summary>
    public int SharedPages => _pages.Values.Count(p => p.Owner != _generation);

    /// <summary>
    /// The resident pages by page number (address / <see cref="PageSize"/>), in address order: the buffers themselves,
    /// which become shared (the next write to any of them copies it first). The caller must not change them.
    /// </summary>
    public IReadOnlyList<(ulong Page, byte[] Bytes)> ExportPages()
    {
        _generation++;
        var pages = new (ulong Page, byte[] Bytes)[_pages.Count];
        var i = 0;
        foreach (var (page, entry) in _pages) pages[i++] = (page, entry.Bytes);
        Array.Sort(pages, static (a, b) => a.Page.CompareTo(b.Page));
        return pages;
    }

    /// <summary>
    /// Replaces every page with <paramref name="pages"/> (page number, <see cref="PageSize"/> bytes each), by reference:
    /// the buffers are shared, never written (a write copies the page first).
    /// </summary>
    public void LoadPages(IEnumerable<(ulong Page, byte[] Bytes)> pages)
    {
        var list = pages.ToList();
        foreach (var (page, bytes) in list)
            if (bytes.Length != PageSize) throw new ArgumentException($"page 0x{page:X}: {bytes.Length} bytes, not {PageSize}", nameof(pages));
        var count = list.Select(p => p.Page).Distinct().LongCount();
        // The new set replaces the old one: only the growth is reserved, and the refusal leaves the pages as they were.
        if (count > _pages.Count) Reserve(count - _pages.Count);
        else if (!_released) _quota.Release(_pages.Count - count);
        _pages.Clear();
        _generation++;
        var shared = _generation - 1;
        foreach (var (page, bytes) in list) _pages[page] = new Page(bytes, shared);
    }

    /// <summary>The page's buffer, ready to write: copied first when it is shared.</summary>
    private byte[] Writable(ulong page, Page entry)
    {
        if (entry.Owner == _generation) return entry.Bytes;
        var copy = (byte[])entry.Bytes.Clone();
        _pages[page] = new Page(copy, _generation);
        return copy;
    }

    public void Read(ulong address, Span<byte> destination)
    {
        var done = 0;
        while (done < destination.Length)
        {
            var addr = address + (ulong)done;
            var page = addr / PageSize;
            var offset = (int)(addr % PageSize);
            var n = Math.Min(PageSize - offset, destination.Length - done);
            if (_pages.TryGetValue(page, out var entry)) entry.Bytes.AsSpan(offset, n).CopyTo(destination.Slice(done, n));
            else destination.Slice(done, n).Clear();
            done += n;
        }
    }

    public byte[] Read(ulong address, int length)
    {
        var result = new byte[length];
        Read(address, result);
        return result;
    }

    /// <summary>Writes <paramref name="source"/>, or nothing when the pages it needs are beyond the quota.</summary>
    public void Write(ulong address, ReadOnlySpan<byte> source) => WriteCounted(address, source, force: false);

    /// <summary>
    /// A write the SPMC or the proxy makes on a call's behalf into a mapped RX/TX buffer (a message, a descriptor it
    /// forwards): never refused, so no call is left half-applied. Its pages count against the quota all the same; the
    /// overshoot is bounded by the mailboxes, whose mapping checked for room (FFA_RXTX_MAP answers NO_MEMORY).
    /// </summary>
    public void WriteOnBehalf(ulong address, ReadOnlySpan<byte> source) => WriteCounted(address, source, force: true);

    /// <summary>Counts the pages the write makes (checked against the quota unless <paramref name="force"/>), then writes.</summary>
    private void WriteCounted(ulong address, ReadOnlySpan<byte> source, bool force)
    {
        var reserved = NewPages(address, source);
        if (!force) Reserve(reserved);
        else if (_released) throw new InvalidOperationException("this memory was released");
        else _quota.Force(reserved);
        var before = _pages.Count;
        try
        {
            WriteReserved(address, source);
        }
        catch (OutOfMemoryException)
        {
            Unreserve(reserved, before);
            throw;
        }
    }

    /// <summary>Pages of [<paramref name="address"/>, +<paramref name="length"/>) not resident now (a buffer's pages a write may yet make).</summary>
    public long AbsentPages(ulong address, ulong length)
    {
        if (length == 0) return 0;
        var (first, last) = (address / PageSize, (address + length - 1) / PageSize);
        long absent = 0;
        for (var page = first; page <= last; page++)
            if (!_pages.ContainsKey(page)) absent++;
        return absent;
    }

    /// <summary>Whether <paramref name="pages"/> more resident pages fit in this memory's quota now (nothing is taken).</summary>
    public bool HasRoomFor(long pages) => pages <= 0 || _quota.HasRoom(_pages.Count, pages);

    /// <summary>Writes, the new pages already reserved.</summary>
    private void WriteReserved(ulong address, ReadOnlySpan<byte> source)
    {
        var done = 0;
        while (done < source.Length)
        {
            var addr = address + (ulong)done;
            var page = addr / PageSize;
            var offset = (int)(addr % PageSize);
            var n = Math.Min(PageSize - offset, source.Length - done);
            var chunk = source.Slice(done, n);
            if (_pages.TryGetValue(page, out var entry)) chunk.CopyTo(Writable(page, entry).AsSpan(offset, n));
            else if (chunk.ContainsAnyExcept((byte)0))
            {
                var bytes = new byte[PageSize];
                chunk.CopyTo(bytes.AsSpan(offset, n));
                _pages[page] = new Page(bytes, _generation);
            }
            done += n;
        }
    }

    /// <summary>Zeroes [address, address + length): whole pages are dropped, so clearing 1 GiB costs what its resident pages cost.</summary>
    public void Clear(ulong address, ulong length)
    {
        if (length == 0) return;
        var end = address + length;
        var firstPage = address / PageSize;
        var lastPage = (end - 1) / PageSize;
        if (lastPage - firstPage + 1 > (ulong)_pages.Count)
        {
            foreach (var page in _pages.Keys.Where(p => p >= firstPage && p <= lastPage).ToList()) ClearPage(page, address, end);
        }
        else
        {
            for (var page = firstPage; page <= lastPage; page++) ClearPage(page, address, end);
        }
    }

    private void ClearPage(ulong page, ulong start, ulong end)
    {
        if (!_pages.TryGetValue(page, out var entry)) return;
        var pageStart = page * PageSize;
        var s = Math.Max(start, pageStart);
        var e = Math.Min(end, pageStart + PageSize);
        if (s == pageStart && e == pageStart + PageSize) Drop(page);
        else Writable(page, entry).AsSpan((int)(s - pageStart), (int)(e - s)).Clear();
    }
}
