using Spmc.Abi.Ffa;
using Spmc.Abi.Rules;

namespace Spmc.Core.Faults;

/// <summary>
/// A fault rule as a client writes it (REST body, gRPC message), before validation. <see cref="Function"/>: an FF-A
/// name (<c>FFA_MEM_SHARE</c> matches both widths, <c>FFA_MEM_SHARE_64</c> one) or a function ID (<c>0xC4000073</c>,
/// one width). <see cref="Caller"/>, <see cref="Receiver"/> (direct requests) and <see cref="Handle"/> (calls with a
/// handle in w1/w2) narrow the match. At most one of <see cref="Nth"/>, <see cref="Every"/>, <see cref="Next"/> and
/// <see cref="Probability"/> (with <see cref="Seed"/>) says when the rule fires on a matching call; none: every one.
/// Exactly one action says what a firing rule does: <see cref="Error"/> answers that FF-A error (BUSY, RETRY,
/// NO_MEMORY, ABORTED, NOT_READY, DENIED, INVALID_PARAMETERS, NOT_SUPPORTED) without running the call;
/// <see cref="Delay"/> preempts the partition the call lends its cycles to (FFA_INTERRUPT); <see cref="Fragment"/>
/// cuts a retrieve response's first fragment at that many bytes; <see cref="Abort"/> aborts the receiving partition
/// first; <see cref="Stage2"/> fails the pKVM proxy's stage-2 step.
/// </summary>
public sealed record FaultRuleSpec(
    string? Function,
    string? Error,
    ulong? Caller = null,
    ulong? Receiver = null,
    ulong? Handle = null,
    long? Nth = null,
    long? Every = null,
    long? Next = null,
    double? Probability = null,
    ulong? Seed = null,
    bool? Delay = null,
    long? Fragment = null,
    bool? Abort = null,
    bool? Stage2 = null);

/// <summary>What a rule does to a call it fires on (docs/faults.md).</summary>
public enum FaultAction
{
    /// <summary>Answers an FF-A error at the caller's SMC conduit; the call is not run.</summary>
    Error,

    /// <summary>The partition the call lends its cycles to is preempted at once: the caller gets FFA_INTERRUPT.</summary>
    Delay,

    /// <summary>A retrieve response's first fragment carries at most this many bytes; the rest comes with FFA_MEM_FRAG_RX.</summary>
    Fragment,

    /// <summary>The call's receiving partition aborts (as if it called FFA_ABORT) before the call runs.</summary>
    Abort,

    /// <summary>The pKVM proxy's stage-2 update for the call fails, so its rollback path runs.</summary>
    Stage2,
}

/// <summary>When a rule fails a matching call.</summary>
public enum FaultWhen
{
    /// <summary>Every matching call.</summary>
    Always,

    /// <summary>Only the n-th matching call.</summary>
    Nth,

    /// <summary>Every k-th matching call (k, 2k, ...).</summary>
    Every,

    /// <summary>The first n matching calls after the rule was added (or the system reset).</summary>
    Next,

    /// <summary>Each matching call with probability p, drawn from the rule's own generator seeded with its seed.</summary>
    Probability,
}

/// <summary>A rule as the system reports it: its ID, what it matches, when, the error, and its counters.</summary>
public sealed record FaultRuleView(
    int Id,
    string Function,
    ushort? Caller,
    ushort? Receiver,
    ulong? Handle,
    FaultWhen When,
    long? Count,
    double? Probability,
    ulong? Seed,
    FaultAction Action,
    FfaError? Error,
    int? Fragment,
    long Matched,
    long Hits);

/// <summary>
/// The fault rules of a system in a snapshot (docs/snapshots.md): each rule as <see cref="FaultRuleView"/> shows it
/// plus its generator's state (<see cref="FaultRuleSnapshot.State"/>: the seed, advanced one step per matching call
/// of a probability rule), its action (<c>action</c>: absent for <c>error</c>, with <c>fragment</c> for a fragment
/// rule), and the ID the next added rule gets after <see cref="NextId"/>.
/// </summary>
public sealed record FaultsSnapshot(int NextId, IReadOnlyList<FaultRuleSnapshot> Rules);

public sealed record FaultRuleSnapshot(
    int Id,
    string Function,
    ushort? Caller,
    ushort? Receiver,
    ulong? Handle,
    FaultWhen When,
    long? Count,
    double? Probability,
    ulong? Seed,
    string? Error,
    long Matched,
    long Hits,
    ulong State,
    string? Action = null,
    int? Fragment = null);

/// <summary>The rule every injected answer names in <c>decoded.rule</c>.</summary>
public static class FaultRules
{
    public static readonly Rule Injected = new("fault.injected", FfaError.Busy,
        "a fault rule added through the API (docs/faults.md) answered this call with its FF-A error (BUSY here only as an example) without running it",
        "Spmc fault injection: the error is given at the caller's SMC conduit, before the hypervisor proxy or the SPMC sees the call");
}
