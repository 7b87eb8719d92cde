using Spmc.Abi.Ffa;
namespace Spmc.Core.Memory;

/// <summary>
/// Sparse, zero-filled physical memory in 4 KiB pages. A page exists only once a non-zero byte was written
/// to it, so the cost follows the bytes touched and never the size of the address space. No access checks:
/// callers (the SPMC, the memory API) check first.
/// </summary>
public sealed class PhysicalMemory
{
    public const int PageSize = FfaPage.Size;
    private readonly Dictionary<ulong, byte[]> _pages = [];

    /// <summary>Pages that hold data (for the inspector and tests).</summary>
    public int ResidentPages => _pages.Count;

    /// <summary>The resident pages by page number (address / <see cref="PageSize"/>), in address order: copies, for a snapshot.</summary>
    public IEnumerable<(ulong Page, byte[] Bytes)> ExportPages() =>
        _pages.OrderBy(p => p.Key).Select(p => (p.Key, (byte[])p.Value.Clone()));

    /// <summary>Replaces every page with <paramref name="pages"/> (page number, <see cref="PageSize"/> bytes each), copied.</summary>
    public void LoadPages(IEnumerable<(ulong Page, byte[] Bytes)> pages)
    {
        _pages.Clear();
        foreach (var (page, bytes) in pages)
        {
            if (bytes.Length != PageSize) throw new ArgumentException($"page 0x{page:X}: {bytes.Length} bytes, not {PageSize}", nameof(pages));
            _pages[page] = (byte[])bytes.Clone();
        }
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
            if (_pages.TryGetValue(page, out var bytes)) bytes.AsSpan(offset, n).CopyTo(destination.Slice(done, n));
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
            if (_pages.TryGetValue(page, out var bytes)) chunk.CopyTo(bytes.AsSpan(offset, n));
            else if (chunk.ContainsAnyExcept((byte)0))
            {
                bytes = new byte[PageSize];
                chunk.CopyTo(bytes.AsSpan(offset, n));
                _pages[page] = bytes;
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
        if (!_pages.TryGetValue(page, out var bytes)) return;
        var pageStart = page * PageSize;
        var s = Math.Max(start, pageStart);
        var e = Math.Min(end, pageStart + PageSize);
        if (s == pageStart && e == pageStart + PageSize) _pages.Remove(page);
        else bytes.AsSpan((int)(s - pageStart), (int)(e - s)).Clear();
    }
}
