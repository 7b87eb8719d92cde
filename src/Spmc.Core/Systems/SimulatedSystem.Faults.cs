using System.Buffers.Binary;
using Spmc.Abi.Ffa;
using Spmc.Core.Calls;
using Spmc.Core.Faults;
using Spmc.Core.Proxy;
using Spmc.Core.Proxy.Pkvm;
using Spmc.Core.Spm.Handlers;

namespace Spmc.Core.Systems;

/// <summary>Fault rules (docs/faults.md) and reset.</summary>
public sealed partial class SimulatedSystem
{
    private FaultSet _faults = new();

    /// <summary>
    /// The answer of a call an error rule fails: FFA_ERROR with the rule's code, completed for the call's width (an SMC32
    /// caller gets w0..w7 zero-extended and x8..x17 as the register contract says), noted <c>injected: rule N</c>.
    /// </summary>
    private FfaAnswer Injected(FfaRequest request, FaultSet.FaultHit fault) =>
        _port.Complete(FfaAnswer.Fail(fault.Rejection!), request.Args, request.FunctionId).WithNote(fault.Note);

    /// <summary>
    /// Runs a call another action fired on (docs/faults.md): abort aborts the receiving partition first; delay and
    /// fragment arm the SPMC's hook, stage2 the pKVM proxy's, for this call only. The answer notes
    /// <c>injected: rule N</c> and what the action did, or why it did not apply to this call.
    /// </summary>
    private (FfaAnswer Answer, List<Hop>? Hops, List<(int Index, FfaRequest Request)>? PendingHops) DispatchWithFault(FfaRequest request, FaultSet.FaultHit fault)
    {
        string? applied = null;
        var pkvm = _proxy as PkvmProxy;
        if (fault.Action == FaultAction.Abort)
        {
            // Direct requests: receiver in w1[15:0]; FFA_RUN: target in w1[31:16].
            var run = request.Info?.Function == FfaFunction.Run;
            var receiver = (ushort)((run ? request.Args[1] >> 16 : request.Args[1]) & 0xFFFF);
            // A partition naming itself is refused by the call's own rules; the rule must not abort the caller instead.
            applied = receiver == request.Caller ? null : _spmc.AbortPartition(receiver, fault.Says);
        }
        else if (fault.Action == FaultAction.Stage2) pkvm!.Stage2Fault = fault.Says;
        else _spmc.ArmFault(fault.Action == FaultAction.Delay ? fault.Says : null, fault.Fragment);
        (FfaAnswer Answer, List<Hop>? Hops, List<(int Index, FfaRequest Request)>? PendingHops) result;
        try
        {
            result = Dispatch(request);
        }
        finally
        {
            if (fault.Action == FaultAction.Stage2)
            {
                applied = pkvm!.Stage2FaultApplied;
                pkvm.Stage2Fault = null;
            }
            else if (fault.Action != FaultAction.Abort) applied = _spmc.DisarmFault();
        }
        var detail = applied ?? $"{fault.Says} fired, but {fault.Action switch
        {
            FaultAction.Delay => "the call lent no cycles to a partition",
            FaultAction.Fragment => "no retrieve response was cut shorter",
            FaultAction.Abort => "the receiver is no partition that can abort (unknown, the caller itself, or aborted already)",
            _ => "the call reached no stage-2 step",
        }}: answered as usual";
        // A delay's preemption already explains itself in the FFA_INTERRUPT it answers.
        var answer = result.Answer with { Note = Notes.Join(fault.Note, fault.Action == FaultAction.Delay && applied is not null ? null : detail, result.Answer.Note) };
        return (answer, result.Hops, result.PendingHops);
    }

    /// <summary>The handle in a retrieve request's descriptor (bytes 8..15 in every version), in the caller's TX; null when it has none.</summary>
    private ulong? RetrieveHandle(FfaRequest request)
    {
        // x3/x4 name a buffer of the caller's own (refused by the SPMC); a descriptor shorter than the handle's end has none.
        if (request.Args[3] != 0 || request.Args[4] != 0 || (uint)request.Args[1] < 16) return null;
        if (_spmc.FindEndpoint(request.Caller)?.Mailbox is not { } mailbox) return null;
        return BinaryPrimitives.ReadUInt64LittleEndian(_memory.Read(mailbox.Tx + 8, 8));
    }

    /// <summary>
    /// What this system lacks for an action: a stage 2 to fail (only pKVM profiles have one), partition abort (FF-A
    /// 1.3 §7.2.4: an SPMC below 1.3 has no aborted state).
    /// </summary>
    private FaultSystem Capabilities() => new(
        _proxy is PkvmProxy ? null : $"system '{Id}' has the '{_proxy.Profile}' proxy, which has no stage 2 to fail (use a pKVM profile)",
        Config.Version >= FfaVersion.V1_3 ? null : $"system '{Id}' runs an FF-A {Config.Version} SPMC; partition abort is FF-A 1.3");

    /// <summary>Adds a fault rule; an invalid one is an <see cref="InvalidRequestException"/> naming the field.</summary>
    public FaultRuleView AddFault(FaultRuleSpec spec)
    {
        lock (_gate)
        {
            ThrowIfDeleted();
            var view = _faults.Add(spec, Capabilities());
            FaultsChanged();
            return view;
        }
    }

    /// <summary>
    /// Replaces the rules with <paramref name="faults"/> (counters and generators included), validated as a snapshot's
    /// are: what a replay does at a trace's <c>faults</c> entry (docs/traces.md).
    /// </summary>
    public void LoadFaults(FaultsSnapshot faults)
    {
        lock (_gate)
        {
            ThrowIfDeleted();
            var set = new FaultSet();
            set.Load(faults, Capabilities());
            _faults = set;
            FaultsChanged();
        }
    }

    /// <summary>A change of the rules takes a sequence number, as an API memory access does, and goes to observers (traces).</summary>
    private void FaultsChanged()
    {
        var sequence = ++_sequence;
        if (_observers.Length == 0) return;
        var record = new FaultsChangeRecord(sequence, _faults.Export());
        foreach (var o in _observers) o.OnFaultsChanged(this, record);
    }

    public IReadOnlyList<FaultRuleView> ListFaults()
    {
        lock (_gate) return _faults.List();
    }

    /// <summary>Removes one rule; <see cref="NotFoundException"/> when the system has no rule <paramref name="id"/>.</summary>
    public void RemoveFault(int id)
    {
        lock (_gate)
        {
            if (!_faults.Remove(id)) throw new NotFoundException($"ruleId: system '{Id}' has no fault rule {id}");
            FaultsChanged();
        }
    }

    public void ClearFaults()
    {
        lock (_gate)
        {
            _faults.Clear();
            FaultsChanged();
        }
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
                    _memory.Release();
                    Build();
                    _calls = 0;
                    _eventSequence = 0;
                    _faults.Restart();
                    _sequence++;   // the reset's own place in the system's order (a trace's reset line)
                    foreach (var o in _observers) o.OnReset(this);
                    // The emptied trace ring starts with the restarted rules, so a replay of it injects the same faults.
                    if (_faults.Count > 0) FaultsChanged();
                    return;
                }
                attached = [.. _attachments.Values];
            }
            // Outside the lock, as on delete: detaching answers the partition's parked calls and whoever waited on it.
            foreach (var a in attached) a.End($"system '{Id}' was reset; attach again", systemDeleted: false);
        }
    }

    private void ThrowIfDeleted()
    {
        if (_shutDown) throw new NotFoundException($"system '{Id}' was deleted");
    }
}
