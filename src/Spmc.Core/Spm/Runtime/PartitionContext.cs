using System.Text.Json.Serialization;
using Spmc.Abi.Smccc;
using Spmc.Core.Calls;

namespace Spmc.Core.Spm.Runtime;

/// <summary>Execution-context states of the FF-A partition run-time model (DEN0077 v1.2 §7.2; Hafnium `enum vcpu_state`).</summary>
public enum ContextState
{
    /// <summary>Not booted: no behaviour, or a remote partition with no client attached (or one that has not yet called FFA_MSG_WAIT).</summary>
    Off,
    /// <summary>Called FFA_MSG_WAIT (or answered its last request): can take a direct request or FFA_RUN.</summary>
    Waiting,
    /// <summary>Has CPU cycles: handling a direct request or resumed with FFA_RUN.</summary>
    Running,
    /// <summary>Gave its cycles back with FFA_YIELD, or waits for the answer to a direct request it sent.</summary>
    Blocked,
    /// <summary>Interrupted by the normal world (here: a remote partition that did not answer within the timeout).</summary>
    Preempted,
    /// <summary>Its partition called FFA_ABORT (FF-A 1.3): it never runs again (see <see cref="PartitionLifecycle.Aborted"/>).</summary>
    Aborted,
}

/// <summary>
/// A partition's lifecycle state (FF-A 1.3 §7: Starting, Stopping and Aborted are new in 1.3). Whole-partition
/// states; the per-context run-time states are <see cref="ContextState"/>. Transitions (docs/ffa-1.3.md):
/// a built-in behaviour is Started from boot; a remote partition or one with no behaviour is Starting until a
/// context ends its boot with FFA_MSG_WAIT, and Starting again when its client detaches; FFA_ABORT makes it
/// Aborted for good (Hafnium keeps a partition without lifecycle support aborted). Stopping is never entered:
/// this SPMC sends no partition stop requests (§18.9).
/// </summary>
public enum PartitionLifecycle
{
    /// <summary>Booted: the run-time states of its contexts apply.</summary>
    Started,
    /// <summary>
    /// Not yet available (§7.2.2 created / §7.2.5 starting): no client attached, or its client has not called
    /// FFA_MSG_WAIT yet. FF-A 1.3 callers get NOT_READY from FFA_RUN and direct requests (R0069).
    /// </summary>
    Starting,
    /// <summary>Being stopped (never entered here: no partition stop requests).</summary>
    Stopping,
    /// <summary>It called FFA_ABORT (FF-A 1.3): FFA_RUN and direct requests to it end with ABORTED.</summary>
    Aborted,
}

/// <summary>What put an execution context in the Running state.</summary>
public enum RunReason
{
    DirectRequest,
    DirectRequest2,
    Run,
}

/// <summary>A direct request an execution context is handling: who sent it and how it must be answered.</summary>
public sealed record ActiveRequest(ushort Sender, ushort Caller, bool Is64, bool Req2, bool Framework)
{
    /// <summary>The sender negotiated FF-A 1.3 or later: x8..x17 of an SMC64 response reach it (table 8.2).</summary>
    public bool SenderAbove12 { get; init; }

    /// <summary>The vCPU the caller sent the request on: an SP caller's context on it waits for the response.</summary>
    public uint CallerVcpu { get; init; }

    /// <summary>A diagnostic for the sender, added to the answer it eventually gets (e.g. x8..x17 it sent that were not forwarded).</summary>
    public string? Note { get; init; }
}

/// <summary>One execution context (vCPU) of a secure partition, as the SPMC tracks it.</summary>
public sealed class PartitionContext(ushort partition, int index)
{
    public ushort Partition { get; } = partition;
    public int Index { get; } = index;
    public ContextState State { get; set; } = ContextState.Off;

    /// <summary>Why it runs (valid while Running, Blocked or Preempted).</summary>
    public RunReason? Reason { get; set; }

    /// <summary>The direct request being handled, if any.</summary>
    public ActiveRequest? Request { get; set; }

    /// <summary>Whoever lent this context its cycles and waits for them back (a direct request's sender, an FFA_RUN caller).</summary>
    [JsonIgnore] // a live call waiting for its answer, not state: a restored system has no callers waiting
    public Waiter? Resumer { get; set; }

    /// <summary>An attached client's pending FFA_MSG_WAIT / DIRECT_RESP / FFA_YIELD, answered when the context runs again.</summary>
    [JsonIgnore] // likewise, an attached client's live call
    public Waiter? Parked { get; set; }

    /// <summary>An answer the partition gave while preempted, handed out by the next FFA_RUN.</summary>
    public SmcFrame? HeldAnswer { get; set; }

    /// <summary>Set while this context waits for the answer to a direct request it sent (call chain).</summary>
    public ushort? WaitingFor { get; set; }

    /// <summary>
    /// The call that lent this context its cycles (a direct request or FFA_RUN) used an SMC64 ID from an FF-A 1.3
    /// caller: the run-time answers it gets (FFA_MSG_WAIT, FFA_YIELD, FFA_INTERRUPT) are the SMC64 forms (S0188, I0187).
    /// </summary>
    public bool LenderIs64 { get; set; }

    /// <summary>An FF-A 1.3 scheduler ran this context with SMC64 FFA_RUN: it keeps SMC64 FFA_RUN until the context waits (S0188).</summary>
    public bool Smc64Run { get; set; }

    /// <summary>The context's last FFA_MSG_WAIT or FFA_YIELD used the SMC64 ID: it is resumed with SMC64 frames.</summary>
    public bool Parked64 { get; set; }

    /// <summary>
    /// A diagnostic for the lender (e.g. an FFA_RUN that broke S0188), added to the answer it eventually gets; while
    /// <see cref="HeldAnswer"/> is set, the response's diagnostic, for the FFA_RUN that collects it.
    /// </summary>
    public string? LenderNote { get; set; }
}

/// <summary>A secure partition's run-time state: its execution contexts and what drives them.</summary>
public sealed class PartitionRuntime
{
    public PartitionRuntime(Manifests.PartitionConfig config, Behaviours.IPartitionBehaviour? builtin)
    {
        Builtin = builtin;
        IsRemote = config.Behaviour == Behaviours.Behaviours.Remote;
        Contexts = Enumerable.Range(0, config.ExecutionContexts).Select(i => new PartitionContext(config.Id, i)).ToArray();
        // A built-in behaviour boots at once and waits for messages, as an SP ends its boot with FFA_MSG_WAIT.
        if (builtin is not null)
            foreach (var ctx in Contexts) ctx.State = ContextState.Waiting;
        else Lifecycle = PartitionLifecycle.Starting;
    }

    /// <summary>The built-in behaviour that runs this partition, or null.</summary>
    [JsonIgnore] // code, not state: the manifest names it
    public Behaviours.IPartitionBehaviour? Builtin { get; }

    /// <summary>True when the partition is played by a client attached over PartitionHost.Attach.</summary>
    public bool IsRemote { get; }

    /// <summary>The partition's lifecycle state (FF-A 1.3 §7).</summary>
    public PartitionLifecycle Lifecycle { get; set; } = PartitionLifecycle.Started;

    /// <summary>True while a client is attached (remote partitions only).</summary>
    public bool Attached { get; set; }

    public PartitionContext[] Contexts { get; }

    /// <summary>
    /// FF-A 1.3 R0069: a partition is available when one of its contexts is waiting, running, preempted or
    /// blocked; otherwise (none booted, or aborted) partners get NOT_READY or ABORTED.
    /// </summary>
    [JsonIgnore]
    public bool Available => Lifecycle != PartitionLifecycle.Aborted &&
        Contexts.Any(c => c.State is ContextState.Waiting or ContextState.Running or ContextState.Preempted or ContextState.Blocked);

    /// <summary>Who runs it, for reasons and views.</summary>
    public string Driver => Builtin is not null ? $"its '{Builtin.Name}' behaviour"
        : IsRemote ? (Attached ? "its attached client" : "a remote client (none attached)") : "nothing (no behaviour)";
}
