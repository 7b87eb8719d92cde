using Spmc.Abi.Descriptors;
using Spmc.Abi.Ffa;
using Spmc.Abi.Smccc;

namespace Spmc.Abi.Calls;

// The notification ABIs of FF-A v1.1 and later (DEN0077 v1.2, the FFA_NOTIFICATION_* function tables). All but
// INFO_GET exist as SMC32 only: their decoders read w1..w4 whatever the width bit of the function ID says.
//
// These decoders check no reserved (MBZ) bits: the SPMC's handlers (PartitionManager.Notifications) check their
// flags and IDs in Hafnium's order, with register and state checks interleaved, so an MBZ rejection here would
// change which rule fails first. Reserved bits are kept in the records instead (ReservedW1, ReservedW2, the flag
// words whole), so that a caller that does check them — the SPMC, or a pKVM release — reads them from the record.

/// <summary>Notification bitmaps travel as two 32-bit halves: low in the first register, high in the second.</summary>
internal static class NotificationBitmap
{
    public static ulong From(uint low, uint high) => ((ulong)high << 32) | low;
    public static ulong Low(ulong bitmap) => (uint)bitmap;
    public static ulong High(ulong bitmap) => bitmap >> 32;
}

/// <summary>FFA_NOTIFICATION_BITMAP_CREATE: w1[15:0] = VM ID (w1[31:16] reserved, kept in <see cref="ReservedW1"/>), w2 = its vCPU count.</summary>
public sealed record NotificationBitmapCreate(ushort VmId, uint VcpuCount, ushort ReservedW1 = 0) : IFfaCall<NotificationBitmapCreate>
{
    public uint FunctionId => FfaFunctions.Id32(FfaFunction.NotificationBitmapCreate);

    /// <summary>All of w1 as the caller wrote it.</summary>
    public uint W1 => ((uint)ReservedW1 << 16) | VmId;

    public static ParseResult<NotificationBitmapCreate> Decode(in SmcFrame frame) =>
        new NotificationBitmapCreate(EndpointId.Receiver(frame.W(1)), frame.W(2), EndpointId.Sender(frame.W(1)));

    public SmcFrame Encode() => Regs.Frame(FunctionId, W1, VcpuCount);
}

/// <summary>FFA_NOTIFICATION_BITMAP_DESTROY: w1[15:0] = VM ID (w1[31:16] reserved, kept in <see cref="ReservedW1"/>).</summary>
public sealed record NotificationBitmapDestroy(ushort VmId, ushort ReservedW1 = 0) : IFfaCall<NotificationBitmapDestroy>
{
    public uint FunctionId => FfaFunctions.Id32(FfaFunction.NotificationBitmapDestroy);

    /// <summary>All of w1 as the caller wrote it.</summary>
    public uint W1 => ((uint)ReservedW1 << 16) | VmId;

    public static ParseResult<NotificationBitmapDestroy> Decode(in SmcFrame frame) =>
        new NotificationBitmapDestroy(EndpointId.Receiver(frame.W(1)), EndpointId.Sender(frame.W(1)));

    public SmcFrame Encode() => Regs.Frame(FunctionId, W1);
}

/// <summary>
/// FFA_NOTIFICATION_BIND: w1 = sender[31:16] | receiver[15:0] (the receiver calls and names the sender allowed to
/// signal), w2 = flags (bit 0: per-vCPU notifications; the other bits reserved), w3/w4 = bitmap low/high.
/// </summary>
public sealed record NotificationBind(ushort Sender, ushort Receiver, uint Flags, ulong Bitmap) : IFfaCall<NotificationBind>
{
    public const uint PerVcpuFlag = 1u << 0;

    public uint FunctionId => FfaFunctions.Id32(FfaFunction.NotificationBind);
    public bool PerVcpu => (Flags & PerVcpuFlag) != 0;

    public static ParseResult<NotificationBind> Decode(in SmcFrame frame) =>
        new NotificationBind(EndpointId.Sender(frame.W(1)), EndpointId.Receiver(frame.W(1)), frame.W(2),
            NotificationBitmap.From(frame.W(3), frame.W(4)));

    public SmcFrame Encode() =>
        Regs.Frame(FunctionId, EndpointId.Pack(Sender, Receiver), Flags, NotificationBitmap.Low(Bitmap), NotificationBitmap.High(Bitmap));
}

/// <summary>
/// FFA_NOTIFICATION_UNBIND: w1 = sender[31:16] | receiver[15:0], w2 reserved (MBZ; kept in <see cref="ReservedW2"/>),
/// w3/w4 = bitmap low/high.
/// </summary>
public sealed record NotificationUnbind(ushort Sender, ushort Receiver, ulong Bitmap, uint ReservedW2 = 0) : IFfaCall<NotificationUnbind>
{
    public uint FunctionId => FfaFunctions.Id32(FfaFunction.NotificationUnbind);

    public static ParseResult<NotificationUnbind> Decode(in SmcFrame frame) =>
        new NotificationUnbind(EndpointId.Sender(frame.W(1)), EndpointId.Receiver(frame.W(1)),
            NotificationBitmap.From(frame.W(3), frame.W(4)), frame.W(2));

    public SmcFrame Encode() =>
        Regs.Frame(FunctionId, EndpointId.Pack(Sender, Receiver), ReservedW2, NotificationBitmap.Low(Bitmap), NotificationBitmap.High(Bitmap));
}

/// <summary>
/// FFA_NOTIFICATION_SET: w1 = sender[31:16] | receiver[15:0], w2 = flags (bit 0 per-vCPU, bit 1 delay the schedule
/// receiver interrupt, bits[15:2] reserved, bits[31:16] the target vCPU), w3/w4 = bitmap low/high.
/// </summary>
public sealed record NotificationSet(ushort Sender, ushort Receiver, uint Flags, ulong Bitmap) : IFfaCall<NotificationSet>
{
    public const uint PerVcpuFlag = 1u << 0, DelaySriFlag = 1u << 1;

    public uint FunctionId => FfaFunctions.Id32(FfaFunction.NotificationSet);
    public bool PerVcpu => (Flags & PerVcpuFlag) != 0;
    public bool DelaySri => (Flags & DelaySriFlag) != 0;

    /// <summary>w2[31:16], the vCPU a per-vCPU notification is for.</summary>
    public ushort Vcpu => (ushort)(Flags >> 16);

    public static ParseResult<NotificationSet> Decode(in SmcFrame frame) =>
        new NotificationSet(EndpointId.Sender(frame.W(1)), EndpointId.Receiver(frame.W(1)), frame.W(2),
            NotificationBitmap.From(frame.W(3), frame.W(4)));

    public SmcFrame Encode() =>
        Regs.Frame(FunctionId, EndpointId.Pack(Sender, Receiver), Flags, NotificationBitmap.Low(Bitmap), NotificationBitmap.High(Bitmap));
}

/// <summary>
/// FFA_NOTIFICATION_GET: w1 = vCPU[31:16] | receiver[15:0], w2 = which bitmaps (bit 0 from SPs, bit 1 from VMs,
/// bit 2 SPM framework, bit 3 hypervisor framework; bits[31:4] reserved).
/// </summary>
public sealed record NotificationGet(ushort Receiver, ushort Vcpu, uint Flags) : IFfaCall<NotificationGet>
{
    public const uint FromSpsFlag = 1u << 0, FromVmsFlag = 1u << 1, FromSpmFlag = 1u << 2, FromHypervisorFlag = 1u << 3;

    public uint FunctionId => FfaFunctions.Id32(FfaFunction.NotificationGet);

    public static ParseResult<NotificationGet> Decode(in SmcFrame frame) =>
        new NotificationGet(EndpointId.Receiver(frame.W(1)), EndpointId.Sender(frame.W(1)), frame.W(2));

    public SmcFrame Encode() => Regs.Frame(FunctionId, EndpointId.Pack(Vcpu, Receiver), Flags);
}

/// <summary>FFA_NOTIFICATION_INFO_GET (32 and 64): no arguments; the answer's width follows the call's.</summary>
public sealed record NotificationInfoGet(bool Is64 = true) : IFfaCall<NotificationInfoGet>
{
    public uint FunctionId => Regs.Id(FfaFunction.NotificationInfoGet, Is64);
    public static ParseResult<NotificationInfoGet> Decode(in SmcFrame frame) => new NotificationInfoGet(frame.Is64);
    public SmcFrame Encode() => Regs.Frame(FunctionId);
}
