using Microsoft.Extensions.Options;
using Spmc.Core.Systems;
using Spmc.Persistence;

namespace Spmc.Server.Hosting;

/// <summary>
/// Durable systems (section "Spmc:Persistence", docs/persistence.md): with a mode other than off, the store observes
/// every system, and every stored system is restored before the start-up systems are created and before the service
/// takes requests (a stored "default" wins over the manifest). Off: metadata lives in memory.
/// </summary>
public static class PersistenceExtensions
{
    public const string Section = "Spmc:Persistence";

    /// <summary>Call before <c>AddSpmcDomain</c>: hosted services start in order, and the restore must come first.</summary>
    public static WebApplicationBuilder AddSpmcPersistence(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<PersistenceOptions>().Bind(builder.Configuration.GetSection(Section));
        builder.Services.AddSingleton<PersistenceHost>();
        builder.Services.AddSingleton(sp => sp.GetRequiredService<PersistenceHost>().Metadata);
        builder.Services.AddSingleton(sp => sp.GetRequiredService<PersistenceHost>().Observer);
        builder.Services.AddHostedService(sp => sp.GetRequiredService<PersistenceHost>());
        return builder;
    }
}

/// <summary>
/// The host's side of persistence: the store (null when off) or in-memory metadata, the restore at start (failing the
/// start on unreadable data, before any later hosted service runs) and the final flush at stop.
/// </summary>
public sealed class PersistenceHost : IHostedService
{
    private readonly IServiceProvider _services;
    private readonly ILogger<PersistenceHost> _log;

    public PersistenceHost(IOptions<PersistenceOptions> options, IServiceProvider services, ILogger<PersistenceHost> log)
    {
        (_services, _log) = (services, log);
        var o = options.Value;
        if (o.Problem() is { } problem) throw new InvalidOperationException(problem);
        if (o.Mode == PersistenceMode.Off)
        {
            var memory = new InMemorySystemMetadata();
            (Metadata, Observer) = (memory, memory);
        }
        else
        {
            Store = new PersistentStore(o, services.GetRequiredService<ILogger<PersistentStore>>());
            (Metadata, Observer) = (Store, Store);
        }
    }

    /// <summary>The store, or null when persistence is off.</summary>
    public PersistentStore? Store { get; }

    public ISystemMetadata Metadata { get; }

    public ISystemObserver Observer { get; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (Store is null) return;
        try
        {
            var restored = await Store.RestoreAsync(_services.GetRequiredService<SystemRegistry>(), cancellationToken);
            _log.LogInformation("Persistence ({Mode}) in {Root}: {Count} system(s) restored", Store.Mode, Store.Root, restored.Count);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"Spmc:Persistence: cannot restore the stored systems from '{Store.Root}': {e.Message}", e);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Store is not null) await Store.DisposeAsync();
    }
}
