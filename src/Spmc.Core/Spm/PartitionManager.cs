using Spmc.Abi.Ffa;
using Spmc.Core.Calls;
using Spmc.Core.Manifests;
using Spmc.Core.Memory;
using Spmc.Core.Proxy;
using Spmc.Core.Spm.Handlers;
using Spmc.Core.Spm.Notifications;
using Spmc.Core.Spm.Runtime;

namespace Spmc.Core.Spm;

/// <summary>
/// The SPMC: the partition manager at S-EL2 (Hafnium's role). It owns one <see cref="SpmcState"/> and answers FF-A
/// calls as Hafnium does, through one handler class per ABI family (Handlers/), each registering its ABIs in a
/// <see cref="HandlerTable"/> that dispatch and FFA_FEATURES share. Not thread-safe: the owning system serialises calls.
/// </summary>
public sealed class PartitionManager : ISecureWorld
{
    private readonly SpmcContext _spmc;
    private readonly HandlerTable _table;
    private readonly RuntimeHandlers _runtime;
    private readonly NotificationHandlers _notifications;

    /// <summary>The SPMC of one system; <paramref name="maxConstituents"/> bounds the constituents of one memory transaction (0: no bound; <see cref="Systems.SystemQuotas"/>).</summary>
    public PartitionManager(SystemConfig config, PhysicalMemory memory, MemoryMap map, int maxConstituents = 5120)
    {
        var state = new SpmcState();
        foreach (var vm in config.Vms)
            state.Endpoints[vm.Id] = new Endpoint { Id = vm.Id, Name = vm.Name, Vcpus = vm.Vcpus, Version = config.Version };
        foreach (var sp in config.Partitions)
            state.Endpoints[sp.Id] = new Endpoint
            {
                Id = sp.Id,
                Name = sp.Name,
                Vcpus = sp.ExecutionContexts,
                Partition = sp,
                Version = sp.Version,
                Runtime = new PartitionRuntime(sp, Behaviours.Behaviours.Create(sp.Behaviour))
            };
        _spmc = new SpmcContext(config, memory, map, state) { MaxConstituents = maxConstituents };
        _table = new HandlerTable(config.Version);

        // Return conventions: FFA_FEATURES reports them (Hafnium does) but they are not calls.
        _table.Register(FfaFunction.Error, Callers.Any, c => c.Reject(DispatchRules.ReturnValue, "a return value, not a call"));
        _table.Register(FfaFunction.Success, Callers.Any, c => c.Reject(DispatchRules.ReturnValue, "a return value, not a call"), smc64: true);

        _notifications = new NotificationHandlers(_spmc);
        _runtime = new RuntimeHandlers(_spmc, this);
        new SetupHandlers(_spmc, _table).Register();
        new MailboxHandlers(_spmc).Register(_table);
        new DiscoveryHandlers(_spmc).Register(_table);
        new ConsoleHandlers(_spmc).Register(_table);
        new MemorySendHandlers(_spmc).Register(_table);
        new MemoryRetrieveHandlers(_spmc).Register(_table);
        new MemoryReclaimHandlers(_spmc).Register(_table);
        _notifications.Register(_table);
        new IndirectMessagingHandlers(_spmc, _notifications).Register(_table);
        new DirectMessagingHandlers(_spmc, _runtime).Register(_table);
        new ResourceHandlers(_spmc).Register(_table);
        _runtime.Register(_table);
    }

    /// <summary>The SPMC's state (for views and tests; change it only through calls).</summary>
    public SpmcState State => _spmc.State;

    public Endpoint? FindEndpoint(ushort id) => _spmc.FindEndpoint(id);

    /// <summary>Who may access pages of a memory transaction (the memory map asks this for pages in a share).</summary>
    public IShareAccess ShareAccess => _spmc.ShareAccess;

    /// <summary>The notification state of every endpoint, in ID order, for the inspector.</summary>
    public IReadOnlyList<NotificationView> NotificationViews() => _notifications.Views();

    /// <summary>Handles one FF-A call from an endpoint of this system.</summary>
    public FfaAnswer Handle(FfaRequest request)
    {
        if (!_spmc.State.Endpoints.TryGetValue(request.Caller, out var endpoint))
            return FfaAnswer.Fail(DispatchRules.UnknownCaller.Reject($"{request.Name}: caller {EndpointId.Format(request.Caller)} is not an endpoint of this system"));
        // A VM the SPMC learned from the hypervisor never calls itself: Hafnium only ever sees ID 0 from the normal world.
        if (endpoint.Learned)
            return FfaAnswer.Fail(DispatchRules.UnknownCaller.Reject(
                $"{request.Name}: caller {EndpointId.Format(request.Caller)} is not declared in the manifest; the SPMC knows it only through the hypervisor (ID 0), which calls on its behalf"));

        var call = new Call(request, endpoint);
        var fid = request.FunctionId;
        var info = request.Info;
        if (info is null)
            return call.Reject(DispatchRules.UndefinedFunction, $"function number 0x{fid.Number:X2} is not defined by FF-A");
        if (info.Since(fid.Is64Bit) is not { } since)
            return call.Reject(DispatchRules.UndefinedWidth, $"FF-A defines no SMC{(fid.Is64Bit ? 64 : 32)} form of {info.Name}");
        if (_table.Find(info, fid.Is64Bit, out var handler) is { } unimplemented) return call.Reject(unimplemented);

        if (endpoint.Runtime is { Lifecycle: PartitionLifecycle.Aborted })
            return call.Reject(DispatchRules.CallerAborted, $"{EndpointId.Format(endpoint.Id)} called FFA_ABORT: it does not run any more");

        // Hafnium marks the version negotiated after any handled FF-A call but FFA_VERSION (handler.c).
        if (info.Function != FfaFunction.Version) endpoint.VersionLocked = true;

        return _table.Unavailable(endpoint, handler, since) is { } why ? call.Reject(why) : handler.Run(call);
    }

    /// <summary>The events raised since the last call to this method, oldest first.</summary>
    public IReadOnlyList<SystemEvent> TakeEvents()
    {
        var events = _spmc.State.Events;
        if (events.Count == 0) return [];
        var taken = events.ToArray();
        events.Clear();
        return taken;
    }

    /// <summary>Arms a fault rule's delay or fragment action for the next dispatched call (docs/faults.md).</summary>
    public void ArmFault(string? delay, int? fragment) => _spmc.Faults.Arm(delay, fragment);

    /// <summary>Disarms the fault hooks; what the armed action did (null: it did not apply to the call).</summary>
    public string? DisarmFault()
    {
        _spmc.Faults.Disarm();
        return _spmc.Faults.Applied;
    }

    /// <summary>A fault rule's abort: partition <paramref name="id"/> aborts as if it called FFA_ABORT; null when it is no SP or already aborted.</summary>
    public string? AbortPartition(ushort id, string why) => _runtime.AbortPartition(id, why);

    /// <summary>The lender of <paramref name="waiter"/>'s cycles gave up waiting: see <see cref="RuntimeHandlers.Preempt"/>.</summary>
    public FfaAnswer Preempt(Waiter waiter, TimeSpan after) => _runtime.Preempt(waiter, after);

    /// <summary>A client takes over a remote partition; its contexts boot when it calls FFA_MSG_WAIT.</summary>
    public void Attach(ushort id) => _runtime.Attach(id);

    /// <summary>The client went away: whoever waits on the partition gets ABORTED, and the partition is off again.</summary>
    public void Detach(ushort id) => _runtime.Detach(id);

    /// <summary>Answers every waiting call with ABORTED (the system is going away).</summary>
    public void AbortAll(string why) => _runtime.AbortAll(why);
}
