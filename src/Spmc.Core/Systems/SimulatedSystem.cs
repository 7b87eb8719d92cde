using System.Diagnostics;
using Spmc.Abi.Ffa;
using Spmc.Abi.Smccc;
using Spmc.Core.Calls;
using Spmc.Core.Faults;
using Spmc.Core.Manifests;
using Spmc.Core.Memory;
using Spmc.Core.Observability;
using Spmc.Core.Proxy;
using Spmc.Core.Spm;
using Spmc.Core.Spm.Handlers;
using Spmc.Core.Spm.Runtime;

namespace Spmc.Core.Systems;

/// <summary>Limits on what one request may move, so no input can exhaust the service.</summary>
public static class SystemLimits
{
    public const int MaxTransfer = 1 << 20;
    public const int MaxMemoryOpsPerCall = 16;
}

/// <summary>
/// One simulated machine: physical memory, the hypervisor proxy in front of the normal world, and the SPMC.
/// Calls are applied one at a time under a per-system lock, so different systems run in parallel and a
/// system's state only ever changes by whole calls. Deterministic: no clock or randomness decides an answer.
/// </summary>
public sealed partial class SimulatedSystem
{
    private readonly Lock _gate = new();
    // Rebuilt from the config by Reset (under the lock); otherwise set once at creation.
    private PhysicalMemory _memory = null!;
    private MemoryMap _map = null!;
    private PartitionManager _spmc = null!;
    private SpmcPort _port = null!;
    private IHypervisorProxy _proxy = null!;
    private long _calls;
    private long _sequence;
    private int _waiting; // calls that lent their cycles and are not finished yet (a snapshot is refused meanwhile)
    private long _generation; // bumped by Reset: a call that waited across a reset must not touch the rebuilt state
    private readonly ISystemObserver[] _observers;
    private readonly MemoryQuota _quota;

    public SimulatedSystem(string id, SystemConfig config, IReadOnlyList<ISystemObserver>? observers = null, MemoryQuota? quota = null,
        SystemQuotas? quotas = null)
    {
        Id = id;
        _quota = quota ?? MemoryQuota.Unlimited();
        Quotas = (quotas ?? SystemQuotas.Default).Validated();
        Config = config;
        _observers = observers is null ? [] : [.. observers];
        Build();
    }

    /// <summary>Memory, ownership, the SPMC, its port and the proxy as the manifest describes them (the proxy boots here).</summary>
    private void Build()
    {
        _memory = new PhysicalMemory(_quota);
        _map = new MemoryMap(Config);
        _spmc = new PartitionManager(Config, _memory, _map, Quotas.MaxConstituentsPerTransaction);
        _port = new SpmcPort(_spmc, Config.Registers);
        _proxy = ProxyProfiles.Create(Config.ProxyProfile, new ProxyContext(Config, _memory, _map, _port));
    }

    public string Id { get; }
    public SystemConfig Config { get; }

    /// <summary>Streams, attachments and constituents this system allows.</summary>
    public SystemQuotas Quotas { get; }

    /// <summary>The SPMC's state, for tests (read it between calls; it changes only through calls).</summary>
    internal SpmcState SpmcState => _spmc.State;

    /// <summary>Applies the call's memory writes as the caller, runs the SMC, then takes its reads as the caller.</summary>
    public SmcOutcome Call(SmcCall call) => CallAsync(call).GetAwaiter().GetResult();

    /// <summary>
    /// As <see cref="Call"/>; when the SMC lends the caller's cycles to a remote partition (a direct request, FFA_RUN)
    /// the answer comes when the partition gives them back, or FFA_INTERRUPT after the system's remote timeout
    /// (or when <paramref name="cancel"/> fires): the partition is then preempted and FFA_RUN resumes it.
    /// </summary>
    public Task<SmcOutcome> CallAsync(SmcCall call, CancellationToken cancel = default) => CallCoreAsync(call, fromDriver: false, cancel);

    internal async Task<SmcOutcome> CallCoreAsync(SmcCall call, bool fromDriver, CancellationToken cancel)
    {
        var started = Stopwatch.GetTimestamp();
        using var span = SpmcTelemetry.StartCall(Id, call, fromDriver);
        FfaRequest request;
        FfaAnswer answer;
        List<Hop>? hops;
        List<(int Index, FfaRequest Request)>? pendingHops = null;
        long generation;
        try
        {
            lock (_gate)
            {
                ThrowIfDeleted();
                var caller = RequireEndpoint(call.Caller, "caller");
                if (call.Vcpu >= caller.Vcpus)
                    throw new InvalidRequestException($"vcpu: {call.Vcpu} is not below the {caller.Vcpus} vCPU(s) of {EndpointId.Format(caller.Id)} '{caller.Name}'");
                var writes = call.Writes ?? [];
                var reads = call.Reads ?? [];
                if (writes.Count > SystemLimits.MaxMemoryOpsPerCall) throw new InvalidRequestException($"writes: {writes.Count} entries, at most {SystemLimits.MaxMemoryOpsPerCall}");
                if (reads.Count > SystemLimits.MaxMemoryOpsPerCall) throw new InvalidRequestException($"reads: {reads.Count} entries, at most {SystemLimits.MaxMemoryOpsPerCall}");
                for (var i = 0; i < writes.Count; i++) CheckTransfer(call.Caller, writes[i].Address, writes[i].Data.Length, write: true, $"writes[{i}]");
                for (var i = 0; i < reads.Count; i++) CheckLength(reads[i].Length, $"reads[{i}]");

                // All or nothing: the pages the writes need together are checked against the memory quota first.
                if (writes.Count > 0) _memory.WriteAll([.. writes.Select(w => (w.Address, (ReadOnlyMemory<byte>)w.Data))]);
                request = new FfaRequest(call.Caller, call.Vcpu, call.Frame) { FromDriver = fromDriver };
                // A fault rule answers at the caller's SMC conduit: a VM's call never reaches the proxy, nothing runs.
                // A retrieve request is matched by the handle in its descriptor, read from the caller's TX as the SPMC will.
                // Guarded so a system without rules does not build the closure on every call.
                var fault = _faults.Count == 0 ? null : _faults.Inject(request, () => RetrieveHandle(request));
                if (fault is { Action: FaultAction.Error }) (answer, hops) = (Injected(request, fault), null);
                else if (fault is not null) (answer, hops, pendingHops) = DispatchWithFault(request, fault);
                else (answer, hops, pendingHops) = Dispatch(request);
                _calls++;
                if (answer.Wait is null) return SpmcTelemetry.EndCall(span, _sequence + 1, Finish(call, request, answer, hops, started, fromDriver));
                _waiting++;
                generation = _generation;
            }
            try
            {
                return await WaitAndFinishAsync(call, request, answer, hops, pendingHops, started, fromDriver, span, generation, cancel).ConfigureAwait(false);
            }
            finally
            {
                lock (_gate)
                    if (--_waiting == 0 && _attachments.Count == 0) Settled();
            }
        }
        catch (Exception e) when (span is not null)
        {
            // Refused (unknown caller, deleted system, ...) or cancelled: the span ends marked Error, and so does a hop
            // still waiting for an attached partition's answer (a parked wait is not timed out).
            SpmcTelemetry.Fail(span, e);
            if (pendingHops is not null)
                foreach (var (_, hopRequest) in pendingHops) SpmcTelemetry.AbandonHop(hopRequest, e);
            throw;
        }
    }

    /// <summary>The second half of a call that lent its cycles: waits for the answer, then finishes under the lock.</summary>
    private async Task<SmcOutcome> WaitAndFinishAsync(SmcCall call, FfaRequest request, FfaAnswer answer, List<Hop>? hops,
        List<(int Index, FfaRequest Request)>? pendingHops, long started, bool fromDriver, Activity? span, long generation, CancellationToken cancel)
    {
        var waiter = answer.Wait!;
        FfaAnswer final;
        if (waiter.IsParked)
        {
            // A remote partition's own FFA_MSG_WAIT / response / yield: it waits until it is run again (or detaches).
            final = await waiter.Task.WaitAsync(cancel).ConfigureAwait(false);
        }
        else
        {
            var timeout = TimeSpan.FromMilliseconds(Config.RemoteTimeoutMs);
            try
            {
                final = await waiter.Task.WaitAsync(timeout, cancel).ConfigureAwait(false);
            }
            catch (Exception e) when (e is TimeoutException or OperationCanceledException)
            {
                lock (_gate)
                    final = waiter.Completed || generation != _generation ? waiter.Result ?? Stale() : _spmc.Preempt(waiter, timeout);
            }
        }
        lock (_gate)
        {
            // A parked call returns the message the partition is resumed with (a REQ2 or REQ_64 after a 32-bit
            // FFA_MSG_WAIT, say), and a lender the partition's answer: SMC64 ones keep their own width (§11.1.2).
            // The hop that lent the cycles was recorded while its answer was pending: it shows the real answer now,
            // in its place (a proxy's own later hops, if any, keep their order after it).
            if (hops is not null && pendingHops is { Count: > 0 })
                foreach (var (index, hopRequest) in pendingHops) hops[index] = _port.CompleteHop(hopRequest, final);
            final = _port.Complete(final with { Wait = null }, call.Frame, request.FunctionId);
            if (generation != _generation) return SpmcTelemetry.EndCall(span, 0, Stale(call, request, final, hops));
            return SpmcTelemetry.EndCall(span, _sequence + 1, Finish(call, request, final, hops, started, fromDriver));
        }
    }

    /// <summary>Decodes the answer, takes the call's reads, publishes the events it raised and tells the observers. Under the lock.</summary>
    private SmcOutcome Finish(SmcCall call, FfaRequest request, FfaAnswer answer, List<Hop>? hops, long started, bool fromDriver)
    {
        var reads = call.Reads ?? [];
        var results = new List<MemoryReadResult>(reads.Count);
        foreach (var r in reads)
        {
            var denied = AccessDenied(call.Caller, r.Address, (ulong)r.Length, write: false);
            results.Add(denied is null ? new MemoryReadResult(r.Address, _memory.Read(r.Address, r.Length), null)
                : new MemoryReadResult(r.Address, null, $"{EndpointId.Format(call.Caller)} may not read: {denied}"));
        }
        var events = PublishEvents();
        var outcome = new SmcOutcome(answer.Frame, SpmcPort.Decode(request, answer, hops), results, events.Count == 0 ? null : events);
        if (_observers.Length > 0)
        {
            var record = new CallRecord(++_sequence, call, outcome, Stopwatch.GetElapsedTime(started), fromDriver);
            foreach (var o in _observers) o.OnCall(this, record);
        }
        else _sequence++;
        return outcome;
    }

    /// <summary>The answer of a call whose wait outlived a reset that somehow did not complete it (never expected).</summary>
    private FfaAnswer Stale() => FfaAnswer.Fail(RuntimeRules.SystemDeleted.Reject($"system '{Id}' was reset while this call waited"));

    /// <summary>
    /// A call that waited across a reset ends with its own answer (ABORTED) and touches nothing of the rebuilt
    /// system: no reads (each says why), no events, no sequence number, no observer (the reset trace starts clean).
    /// </summary>
    private SmcOutcome Stale(SmcCall call, FfaRequest request, FfaAnswer answer, List<Hop>? hops)
    {
        var results = (call.Reads ?? []).Select(r => new MemoryReadResult(r.Address, null,
            $"system '{Id}' was reset while this call waited: nothing read")).ToList();
        return new SmcOutcome(answer.Frame, SpmcPort.Decode(request, answer, hops), results, null);
    }

    /// <summary>
    /// No client is attached to a remote partition and no call waits on one: every state change so far came from calls
    /// a replay can re-send, and <see cref="Snapshot"/> succeeds. Observers read it under the lock (their hooks).
    /// </summary>
    public bool IsSettled
    {
        get
        {
            lock (_gate) return _waiting == 0 && _attachments.Count == 0;
        }
    }

    /// <summary>Tells observers the system became settled again. Under the lock.</summary>
    private void Settled()
    {
        if (_shutDown) return;
        foreach (var o in _observers) o.OnSettled(this);
    }

    private void ObserveMemory(ushort asEndpoint, ulong address, bool write, byte[] data)
    {
        var record = new MemoryAccessRecord(++_sequence, asEndpoint, address, write, data);
        foreach (var o in _observers) o.OnMemoryAccess(this, record);
    }

    /// <summary>
    /// A VM's SMC goes through the hypervisor proxy, which decides every register the VM gets back; a secure
    /// partition's goes straight into the secure world's port. Hops the proxy made are recorded.
    /// </summary>
    private (FfaAnswer Answer, List<Hop>? Hops, List<(int Index, FfaRequest Request)>? PendingHops) Dispatch(FfaRequest request)
    {
        if (!EndpointId.IsVm(request.Caller)) return (_port.Handle(request), null, null);
        var hops = new List<Hop>();
        _port.Recording = hops;
        try
        {
            var answer = _proxy.Forward(request, _port);
            return (answer, hops, _port.PendingHops);
        }
        finally
        {
            _port.Recording = null;
            _port.PendingHops = null;
        }
    }

    /// <summary>Reads memory as <paramref name="asEndpoint"/> (an endpoint of this system, or the SPMC ID to read anything).</summary>
    public byte[] ReadMemory(ushort asEndpoint, ulong address, int length)
    {
        lock (_gate)
        {
            CheckActor(asEndpoint);
            CheckTransfer(asEndpoint, address, length, write: false, "read");
            var data = _memory.Read(address, length);
            ObserveMemory(asEndpoint, address, write: false, data);
            return data;
        }
    }

    /// <summary>Writes memory as <paramref name="asEndpoint"/>, refused outside what it may access.</summary>
    public void WriteMemory(ushort asEndpoint, ulong address, ReadOnlySpan<byte> data)
    {
        lock (_gate)
        {
            CheckActor(asEndpoint);
            CheckTransfer(asEndpoint, address, data.Length, write: true, "write");
            _memory.Write(address, data);
            if (_observers.Length > 0) ObserveMemory(asEndpoint, address, write: true, data.ToArray());
            else _sequence++;
        }
    }

    private void CheckActor(ushort id)
    {
        if (id != Config.SpmcId) RequireEndpoint(id, "as");
    }

    private static void CheckLength(int length, string field)
    {
        if (length < 0 || length > SystemLimits.MaxTransfer)
            throw new InvalidRequestException($"{field}: length {length} is outside 0..{SystemLimits.MaxTransfer} (1 MiB)");
    }

    private void CheckTransfer(ushort actor, ulong address, int length, bool write, string field)
    {
        CheckLength(length, field);
        if (AccessDenied(actor, address, (ulong)length, write) is { } denied)
            throw new AccessDeniedException($"{field}: {EndpointId.Format(actor)} may not {(write ? "write" : "read")} 0x{address:X} (+{length}): {denied}");
    }

    /// <summary>The SPMC's ownership rules, then — for a VM — the hypervisor's stage 2.</summary>
    private string? AccessDenied(ushort actor, ulong address, ulong length, bool write) =>
        _map.CheckAccess(actor, address, length, write, _spmc.ShareAccess) ??
        (EndpointId.IsVm(actor) ? _proxy.HostAccess(actor, address, length, write) : null);

    private Endpoint RequireEndpoint(ushort id, string field) =>
        _spmc.FindEndpoint(id) ?? throw new InvalidRequestException(
            $"{field}: {EndpointId.Format(id)} is not an endpoint of system '{Id}' (endpoints: {string.Join(", ", _spmc.State.Endpoints.Values.Select(e => EndpointId.Format(e.Id)))})");

    public SystemState GetState()
    {
        lock (_gate)
        {
            var proxy = _proxy.State;
            return new SystemState(Id, Config.SpmcId, Config.Version, _proxy.Profile, _calls,
                _spmc.State.Endpoints.Values.OrderBy(e => e.Id).Select(e => new EndpointView(e.Id, e.IsSecure, e.Name, e.Vcpus, e.Version,
                    e.VersionNegotiated, e.VersionLocked, e.Mailbox is { } m ? new MailboxView(m.Tx, m.Rx, m.Pages, m.State) : null, e.Learned)).ToList(),
                Config.Partitions.Select(p => View(p, _spmc.FindEndpoint(p.Id)!.Runtime!)).ToList(),
                _map.Entries.Take(StateLimits.ListedRanges).Select(View).ToList(),
                _memory.ResidentPages,
                _spmc.State.Console.Lines.ToList(),
                _spmc.State.Console.Pending,
                _spmc.State.Shares.Values.Select(s => View(s, 0, StateLimits.ListedConstituents)).ToList(),
                proxy is null ? null : proxy with { Stage2 = proxy.Stage2.Take(StateLimits.ListedRanges).ToList() },
                _spmc.NotificationViews(),
                _eventSequence,
                _faults.List(),
                _map.Entries.Count,
                proxy?.Stage2.Count ?? 0);
        }
    }

    private static PartitionView View(PartitionConfig p, PartitionRuntime r) => new(p, p.Properties, r.Builtin?.Name ?? (r.IsRemote ? "remote" : "none"), r.Attached,
        r.Contexts.Select(c => new ContextView(c.Index, c.State, c.Reason, c.Request?.Sender, c.Request?.Req2 ?? false, c.HeldAnswer is not null, c.WaitingFor)).ToList(),
        r.Lifecycle);
}
