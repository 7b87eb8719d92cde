namespace Spmc.Core.Partitions;

/// <summary>Something the simulated hardware would signal outside a call's return registers.</summary>
public enum SystemEventKind
{
    /// <summary>Schedule-receiver interrupt to the normal world: an endpoint has notifications pending (FF-A v1.1 §10.4).</summary>
    ScheduleReceiverInterrupt,
    /// <summary>Notification-pending interrupt to a secure partition's vCPU.</summary>
    NotificationPendingInterrupt,
    /// <summary>An indirect message was written into an endpoint's RX buffer (FFA_MSG_SEND2).</summary>
    IndirectMessage,
}

/// <summary>
/// One event raised while a call ran. <see cref="Endpoint"/> is the endpoint the event is about (the receiver with
/// pending notifications, the SP whose NPI fires, the receiver of a message). <see cref="Delayed"/> marks an SRI the
/// sender asked to delay until the SPMC returns to the normal world.
/// </summary>
public sealed record SystemEvent(SystemEventKind Kind, ushort Endpoint, string Detail, uint? Vcpu = null, bool Delayed = false)
{
    /// <summary>Position in the system's event order (from 1), set when the system publishes it.</summary>
    public long Sequence { get; init; }
}

public sealed partial class PartitionManager
{
    private readonly List<SystemEvent> _events = [];

    /// <summary>Records an event; the owning system takes them after each call, in order.</summary>
    internal void Raise(SystemEvent e) => _events.Add(e);

    /// <summary>The events raised since the last call to this method, oldest first.</summary>
    public IReadOnlyList<SystemEvent> TakeEvents()
    {
        if (_events.Count == 0) return [];
        var taken = _events.ToArray();
        _events.Clear();
        return taken;
    }
}
