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
}
