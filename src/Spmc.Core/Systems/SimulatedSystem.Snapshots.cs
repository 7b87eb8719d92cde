using Spmc.Core.Manifests;
using Spmc.Core.Memory;
using Spmc.Core.Snapshots;

namespace Spmc.Core.Systems;

/// <summary>Snapshot and restore (docs/snapshots.md): the whole state between calls, as a <see cref="SystemSnapshot"/>.</summary>
public sealed partial class SimulatedSystem
{
    /// <summary>
    /// The system's complete state now, under the lock (so between calls). Refused (<see cref="ConflictException"/>)
    /// while a client is attached to a remote partition or a call waits on one: those are live connections, not state.
    /// </summary>
    public SystemSnapshot Snapshot()
    {
        lock (_gate)
        {
            ThrowIfDeleted();
            if (_waiting > 0) throw new StateConflictException($"snapshot: {_waiting} call(s) wait on remote partitions; a snapshot is taken between calls");
            var spmc = Snapshots.SpmcSnapshots.Export(_spmc.State);
            return new SystemSnapshot(SystemSnapshot.CurrentVersion, ManifestValidator.ToDocument(Config).ToJson(), _calls, _sequence, _eventSequence,
                spmc, _proxy.Export(),
                _map.Entries.Select(e => new OwnershipRange(e.Start, e.End, e.Value)).ToList(),
                _memory.ExportPages().Select(p => new MemoryPage(p.Page * PhysicalMemory.PageSize, p.Bytes)).ToList(),
                _faults.Export());
        }
    }

    /// <summary>The sequence of the last call or memory record (for observers, under the lock).</summary>
    public long LastSequence => _sequence;

    /// <summary>A new system <paramref name="id"/> built from the snapshot's manifest and then given its state.</summary>
    public static SimulatedSystem FromSnapshot(string id, SystemSnapshot snapshot, IReadOnlyList<ISystemObserver>? observers = null, Memory.MemoryQuota? quota = null,
        SystemQuotas? quotas = null)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var system = new SimulatedSystem(id, ValidateManifest(snapshot), observers, quota, quotas);
        lock (system._gate)
        {
            try
            {
                system.Load(snapshot);
            }
            catch
            {
                system._memory.Release();   // never registered: its pages go back to the quota
                throw;
            }
            foreach (var o in system._observers) o.OnRestored(system);
        }
        return system;
    }

    /// <summary>
    /// Replaces this system's state with the snapshot's, keeping its ID, observers and subscribers. The snapshot must
    /// come from the same manifest; refused while a client is attached to one of its remote partitions. The fault
    /// rules become the snapshot's (none when it has no <c>faults</c>). Observers hear <see cref="ISystemObserver.OnRestored"/>.
    /// </summary>
    public void RestoreInPlace(SystemSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        lock (_gate)
        {
            ThrowIfDeleted();
            // Compared in canonical form: a document's manifest may be an object with other spacing (or version 1's string).
            if (ManifestValidator.ToDocument(ValidateManifest(snapshot)).ToJson() != ManifestValidator.ToDocument(Config).ToJson())
                throw new InvalidRequestException($"snapshot.manifest: not the manifest of system '{Id}' (build a new system from it instead)");
            if (_waiting > 0) throw new StateConflictException($"snapshot: {_waiting} call(s) wait on remote partitions; restore between calls");
            if (_attachments.Count > 0)
                throw new StateConflictException($"snapshot: clients are attached to {string.Join(", ", _attachments.Keys.Order().Select(Abi.Ffa.EndpointId.Format))}; detach them before restoring");
            // Loaded into fresh components, kept only when the whole document loads: a refused snapshot leaves the
            // system as it was.
            var kept = (_memory, _map, _spmc, _port, _proxy);
            // The snapshot's pages replace the current ones: only the net change counts against the memory quota.
            _memory.Release();
            Build();
            try
            {
                Load(snapshot);
            }
            catch
            {
                _memory.Release();
                (_memory, _map, _spmc, _port, _proxy) = kept;
                _memory.Reclaim();
                throw;
            }
            foreach (var o in _observers) o.OnRestored(this);
        }
    }

    private static SystemConfig ValidateManifest(SystemSnapshot snapshot)
    {
        if (!SystemSnapshot.IsSupported(snapshot.Version)) throw SystemSnapshot.Unsupported(snapshot.Version);
        try
        {
            return ManifestValidator.Validate(snapshot.Manifest);
        }
        catch (InvalidRequestException e)
        {
            throw new InvalidRequestException($"snapshot.manifest: {e.Message}");
        }
    }

    /// <summary>Loads every component; under the lock, on a system built from the snapshot's manifest.</summary>
    private void Load(SystemSnapshot s)
    {
        ValidateManifest(s);
        ulong? previous = null;
        foreach (var p in s.Pages)
        {
            if (p.Address % PhysicalMemory.PageSize != 0 || p.Bytes is not { Length: PhysicalMemory.PageSize })
                throw new InvalidRequestException($"snapshot.pages[0x{p.Address:X}]: a page is {PhysicalMemory.PageSize} bytes at a page-aligned address");
            if (p.Address <= previous)
                throw new InvalidRequestException($"snapshot.pages[0x{p.Address:X}]: pages are listed once each, in address order");
            previous = p.Address;
        }
        var end = 0UL;
        foreach (var r in s.MemoryMap)
        {
            if (r.End <= r.Start || r.Start < end)
                throw new InvalidRequestException($"snapshot.memoryMap: range 0x{r.Start:X}..0x{r.End:X} is empty, or not after the one before it");
            end = r.End;
        }
        var faults = new Faults.FaultSet();
        faults.Load(s.Faults, Capabilities());
        _memory.LoadPages(s.Pages.Select(p => (p.Address / PhysicalMemory.PageSize, p.Bytes)));
        _map.Load(s.MemoryMap.Select(r => new RangeMap<PageState>.Entry(r.Start, r.End, r.State)));
        Snapshots.SpmcSnapshots.Load(_spmc.State, s.Spmc);
        _proxy.Load(s.Proxy);
        _faults = faults;
        (_calls, _sequence, _eventSequence) = (s.Calls, s.Sequence, s.EventSequence);
    }
}
