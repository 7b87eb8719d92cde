namespace Spmc.Core.Calls;

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
