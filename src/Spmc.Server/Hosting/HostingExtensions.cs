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
            .Validate(o => o.Quotas.MaxSystemsPerClient >= 0, "Spmc:Quotas:MaxSystemsPerClient must not be negative (0: no bound)");
        builder.Services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<SpmcOptions>>().Value;
            return new SystemRegistry(options.MaxSystems, sp.GetServices<ISystemObserver>(),
                new Spmc.Core.Memory.MemoryQuota(options.Quotas.MaxResidentBytesPerSystem, options.Quotas.MaxResidentBytesTotal));
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
