using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Spmc.Core.Manifests;

namespace Spmc.Core.Systems;

/// <summary>
/// The systems one service hosts, each isolated. Creation validates the manifest; IDs are given by the user
/// or allocated in order ("sys-1", "sys-2", ...). Every system tells the registry's observers what it does.
/// </summary>
public sealed partial class SystemRegistry(int maxSystems = SystemRegistry.DefaultMaxSystems, IEnumerable<ISystemObserver>? observers = null,
    Memory.MemoryQuota? memoryQuota = null, SystemQuotas? quotas = null)
{
    /// <summary>Streams, attachments and constituents every system built here allows.</summary>
    public SystemQuotas Quotas { get; } = (quotas ?? SystemQuotas.Default).Validated();

    /// <summary>Resident memory allowed per system and across all of them (handed to every system built here).</summary>
    public Memory.MemoryQuota MemoryQuota { get; } = memoryQuota ?? Memory.MemoryQuota.Unlimited();

    private readonly ISystemObserver[] _observers = observers is null ? [] : [.. observers];

    public const int DefaultMaxSystems = 1000;
    private readonly ConcurrentDictionary<string, SimulatedSystem> _systems = new(StringComparer.Ordinal);
    private readonly Lock _createGate = new();
    private long _nextId;

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,62}$")]
    private static partial Regex IdPattern();

    public SimulatedSystem Create(string? id, string manifestJson) => Create(id, ManifestValidator.Validate(manifestJson));

    public SimulatedSystem Create(string? id, SystemConfig config) => Create(id, id => new SimulatedSystem(id, config, _observers, MemoryQuota, Quotas));

    /// <summary>
    /// A new system built from <paramref name="snapshot"/> (<see cref="SimulatedSystem.FromSnapshot"/>): its
    /// observers hear <see cref="ISystemObserver.OnRestored"/>, then <see cref="ISystemObserver.OnCreated"/>.
    /// </summary>
    public SimulatedSystem Create(string? id, Snapshots.SystemSnapshot snapshot) => Create(id, id => SimulatedSystem.FromSnapshot(id, snapshot, _observers, MemoryQuota, Quotas));

    private SimulatedSystem Create(string? id, Func<string, SimulatedSystem> build)
    {
        if (id is not null && id.Length > 0 && !IdPattern().IsMatch(id))
            throw new InvalidRequestException($"id: '{id}' must be 1-63 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit");
        lock (_createGate)
        {
            if (_systems.Count >= maxSystems) throw new QuotaExceededException($"this service already hosts {maxSystems} systems; delete one first");
            if (string.IsNullOrEmpty(id))
                do id = $"sys-{++_nextId}"; while (_systems.ContainsKey(id));
            if (_systems.ContainsKey(id)) throw new ConflictException($"id: a system '{id}' already exists");
            var system = build(id);
            if (!_systems.TryAdd(id, system)) throw new ConflictException($"id: a system '{id}' already exists");
            foreach (var o in _observers) o.OnCreated(system);
            return system;
        }
    }

    public SimulatedSystem Get(string id) =>
        _systems.TryGetValue(id ?? "", out var system) ? system : throw new NotFoundException($"system '{id}' does not exist");

    public IReadOnlyList<SimulatedSystem> List() => _systems.Values.OrderBy(s => s.Id, StringComparer.Ordinal).ToList();

    public void Delete(string id)
    {
        SimulatedSystem? removed;
        // Under the creation lock: a system is never removed between its creation and its observers' OnCreated,
        // so every observer sees OnCreated before OnDeleted.
        lock (_createGate)
            if (!_systems.TryRemove(id ?? "", out removed)) throw new NotFoundException($"system '{id}' does not exist");
        removed.Shutdown();
        foreach (var o in _observers) o.OnDeleted(removed);
    }
}
