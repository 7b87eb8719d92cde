namespace Spmc.Core.Systems;

/// <summary>What a system holds right now, counted cheaply (no state snapshot): what metrics gauges read.</summary>
public readonly record struct SystemCounts(long ResidentBytes, int Shares, int Attachments);

public sealed partial class SimulatedSystem
{
    /// <summary>Resident simulated memory, outstanding shares (lent, shared or donated, not yet reclaimed) and attached
    /// partition clients, read under the lock without building a <see cref="SystemState"/>.</summary>
    public SystemCounts GetCounts()
    {
        lock (_gate) return new SystemCounts((long)_memory.ResidentPages * Memory.PhysicalMemory.PageSize, _spmc.State.Shares.Count, _attachments.Count);
    }

    /// <summary>The system was deleted (<see cref="Shutdown"/> has run): an observer that hears of its creation late drops it.</summary>
    public bool IsDeleted
    {
        get { lock (_gate) return _shutDown; }
    }
}
