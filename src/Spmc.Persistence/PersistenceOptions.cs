namespace Spmc.Persistence;

/// <summary>When an acknowledged state change is durable (docs/persistence.md).</summary>
public enum PersistenceMode
{
    /// <summary>Nothing is stored; nothing survives a restart.</summary>
    Off,

    /// <summary>Journal entries are written and fsynced by a background flusher every <see cref="PersistenceOptions.BatchWindowMs"/>: a crash loses at most that window.</summary>
    Batched,

    /// <summary>Each journal entry is written and fsynced before the call's answer leaves.</summary>
    Strict,
}

/// <summary>Persistence (configuration section "Spmc:Persistence").</summary>
public sealed class PersistenceOptions
{
    public PersistenceMode Mode { get; set; } = PersistenceMode.Off;

    /// <summary>The directory holding every system's journal and checkpoints (created when missing). Required unless off.</summary>
    public string Path { get; set; } = "";

    /// <summary>Batched mode: how often the background flusher writes and fsyncs what was journaled.</summary>
    public int BatchWindowMs { get; set; } = 50;

    /// <summary>After this many journal entries a system gets a checkpoint (its snapshot) and its older journal is dropped.</summary>
    public int CheckpointEvery { get; set; } = 1000;

    /// <summary>The first thing wrong with these options, or null.</summary>
    public string? Problem() => Mode switch
    {
        PersistenceMode.Off => null,
        _ when string.IsNullOrWhiteSpace(Path) => "Spmc:Persistence:Path: a directory is required when Mode is not off",
        _ when BatchWindowMs is < 1 or > 60_000 => $"Spmc:Persistence:BatchWindowMs: {BatchWindowMs} is outside 1..60000",
        _ when CheckpointEvery < 1 => $"Spmc:Persistence:CheckpointEvery: {CheckpointEvery} must be at least 1",
        _ => null,
    };
}
