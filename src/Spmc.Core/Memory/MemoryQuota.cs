namespace Spmc.Core.Memory;

/// <summary>
/// Resident simulated memory allowed per system and across every system of one registry, counted in whole 4 KiB
/// pages. A page counts once per system whose memory holds it, even while its buffer is shared copy-on-write with
/// a snapshot (a snapshot document itself is not counted). A write that would go beyond either bound is refused
/// before any byte is written. Deterministic: the answer depends only on the pages present, never on a clock.
/// </summary>
public sealed class MemoryQuota
{
    private readonly Lock _gate = new();
    private long _totalPages;

    /// <param name="maxBytesPerSystem">Resident bytes one system may hold (0: no bound).</param>
    /// <param name="maxBytesTotal">Resident bytes all systems together may hold (0: no bound).</param>
    public MemoryQuota(long maxBytesPerSystem, long maxBytesTotal)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytesPerSystem);
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytesTotal);
        MaxBytesPerSystem = maxBytesPerSystem;
        MaxBytesTotal = maxBytesTotal;
    }

    /// <summary>No bound (a system built outside a registry, tests).</summary>
    public static MemoryQuota Unlimited() => new(0, 0);

    /// <summary>How every refusal's message below begins (a test holds them to it), so a note that carries one (a partition's refused store) can be recognised.</summary>
    public const string RefusalPrefix = "memory quota Max";

    public long MaxBytesPerSystem { get; }
    public long MaxBytesTotal { get; }

    /// <summary>Resident bytes of every system counted against this quota.</summary>
    public long TotalBytes
    {
        get { lock (_gate) return _totalPages * PhysicalMemory.PageSize; }
    }

    /// <summary>Takes <paramref name="newPages"/> more pages for a system that holds <paramref name="systemPages"/>; refused beyond either bound.</summary>
    internal void Reserve(long systemPages, long newPages)
    {
        if (newPages <= 0) return;
        const long page = PhysicalMemory.PageSize;
        if (MaxBytesPerSystem > 0 && (systemPages + newPages) * page > MaxBytesPerSystem)
            throw new QuotaExceededException($"memory quota MaxResidentBytesPerSystem ({MaxBytesPerSystem} bytes): the system holds {systemPages * page} resident bytes and this write needs {newPages} new page(s) of {page} bytes; nothing was written");
        lock (_gate)
        {
            if (MaxBytesTotal > 0 && (_totalPages + newPages) * page > MaxBytesTotal)
                throw new QuotaExceededException($"memory quota MaxResidentBytesTotal ({MaxBytesTotal} bytes): all systems hold {_totalPages * page} resident bytes and this write needs {newPages} new page(s) of {page} bytes; nothing was written");
            _totalPages += newPages;
        }
    }

    /// <summary>Whether <paramref name="newPages"/> more pages fit for a system holding <paramref name="systemPages"/> (nothing is taken).</summary>
    internal bool HasRoom(long systemPages, long newPages)
    {
        const long page = PhysicalMemory.PageSize;
        if (MaxBytesPerSystem > 0 && (systemPages + newPages) * page > MaxBytesPerSystem) return false;
        lock (_gate) return MaxBytesTotal == 0 || (_totalPages + newPages) * page <= MaxBytesTotal;
    }

    internal void Force(long pages)
    {
        lock (_gate) _totalPages += pages;
    }

    internal void Release(long pages)
    {
        if (pages <= 0) return;
        lock (_gate) _totalPages -= pages;
    }
}
