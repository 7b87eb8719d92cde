using Spmc.Abi.Calls;
using Spmc.Abi.Ffa;
using Spmc.Abi.Rules;

namespace Spmc.Core.Proxy.Pkvm;

/// <summary>The notification calls of L7.4 (do_ffa_notif_*; digest §7b): checked at EL2, then forwarded as the host made them.</summary>
public sealed partial class PkvmProxy
{
    /// <summary>
    /// BITMAP_CREATE/DESTROY: w1 (the VM ID) must be 0. BIND: receiver w1[15:0] = 0, flags w2 ≤ 1. UNBIND: w2 = 0,
    /// receiver 0. SET: sender w1[31:16] = 0, w2[15:2] = 0. GET: receiver 0, w2[31:4] = 0. Then the host's x0..x17
    /// go to the SPMC unmodified and its x0..x17 come back. 3e9df0b0's unused-register checks run before (PkvmProxy.Sbz).
    /// </summary>
    private Reply DoFfaNotification(HostCall c)
    {
        var refused = c.FuncId switch
        {
            Fid.NotificationBitmapCreate => BitmapVmId(Decode<NotificationBitmapCreate>(c).W1),
            Fid.NotificationBitmapDestroy => BitmapVmId(Decode<NotificationBitmapDestroy>(c).W1),
            Fid.NotificationBind => Bind(Decode<NotificationBind>(c)),
            Fid.NotificationUnbind => Unbind(Decode<NotificationUnbind>(c)),
            Fid.NotificationSet => Set(Decode<NotificationSet>(c)),
            Fid.NotificationGet => Get(Decode<NotificationGet>(c)),
            _ => null,
        };
        if (refused is { } r) return Err(r.Rule, $"{Fid.Name(c.FuncId)}: {r.Why}");
        return Verbatim(c.Spmc.Handle(c.Request));

        // pKVM takes all of w1 as the VM ID (5224e6f0), reserved bits[31:16] included.
        static (Rule Rule, string Why)? BitmapVmId(uint w1) =>
            w1 != HostId ? (PkvmRules.BitmapNotHost, $"w1 (VM ID) 0x{w1:X} is not HOST_FFA_ID (0)") : null;

        static (Rule Rule, string Why)? Bind(NotificationBind n) =>
            n.Receiver != HostId ? (PkvmRules.BindReceiverNotHost, $"receiver w1[15:0] = {EndpointId.Format(n.Receiver)} is not the host (0)")
            : n.Flags > 1 ? (PkvmRules.BindFlags, $"flags w2 = 0x{n.Flags:X}: only bit 0 (per-vCPU) is allowed")
            : null;

        // UNBIND checks w2 before the receiver (69fde06e).
        static (Rule Rule, string Why)? Unbind(NotificationUnbind n) =>
            n.ReservedW2 != 0 ? (PkvmRules.UnbindW2, $"w2 = 0x{n.ReservedW2:X} is reserved (must be zero)")
            : n.Receiver != HostId ? (PkvmRules.UnbindReceiverNotHost, $"receiver w1[15:0] = {EndpointId.Format(n.Receiver)} is not the host (0)")
            : null;

        static (Rule Rule, string Why)? Set(NotificationSet n) =>
            n.Sender != HostId ? (PkvmRules.SetSenderNotHost, $"sender w1[31:16] = {EndpointId.Format(n.Sender)} is not the host (0)")
            : (n.Flags & 0xFFFC) != 0 ? (PkvmRules.SetFlags, $"flags w2 = 0x{n.Flags:X}: bits[15:2] must be zero")
            : null;

        static (Rule Rule, string Why)? Get(NotificationGet n) =>
            n.Receiver != HostId ? (PkvmRules.GetReceiverNotHost, $"receiver w1[15:0] = {EndpointId.Format(n.Receiver)} is not the host (0)")
            : (n.Flags & 0xFFFF_FFF0) != 0 ? (PkvmRules.GetFlags, $"flags w2 = 0x{n.Flags:X}: bits[31:4] must be zero")
            : null;
    }
}
