using Spmc.Abi.Rules;
using Spmc.Core.Calls;
using Spmc.Core.Faults;

namespace Spmc.Core.Systems;

/// <summary>Fault rules (docs/faults.md) and reset.</summary>
public sealed partial class SimulatedSystem
{
    private FaultSet _faults = new();

    /// <summary>
    /// The answer of a call a fault rule fails: FFA_ERROR with the rule's code, completed for the call's width (an SMC32
    /// caller gets w0..w7 zero-extended and x8..x17 as the register contract says), noted <c>injected: rule N</c>.
    /// </summary>
    private FfaAnswer Injected(FfaRequest request, (int Rule, Rejection Rejection) fault) =>
        _port.Complete(FfaAnswer.Fail(fault.Rejection), request.Args, request.FunctionId).WithNote($"injected: rule {fault.Rule}");

    /// <summary>Adds a fault rule; an invalid one is an <see cref="InvalidRequestException"/> naming the field.</summary>
    public FaultRuleView AddFault(FaultRuleSpec spec)
    {
        lock (_gate)
        {
            ThrowIfDeleted();
            return _faults.Add(spec);
        }
    }

    public IReadOnlyList<FaultRuleView> ListFaults()
    {
        lock (_gate) return _faults.List();
    }

    /// <summary>Removes one rule; <see cref="NotFoundException"/> when the system has no rule <paramref name="id"/>.</summary>
    public void RemoveFault(int id)
    {
        lock (_gate)
            if (!_faults.Remove(id)) throw new NotFoundException($"ruleId: system '{Id}' has no fault rule {id}");
    }

    public void ClearFaults()
    {
        lock (_gate) _faults.Clear();
    }

    /// <summary>
    /// Back to the state just after creation from the config, keeping the ID: attached remote partitions are detached
    /// (as on delete), calls waiting on a partition end ABORTED, memory, the SPMC and the proxy are rebuilt (the proxy
    /// boots again), the call and event counters start from 0. Fault rules stay, counting from 0 again with their
    /// generators re-seeded, so a reset system injects the same faults for the same calls. Watchers stay subscribed;
    /// observers hear <see cref="ISystemObserver.OnReset"/>.
    /// </summary>
    public void Reset()
    {
        while (true)
        {
            List<PartitionAttachment> attached;
            lock (_gate)
            {
                ThrowIfDeleted();
                if (_attachments.Count == 0)
                {
                    _spmc.AbortAll($"system '{Id}' was reset");
                    PublishEvents();
                    _generation++;
                    Build();
                    _calls = 0;
                    _eventSequence = 0;
                    _faults.Restart();
                    foreach (var o in _observers) o.OnReset(this);
                    return;
                }
                attached = [.. _attachments.Values];
            }
            // Outside the lock, as on delete: detaching answers the partition's parked calls and whoever waited on it.
            foreach (var a in attached) a.Dispose();
        }
    }

    private void ThrowIfDeleted()
    {
        if (_shutDown) throw new NotFoundException($"system '{Id}' was deleted");
    }
}
