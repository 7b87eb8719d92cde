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

    /// <summary>Systems one client may hold at once (docs/security.md#systems-per-client): the operator is exempt, and in
    /// mode none a caller on this machine. 0 means no bound.</summary>
    public int MaxSystemsPerClient { get; set; } = 32;
}
