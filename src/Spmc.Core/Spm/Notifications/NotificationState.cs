using System.Numerics;
using System.Text.Json.Serialization;
using Spmc.Abi.Ffa;

namespace Spmc.Core.Spm.Notifications;

/// <summary>
/// One bitmap of 64 pending notifications and which of them FFA_NOTIFICATION_INFO_GET already reported to the
/// scheduler (Hafnium `struct notifications_state`: `pending`, `info_get_retrieved`).
/// </summary>
public class PendingBitmap
{
    [JsonInclude]
    public ulong Pending { get; private set; }

    /// <summary>Pending bits INFO_GET already reported; always a subset of <see cref="Pending"/>.</summary>
    [JsonInclude]
    public ulong Reported { get; private set; }

    public ulong Unreported => Pending & ~Reported;

    public void Set(ulong bits) => Pending |= bits;

    /// <summary>Marks what is pending now as reported by INFO_GET.</summary>
    public void MarkReported() => Reported = Pending;

    /// <summary>FFA_NOTIFICATION_GET: returns the pending bits and clears them, and what was reported of them.</summary>
    public ulong Take()
    {
        var taken = Pending;
        Pending = 0;
        Reported = 0;
        return taken;
    }
}

/// <summary>
/// Notifications from one kind of sender (SPs or VMs): per bit, the sender bound to it, and what is pending.
/// Hafnium keeps the two kinds apart, so a bit may be bound to an SP and to a VM at the same time.
/// </summary>
public sealed class BoundBitmap : PendingBitmap
{
    /// <summary>An unbound bit holds the invalid-ID sentinel, as in Hafnium (`HF_INVALID_VM_ID`).</summary>
    public const ushort Unbound = EndpointId.Invalid;

    private readonly ushort[] _senders = Enumerable.Repeat(Unbound, 64).ToArray();

    /// <summary>The sender bound to each of the 64 bits (<see cref="Unbound"/> when none), for the state document.</summary>
    public IReadOnlyList<ushort> Senders => _senders;

    public ushort SenderOf(int bit) => _senders[bit];

    /// <summary>The first selected bit not bound to <paramref name="sender"/>, or null when all are.</summary>
    public int? FirstNotBoundTo(ulong bits, ushort sender)
    {
        for (var rest = bits; rest != 0; rest &= rest - 1)
        {
            var bit = BitOperations.TrailingZeroCount(rest);
            if (_senders[bit] != sender) return bit;
        }
        return null;
    }

    public void Bind(ulong bits, ushort sender)
    {
        for (var rest = bits; rest != 0; rest &= rest - 1) _senders[BitOperations.TrailingZeroCount(rest)] = sender;
    }

    public void UnbindAll() => Array.Fill(_senders, Unbound);

    public IEnumerable<(int Bit, ushort Sender)> Bindings()
    {
        for (var bit = 0; bit < _senders.Length; bit++)
            if (_senders[bit] != Unbound) yield return (bit, _senders[bit]);
    }
}

/// <summary>
/// The SPMC's notification state of one receiver (Hafnium `struct vm`'s `notifications`): whether it may receive
/// notifications (an SP from its manifest, a VM once its bitmap is created), its vCPU count, the bitmaps from SPs
/// and from VMs, and the framework bitmap (bit 0 = SPM "RX buffer full", bit 32 = hypervisor "RX buffer full").
/// </summary>
public sealed class NotificationRecord(ushort receiver, bool enabled, int vcpus)
{
    public ushort Receiver { get; } = receiver;
    public bool Enabled { get; set; } = enabled;
    public int Vcpus { get; set; } = vcpus;
    public BoundBitmap FromSps { get; } = new();
    public BoundBitmap FromVms { get; } = new();
    public PendingBitmap Framework { get; } = new();

    /// <summary>The bitmap a sender's notifications go to: from VMs for a VM ID, else from SPs.</summary>
    public BoundBitmap From(ushort sender) => EndpointId.IsVm(sender) ? FromVms : FromSps;

    public bool AnythingUnreported => FromSps.Unreported != 0 || FromVms.Unreported != 0 || Framework.Unreported != 0;
}
