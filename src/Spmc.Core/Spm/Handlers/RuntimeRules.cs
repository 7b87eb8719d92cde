using Spmc.Abi.Ffa;
using Spmc.Abi.Rules;

namespace Spmc.Core.Spm.Handlers;

/// <summary>
/// The SPMC's rules for the partition run-time model: FFA_MSG_WAIT, FFA_YIELD and FFA_RUN, who may drive a
/// partition, and the ABORTED answers of calls whose partition goes away.
/// </summary>
public static class RuntimeRules
{
    // ---- who drives a partition (shared by FFA_MSG_WAIT, FFA_YIELD and the direct responses) ----
    public static readonly Rule DriverOnly = new("runtime.driver-only", FfaError.Denied,
        "only what runs a partition (its built-in behaviour or its attached client) may use its run-time ABIs: FFA_MSG_WAIT, FFA_YIELD, direct responses",
        "Spmc: frames sent as a partition by anyone else would change the state of contexts they do not run");
    public static readonly Rule VcpuNotAContext = new("runtime.vcpu-not-a-context", FfaError.InvalidParameters,
        "the calling vCPU is one of the partition's execution contexts", "Spmc: a call names its vCPU (in Hafnium the caller is always one of its own vCPUs)");

    // ---- calls that end because the partition cannot give the cycles back ----
    public static readonly Rule BehaviourNoAnswer = new("runtime.behaviour-no-answer", FfaError.Aborted,
        "a built-in behaviour gives back the cycles it was lent; if it does not, the lender gets ABORTED",
        "Spmc: keeps the caller from waiting on a behaviour that never answers");
    public static readonly Rule WaiterOrphaned = new("runtime.waiter-orphaned", FfaError.Aborted,
        "a call whose cycles no execution context holds any more ends ABORTED when its wait runs out",
        "Spmc: remote timeout (spmc.remoteTimeoutMs)");
    public static readonly Rule Detached = new("runtime.detached", FfaError.Aborted,
        "the calls waiting on a remote partition (its lenders and its own parked call) end ABORTED when its client detaches",
        "Spmc: PartitionHost.Attach; DEN0077 v1.2 ABORTED for a partition that aborted");
    public static readonly Rule SystemDeleted = new("runtime.system-deleted", FfaError.Aborted,
        "every call still waiting ends ABORTED when its system is deleted or reset", "Spmc: system lifetime");

    // ---- FFA_ABORT (FF-A 1.3; Hafnium api_ffa_abort, ffa_partition_abort) ----
    public static readonly Rule LenderAborted = new("abort.lender-aborted", FfaError.Aborted,
        "whoever lent cycles to a partition that calls FFA_ABORT (a direct request's sender, an FFA_RUN caller) gets ABORTED",
        "DEN0077 v1.3 §7.2.4, table 14.14 (ABORTED); Hafnium abort_action_process (to_ret = FFA_ERROR(ABORTED))");
    public static readonly Rule PartitionAborted = new("abort.partition-aborted", FfaError.Aborted,
        "the other outstanding calls of a partition that called FFA_ABORT end ABORTED: its parked calls (FFA_MSG_WAIT, on any context) are never resumed, and the direct requests or FFA_RUN it sent into other partitions are never answered to it",
        "Spmc: a remote client's calls would otherwise wait for ever, or take an answer on a partition that never runs again (Hafnium aborts every context of a partition without lifecycle support)");
    public static readonly Rule RetrieveDeferredReclaim = new("abort.retrieve-deferred-reclaim", FfaError.Denied,
        "memory lent or shared by a partition that aborted cannot be retrieved: it is reclaimed once its borrowers relinquish it",
        "DEN0077 v1.3 §7.2.4 (resources forcibly reclaimed); Hafnium ffa_partition_retrieve_request (deferred_reclaim_pending: DENIED, b902a4d6)");

    // ---- FFA_MSG_WAIT (Hafnium api_ffa_msg_wait) ----
    public static readonly Rule MsgWaitFlagsReserved = new("msg-wait.flags-reserved", FfaError.InvalidParameters,
        "from an FF-A 1.2 caller, FFA_MSG_WAIT w2 bits[31:1] are reserved (MBZ); bit 0 keeps the RX buffer",
        "DEN0077 v1.3 table 14.3 (flags, v1.2)");
    public static readonly Rule MsgWaitFlagsBefore12 = new("msg-wait.flags-before-1-2", FfaError.InvalidParameters,
        "before FF-A 1.2, FFA_MSG_WAIT w2 is MBZ", "DEN0077 v1.1 FFA_MSG_WAIT; Hafnium api_ffa_msg_wait");
    public static readonly Rule MsgWaitHandlingRequest = new("msg-wait.handling-request", FfaError.Denied,
        "a context handling a direct request answers it with a direct response, not FFA_MSG_WAIT",
        "DEN0077 v1.2 partition run-time model; Hafnium ffa_cpu_cycles_check_runtime_state_transition");
    public static readonly Rule MsgWaitNotRunning = new("msg-wait.not-running", FfaError.Denied,
        "only a running (or booting) context may call FFA_MSG_WAIT", "Hafnium ffa_cpu_cycles_check_runtime_state_transition");

    // ---- FFA_YIELD (Hafnium api_yield) ----
    public static readonly Rule YieldNotRunning = new("yield.not-running", FfaError.Denied,
        "only a running context can yield", "Hafnium api_yield, ffa_cpu_cycles_check_runtime_state_transition");

    // ---- FFA_RUN (Hafnium api_ffa_run, ffa_cpu_cycles_run_checks) ----
    public static readonly Rule RunTargetUnknown = new("run.target-unknown", FfaError.InvalidParameters,
        "the target in w1[31:16] is a secure partition of this system (the SPMC runs SPs only)", "Hafnium api_ffa_run");
    public static readonly Rule RunVcpuOutOfRange = new("run.vcpu-out-of-range", FfaError.InvalidParameters,
        "the vCPU in w1[15:0] is one of the target's execution contexts", "Hafnium api_ffa_run");
    public static readonly Rule RunSelf = new("run.self", FfaError.InvalidParameters,
        "a partition cannot run itself", "Hafnium api_ffa_run");
    public static readonly Rule RunSpResumesOnly = new("run.sp-resumes-only", FfaError.Denied,
        "an SP may only resume another SP's preempted or blocked context", "DEN0077 v1.1 run-time model; Hafnium ffa_cpu_cycles_run_checks");
    public static readonly Rule RunAlreadyRunning = new("run.already-running", FfaError.Busy,
        "the target context is not already running", "Hafnium api_ffa_run");
    public static readonly Rule RunAborted = new("run.aborted", FfaError.Aborted,
        "a partition that called FFA_ABORT cannot run (every caller, as in Hafnium)",
        "DEN0077 v1.3 table 14.14 (ABORTED); Hafnium api_ffa_run (VCPU_STATE_ABORTED without lifecycle support)");
    public static readonly Rule RunNotReady = new("run.not-ready", FfaError.NotReady,
        "for an FF-A 1.3 caller, the target partition is available: one of its contexts has booted (waiting, running, preempted or blocked)",
        "DEN0077 v1.3 §7.2.1 R0069, table 14.14 (NOT_READY); Spmc: older callers keep run.not-booted");
    public static readonly Rule RunSmc64Required = new("run.smc64-required", FfaError.Denied,
        "an FF-A 1.3 scheduler resumes a context handling an SMC64 direct request (REQ_64, REQ2), or one it ran with FFA_RUN_64, with FFA_RUN_64 until it responds or waits",
        "DEN0077 v1.3 §11.1.2 S0188 (\"must\", no error named): DENIED as Hafnium ffa_cpu_cycles_check_runtime_state_transition refuses a transition; 1.0-1.2 schedulers get a note");
    public static readonly Rule RunNotBooted = new("run.not-booted", FfaError.InvalidParameters,
        "the target context has booted", "Hafnium api_ffa_run");
    public static readonly Rule RunAwaitingResponse = new("run.awaiting-response", FfaError.Busy,
        "a context waiting for the answer to its own direct request cannot be run", "Hafnium api_ffa_run");
}
