using System.Diagnostics.Metrics;
using Grpc.AspNetCore.Server;
using Microsoft.Extensions.Options;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Prometheus;
using Spmc.Core.Observability;
using Spmc.Core.Systems;

namespace Spmc.Server.Hosting;

/// <summary>
/// Logs, metrics and traces. Always: the SMC log observer (category "Spmc.Smc"), the "Spmc" meter fed by every call,
/// and <c>GET /metrics</c> (Prometheus, on by default). With <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> set: OpenTelemetry
/// exports traces (the "Spmc" source under ASP.NET Core's request spans), metrics and logs over OTLP. Without it no
/// tracer listens, so SMC spans are never created.
/// </summary>
public static class TelemetryExtensions
{
    public const string OtlpEndpointSetting = "OTEL_EXPORTER_OTLP_ENDPOINT";

    public static WebApplicationBuilder AddSpmcTelemetry(this WebApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection(TelemetryOptions.Section);
        builder.Services.Configure<TelemetryOptions>(section);
        var options = section.Get<TelemetryOptions>() ?? new TelemetryOptions();

        builder.Services.AddSingleton(sp =>
        {
            var metrics = new SpmcMetrics(sp.GetRequiredService<IMeterFactory>());
            foreach (var method in StreamCountingInterceptor.KnownStreams) metrics.DeclareStream(method);
            return metrics;
        });
        builder.Services.AddSingleton<ISystemObserver>(sp => sp.GetRequiredService<SpmcMetrics>());
        builder.Services.AddSingleton<ISystemObserver, SmcLogObserver>();
        builder.Services.AddHostedService<ListeningLog>();
        builder.Services.Configure<GrpcServiceOptions>(o => o.Interceptors.Add<StreamCountingInterceptor>());
        builder.Services.AddSingleton(sp => new PrometheusBridge(sp.GetRequiredService<SpmcMetrics>(),
            sp.GetRequiredService<IOptions<TelemetryOptions>>().Value.ProcessMetrics));

        var otlp = !string.IsNullOrWhiteSpace(builder.Configuration[OtlpEndpointSetting]);
        if (!otlp && !options.Tracing) return builder;
        var otel = builder.Services.AddOpenTelemetry().ConfigureResource(r => r.AddService("spmc"));
        otel.WithTracing(t =>
        {
            t.AddSource(SpmcTelemetry.Name).AddAspNetCoreInstrumentation();
            if (otlp) t.AddOtlpExporter();
        });
        if (otlp)
        {
            otel.WithMetrics(m => m.AddMeter(SpmcTelemetry.Name).AddAspNetCoreInstrumentation().AddOtlpExporter());
            otel.WithLogging(l => l.AddOtlpExporter());
        }
        return builder;
    }

    /// <summary>Serves the Prometheus scrape endpoint (unless Spmc:Telemetry:Prometheus is false).</summary>
    public static WebApplication MapSpmcTelemetry(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<TelemetryOptions>>().Value;
        if (!options.Prometheus) return app;
        var bridge = app.Services.GetRequiredService<PrometheusBridge>();
        app.MapMetrics(s => s.Registry = bridge.Registry, options.MetricsPath)
            .WithTags("Telemetry").WithSummary("Prometheus scrape: spmc_calls_total, spmc_call_duration_seconds, spmc_systems, ...");
        return app;
    }
}
