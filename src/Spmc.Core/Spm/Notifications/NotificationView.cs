using Spmc.Abi.Calls;

namespace Spmc.Core.Spm.Notifications;

/// <summary>Notification <paramref name="Notification"/> (0..383) of a receiver is bound to <paramref name="Sender"/>.</summary>
public sealed record NotificationBindingView(int Notification, ushort Sender);

/// <summary>
/// The SPMC's notification state of one endpoint, for the inspector. Bitmaps are 64-bit values, bit n =
/// notification n. <see cref="Enabled"/>: an SP with notification support in its manifest (and version 1.1 or
/// later), or a VM whose bitmap the hypervisor created with FFA_NOTIFICATION_BITMAP_CREATE. Bindings and pending
/// bits are kept separately for senders that are SPs and senders that are VMs. <see cref="PendingFramework"/>:
/// bit 0 = "RX buffer full" set by the SPM (message from an SP), bit 32 = the same set for the hypervisor (message
/// from a VM). The <c>Reported*</c> bitmaps are the pending bits FFA_NOTIFICATION_INFO_GET already reported, which
/// it will not report again until they are retrieved and set anew. FF-A 1.3 extended notifications:
/// <see cref="Count"/> is how many notifications each bitmap holds (64 unless extended), and
/// <see cref="AllPendingFromSps"/>/<see cref="AllPendingFromVms"/> are the whole bitmaps (the <c>PendingFrom*</c>
/// values are their notifications 0..63).
/// </summary>
public sealed record NotificationView(
    ushort Receiver,
    bool Enabled,
    int Vcpus,
    IReadOnlyList<NotificationBindingView> BoundToSps,
    IReadOnlyList<NotificationBindingView> BoundToVms,
    ulong PendingFromSps,
    ulong PendingFromVms,
    ulong PendingFramework,
    ulong ReportedFromSps,
    ulong ReportedFromVms,
    ulong ReportedFramework,
    int Count = NotificationBits.BaseCount,
    NotificationBits AllPendingFromSps = default,
    NotificationBits AllPendingFromVms = default);
