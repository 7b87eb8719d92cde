namespace Spmc.Server.Hosting;

/// <summary>
/// Telemetry settings (section "Spmc:Telemetry"; environment: Spmc__Telemetry__Prometheus, ...). OTLP export is
/// switched on by the standard OpenTelemetry setting <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> (environment or configuration).
/// </summary>
public sealed class TelemetryOptions
{
    public const string Section = "Spmc:Telemetry";

    /// <summary>Serve the "Spmc" meter in the Prometheus text format at <see cref="MetricsPath"/> (on the REST port).</summary>
    public bool Prometheus { get; set; } = true;

    public string MetricsPath { get; set; } = "/metrics";

    /// <summary>Add prometheus-net's process and .NET runtime collectors (process_*, dotnet_*) to the scrape.</summary>
    public bool ProcessMetrics { get; set; } = true;

    /// <summary>
    /// Build the OpenTelemetry tracer provider (the "Spmc" source and ASP.NET Core requests) even without OTLP, for an
    /// exporter added in code (tests). Off by default: without a listener spans cost nothing.
    /// </summary>
    public bool Tracing { get; set; }
}
