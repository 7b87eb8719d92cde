namespace Spmc.Server.Hosting;

/// <summary>Service configuration (section "Spmc"; environment: Spmc__DefaultManifest, ...).</summary>
public sealed class SpmcOptions
{
    public const string Section = "Spmc";

    /// <summary>Manifest of the system named "default", created at start-up. Empty: no default system.
    /// Relative paths are resolved against the application directory.</summary>
    public string DefaultManifest { get; set; } = "manifests/default.json";

    /// <summary>Optional directory: every *.json file in it becomes a system named after the file.</summary>
    public string ManifestDirectory { get; set; } = "";

    /// <summary>The most systems one service hosts at once.</summary>
    public int MaxSystems { get; set; } = 1000;

    /// <summary>Trace ring, followers, recordings and replay (section "Spmc:Traces").</summary>
    public TracesOptions Traces { get; set; } = new();

    /// <summary>Resource quotas (section "Spmc:Quotas").</summary>
    public QuotasOptions Quotas { get; set; } = new();

    /// <summary>Request rate per client (section "Spmc:RateLimit").</summary>
    public RateLimitOptions RateLimit { get; set; } = new();
}

/// <summary>
/// Quotas (section "Spmc:Quotas"). The memory defaults keep the shipped Deployment (limit 512 MiB) inside its limit:
/// 256 MiB of simulated pages in total plus the runtime's ~100 MiB baseline and a serialized view's transient copy.
/// 0 means no bound.
/// </summary>
public sealed class QuotasOptions
{
    /// <summary>Resident simulated memory one system may hold (whole 4 KiB pages that hold a non-zero byte).</summary>
    public long MaxResidentBytesPerSystem { get; set; } = 64L << 20;

    /// <summary>Resident simulated memory all systems together may hold.</summary>
    public long MaxResidentBytesTotal { get; set; } = 256L << 20;

    /// <summary>Streams open on one system at once: Watch, Trace follow, Session (per system it reached), SnapshotStream.</summary>
    public int MaxStreamsPerSystem { get; set; } = Core.Systems.SystemQuotas.Default.MaxStreamsPerSystem;

    /// <summary>Remote partitions of one system attached at once (PartitionHost.Attach).</summary>
    public int MaxAttachmentsPerSystem { get; set; } = Core.Systems.SystemQuotas.Default.MaxAttachmentsPerSystem;

    /// <summary>Constituents one memory transaction may describe; beyond, the SPMC answers NO_MEMORY.</summary>
    public int MaxConstituentsPerTransaction { get; set; } = Core.Systems.SystemQuotas.Default.MaxConstituentsPerTransaction;

    /// <summary>
    /// Bytes one streamed restore or create (RestoreStream, CreateStream) may carry: at least <see cref="MinSnapshotStreamBytes"/>,
    /// so a system filled to its memory quota can be streamed back (each 4 KiB page costs about 12 bytes more on the wire).
    /// </summary>
    public long MaxSnapshotStreamBytes { get; set; } = 68L << 20;

    /// <summary>The smallest stream budget that carries a system at <see cref="MaxResidentBytesPerSystem"/>: its pages, 1% for their framing, and 1 MiB for the rest of the document.</summary>
    public long MinSnapshotStreamBytes => MaxResidentBytesPerSystem == 0 ? 0 : MaxResidentBytesPerSystem + MaxResidentBytesPerSystem / 100 + (1L << 20);

    /// <summary>The longest a streamed restore or create may wait for its next chunk.</summary>
    public TimeSpan SnapshotStreamIdleTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The Core form of the per-system bounds.</summary>
    public Core.Systems.SystemQuotas SystemQuotas() => new()
    {
        MaxStreamsPerSystem = MaxStreamsPerSystem,
        MaxAttachmentsPerSystem = MaxAttachmentsPerSystem,
        MaxConstituentsPerTransaction = MaxConstituentsPerTransaction,
    };

    /// <summary>Systems one client may hold at once (docs/security.md#systems-per-client): the operator is exempt, and in
    /// mode none a caller on this machine. 0 means no bound.</summary>
    public int MaxSystemsPerClient { get; set; } = 32;
}
