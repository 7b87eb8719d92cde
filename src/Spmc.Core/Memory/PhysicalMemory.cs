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
public sealed class PhysicalMemory
{
    public const int PageSize = FfaPage.Size;

    /// <summary>A page buffer and the generation that owns it; another generation must copy it before writing.</summary>
    private readonly record struct Page(byte[] Bytes, long Owner);

    private readonly Dictionary<ulong, Page> _pages = [];
    private long _generation;

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
        _pages.Clear();
        _generation++;
        var shared = _generation - 1;
        foreach (var (page, bytes) in pages)
        {
            if (bytes.Length != PageSize) throw new ArgumentException($"page 0x{page:X}: {bytes.Length} bytes, not {PageSize}", nameof(pages));
            _pages[page] = new Page(bytes, shared);
        }
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

    public void Write(ulong address, ReadOnlySpan<byte> source)
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
        if (s == pageStart && e == pageStart + PageSize) _pages.Remove(page);
        else Writable(page, entry).AsSpan((int)(s - pageStart), (int)(e - s)).Clear();
    }
}
