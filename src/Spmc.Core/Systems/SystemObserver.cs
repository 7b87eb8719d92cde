using Spmc.Core.Calls;

namespace Spmc.Core.Systems;

/// <summary>
/// What one SMC did, as observers see it once it completed: the call as made (registers, memory writes and reads
/// asked for), the outcome (answer, decoded view with hops, reads, events), and how long it took from arrival to
/// answer (including any wait for a remote partition). <see cref="Sequence"/> orders calls and API memory
/// accesses of one system as it applied them (1, 2, ...). The elapsed time is measured, never used to decide an
/// answer. <see cref="FromAttachedPartition"/>: made by a client playing a remote partition (PartitionHost.Attach).
/// </summary>
public sealed record CallRecord(long Sequence, SmcCall Call, SmcOutcome Outcome, TimeSpan Elapsed, bool FromAttachedPartition);

/// <summary>
/// The system's fault rules after a change through the API (a rule added or removed, all cleared, the rules a reset
/// restarted), with their counters: <see cref="Sequence"/> orders it among calls and memory accesses.
/// </summary>
public sealed record FaultsChangeRecord(long Sequence, Faults.FaultsSnapshot Faults);

/// <summary>A memory read or write through the API (not an SMC's own writes/reads), in the same order as calls.</summary>
public sealed record MemoryAccessRecord(long Sequence, ushort As, ulong Address, bool Write, byte[] Data);

/// <summary>
/// Sees every system of a registry: its creation, each completed call and API memory access (in the order the
/// system applied them, under the system's lock: keep it short and never call back into the system), and its
/// deletion (and any reset). Logging, metrics and traces hang off this; none of them can change an answer.
/// </summary>
public interface ISystemObserver
{
    void OnCreated(SimulatedSystem system) { }

    void OnCall(SimulatedSystem system, CallRecord record);

    void OnMemoryAccess(SimulatedSystem system, MemoryAccessRecord record) { }

    void OnDeleted(SimulatedSystem system) { }

    /// <summary>The fault rules changed (docs/faults.md), in the same order as calls; under the system's lock.</summary>
    void OnFaultsChanged(SimulatedSystem system, FaultsChangeRecord record) { }

    /// <summary>
    /// The system was reset to its state just after creation (same ID and config; see docs/faults.md). Under the
    /// system's lock, after the reset and before any later call.
    /// </summary>
    void OnReset(SimulatedSystem system) { }

    /// <summary>
    /// The system's state was replaced by a snapshot's (<see cref="SimulatedSystem.RestoreInPlace"/>, or a system
    /// just built by <see cref="SimulatedSystem.FromSnapshot"/>, before its <see cref="OnCreated"/>). Its sequence
    /// goes on from the snapshot's, which may be lower than the last one seen. Under the system's lock, after the
    /// restore and before any later call.
    /// </summary>
    void OnRestored(SimulatedSystem system) { }

    /// <summary>
    /// The system just became settled (<see cref="SimulatedSystem.IsSettled"/>: no client attached to a remote
    /// partition, no call waiting on one) after it was not: the last client detached, or the last waiting call ended.
    /// Under the system's lock; a <see cref="SimulatedSystem.Snapshot"/> taken here succeeds (persistence checkpoints
    /// what attached partitions changed here, since their calls cannot be replayed).
    /// </summary>
    void OnSettled(SimulatedSystem system) { }
}
