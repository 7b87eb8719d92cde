using Microsoft.Extensions.Options;
using Spmc.Core;
using Spmc.Core.Systems;

namespace Spmc.Server.Hosting;

/// <summary>
/// Creates the systems named by configuration before the service takes requests: "default" from the
/// shipped manifest, and one per file of the manifest directory. A bad manifest stops the start-up with
/// the validator's message, rather than starting a service without its systems.
/// </summary>
public sealed class StartupSystems(SystemRegistry registry, IOptions<SpmcOptions> options, ILogger<StartupSystems> log) : IHostedService
{
    public const string DefaultId = "default";

    public bool Loaded { get; private set; }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        if (!string.IsNullOrWhiteSpace(o.DefaultManifest)) Load(DefaultId, Resolve(o.DefaultManifest));
        if (!string.IsNullOrWhiteSpace(o.ManifestDirectory))
        {
            var dir = Resolve(o.ManifestDirectory);
            if (!Directory.Exists(dir)) throw new InvalidOperationException($"Spmc:ManifestDirectory '{dir}' does not exist");
            foreach (var file in Directory.EnumerateFiles(dir, "*.json").Order(StringComparer.Ordinal))
            {
                var id = Path.GetFileNameWithoutExtension(file).ToLowerInvariant();
                if (id == DefaultId && !string.IsNullOrWhiteSpace(o.DefaultManifest)) continue;
                Load(id, file);
            }
        }
        Loaded = true;
        return Task.CompletedTask;
    }

    private void Load(string id, string path)
    {
        if (registry.List().Any(s => s.Id == id))
        {
            // Restored by persistence (docs/persistence.md): the stored system wins over its manifest.
            log.LogInformation("System '{Id}' was restored from the store; manifest {Path} not applied", id, Path.GetFullPath(path));
            return;
        }
        try
        {
            // The system's own line (SPMC, version, endpoints, proxy) comes from the log observer (category Spmc.Systems).
            registry.Create(id, File.ReadAllText(path));
            log.LogInformation("System '{Id}' created from manifest {Path}", id, Path.GetFullPath(path));
        }
        catch (Exception e) when (e is SpmcRequestException or IOException)
        {
            throw new InvalidOperationException($"cannot create system '{id}' from {path}: {e.Message}", e);
        }
    }

    private static string Resolve(string path) => Path.IsPathRooted(path) ? path : Path.Combine(AppContext.BaseDirectory, path);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
