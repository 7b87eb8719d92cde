using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Spmc.Core.Systems;

namespace Spmc.Server.Hosting;

/// <summary>Cross-cutting set-up of the host: the domain, health.</summary>
public static class HostingExtensions
{
    public static WebApplicationBuilder AddSpmcDomain(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<SpmcOptions>().Bind(builder.Configuration.GetSection(SpmcOptions.Section))
            .Validate(o => o.MaxSystems > 0, "Spmc:MaxSystems must be positive")
            .Validate(o => o.Quotas.MaxResidentBytesPerSystem >= 0, "Spmc:Quotas:MaxResidentBytesPerSystem must not be negative (0: no bound)")
            .Validate(o => o.Quotas.MaxResidentBytesTotal >= 0, "Spmc:Quotas:MaxResidentBytesTotal must not be negative (0: no bound)")
            .Validate(o => o.Quotas.MaxStreamsPerSystem >= 0, "Spmc:Quotas:MaxStreamsPerSystem must not be negative (0: no bound)")
            .Validate(o => o.Quotas.MaxAttachmentsPerSystem >= 0, "Spmc:Quotas:MaxAttachmentsPerSystem must not be negative (0: no bound)")
            .Validate(o => o.Quotas.MaxConstituentsPerTransaction >= 0, "Spmc:Quotas:MaxConstituentsPerTransaction must not be negative (0: no bound)")
            .Validate(o => o.Quotas.MaxSnapshotStreamBytes >= 0, "Spmc:Quotas:MaxSnapshotStreamBytes must not be negative (0: no bound)")
            .Validate(o => o.Quotas.MaxSnapshotStreamBytes == 0 || o.Quotas.MaxSnapshotStreamBytes >= o.Quotas.MinSnapshotStreamBytes,
                "Spmc:Quotas:MaxSnapshotStreamBytes must be 0 or at least MaxResidentBytesPerSystem + 1% + 1 MiB, so a system at its memory quota can be streamed back")
            .Validate(o => o.RateLimit.MaxConcurrentUploads >= 0 && o.RateLimit.UploadQueue >= 0,
                "Spmc:RateLimit:MaxConcurrentUploads and UploadQueue must not be negative (MaxConcurrentUploads 0: no bound)")
            .Validate(o => o.Quotas.SnapshotStreamIdleTimeout >= TimeSpan.Zero, "Spmc:Quotas:SnapshotStreamIdleTimeout must not be negative (0: no bound)")
            .Validate(o => o.RateLimit.PermitsPerSecond >= 0, "Spmc:RateLimit:PermitsPerSecond must not be negative (0: no limit)")
            .Validate(o => o.RateLimit.PermitsPerSecond == 0 || o.RateLimit.Burst > 0, "Spmc:RateLimit:Burst must be positive while PermitsPerSecond is set")
            .Validate(o => o.Quotas.MaxSystemsPerClient >= 0, "Spmc:Quotas:MaxSystemsPerClient must not be negative (0: no bound)");

        builder.Services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<SpmcOptions>>().Value;
            return new SystemRegistry(options.MaxSystems, sp.GetServices<ISystemObserver>(),
                new Spmc.Core.Memory.MemoryQuota(options.Quotas.MaxResidentBytesPerSystem, options.Quotas.MaxResidentBytesTotal),
                options.Quotas.SystemQuotas());
        });
        builder.Services.AddSingleton<StartupSystems>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<StartupSystems>());
        return builder;
    }

    /// <summary>One set of health checks served twice: grpc.health.v1 on the gRPC endpoint and /healthz on REST.</summary>
    public static WebApplicationBuilder AddSpmcHealth(this WebApplicationBuilder builder)
    {
        builder.Services.AddGrpcHealthChecks()
            .AddCheck<SystemsHealthCheck>("systems");
        return builder;
    }

    public static WebApplication MapSpmcHealth(this WebApplication app)
    {
        app.MapGrpcHealthChecksService();
        app.MapHealthChecks("/healthz").WithTags("Health").WithSummary("Liveness and readiness: Healthy once start-up systems exist.");
        return app;
    }
}

/// <summary>Healthy once the start-up systems were created.</summary>
public sealed class SystemsHealthCheck(StartupSystems startup, SystemRegistry registry) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(startup.Loaded
            ? HealthCheckResult.Healthy($"{registry.List().Count} system(s)")
            : HealthCheckResult.Unhealthy("start-up systems are not created yet"));
}
