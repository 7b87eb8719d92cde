namespace Spmc.Core.Systems;

/// <summary>
/// Per-system bounds on what clients may hold open or ask one transaction to carry (configuration "Spmc:Quotas").
/// 0 means no bound. Deterministic: each answer depends only on what is open or what the descriptor says.
/// </summary>
public sealed record SystemQuotas
{
    /// <summary>The defaults: those of the service (docs/configuration.md#quotas).</summary>
    public static SystemQuotas Default { get; } = new();

    /// <summary>No bound at all.</summary>
    public static SystemQuotas Unlimited { get; } = new() { MaxStreamsPerSystem = 0, MaxAttachmentsPerSystem = 0, MaxConstituentsPerTransaction = 0 };

    /// <summary>Server streams open on one system at once: Watch, Trace follow, Session (per system it reached) and SnapshotStream.</summary>
    public int MaxStreamsPerSystem { get; init; } = 16;

    /// <summary>Remote partitions of one system attached at once (PartitionHost.Attach).</summary>
    public int MaxAttachmentsPerSystem { get; init; } = 16;

    /// <summary>
    /// Constituents one memory transaction may describe. 5120 is what Hafnium's default build can hold: 20 fragments
    /// (MAX_FRAGMENTS) of one 4 KiB mailbox page (HF_MAILBOX_SIZE) at 16 bytes per constituent; a transaction then
    /// costs this service about 1 MiB at most.
    /// </summary>
    public int MaxConstituentsPerTransaction { get; init; } = 5120;

    /// <summary>Throws naming the first negative bound.</summary>
    public SystemQuotas Validated()
    {
        if (MaxStreamsPerSystem < 0) throw new ArgumentOutOfRangeException(nameof(MaxStreamsPerSystem), MaxStreamsPerSystem, "must not be negative (0: no bound)");
        if (MaxAttachmentsPerSystem < 0) throw new ArgumentOutOfRangeException(nameof(MaxAttachmentsPerSystem), MaxAttachmentsPerSystem, "must not be negative (0: no bound)");
        if (MaxConstituentsPerTransaction < 0)
            throw new ArgumentOutOfRangeException(nameof(MaxConstituentsPerTransaction), MaxConstituentsPerTransaction, "must not be negative (0: no bound)");
        return this;
    }
}
