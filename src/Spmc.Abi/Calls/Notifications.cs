using Spmc.Abi.Descriptors;
using Spmc.Abi.Ffa;
using Spmc.Abi.Smccc;

namespace Spmc.Abi.Calls;

// The notification ABIs of FF-A v1.1 and later (DEN0077 v1.3 chapter 16, §16.1..§16.6 and §16.11). All but
// INFO_GET exist as SMC32 only: their decoders read w1..w4 whatever the width bit of the function ID says.
//
// These decoders check no reserved (MBZ) bits: the SPMC's handlers (Spmc.Core NotificationHandlers) check their
// flags and IDs in Hafnium's order, with register and state checks interleaved, so an MBZ rejection here would
// change which rule fails first. Reserved bits are kept in the records instead (ReservedW1, ReservedW2, the flag
// words whole), so that a caller that does check them — the SPMC, or a pKVM release — reads them from the record.

/// <summary>
/// FFA_NOTIFICATION_BITMAP_CREATE (DEN0077 v1.3 §16.1 table 16.3): w1[15:0] = VM ID (w1[31:16] reserved, kept in
/// <see cref="ReservedW1"/>), w2 = its vCPU count.
/// </summary>
public sealed record NotificationBitmapCreate(ushort VmId, uint VcpuCount, ushort ReservedW1 = 0) : IFfaCall<NotificationBitmapCreate>
{
    public uint FunctionId => FfaFunctions.Id32(FfaFunction.NotificationBitmapCreate);

    /// <summary>All of w1 as the caller wrote it.</summary>
    public uint W1 => ((uint)ReservedW1 << 16) | VmId;

    public static ParseResult<NotificationBitmapCreate> Decode(in SmcFrame frame) =>
        new NotificationBitmapCreate(EndpointId.Receiver(frame.W(1)), frame.W(2), EndpointId.Sender(frame.W(1)));

    public SmcFrame Encode() => Regs.Frame(FunctionId, W1, VcpuCount);
}

/// <summary>
/// FFA_NOTIFICATION_BITMAP_DESTROY (DEN0077 v1.3 §16.2 table 16.8): w1[15:0] = VM ID (w1[31:16] reserved, kept in
/// <see cref="ReservedW1"/>).
/// </summary>
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
/// FFA_NOTIFICATION_BIND (DEN0077 v1.3 §16.3 table 16.12): w1 = sender[31:16] | receiver[15:0] (the receiver calls
/// and names the sender allowed to signal), w2 = flags (bit 0: per-vCPU notifications; the other bits reserved),
/// w3/w4 = bitmap low/high.
/// </summary>
public sealed record NotificationBind(ushort Sender, ushort Receiver, uint Flags, ulong Bitmap) : IFfaCall<NotificationBind>
{
    public const uint PerVcpuFlag = 1u << 0;

    public uint FunctionId => FfaFunctions.Id32(FfaFunction.NotificationBind);
    public bool PerVcpu => (Flags & PerVcpuFlag) != 0;

    public static ParseResult<NotificationBind> Decode(in SmcFrame frame) =>
        new NotificationBind(EndpointId.Sender(frame.W(1)), EndpointId.Receiver(frame.W(1)), frame.W(2),
            Regs.Join(frame.W(3), frame.W(4)));

    public SmcFrame Encode() =>
        Regs.Frame(FunctionId, EndpointId.Pack(Sender, Receiver), Flags, (uint)Bitmap, Bitmap >> 32);
}

/// <summary>
/// FFA_NOTIFICATION_UNBIND (DEN0077 v1.3 §16.4 table 16.16): w1 = sender[31:16] | receiver[15:0], w2 reserved (MBZ;
/// kept in <see cref="ReservedW2"/>), w3/w4 = bitmap low/high.
/// </summary>
public sealed record NotificationUnbind(ushort Sender, ushort Receiver, ulong Bitmap, uint ReservedW2 = 0) : IFfaCall<NotificationUnbind>
{
    public uint FunctionId => FfaFunctions.Id32(FfaFunction.NotificationUnbind);

    public static ParseResult<NotificationUnbind> Decode(in SmcFrame frame) =>
        new NotificationUnbind(EndpointId.Sender(frame.W(1)), EndpointId.Receiver(frame.W(1)),
            Regs.Join(frame.W(3), frame.W(4)), frame.W(2));

    public SmcFrame Encode() =>
        Regs.Frame(FunctionId, EndpointId.Pack(Sender, Receiver), ReservedW2, (uint)Bitmap, Bitmap >> 32);
}

/// <summary>
/// FFA_NOTIFICATION_SET (DEN0077 v1.3 §16.5 table 16.20): w1 = sender[31:16] | receiver[15:0], w2 = flags (bit 0
/// per-vCPU, bit 1 delay the schedule receiver interrupt, bits[15:2] reserved, bits[31:16] the target vCPU), w3/w4 =
/// bitmap low/high.
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
            Regs.Join(frame.W(3), frame.W(4)));

    public SmcFrame Encode() =>
        Regs.Frame(FunctionId, EndpointId.Pack(Sender, Receiver), Flags, (uint)Bitmap, Bitmap >> 32);
}

/// <summary>
/// FFA_NOTIFICATION_GET (DEN0077 v1.3 §16.6 table 16.24): w1 = vCPU[31:16] | receiver[15:0], w2 = which bitmaps
/// (bit 0 from SPs, bit 1 from VMs, bit 2 SPM framework, bit 3 hypervisor framework; bits[31:4] reserved).
/// </summary>
public sealed record NotificationGet(ushort Receiver, ushort Vcpu, uint Flags) : IFfaCall<NotificationGet>
{
    public const uint FromSpsFlag = 1u << 0, FromVmsFlag = 1u << 1, FromSpmFlag = 1u << 2, FromHypervisorFlag = 1u << 3;

    public uint FunctionId => FfaFunctions.Id32(FfaFunction.NotificationGet);

    public static ParseResult<NotificationGet> Decode(in SmcFrame frame) =>
        new NotificationGet(EndpointId.Receiver(frame.W(1)), EndpointId.Sender(frame.W(1)), frame.W(2));

    public SmcFrame Encode() => Regs.Frame(FunctionId, EndpointId.Pack(Vcpu, Receiver), Flags);
}

/// <summary>
/// FFA_NOTIFICATION_INFO_GET (DEN0077 v1.3 §16.11 table 16.46; 32 and 64): no arguments; the answer's width follows
/// the call's.
/// </summary>
public sealed record NotificationInfoGet(bool Is64 = true) : IFfaCall<NotificationInfoGet>
{
    public uint FunctionId => Regs.Id(FfaFunction.NotificationInfoGet, Is64);
    public static ParseResult<NotificationInfoGet> Decode(in SmcFrame frame) => new NotificationInfoGet(frame.Is64);
    public SmcFrame Encode() => Regs.Frame(FunctionId);
}

/// <summary>
/// The FFA_SUCCESS_32 answer to FFA_NOTIFICATION_GET (DEN0077 v1.3 table 16.25): w2/w3 = pending from SPs (low/high),
/// w4/w5 = from VMs, w6/w7 = the framework bitmap (bit 0 = SPM "RX buffer full", bit 32 = the hypervisor's, i.e. bit
/// 0 of w7).
/// </summary>
public sealed record NotificationGetAnswer(ulong FromSps, ulong FromVms, ulong Framework)
{
    public uint FunctionId => FfaFunctions.Id32(FfaFunction.Success);

    public SmcFrame Encode() =>
        Regs.Frame(FunctionId, 0, (uint)FromSps, FromSps >> 32, (uint)FromVms, FromVms >> 32, (uint)Framework, Framework >> 32);

    /// <summary>The answer in <paramref name="frame"/>; null when it is not an FFA_SUCCESS_32.</summary>
    public static NotificationGetAnswer? Decode(in SmcFrame frame) =>
        frame.FunctionId != FfaFunctions.Id32(FfaFunction.Success) ? null : new NotificationGetAnswer(
            Regs.Join(frame.W(2), frame.W(3)), Regs.Join(frame.W(4), frame.W(5)), Regs.Join(frame.W(6), frame.W(7)));
}

/// <summary>
/// The FFA_SUCCESS answer to FFA_NOTIFICATION_INFO_GET (DEN0077 v1.3 §16.11.1), in the call's width: x2/w2 bit 0 =
/// more pending (call again), bits[11:7] = the number of ID lists, from bit 12 two bits per list = its count of vCPU
/// IDs; the 16-bit IDs packed from x3/w3 up, first in the low bits, four per register for SMC64 (at most 20) and two
/// for SMC32 (at most 10). This record holds lists of one endpoint ID each (global notifications: no vCPU IDs), as
/// the SPMC reports them.
/// </summary>
public sealed record NotificationInfoGetAnswer(IReadOnlyList<ushort> Endpoints, bool More, bool Is64 = true)
{
    /// <summary>The most IDs an answer carries: x3..x7 hold 20, w3..w7 hold 10.</summary>
    public const int MaxIds64 = 20, MaxIds32 = 10;

    public const ulong MoreFlag = 1ul << 0;
    public const int ListCountShift = 7, ListSizesShift = 12;

    public static int MaxIds(bool is64) => is64 ? MaxIds64 : MaxIds32;

    public uint FunctionId => Regs.Id(FfaFunction.Success, Is64);

    private static int IdsPerRegister(bool is64) => is64 ? 4 : 2;

    public SmcFrame Encode()
    {
        if (Endpoints.Count > MaxIds(Is64))
            throw new InvalidOperationException($"{Endpoints.Count} IDs do not fit an SMC{(Is64 ? 64 : 32)} answer (at most {MaxIds(Is64)})");
        var args = new ulong[7]; // x1..x7; x1 = 0
        args[1] = (More ? MoreFlag : 0) | ((ulong)Endpoints.Count << ListCountShift);
        var perRegister = IdsPerRegister(Is64);
        for (var i = 0; i < Endpoints.Count; i++) args[2 + i / perRegister] |= (ulong)Endpoints[i] << (16 * (i % perRegister));
        return Regs.Frame(FunctionId, args);
    }

    /// <summary>
    /// The answer in <paramref name="frame"/>; null when it is not an FFA_SUCCESS, lists more IDs than its width holds,
    /// or has a list with vCPU IDs (which this record does not represent).
    /// </summary>
    public static NotificationInfoGetAnswer? Decode(in SmcFrame frame)
    {
        if (frame.FunctionId != FfaFunctions.Id32(FfaFunction.Success) && frame.FunctionId != FfaFunctions.Id64(FfaFunction.Success)) return null;
        var flags = Regs.Arg(frame, 2);
        var count = (int)((flags >> ListCountShift) & 0x1F);
        if (count > MaxIds(frame.Is64) || flags >> ListSizesShift != 0) return null;
        var perRegister = IdsPerRegister(frame.Is64);
        var ids = new ushort[count];
        for (var i = 0; i < count; i++) ids[i] = (ushort)(Regs.Arg(frame, 3 + i / perRegister) >> (16 * (i % perRegister)));
        return new NotificationInfoGetAnswer(ids, (flags & MoreFlag) != 0, frame.Is64);
    }
}
