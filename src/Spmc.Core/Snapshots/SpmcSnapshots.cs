using Spmc.Abi.Calls;
using Spmc.Abi.Ffa;
using Spmc.Core.Spm;
using Spmc.Core.Spm.Behaviours;
using Spmc.Core.Spm.Handlers;
using Spmc.Core.Spm.Notifications;
using Spmc.Core.Spm.Runtime;
using Spmc.Core.Spm.Shares;

namespace Spmc.Core.Snapshots;

/// <summary>
/// <see cref="SpmcState"/> to and from <see cref="SpmcSnapshot"/>. Loading works in place on the state of a system
/// freshly built from the same manifest: the handlers keep their references to its collections, and each
/// partition keeps its built-in behaviour object (code from the manifest), whose state is loaded into it.
/// </summary>
internal static class SpmcSnapshots
{
    public static SpmcSnapshot Export(SpmcState state)
    {
        if (state.Events.Count != 0) throw new InvalidOperationException("events of a call not yet published");
        return new SpmcSnapshot(
            state.Endpoints.Values.OrderBy(e => e.Id).Select(Export).ToList(),
            state.Shares.Values.Select(SystemSnapshot.DeepCopy).ToList(),
            state.NextHandle,
            state.Notifications.Values.OrderBy(n => n.Receiver).Select(Export).ToList(),
            state.NsResInfo is { } ns ? new NsResInfoSnapshot([.. ns.Descriptor], ns.Target, ns.Written) : null,
            state.Console.Export());
    }

    private static EndpointSnapshot Export(Endpoint e) => new(e.Id, e.Name, e.Vcpus, e.Version, e.VersionLocked, e.VersionNegotiated, e.Learned,
        e.Mailbox is { } m ? new MailboxSnapshot(m.Tx, m.Rx, m.Pages, m.State) : null,
        e.Runtime is { } r ? Export(e.Id, r) : null);

    private static RuntimeSnapshot Export(ushort id, PartitionRuntime r)
    {
        // Rule (docs/snapshots.md): a client's attachment and its live calls are not state; refuse rather than drop them.
        if (r.Attached)
            throw new StateConflictException($"snapshot: a client is attached to remote partition {EndpointId.Format(id)}; detach it first (attachments are not part of a snapshot)");
        foreach (var c in r.Contexts)
            if (c.Resumer is not null || c.Parked is not null)
                throw new StateConflictException($"snapshot: a call waits on {EndpointId.Format(id)} context {c.Index}; snapshot between calls");
        return new RuntimeSnapshot(r.Lifecycle,
            r.Contexts.Select(c => new ContextSnapshot(c.Index, c.State, c.Reason, c.Request, c.HeldAnswer, c.WaitingFor, c.LenderIs64, c.Smc64Run, c.Parked64, c.LenderNote)).ToList(),
            (r.Builtin as IBehaviourState)?.Export());
    }

    private static NotificationSnapshot Export(NotificationRecord n) => new(n.Receiver, n.Enabled, n.Vcpus, n.Count,
        Export(n.FromSps), Export(n.FromVms), n.Framework.Pending, n.Framework.Reported);

    private static BoundBitmapSnapshot Export(BoundBitmap b) =>
        new(b.Pending, b.Reported, b.Bindings().Select(x => new NotificationBinding(x.Bit, x.Sender)).ToList());

    /// <summary>Replaces <paramref name="state"/>'s contents with the snapshot's (the state of a system built from the same manifest).</summary>
    public static void Load(SpmcState state, SpmcSnapshot s)
    {
        var runtimes = state.Endpoints.Values.Where(e => e.Runtime is not null).ToDictionary(e => e.Id, e => (e.Partition!, e.Runtime!));
        var declared = state.Endpoints.Keys.ToHashSet();
        state.Endpoints.Clear();
        foreach (var e in s.Endpoints)
        {
            var field = $"spmc.endpoints[{EndpointId.Format(e.Id)}]";
            if (!e.Learned && !declared.Contains(e.Id)) throw new InvalidRequestException($"{field}: not an endpoint of the snapshot's manifest");
            PartitionRuntime? runtime = null;
            Manifests.PartitionConfig? partition = null;
            if (runtimes.TryGetValue(e.Id, out var p))
            {
                (partition, runtime) = p;
                Load(runtime, e.Runtime ?? throw new InvalidRequestException($"{field}.runtime: missing for a partition"), field);
            }
            state.Endpoints[e.Id] = new Endpoint
            {
                Id = e.Id,
                Name = e.Name,
                Vcpus = e.Vcpus,
                Partition = partition,
                Version = e.Version,
                VersionLocked = e.VersionLocked,
                VersionNegotiated = e.VersionNegotiated,
                Learned = e.Learned,
                Mailbox = e.Mailbox is { } m ? new Mailbox { Tx = m.Tx, Rx = m.Rx, Pages = m.Pages, State = m.State } : null,
                Runtime = runtime,
            };
        }
        foreach (var id in runtimes.Keys)
            if (!state.Endpoints.ContainsKey(id)) throw new InvalidRequestException($"spmc.endpoints: partition {EndpointId.Format(id)} is missing");

        state.Shares.Clear();
        foreach (var share in s.Shares) state.Shares[share.Handle] = SystemSnapshot.DeepCopy(share);
        state.NextHandle = s.NextHandle;

        state.Notifications.Clear();
        foreach (var n in s.Notifications)
        {
            var record = new NotificationRecord(n.Receiver, n.Enabled, n.Vcpus, n.Count);
            Load(record.FromSps, n.FromSps, $"spmc.notifications[{n.Receiver}].fromSps");
            Load(record.FromVms, n.FromVms, $"spmc.notifications[{n.Receiver}].fromVms");
            record.Framework.Load(n.FrameworkPending, n.FrameworkReported);
            state.Notifications[n.Receiver] = record;
        }

        state.NsResInfo = s.NsResInfo is { } ns ? new NsResInfoRetrieval { Descriptor = [.. ns.Descriptor], Target = ns.Target, Written = ns.Written } : null;
        state.Events.Clear();
        state.Console.Load(s.Console);
    }

    private static void Load(PartitionRuntime r, RuntimeSnapshot s, string field)
    {
        if (s.Contexts.Count != r.Contexts.Length)
            throw new InvalidRequestException($"{field}.runtime.contexts: {s.Contexts.Count}, the manifest gives {r.Contexts.Length}");
        r.Lifecycle = s.Lifecycle;
        r.Attached = false;
        for (var i = 0; i < r.Contexts.Length; i++)
        {
            var (c, cs) = (r.Contexts[i], s.Contexts[i]);
            (c.State, c.Reason, c.Request, c.HeldAnswer, c.WaitingFor) = (cs.State, cs.Reason, cs.Request, cs.HeldAnswer, cs.WaitingFor);
            (c.LenderIs64, c.Smc64Run, c.Parked64, c.LenderNote) = (cs.LenderIs64, cs.Smc64Run, cs.Parked64, cs.LenderNote);
            (c.Resumer, c.Parked) = (null, null);
        }
        if (r.Builtin is IBehaviourState behaviour) behaviour.Load(s.Behaviour ?? new BehaviourSnapshot([]));
    }

    private static void Load(BoundBitmap b, BoundBitmapSnapshot s, string field)
    {
        foreach (var x in s.Bindings)
            if (x.Bit is < 0 or >= NotificationBits.MaxCount) throw new InvalidRequestException($"{field}.bindings: bit {x.Bit} is outside 0..{NotificationBits.MaxCount - 1}");
        b.Load(s.Pending, s.Reported, s.Bindings.Select(x => (x.Bit, x.Sender)));
    }
}
