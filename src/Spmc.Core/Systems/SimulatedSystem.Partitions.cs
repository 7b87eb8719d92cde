using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Spmc.Abi.Ffa;
using Spmc.Abi.Smccc;
using Spmc.Core.Calls;
using Spmc.Core.Spm;

namespace Spmc.Core.Systems;

/// <summary>Events a system publishes, remote partitions attached to it, and its shutdown.</summary>
public sealed partial class SimulatedSystem
{
    /// <summary>Events kept per subscriber before the oldest are dropped (a slow reader never holds the system back).</summary>
    public const int EventBacklog = 1024;

    private readonly List<(ushort? Endpoint, Channel<SystemEvent> Channel)> _subscribers = [];
    private readonly Dictionary<ushort, PartitionAttachment> _attachments = [];
    private long _eventSequence;
    private bool _shutDown;
    private int _openStreams;

    /// <summary>Streams open on this system now (<see cref="OpenStream"/>).</summary>
    public int OpenStreams
    {
        get { lock (_gate) return _openStreams; }
    }

    /// <summary>Clients attached to this system's remote partitions now.</summary>
    public int Attachments
    {
        get { lock (_gate) return _attachments.Count; }
    }

    /// <summary>
    /// Takes one of the system's stream slots (<see cref="SystemQuotas.MaxStreamsPerSystem"/>) for a stream the caller
    /// holds open (<paramref name="kind"/> names it in the refusal); disposing the lease gives the slot back.
    /// Refused when the system is deleted or every slot is taken.
    /// </summary>
    public IDisposable OpenStream(string kind)
    {
        lock (_gate)
        {
            ThrowIfDeleted();
            var max = Quotas.MaxStreamsPerSystem;
            if (max > 0 && _openStreams >= max)
                throw new QuotaExceededException($"stream quota MaxStreamsPerSystem ({max}): system '{Id}' already has {_openStreams} open streams (Watch, Trace follow, Session, SnapshotStream); close one before opening this {kind}");
            _openStreams++;
        }
        return new StreamLease(this);
    }

    private sealed class StreamLease(SimulatedSystem system) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
            lock (system._gate) system._openStreams--;
        }
    }

    /// <summary>Takes the events the last call raised, numbers them and hands them to subscribers. Under the lock.</summary>
    private List<SystemEvent> PublishEvents()
    {
        var raised = _spmc.TakeEvents();
        if (raised.Count == 0) return [];
        var numbered = new List<SystemEvent>(raised.Count);
        foreach (var e in raised)
        {
            var n = e with { Sequence = ++_eventSequence };
            numbered.Add(n);
            foreach (var (endpoint, channel) in _subscribers)
                if (endpoint is null || endpoint == n.Endpoint) channel.Writer.TryWrite(n);
        }
        return numbered;
    }

    private static readonly BoundedChannelOptions EventChannel =
        new(EventBacklog) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true };

    private static Channel<SystemEvent> NewChannel() => Channel.CreateBounded<SystemEvent>(EventChannel);

    private Channel<SystemEvent> Subscribe(ushort? endpoint)
    {
        var channel = NewChannel();
        lock (_gate)
        {
            if (_shutDown) channel.Writer.TryComplete();
            else _subscribers.Add((endpoint, channel));
        }
        return channel;
    }

    internal void Unsubscribe(Channel<SystemEvent> channel)
    {
        lock (_gate) _subscribers.RemoveAll(s => s.Channel == channel);
        channel.Writer.TryComplete();
    }

    /// <summary>
    /// Subscribes to the events of this system from now on (all of them, or those about <paramref name="endpoint"/>):
    /// the schedule-receiver interrupts a VM's driver would take, notification-pending interrupts, indirect
    /// messages. The subscription is live when this returns; it ends when disposed or the system is deleted.
    /// </summary>
    public EventWatch Watch(ushort? endpoint)
    {
        if (endpoint is { } id) lock (_gate) RequireEndpoint(id, "endpoint");
        return new EventWatch(this, Subscribe(endpoint));
    }

    /// <summary>As <see cref="Watch"/>, as an async stream.</summary>
    public async IAsyncEnumerable<SystemEvent> WatchAsync(ushort? endpoint, [EnumeratorCancellation] CancellationToken cancel = default)
    {
        using var watch = Watch(endpoint);
        await foreach (var e in watch.Reader.ReadAllAsync(cancel).ConfigureAwait(false)) yield return e;
    }

    /// <summary>Attaches a client to a remote partition: it then issues the partition's frames, run-time ABIs included.</summary>
    public PartitionAttachment Attach(ushort partition)
    {
        lock (_gate)
        {
            ThrowIfDeleted();
            var max = Quotas.MaxAttachmentsPerSystem;
            if (max > 0 && _attachments.Count >= max && !_attachments.ContainsKey(partition))
                throw new QuotaExceededException($"attachment quota MaxAttachmentsPerSystem ({max}): system '{Id}' already has {_attachments.Count} attached remote partitions; detach one before attaching {EndpointId.Format(partition)}");
            _spmc.Attach(partition);
            var attachment = new PartitionAttachment(this, partition);
            _attachments[partition] = attachment;
            return attachment;
        }
    }

    internal void Detach(PartitionAttachment attachment)
    {
        lock (_gate)
        {
            if (!_attachments.TryGetValue(attachment.Partition, out var current) || current != attachment) return;
            _attachments.Remove(attachment.Partition);
            _spmc.Detach(attachment.Partition);
            PublishEvents();
            if (_attachments.Count == 0 && _waiting == 0) Settled();
        }
    }

    /// <summary>Subscribes for an attachment; the caller holds the lock.</summary>
    internal Channel<SystemEvent> SubscribeInternalUnlocked(ushort endpoint)
    {
        var channel = NewChannel();
        _subscribers.Add((endpoint, channel));
        return channel;
    }

    /// <summary>The system is being deleted: attached clients are detached, waiting callers answered, watchers ended.</summary>
    public void Shutdown()
    {
        List<PartitionAttachment> attached;
        lock (_gate)
        {
            if (_shutDown) return;
            attached = [.. _attachments.Values];
        }
        foreach (var a in attached) a.End($"system '{Id}' was deleted", systemDeleted: true);
        lock (_gate)
        {
            _shutDown = true;
            _spmc.AbortAll($"system '{Id}' was deleted");
            // The pages go back to the quota and are dropped, so a stream or client still holding this deleted
            // system (until it next looks) keeps no simulated memory alive.
            _memory.Discard();
            foreach (var (_, channel) in _subscribers) channel.Writer.TryComplete();
            _subscribers.Clear();
        }
    }
}

/// <summary>
/// A client playing a remote partition. Its calls are the partition's SMCs: FFA_MSG_WAIT, direct responses and
/// FFA_YIELD return when the partition is next given cycles, with the frame it is resumed with (a direct
/// request, FFA_RUN, or FFA_SUCCESS after a yield). <see cref="Events"/> carries what is signalled to it
/// (notification-pending interrupts, indirect messages). Disposing detaches it.
/// </summary>
public sealed class PartitionAttachment : IDisposable
{
    private readonly SimulatedSystem _system;
    private readonly Channel<SystemEvent> _events;
    private readonly CancellationTokenSource _ended = new();
    private int _disposed;

    internal PartitionAttachment(SimulatedSystem system, ushort partition)
    {
        _system = system;
        Partition = partition;
        _events = system.SubscribeInternalUnlocked(partition);
    }

    public ushort Partition { get; }
    public ChannelReader<SystemEvent> Events => _events.Reader;

    /// <summary>Cancelled when the system detached this client (deleted or reset), not when the client disposed it.</summary>
    public CancellationToken Ended => _ended.Token;

    /// <summary>Why the system detached this client ("system 'x' was deleted"), or null while attached or when the client left.</summary>
    public string? EndReason { get; private set; }

    /// <summary>True when <see cref="EndReason"/> is the system's deletion (false for a reset).</summary>
    public bool SystemDeleted { get; private set; }

    public Task<SmcOutcome> CallAsync(uint vcpu, SmcFrame frame, IReadOnlyList<MemoryWrite>? writes = null,
        IReadOnlyList<MemoryReadRequest>? reads = null, CancellationToken cancel = default)
    {
        if (Volatile.Read(ref _disposed) != 0) throw new ConflictException($"partition {EndpointId.Format(Partition)}: this client is detached");
        return _system.CallCoreAsync(new SmcCall(Partition, vcpu, Conduit.Smc, frame, writes, reads), fromDriver: true, cancel);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _system.Detach(this);
        _system.Unsubscribe(_events);
    }

    /// <summary>The system detaches this client (delete or reset): detach as on dispose, then tell the holder why.</summary>
    internal void End(string reason, bool systemDeleted)
    {
        if (Volatile.Read(ref _disposed) != 0) return;
        (EndReason, SystemDeleted) = (reason, systemDeleted);
        Dispose();
        _ended.Cancel();
    }
}

/// <summary>A live subscription to a system's events.</summary>
public sealed class EventWatch : IDisposable
{
    private readonly SimulatedSystem _system;
    private readonly Channel<SystemEvent> _channel;

    internal EventWatch(SimulatedSystem system, Channel<SystemEvent> channel) => (_system, _channel) = (system, channel);

    public ChannelReader<SystemEvent> Reader => _channel.Reader;

    public void Dispose() => _system.Unsubscribe(_channel);
}
