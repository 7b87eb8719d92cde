using System.Text.Json.Serialization;
using Spmc.Abi.Calls;
using Spmc.Abi.Ffa;

namespace Spmc.Core.Spm.Notifications;

/// <summary>A bitmap FFA_NOTIFICATION_INFO_GET reports: whether it has pending bits not reported yet, and marking them reported.</summary>
public interface IInfoReported
{
    bool HasUnreported { get; }

    /// <summary>Marks what is pending now as reported by INFO_GET.</summary>
    void MarkReported();
}

/// <summary>
/// The framework bitmap of one receiver, 64 pending notifications, and which of them FFA_NOTIFICATION_INFO_GET
/// already reported to the scheduler (Hafnium `struct notifications_state`: `pending`, `info_get_retrieved`).
/// </summary>
public class PendingBitmap : IInfoReported
{
    [JsonInclude]
    public ulong Pending { get; private set; }

    /// <summary>Pending bits INFO_GET already reported; always a subset of <see cref="Pending"/>.</summary>
    [JsonInclude]
    public ulong Reported { get; private set; }

    public ulong Unreported => Pending & ~Reported;

    public bool HasUnreported => Unreported != 0;

    public void Set(ulong bits) => Pending |= bits;

    public void MarkReported() => Reported = Pending;

    /// <summary>Restores a snapshot's bits.</summary>
    public void Load(ulong pending, ulong reported) => (Pending, Reported) = (pending, reported);

    /// <summary>FFA_NOTIFICATION_GET: returns the pending bits of <paramref name="selected"/> and clears them (and their reported marks).</summary>
    public ulong Take(ulong selected = ulong.MaxValue)
    {
        var taken = Pending & selected;
        Pending &= ~taken;
        Reported &= ~taken;
        return taken;
    }
}

/// <summary>
/// Notifications from one kind of sender (SPs or VMs): per bit, the sender bound to it, and what is pending, for up
/// to 384 notifications (FF-A 1.3 extended notifications; a receiver's own count is
/// <see cref="NotificationRecord.Count"/>). Hafnium keeps the two kinds apart, so a bit may be bound to an SP and to
/// a VM at the same time.
/// </summary>
public sealed class BoundBitmap : IInfoReported
{
    /// <summary>An unbound bit holds the invalid-ID sentinel, as in Hafnium (`HF_INVALID_VM_ID`).</summary>
    public const ushort Unbound = EndpointId.Invalid;

    private readonly ushort[] _senders = Enumerable.Repeat(Unbound, NotificationBits.MaxCount).ToArray();

    [JsonInclude]
    public NotificationBits Pending { get; private set; }

    /// <summary>Pending bits INFO_GET already reported; always a subset of <see cref="Pending"/>.</summary>
    [JsonInclude]
    public NotificationBits Reported { get; private set; }

    public NotificationBits Unreported => Pending & ~Reported;

    public bool HasUnreported => !Unreported.IsEmpty;

    /// <summary>The sender bound to each of the 384 bits (<see cref="Unbound"/> when none), for the state document.</summary>
    public IReadOnlyList<ushort> Senders => _senders;

    public ushort SenderOf(int bit) => _senders[bit];

    public void Set(NotificationBits bits) => Pending |= bits;

    public void MarkReported() => Reported = Pending;

    /// <summary>FFA_NOTIFICATION_GET/GET2: returns the pending bits of <paramref name="selected"/> and clears them (and their reported marks).</summary>
    public NotificationBits Take(NotificationBits selected)
    {
        var taken = Pending & selected;
        Pending &= ~taken;
        Reported &= ~taken;
        return taken;
    }

    /// <summary>The first selected bit not bound to <paramref name="sender"/>, or null when all are.</summary>
    public int? FirstNotBoundTo(NotificationBits bits, ushort sender)
    {
        foreach (var bit in bits.Bits())
            if (_senders[bit] != sender) return bit;
        return null;
    }

    public void Bind(NotificationBits bits, ushort sender)
    {
        foreach (var bit in bits.Bits()) _senders[bit] = sender;
    }

    public void UnbindAll() => Array.Fill(_senders, Unbound);

    /// <summary>Restores a snapshot's bits and bindings (every other bit unbound).</summary>
    public void Load(NotificationBits pending, NotificationBits reported, IEnumerable<(int Bit, ushort Sender)> bindings)
    {
        (Pending, Reported) = (pending, reported);
        UnbindAll();
        foreach (var (bit, sender) in bindings) _senders[bit] = sender;
    }

    public IEnumerable<(int Bit, ushort Sender)> Bindings()
    {
        for (var bit = 0; bit < _senders.Length; bit++)
            if (_senders[bit] != Unbound) yield return (bit, _senders[bit]);
    }
}

/// <summary>
/// The SPMC's notification state of one receiver (Hafnium `struct vm`'s `notifications`): whether it may receive
/// notifications (an SP from its manifest, a VM once its bitmap is created), its vCPU count, how many notifications
/// its bitmaps hold (<see cref="Count"/>: 64 before FF-A 1.3), the bitmaps from SPs and from VMs, and the framework
/// bitmap (bit 0 = SPM "RX buffer full", bit 32 = hypervisor "RX buffer full").
/// </summary>
public sealed class NotificationRecord(ushort receiver, bool enabled, int vcpus, int count = NotificationBits.BaseCount)
{
    public ushort Receiver { get; } = receiver;
    public bool Enabled { get; set; } = enabled;
    public int Vcpus { get; set; } = vcpus;

    /// <summary>
    /// Notifications per bitmap (from SPs, from VMs): 64 + the extra ones (FF-A 1.3): for a VM what
    /// FFA_NOTIFICATION_BITMAP_CREATE allocated, for an SP what the SPMC gives a 1.3 partition.
    /// </summary>
    public int Count { get; set; } = count;

    public BoundBitmap FromSps { get; } = new();
    public BoundBitmap FromVms { get; } = new();
    public PendingBitmap Framework { get; } = new();

    /// <summary>The bitmap a sender's notifications go to: from VMs for a VM ID, else from SPs.</summary>
    public BoundBitmap From(ushort sender) => EndpointId.IsVm(sender) ? FromVms : FromSps;

    public bool AnythingUnreported => FromSps.HasUnreported || FromVms.HasUnreported || Framework.HasUnreported;
}
