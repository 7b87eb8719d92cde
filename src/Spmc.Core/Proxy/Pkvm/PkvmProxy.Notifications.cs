using Spmc.Abi.Ffa;
using Spmc.Abi.Rules;

namespace Spmc.Core.Proxy.Pkvm;

/// <summary>The notification calls of L7.4 (do_ffa_notif_*; digest §7b): checked at EL2, then forwarded as the host made them.</summary>
public sealed partial class PkvmProxy
{
    /// <summary>
    /// BITMAP_CREATE/DESTROY: w1 (the VM ID) must be 0. BIND: receiver w1[15:0] = 0, flags w2 ≤ 1. UNBIND: w2 = 0,
    /// receiver 0. SET: sender w1[31:16] = 0, w2[15:2] = 0. GET: receiver 0, w2[31:4] = 0. Then the host's x0..x17
    /// go to the SPMC unmodified and its x0..x17 come back. (3e9df0b0's stricter SBZ checks could not be read.)
    /// </summary>
    private Reply Notification(HostCall c)
    {
        uint w1 = c.W(1), w2 = c.W(2);
        var name = Fid.Name(c.FuncId);
        ushort receiver = (ushort)w1, sender = (ushort)(w1 >> 16);
        (Rule Rule, string Why)? refused = c.FuncId switch
        {
            Fid.NotificationBitmapCreate or Fid.NotificationBitmapDestroy when w1 != HostId =>
                (PkvmRules.BitmapNotHost, $"w1 (VM ID) 0x{w1:X} is not HOST_FFA_ID (0)"),
            Fid.NotificationBind when receiver != HostId => (PkvmRules.BindReceiverNotHost, $"receiver w1[15:0] = {EndpointId.Format(receiver)} is not the host (0)"),
            Fid.NotificationBind when w2 > 1 => (PkvmRules.BindFlags, $"flags w2 = 0x{w2:X}: only bit 0 (per-vCPU) is allowed"),
            Fid.NotificationUnbind when w2 != 0 => (PkvmRules.UnbindW2, $"w2 = 0x{w2:X} is reserved (must be zero)"),
            Fid.NotificationUnbind when receiver != HostId => (PkvmRules.UnbindReceiverNotHost, $"receiver w1[15:0] = {EndpointId.Format(receiver)} is not the host (0)"),
            Fid.NotificationSet when sender != HostId => (PkvmRules.SetSenderNotHost, $"sender w1[31:16] = {EndpointId.Format(sender)} is not the host (0)"),
            Fid.NotificationSet when (w2 & 0xFFFC) != 0 => (PkvmRules.SetFlags, $"flags w2 = 0x{w2:X}: bits[15:2] must be zero"),
            Fid.NotificationGet when receiver != HostId => (PkvmRules.GetReceiverNotHost, $"receiver w1[15:0] = {EndpointId.Format(receiver)} is not the host (0)"),
            Fid.NotificationGet when (w2 & 0xFFFF_FFF0) != 0 => (PkvmRules.GetFlags, $"flags w2 = 0x{w2:X}: bits[31:4] must be zero"),
            _ => null,
        };
        if (refused is { } r) return Err(r.Rule, $"{name}: {r.Why}");
        return Verbatim(c.Spmc.Handle(c.Request));
    }
}
