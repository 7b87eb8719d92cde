using Spmc.Abi.Calls;
using Spmc.Abi.Descriptors;
using Spmc.Abi.Ffa;
using Spmc.Abi.Rules;
using Spmc.Abi.Smccc;
using Spmc.Core.Calls;
using Spmc.Core.Proxy;
using Spmc.Core.Spm.Behaviours;
using Spmc.Core.Spm.Runtime;
using Spmc.Core.Spm.Shares;

namespace Spmc.Core.Spm.Handlers;

/// <summary>
/// The partition run-time model (DEN0077 v1.2 partition run-time model and CPU cycle management; Hafnium src/api.c
/// and src/ffa/spmc/cpu_cycles.c):
/// FFA_MSG_WAIT, FFA_YIELD, FFA_RUN, and who drives a partition — a built-in behaviour, a client attached
/// over PartitionHost.Attach, or nothing.
/// </summary>
internal sealed class RuntimeHandlers(SpmcContext spmc, ISecureWorld dispatcher)
{
    private readonly Dictionary<ushort, Endpoint> _endpoints = spmc.State.Endpoints;

    /// <summary>
    /// Both widths of the CPU-cycle ABIs: the SMC64 IDs (FF-A 1.3 I0184) are FF-A 1.3 functions, so dispatch
    /// answers NOT_SUPPORTED to 1.0–1.2 callers and FFA_FEATURES reports them to 1.3 callers only.
    /// FFA_NORMAL_WORLD_RESUME is not registered in either width: the SPMC sends it to the SPMD, no caller of
    /// this SPMC invokes it (Hafnium's FFA_FEATURES does not list it either).
    /// </summary>
    public void Register(HandlerTable table)
    {
        // Hafnium's FFA_FEATURES reports FFA_MSG_WAIT to every caller (the normal world included); so do we, at both widths.
        table.Register<MsgWait>(FfaFunction.MsgWait, Callers.SecurePartitions, MsgWaitCall, smc64: true, reportedTo: Callers.Any);
        table.Register<Yield>(FfaFunction.Yield, Callers.SecurePartitions, YieldCall, smc64: true);
        table.Register<Run>(FfaFunction.Run, Callers.Any, RunCall, smc64: true);
        // Return values, like FFA_SUCCESS and FFA_ERROR_32 (PartitionManager): refused whatever their registers.
        table.Register(FfaFunction.Interrupt, Callers.Any, c => c.Reject(DispatchRules.ReturnValue, "a return value (the partition was preempted), not a call"),
            smc64: true);
        table.Register(FfaFunction.Error, Callers.Any, c => c.Reject(DispatchRules.ReturnValue, "a return value, not a call"), smc32: false, smc64: true);
        // FFA_ABORT is FF-A 1.3 and SP-only: a VM or a 1.0-1.2 SP gets NOT_SUPPORTED from dispatch (Hafnium 103efb4a).
        table.Register<Abort>(FfaFunction.Abort, Callers.SecurePartitions, AbortCall, smc64: true);
    }

    /// <summary>Only what runs the partition may use the run-time ABIs; anyone else playing the SP gets DENIED.</summary>
    internal static Rejection? DriverOnly(Call c)
    {
        if (c.Request.FromDriver || c.Caller.Runtime is not { } r) return null;
        var who = EndpointId.Format(c.Caller.Id);
        return RuntimeRules.DriverOnly.Reject(r.Builtin is { } b
            ? $"{who} is run by its '{b.Name}' behaviour; frames sent as it may not use the run-time ABIs"
            : r.IsRemote
                ? $"{who} is a remote partition: its run-time ABIs must come from the client attached with PartitionHost.Attach"
                : $"{who} has no behaviour; give it behaviour 'remote' and attach a client to run it");
    }

    /// <summary>
    /// FFA_MSG_WAIT: w1, w3..w7 MBZ (the <see cref="MsgWait"/> decoder); w2 bit 0 (v1.2) keeps RX ownership, the
    /// other bits MBZ (all of w2 before v1.2). Ends boot or an FFA_RUN slice.
    /// </summary>
    private FfaAnswer MsgWaitCall(Call c, MsgWait call)
    {
        var retain = false;
        if (c.Caller.Version >= FfaVersion.V1_2)
        {
            if (call.Flags >> 1 != 0) return c.Reject(RuntimeRules.MsgWaitFlagsReserved, $"w2 bits[31:1] must be zero (w2 = 0x{call.Flags:X})");
            retain = call.RetainsRx;
        }
        else if (call.Flags != 0) return c.Reject(RuntimeRules.MsgWaitFlagsBefore12, $"w2 must be zero before FF-A 1.2 (w2 = 0x{call.Flags:X})");
        if (DriverOnly(c) is { } notDriver) return c.Reject(notDriver);
        if (Context(c) is not { } ctx) return c.Reject(RuntimeRules.VcpuNotAContext, $"vCPU {c.Request.Vcpu} is not a context of {EndpointId.Format(c.Caller.Id)}");

        switch (ctx.State)
        {
            case ContextState.Off:
                // Boot complete: the partition becomes available (FF-A 1.3 R0085, starting → waiting).
                if (c.Caller.Runtime!.Lifecycle == PartitionLifecycle.Starting) c.Caller.Runtime.Lifecycle = PartitionLifecycle.Started;
                break;
            case ContextState.Running when ctx.Reason == RunReason.Run:
                // The FFA_RUN caller gets its cycles back (Hafnium ffa_msg_wait_complete: func = FFA_MSG_WAIT_32);
                // an FF-A 1.3 scheduler that used FFA_RUN_64 gets FFA_MSG_WAIT_64 (S0188: it keeps SMC64).
                CompleteLender(ctx, new FfaAnswer(new MsgWait(Is64: ctx.LenderIs64).Encode()));
                break;
            case ContextState.Running:
                return c.Reject(RuntimeRules.MsgWaitHandlingRequest, $"context {ctx.Index} is handling a direct request from {EndpointId.Format(ctx.Request!.Sender)}: answer it with a direct response");
            default:
                return c.Reject(RuntimeRules.MsgWaitNotRunning, $"context {ctx.Index} is {ctx.State.ToString().ToLowerInvariant()}, not running");
        }
        ctx.State = ContextState.Waiting;
        ctx.Reason = null;
        ctx.Resumer = null;
        ctx.LenderIs64 = ctx.Smc64Run = false;
        ctx.Parked64 = call.Is64;
        // Hafnium api_ffa_msg_wait_rx_release: waiting hands the RX buffer back unless the caller keeps it.
        if (!retain && c.Caller.Mailbox is { State: RxState.Full } mailbox && !spmc.RxFullNotificationPending(c.Caller.Id))
            mailbox.State = RxState.Empty;
        return Park(c, ctx);
    }

    /// <summary>
    /// FFA_YIELD: gives the cycles back to whoever lent them (w2/w3 = timeout hint; w4..w7 MBZ, the <see cref="Yield"/>
    /// decoder's); resumed by FFA_RUN. The lender gets FFA_YIELD with w1 = this context's target info and the hint.
    /// </summary>
    private FfaAnswer YieldCall(Call c, Yield call)
    {
        if (DriverOnly(c) is { } notDriver) return c.Reject(notDriver);
        if (Context(c) is not { } ctx) return c.Reject(RuntimeRules.VcpuNotAContext, $"vCPU {c.Request.Vcpu} is not a context of {EndpointId.Format(c.Caller.Id)}");
        if (ctx.State != ContextState.Running)
            return c.Reject(RuntimeRules.YieldNotRunning, $"context {ctx.Index} is {ctx.State.ToString().ToLowerInvariant()}: only a running context can yield");
        ctx.State = ContextState.Blocked;
        CompleteLender(ctx, new FfaAnswer(new Yield(c.Caller.Id, (ushort)ctx.Index, call.Timeout, ctx.LenderIs64).Encode()));
        ctx.Parked64 = call.Is64;
        return Park(c, ctx);
    }

    /// <summary>FFA_RUN: w1 = target ID &lt;&lt; 16 | vCPU. Resumes a waiting, yielded or preempted context (Hafnium api_ffa_run).</summary>
    private FfaAnswer RunCall(Call c, Run call)
    {
        var id = call.Target;
        var vcpu = call.Vcpu;
        if (spmc.FindEndpoint(id) is not { Runtime: { } runtime } target)
            return c.Reject(RuntimeRules.RunTargetUnknown, $"{EndpointId.Format(id)} in w1[31:16] is not a partition of this system (the SPMC runs SPs only)");
        if (vcpu >= runtime.Contexts.Length)
            return c.Reject(RuntimeRules.RunVcpuOutOfRange, $"vCPU {vcpu} is not below the {runtime.Contexts.Length} context(s) of {EndpointId.Format(id)}");
        if (id == c.Caller.Id) return c.Reject(RuntimeRules.RunSelf, "a partition cannot run itself");
        var ctx = runtime.Contexts[vcpu];
        var who = $"{EndpointId.Format(id)} context {vcpu}";
        var v13 = c.Caller.Version >= FfaVersion.V1_3;
        // Lifecycle (FF-A 1.3 §7): an aborted partition answers ABORTED to every caller (Hafnium api_ffa_run: a vCPU
        // in VCPU_STATE_ABORTED without lifecycle support); one not yet available answers NOT_READY to 1.3 callers (R0069).
        if (runtime.Lifecycle == PartitionLifecycle.Aborted)
            return c.Reject(RuntimeRules.RunAborted, $"{EndpointId.Format(id)} aborted (it called FFA_ABORT)");
        if (v13 && !runtime.Available)
            return c.Reject(RuntimeRules.RunNotReady, $"{EndpointId.Format(id)} is {runtime.Lifecycle.ToString().ToLowerInvariant()}: no context has booted (driven by {runtime.Driver})");
        // An SP may only resume another SP's preempted or blocked context (ffa_cpu_cycles_run_checks).
        if (c.Caller.IsSecure && ctx.State is not (ContextState.Preempted or ContextState.Blocked))
            return c.Reject(RuntimeRules.RunSpResumesOnly, $"{who} is {ctx.State.ToString().ToLowerInvariant()}; an SP may only resume a preempted or blocked context");

        var waiter = new Waiter(c.Caller.Id, c.Request.Vcpu, $"FFA_RUN of {who}");
        switch (ctx.State)
        {
            case ContextState.Running:
                return c.Reject(RuntimeRules.RunAlreadyRunning, $"{who} is already running");
            case ContextState.Aborted:
                return c.Reject(RuntimeRules.RunAborted, $"{who} aborted");
            case ContextState.Off:
                return c.Reject(RuntimeRules.RunNotBooted, $"{who} is not booted: it is driven by {runtime.Driver}");
            case ContextState.Blocked when ctx.WaitingFor is { } other:
                return c.Reject(RuntimeRules.RunAwaitingResponse, $"{who} waits for the answer to its own direct request to {EndpointId.Format(other)}");
        }

        // S0188: an SMC64 direct request (REQ_64, REQ2) is resumed with FFA_RUN_64 until its response, and a
        // scheduler that used FFA_RUN_64 keeps it until the context waits. The text says "must" and names no error:
        // DENIED, as Hafnium refuses a run-time transition it does not allow (ffa_cpu_cycles_check_runtime_state_transition).
        // A 1.0-1.2 scheduler cannot use FFA_RUN_64: it keeps today's answer, with a note.
        string? s0188 = null;
        if (!call.Is64 && ctx.State is ContextState.Blocked or ContextState.Preempted && (ctx.Request is { Is64: true } || ctx.Smc64Run))
        {
            var why = ctx.Request is { Is64: true } r
                ? $"{who} is handling an SMC64 direct request ({(r.Req2 ? "REQ2" : "REQ_64")}) from {EndpointId.Format(r.Sender)}"
                : $"{who} was run with FFA_RUN_64 and has not waited since";
            if (v13) return c.Reject(RuntimeRules.RunSmc64Required, $"{why}: resume it with FFA_RUN_64 (0xC400006D) until it {(ctx.Request is null ? "calls FFA_MSG_WAIT" : "responds")} (S0188)");
            s0188 = $"S0188 (FF-A 1.3): {why}; an FF-A 1.3 scheduler must resume it with FFA_RUN_64";
        }
        var lender64 = call.Is64 && v13;

        switch (ctx.State)
        {
            case ContextState.Waiting:
                ctx.State = ContextState.Running;
                ctx.Reason = RunReason.Run;
                ctx.Resumer = waiter;
                ctx.LenderIs64 = ctx.Smc64Run = lender64;
                // The SP is resumed with FFA_RUN_64 when it waited with FFA_MSG_WAIT_64, or when the scheduler used
                // FFA_RUN_64 and its manifest declares the SMC64 CPU-cycle IDs (partition properties bit 13).
                var run64 = ctx.Parked64 || (lender64 && target.Partition!.Properties.HasFlag(PartitionProperties.Smc64CpuCycles));
                return Deliver(target, ctx, new Run(id, vcpu, run64).Encode(), waiter);
            case ContextState.Blocked:
                // The SP's FFA_YIELD returns FFA_SUCCESS when it is resumed (FFA_SUCCESS_64 after FFA_YIELD_64).
                ctx.State = ContextState.Running;
                ctx.Resumer = waiter;
                ctx.LenderIs64 = lender64;
                ctx.Smc64Run |= lender64;
                ctx.LenderNote = s0188;
                Unpark(ctx, new FfaAnswer(new Success(ctx.Parked64).Encode()));
                return DelayedOrPending(waiter);
            default: // Preempted
                if (ctx.HeldAnswer is { } held)
                {
                    ctx.HeldAnswer = null;
                    ctx.State = ContextState.Waiting;
                    var heldNote = ctx.LenderNote;
                    ctx.LenderNote = null;
                    return new FfaAnswer(held, null, Notes.Join($"{who} had answered while preempted", heldNote, s0188));
                }
                ctx.State = ContextState.Running;
                ctx.Resumer = waiter;
                ctx.LenderIs64 = lender64;
                ctx.Smc64Run |= lender64;
                ctx.LenderNote = s0188;
                return DelayedOrPending(waiter);
        }
    }

    /// <summary>
    /// Gives the lender of <paramref name="ctx"/>'s cycles its answer, with the notes kept for it (the request's,
    /// an S0188 one), and forgets the lender.
    /// </summary>
    internal static void CompleteLender(PartitionContext ctx, FfaAnswer answer)
    {
        var note = Notes.Join(ctx.Request?.Note, ctx.LenderNote);
        ctx.LenderNote = null;
        ctx.Resumer?.Complete(note is null ? answer : answer with { Note = Notes.Join(answer.Note, note) });
        ctx.Resumer = null;
    }

    private static PartitionContext? Context(Call c) =>
        c.Caller.Runtime is { } r && c.Request.Vcpu < r.Contexts.Length ? r.Contexts[c.Request.Vcpu] : null;

    /// <summary>
    /// Gives <paramref name="ctx"/> the cycles with <paramref name="delivered"/> as the return of its last call: a
    /// built-in behaviour runs now; an attached client's parked call is answered. The lender's answer is the
    /// waiter's, now if the partition already gave the cycles back, else later.
    /// </summary>
    internal FfaAnswer Deliver(Endpoint target, PartitionContext ctx, SmcFrame delivered, Waiter waiter)
    {
        // A delay rule applies to the call's own delivery, not to deliveries a behaviour makes while it runs.
        var delay = spmc.Faults.TakeDelay();
        var lender64 = ctx.LenderIs64;
        string? note = null;
        if (target.Runtime!.Builtin is { } behaviour)
        {
            var cpu = new BehaviourCpu(dispatcher, spmc, target, ctx.Index);
            behaviour.Run(cpu, delivered);
            note = cpu.Trace.Count == 0 ? null : $"{EndpointId.Format(target.Id)} '{behaviour.Name}' ran: {string.Join("; ", cpu.Trace)}";
            if (!waiter.Completed && !(behaviour is IResumableBehaviour && ctx.State == ContextState.Blocked))
            {
                // A behaviour always gives its cycles back (a resumable one may first wait, blocked in a call chain:
                // Resume continues it); if one did not, do not leave the caller hanging.
                ctx.State = ContextState.Waiting;
                ctx.Request = null;
                ctx.Resumer = null;
                waiter.Complete(FfaAnswer.Fail(RuntimeRules.BehaviourNoAnswer.Reject($"'{behaviour.Name}' did not answer")));
            }
        }
        else Unpark(ctx, new FfaAnswer(delivered));
        var answer = waiter.Completed ? waiter.Result!.Value with { Note = Notes.Join(waiter.Result!.Value.Note, note) } : FfaAnswer.Pending(waiter);
        return delay is null ? answer : Delayed(target, ctx, waiter, answer, lender64, delay);
    }

    /// <summary>
    /// A delay fault rule (docs/faults.md): the partition that took the cycles is preempted at once, as if it had not
    /// given them back within the system's remote timeout, and the lender gets FFA_INTERRUPT — no wall-clock wait.
    /// Still running (a remote partition, or a behaviour blocked in a call chain): the timeout path itself
    /// (<see cref="Preempt"/>). A built-in behaviour that already answered: the SPMC's view is the same — the
    /// context is preempted and its answer held, as for a partition that answers while preempted
    /// (DirectMessagingHandlers); the next FFA_RUN hands it out.
    /// </summary>
    private FfaAnswer Delayed(Endpoint target, PartitionContext ctx, Waiter waiter, FfaAnswer answer, bool lender64, string rule)
    {
        if (!waiter.Completed) return Preempt(waiter, Timeout, rule);
        if (answer.Error is not null || ctx.State != ContextState.Waiting || ctx.Resumer is not null || ctx.HeldAnswer is not null) return answer;
        ctx.State = ContextState.Preempted;
        ctx.HeldAnswer = answer.Frame;
        ctx.LenderNote = answer.Note;
        var run = lender64 ? "FFA_RUN_64" : "FFA_RUN";
        var applied = $"{rule}: {EndpointId.Format(target.Id)} context {ctx.Index} is preempted as if it had not given the cycles back within {Timeout.TotalMilliseconds:0} ms " +
                      $"(its answer is held); {run} (w1 = 0x{TargetInfo.Pack(target.Id, (ushort)ctx.Index):X}) returns it";
        spmc.Faults.Applied = applied;
        return new FfaAnswer(new Interrupt(Is64: lender64).Encode(), null, applied);
    }

    /// <summary>The answer of an FFA_RUN that resumed a context: pending, or FFA_INTERRUPT at once under a delay rule.</summary>
    private FfaAnswer DelayedOrPending(Waiter waiter) =>
        spmc.Faults.TakeDelay() is { } rule ? Preempt(waiter, Timeout, rule) : FfaAnswer.Pending(waiter);

    private TimeSpan Timeout => TimeSpan.FromMilliseconds(spmc.Config.RemoteTimeoutMs);

    /// <summary>
    /// A built-in behaviour's call that was answered later (it lent its cycles to an attached partition, which has
    /// now given them back): the behaviour continues from there (<see cref="IResumableBehaviour.Resume"/>).
    /// </summary>
    internal void Resume(Waiter lender)
    {
        if (!lender.Completed || spmc.FindEndpoint(lender.Caller) is not { Runtime.Builtin: IResumableBehaviour behaviour } partition) return;
        behaviour.Resume(new BehaviourCpu(dispatcher, spmc, partition, (int)lender.Vcpu), lender.Result!.Value);
    }

    private static void Unpark(PartitionContext ctx, FfaAnswer answer)
    {
        var parked = ctx.Parked;
        ctx.Parked = null;
        parked?.Complete(answer);
    }

    /// <summary>
    /// The partition gave its cycles back. An attached client's call returns when the context is next given
    /// cycles (the message it is resumed with), like an SP's FFA_MSG_WAIT; a behaviour simply returns.
    /// </summary>
    internal static FfaAnswer Park(Call c, PartitionContext ctx)
    {
        if (c.Caller.Runtime?.Builtin is not null) return FfaAnswer.Success32();
        var parked = new Waiter(c.Caller.Id, c.Request.Vcpu, $"{c.Request.Name} of {EndpointId.Format(c.Caller.Id)} context {ctx.Index}", parked: true);
        ctx.Parked = parked;
        return FfaAnswer.Pending(parked);
    }

    /// <summary>
    /// The lender of <paramref name="waiter"/>'s cycles gave up waiting: the partition is preempted (as by a
    /// non-secure interrupt) and the caller gets FFA_INTERRUPT; FFA_RUN resumes it later. Returns the answer
    /// the waiter ends with (the real one if the partition answered in the meantime).
    /// </summary>
    public FfaAnswer Preempt(Waiter waiter, TimeSpan after, string? rule = null)
    {
        foreach (var e in _endpoints.Values)
        {
            if (e.Runtime is null) continue;
            foreach (var ctx in e.Runtime.Contexts)
            {
                if (!ReferenceEquals(ctx.Resumer, waiter)) continue;
                ctx.State = ContextState.Preempted;
                ReleaseCaller(waiter.Caller, waiter.Vcpu, e.Id);
                // Hafnium returns FFA_INTERRUPT with w1 = 0 to the normal world when an SP is preempted; an FF-A 1.3
                // lender that used an SMC64 ID gets FFA_INTERRUPT_64 (I0187, S0188).
                var run = ctx.LenderIs64 ? "FFA_RUN_64" : "FFA_RUN";
                var why = rule is null
                    ? $"{EndpointId.Format(e.Id)} context {ctx.Index} did not give the cycles back within {after.TotalMilliseconds:0} ms: preempted"
                    : $"{rule}: {EndpointId.Format(e.Id)} context {ctx.Index} is preempted as if it had not given the cycles back within {after.TotalMilliseconds:0} ms";
                var note = $"{why}; {run} (w1 = 0x{TargetInfo.Pack(e.Id, (ushort)ctx.Index):X}) resumes it";
                if (rule is not null) spmc.Faults.Applied = note;
                CompleteLender(ctx, new FfaAnswer(new Interrupt(Is64: ctx.LenderIs64).Encode(), null, note));
            }
        }
        if (!waiter.Completed) waiter.Complete(FfaAnswer.Fail(RuntimeRules.WaiterOrphaned.Reject($"{waiter.What}: nothing holds this call any more")));
        return waiter.Result!.Value;
    }

    /// <summary>An SP that sent a direct request runs again once it is answered.</summary>
    /// <summary>
    /// The SP <paramref name="caller"/>'s context that sent a request on <paramref name="vcpu"/> (the one
    /// DirectMessagingHandlers blocked: its only context, or the one of that vCPU) runs again once
    /// <paramref name="answeredBy"/> answers it. Its other contexts waiting on the same partition stay blocked.
    /// </summary>
    internal void ReleaseCaller(ushort caller, uint vcpu, ushort answeredBy)
    {
        if (spmc.FindEndpoint(caller)?.Runtime is not { } r) return;
        var ctx = r.Contexts[r.Contexts.Length == 1 ? 0 : (int)Math.Min(vcpu, (uint)r.Contexts.Length - 1)];
        if (ctx.WaitingFor != answeredBy) return;
        ctx.WaitingFor = null;
        if (ctx.State == ContextState.Blocked) ctx.State = ContextState.Running;
    }

    /// <summary>
    /// A client takes over a remote partition; its contexts boot when it calls FFA_MSG_WAIT. An aborted partition
    /// stays aborted: Hafnium's abort action for a partition without lifecycle support keeps it in the aborted
    /// state for good (cpu_cycles.c ffa_cpu_cycles_abort, ACTION_IMP_DEF), and there is no restart to attach to.
    /// </summary>
    public void Attach(ushort id)
    {
        var e = spmc.FindEndpoint(id);
        if (e?.Runtime is not { } r) throw new NotFoundException($"partition: {EndpointId.Format(id)} is not a secure partition of this system");
        if (!r.IsRemote)
            throw new ConflictException($"partition: {EndpointId.Format(id)} is driven by {r.Driver}; only partitions with behaviour 'remote' can be attached");
        if (r.Attached) throw new ConflictException($"partition: {EndpointId.Format(id)} already has a client attached");
        if (r.Lifecycle == PartitionLifecycle.Aborted)
            throw new ConflictException($"partition: {EndpointId.Format(id)} called FFA_ABORT and stays aborted (no lifecycle support: it is never restarted); create the system again to reset it");
        r.Attached = true;
        r.Lifecycle = PartitionLifecycle.Starting;
        foreach (var ctx in r.Contexts) Reset(ctx);
    }

    /// <summary>
    /// The client went away: whoever waits on the partition gets ABORTED, and the partition is off again (still
    /// aborted if it called FFA_ABORT).
    /// </summary>
    public void Detach(ushort id)
    {
        if (spmc.FindEndpoint(id)?.Runtime is not { IsRemote: true, Attached: true } r) return;
        r.Attached = false;
        var aborted = r.Lifecycle == PartitionLifecycle.Aborted;
        foreach (var ctx in r.Contexts)
        {
            if (ctx.Resumer is { } lender)
            {
                ReleaseCaller(lender.Caller, lender.Vcpu, id);
                CompleteLender(ctx, FfaAnswer.Fail(RuntimeRules.Detached.Reject($"{EndpointId.Format(id)} context {ctx.Index}: its client detached while it held the cycles")));
                Resume(lender); // a built-in requester blocked in the call chain (`relay`) continues with that error
            }
            Unpark(ctx, FfaAnswer.Fail(RuntimeRules.Detached.Reject("detached")));
            Reset(ctx);
            if (aborted) ctx.State = ContextState.Aborted;
        }
        if (!aborted) r.Lifecycle = PartitionLifecycle.Starting;
    }

    /// <summary>
    /// FFA_ABORT_32/64 (FF-A 1.3 §13.14, §7.2.4): the calling SP's execution contexts enter the aborted state and
    /// the call never completes. As Hafnium's ffa_partition_abort for a partition without lifecycle support: the
    /// whole partition aborts and stays aborted; whoever lent it cycles (a direct request's sender, an FFA_RUN
    /// caller) gets ABORTED, and so do its own outstanding calls (parked ones, requests it sent down a call chain);
    /// its memory is relinquished and reclaimed for it (<see cref="AbortedPartitionMemory"/>).
    /// </summary>
    private FfaAnswer AbortCall(Call c, Abort call)
    {
        if (DriverOnly(c) is { } notDriver) return c.Reject(notDriver);
        if (Context(c) is not { } mine) return c.Reject(RuntimeRules.VcpuNotAContext, $"vCPU {c.Request.Vcpu} is not a context of {EndpointId.Format(c.Caller.Id)}");
        var id = c.Caller.Id;
        var runtime = c.Caller.Runtime!;
        var code = $"code 0x{call.Code:X}";
        var memory = Abort(c.Caller, $"{code}) on context {mine.Index}", code);
        var note = $"{EndpointId.Format(id)} aborted ({code}): FFA_RUN and direct requests to it now answer ABORTED; {memory}";
        if (runtime.Builtin is not null) return new FfaAnswer(new SmcFrame(), null, note);
        // An attached client's FFA_ABORT never completes: it is answered only when the client detaches.
        var waiter = new Waiter(id, c.Request.Vcpu, $"FFA_ABORT of {EndpointId.Format(id)} context {mine.Index} (never completes)", parked: true);
        mine.Parked = waiter;
        return FfaAnswer.Pending(waiter);
    }

    /// <summary>
    /// A fault rule's abort (docs/faults.md): partition <paramref name="id"/> aborts as if one of its contexts called
    /// FFA_ABORT (<see cref="Abort(Endpoint, string, string)"/>). Null when it is no SP of the system or already aborted.
    /// </summary>
    public string? AbortPartition(ushort id, string rule)
    {
        if (spmc.FindEndpoint(id) is not { Runtime: { } runtime } partition || runtime.Lifecycle == PartitionLifecycle.Aborted) return null;
        var memory = Abort(partition, $"{rule})", rule);
        return $"{rule}: {EndpointId.Format(id)} aborted (FF-A 1.3 §7.2.4, as if it called FFA_ABORT); {memory}";
    }

    /// <summary>
    /// The abort itself: the lifecycle becomes Aborted, the memory is released, lenders and parked calls end ABORTED,
    /// and the partition's own calls into others end. <paramref name="where"/> completes "aborted (...": what and where.
    /// </summary>
    private string Abort(Endpoint partition, string where, string code)
    {
        var id = partition.Id;
        var runtime = partition.Runtime!;
        runtime.Lifecycle = PartitionLifecycle.Aborted;
        var memory = AbortedPartitionMemory.Release(spmc, id);
        foreach (var ctx in runtime.Contexts)
        {
            if (ctx.Resumer is { } lender)
            {
                ReleaseCaller(lender.Caller, lender.Vcpu, id);
                CompleteLender(ctx, FfaAnswer.Fail(RuntimeRules.LenderAborted.Reject(
                    $"{EndpointId.Format(id)} context {ctx.Index} called FFA_ABORT ({code}) while it held the cycles; {memory}")));
                Resume(lender); // a built-in requester blocked in the call chain (`relay`) continues with that error
            }
            // The partition's parked calls will never be resumed either (on the aborting context too: a client may
            // abort on a vCPU whose FFA_MSG_WAIT is still parked).
            Unpark(ctx, FfaAnswer.Fail(RuntimeRules.PartitionAborted.Reject($"{EndpointId.Format(id)} aborted ({where}")));
            Reset(ctx);
            ctx.State = ContextState.Aborted;
        }
        // Its own calls into other partitions (a direct request it sent in a call chain, an FFA_RUN of another SP)
        // end now: it will never run to take their answers. Whoever handles them answers no one.
        foreach (var e in _endpoints.Values)
        {
            if (e.Id == id || e.Runtime is null) continue;
            foreach (var ctx in e.Runtime.Contexts)
                if (ctx.Resumer is { } sent && sent.Caller == id)
                {
                    ctx.Resumer = null;
                    ctx.LenderNote = null;
                    sent.Complete(FfaAnswer.Fail(RuntimeRules.PartitionAborted.Reject(
                        $"{EndpointId.Format(id)} aborted ({where} while {EndpointId.Format(e.Id)} context {ctx.Index} held the cycles of this call; its answer goes to no one")));
                }
        }
        return memory;
    }

    /// <summary>Answers every waiting call with ABORTED (the system is going away).</summary>
    public void AbortAll(string why)
    {
        foreach (var e in _endpoints.Values)
        {
            if (e.Runtime is null) continue;
            foreach (var ctx in e.Runtime.Contexts)
            {
                ctx.Resumer?.Complete(FfaAnswer.Fail(RuntimeRules.SystemDeleted.Reject(why)));
                Unpark(ctx, FfaAnswer.Fail(RuntimeRules.SystemDeleted.Reject(why)));
                Reset(ctx);
            }
        }
    }

    private static void Reset(PartitionContext ctx)
    {
        ctx.State = ContextState.Off;
        ctx.Reason = null;
        ctx.Request = null;
        ctx.Resumer = null;
        ctx.Parked = null;
        ctx.HeldAnswer = null;
        ctx.WaitingFor = null;
        ctx.LenderIs64 = ctx.Smc64Run = ctx.Parked64 = false;
        ctx.LenderNote = null;
    }

    /// <summary>What a built-in behaviour runs on: calls as its partition through the SPMC, memory under its rules.</summary>
    private sealed class BehaviourCpu(ISecureWorld dispatcher, SpmcContext spmc, Endpoint partition, int vcpu) : IPartitionCpu
    {
        public List<string> Trace { get; } = [];
        public ushort Id => partition.Id;
        public int Vcpu => vcpu;
        public FfaVersion Version => partition.Version;
        public Mailbox? Mailbox => partition.Mailbox;
        public ulong MemoryBase => partition.Partition!.Memory.Count > 0 ? partition.Partition.Memory[0].Base : 0;
        public ulong MemorySize => partition.Partition!.Memory.Count > 0 ? partition.Partition.Memory[0].Size : 0;

        public FfaAnswer Call(SmcFrame frame)
        {
            var request = new FfaRequest(partition.Id, (uint)vcpu, frame) { FromDriver = true };
            var answer = dispatcher.Handle(request);
            var result = answer.Error is { } e ? $"{e.Name()} ({answer.Reason})" : FfaFunctions.NameOf(answer.Frame.FunctionId) ?? $"0x{answer.Frame.FunctionId:X}";
            Trace.Add($"{request.Info?.WidthName(request.Is64) ?? request.Name} → {result}");
            return answer;
        }

        public byte[]? Read(ulong address, int length)
        {
            if (spmc.Map.CheckAccess(partition.Id, address, (ulong)length, write: false, spmc.ShareAccess) is { } why) { Trace.Add($"read 0x{address:X} refused: {why}"); return null; }
            return spmc.Memory.Read(address, length);
        }

        public bool Write(ulong address, ReadOnlySpan<byte> data)
        {
            if (spmc.Map.CheckAccess(partition.Id, address, (ulong)data.Length, write: true, spmc.ShareAccess) is { } why) { Trace.Add($"write 0x{address:X} refused: {why}"); return false; }
            try
            {
                spmc.Memory.Write(address, data);
            }
            catch (QuotaExceededException e)
            {
                // The partition's own store failed for want of memory: the behaviour sees a failed write and reports it,
                // the call itself is answered normally (nothing of the write was made).
                Trace.Add($"write 0x{address:X} refused: {e.Message}");
                return false;
            }
            return true;
        }
    }
}

/// <summary>Joins the diagnostics of an answer (FfaAnswer.Note); each stays its own line of decoded.notes.</summary>
internal static class Notes
{
    public static string? Join(params string?[] notes)
    {
        var present = notes.Where(n => !string.IsNullOrEmpty(n)).ToArray();
        return present.Length == 0 ? null : string.Join("\n", present);
    }
}
