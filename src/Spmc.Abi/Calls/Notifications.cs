using Spmc.Abi.Descriptors;
using Spmc.Abi.Ffa;
using Spmc.Abi.Smccc;

namespace Spmc.Abi.Calls;

// The notification ABIs of FF-A v1.1 and later (DEN0077 v1.3 chapter 16, §16.1..§16.11). The v1.1 ABIs but
// INFO_GET exist as SMC32 only: their decoders read w1..w4 whatever the width bit of the function ID says. The
// FF-A 1.3 extended ABIs (BIND2, UNBIND2, SET2, GET2; §16.7..§16.10) exist as SMC64 only and read x2 onwards whole.
//
// These decoders check no reserved (MBZ) bits: the SPMC's handlers (Spmc.Core NotificationHandlers) check their
// flags and IDs in Hafnium's order, with register and state checks interleaved, so an MBZ rejection here would
// change which rule fails first. Reserved bits are kept in the records instead (ReservedW1, ReservedW2, ReservedX2,
// the flag words whole), so that a caller that does check them — the SPMC, or a pKVM release — reads them from the
// record.

/// <summary>
/// FFA_NOTIFICATION_BITMAP_CREATE (DEN0077 v1.3 §16.1 table 16.3): w1[15:0] = VM ID (w1[31:16] reserved, kept in
/// <see cref="ReservedW1"/>), w2 = its vCPU count, w3 = the notification count (FF-A 1.3: bits[8:0] = i, the number
/// of SP notifications requested beyond the first 64; bits[31:9] reserved, SBZ). Callers before 1.3 leave w3
/// reserved; the record keeps all of it in <see cref="W3"/>.
/// </summary>
public sealed record NotificationBitmapCreate(ushort VmId, uint VcpuCount, ushort ReservedW1 = 0, uint W3 = 0) : IFfaCall<NotificationBitmapCreate>
{
    /// <summary>w3 bits[8:0]: extra notifications requested (FF-A 1.3 table 16.3).</summary>
    public const uint ExtraCountMask = 0x1FF;

    public uint FunctionId => FfaFunctions.Id32(FfaFunction.NotificationBitmapCreate);

    /// <summary>All of w1 as the caller wrote it.</summary>
    public uint W1 => EndpointId.Pack(ReservedW1, VmId);

    /// <summary>w3 bits[8:0]: the SP notifications requested beyond the first 64 (total = i + 64).</summary>
    public int ExtraNotifications => (int)(W3 & ExtraCountMask);

    public static ParseResult<NotificationBitmapCreate> Decode(in SmcFrame frame) =>
        new NotificationBitmapCreate(EndpointId.Receiver(frame.W(1)), frame.W(2), EndpointId.Sender(frame.W(1)), frame.W(3));

    public SmcFrame Encode() => Regs.Frame(FunctionId, W1, VcpuCount, W3);
}

/// <summary>
/// FFA_NOTIFICATION_BITMAP_DESTROY (DEN0077 v1.3 §16.2 table 16.8): w1[15:0] = VM ID (w1[31:16] reserved, kept in
/// <see cref="ReservedW1"/>).
/// </summary>
public sealed record NotificationBitmapDestroy(ushort VmId, ushort ReservedW1 = 0) : IFfaCall<NotificationBitmapDestroy>
{
    public uint FunctionId => FfaFunctions.Id32(FfaFunction.NotificationBitmapDestroy);

    /// <summary>All of w1 as the caller wrote it.</summary>
    public uint W1 => EndpointId.Pack(ReservedW1, VmId);

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

/// <summary>
/// A notification bitmap of up to 384 notifications (FF-A 1.3 "extended notifications", §10 and tables 16.29..16.42):
/// bit i is bit (i % 64) of word i / 64, as the SMC64 ABIs carry it in x(3 + i/64) (or x(9 + i/64) for GET2's VM
/// bitmap). The 32-bit ABIs carry word 0 only (w3/w4 = its halves); a plain <see cref="ulong"/> converts to it.
/// </summary>
public readonly record struct NotificationBits(ulong W0, ulong W1, ulong W2, ulong W3, ulong W4, ulong W5)
{
    /// <summary>Words in a bitmap (x3..x8), notifications before 1.3, and the most FF-A 1.3 allows.</summary>
    public const int WordCount = 6, BaseCount = 64, MaxCount = 384;

    public static NotificationBits None => default;

    /// <summary>Notifications 0..63, as the 32-bit ABIs carry them.</summary>
    public static implicit operator NotificationBits(ulong low) => new(low, 0, 0, 0, 0, 0);

    public ulong this[int word] => word switch
    {
        0 => W0,
        1 => W1,
        2 => W2,
        3 => W3,
        4 => W4,
        5 => W5,
        _ => throw new ArgumentOutOfRangeException(nameof(word)),
    };

    /// <summary>Bits 0..63 (what FFA_NOTIFICATION_GET returns).</summary>
    public ulong Low => W0;

    public bool IsEmpty => (W0 | W1 | W2 | W3 | W4 | W5) == 0;

    /// <summary>The bitmap from registers <paramref name="first"/>..<paramref name="first"/>+5 of an SMC64 frame.</summary>
    public static NotificationBits FromRegisters(in SmcFrame frame, int first) =>
        new(frame[first], frame[first + 1], frame[first + 2], frame[first + 3], frame[first + 4], frame[first + 5]);

    /// <summary>The bitmap as one hexadecimal number ("0x1" is notification 0), as wide as its highest set word.</summary>
    /// <param name="separator">Written between 64-bit words ("_" in reasons, for reading).</param>
    public string ToHex(string separator = "")
    {
        var top = WordCount - 1;
        while (top > 0 && this[top] == 0) top--;
        var text = new System.Text.StringBuilder($"0x{this[top]:X}");
        for (var w = top - 1; w >= 0; w--) text.Append(separator).Append(this[w].ToString("X16", System.Globalization.CultureInfo.InvariantCulture));
        return text.ToString();
    }

    /// <summary>The six words, lowest first (for an encoder).</summary>
    public ulong[] Words() => [W0, W1, W2, W3, W4, W5];

    /// <summary>Notifications 0..<paramref name="count"/>-1 all set.</summary>
    public static NotificationBits Below(int count)
    {
        var words = new ulong[WordCount];
        for (var w = 0; w < WordCount; w++)
        {
            var bits = Math.Clamp(count - 64 * w, 0, 64);
            words[w] = bits == 64 ? ulong.MaxValue : (1ul << bits) - 1;
        }
        return new(words[0], words[1], words[2], words[3], words[4], words[5]);
    }

    public static NotificationBits operator &(NotificationBits a, NotificationBits b) =>
        new(a.W0 & b.W0, a.W1 & b.W1, a.W2 & b.W2, a.W3 & b.W3, a.W4 & b.W4, a.W5 & b.W5);

    public static NotificationBits operator |(NotificationBits a, NotificationBits b) =>
        new(a.W0 | b.W0, a.W1 | b.W1, a.W2 | b.W2, a.W3 | b.W3, a.W4 | b.W4, a.W5 | b.W5);

    public static NotificationBits operator ~(NotificationBits a) => new(~a.W0, ~a.W1, ~a.W2, ~a.W3, ~a.W4, ~a.W5);

    /// <summary>The set notifications, lowest first.</summary>
    public IEnumerable<int> Bits()
    {
        for (var w = 0; w < WordCount; w++)
            for (var rest = this[w]; rest != 0; rest &= rest - 1)
                yield return 64 * w + System.Numerics.BitOperations.TrailingZeroCount(rest);
    }

    /// <summary>The lowest set notification at or above <paramref name="count"/>, or null: the first one a receiver with <paramref name="count"/> notifications does not have.</summary>
    public int? FirstAtOrAbove(int count)
    {
        foreach (var bit in (this & ~Below(count)).Bits()) return bit;
        return null;
    }

    /// <summary>Hex, as one number: "0x5" for low bits only, else the words from the highest set one down, 16 digits each after the first.</summary>
    public override string ToString() => ToHex("_");
}

/// <summary>
/// FFA_FEATURES feature ID 0x4, "Notification features" (DEN0077 v1.3 table 13.14): w2 bit 0 = per-vCPU notifications
/// not supported for VM notifications, bit 1 = not supported for SP notifications, bits[10:2] = VM notifications
/// supported beyond 64 (MBZ at the non-secure physical instance), bits[19:11] = SP notifications beyond 64,
/// bits[31:20] MBZ.
/// </summary>
public sealed record NotificationFeatures(bool NoPerVcpuForVms, bool NoPerVcpuForSps, int ExtraVmNotifications, int ExtraSpNotifications)
{
    public const byte FeatureId = 0x4;
    public const int VmCountShift = 2, SpCountShift = 11;
    public const uint CountMask = 0x1FF;

    public uint Encode() => (NoPerVcpuForVms ? 1u : 0) | (NoPerVcpuForSps ? 2u : 0)
        | (((uint)ExtraVmNotifications & CountMask) << VmCountShift) | (((uint)ExtraSpNotifications & CountMask) << SpCountShift);

    public static NotificationFeatures Decode(uint w2) => new((w2 & 1) != 0, (w2 & 2) != 0,
        (int)((w2 >> VmCountShift) & CountMask), (int)((w2 >> SpCountShift) & CountMask));
}

/// <summary>
/// FFA_NOTIFICATION_BIND2 (DEN0077 v1.3 §16.7 table 16.29; SMC64 only): w1 = sender[31:16] | receiver[15:0], x2 =
/// flags (bit 0 per-vCPU, bits[63:1] reserved), x3..x8 = the bitmap (<see cref="NotificationBits"/>); x9..x17 SBZ.
/// </summary>
public sealed record NotificationBind2(ushort Sender, ushort Receiver, ulong Flags, NotificationBits Bitmap) : IFfaCall<NotificationBind2>
{
    public uint FunctionId => FfaFunctions.Id64(FfaFunction.NotificationBind2);
    public bool PerVcpu => (Flags & NotificationBind.PerVcpuFlag) != 0;

    public static ParseResult<NotificationBind2> Decode(in SmcFrame frame) =>
        new NotificationBind2(EndpointId.Sender(frame.W(1)), EndpointId.Receiver(frame.W(1)), frame[2], NotificationBits.FromRegisters(frame, 3));

    public SmcFrame Encode() => Regs.Frame(FunctionId, [EndpointId.Pack(Sender, Receiver), Flags, .. Bitmap.Words()]);
}

/// <summary>
/// FFA_NOTIFICATION_UNBIND2 (DEN0077 v1.3 §16.8 table 16.33; SMC64 only): w1 = sender[31:16] | receiver[15:0], x2
/// reserved (SBZ, kept in <see cref="ReservedX2"/>), x3..x8 = the bitmap; x9..x17 SBZ.
/// </summary>
public sealed record NotificationUnbind2(ushort Sender, ushort Receiver, NotificationBits Bitmap, ulong ReservedX2 = 0) : IFfaCall<NotificationUnbind2>
{
    public uint FunctionId => FfaFunctions.Id64(FfaFunction.NotificationUnbind2);

    public static ParseResult<NotificationUnbind2> Decode(in SmcFrame frame) =>
        new NotificationUnbind2(EndpointId.Sender(frame.W(1)), EndpointId.Receiver(frame.W(1)), NotificationBits.FromRegisters(frame, 3), frame[2]);

    public SmcFrame Encode() => Regs.Frame(FunctionId, [EndpointId.Pack(Sender, Receiver), ReservedX2, .. Bitmap.Words()]);
}

/// <summary>
/// FFA_NOTIFICATION_SET2 (DEN0077 v1.3 §16.9 table 16.37; SMC64 only): w1 = sender[31:16] | receiver[15:0], x2 =
/// flags (bit 0 per-vCPU, bit 1 delay the schedule-receiver interrupt, bits[15:2] reserved MBZ, bits[63:16] the
/// receiver vCPU ID), x3..x8 = the bitmap; x9..x17 SBZ.
/// </summary>
public sealed record NotificationSet2(ushort Sender, ushort Receiver, ulong Flags, NotificationBits Bitmap) : IFfaCall<NotificationSet2>
{
    public uint FunctionId => FfaFunctions.Id64(FfaFunction.NotificationSet2);
    public bool PerVcpu => (Flags & NotificationSet.PerVcpuFlag) != 0;
    public bool DelaySri => (Flags & NotificationSet.DelaySriFlag) != 0;

    /// <summary>x2 bits[63:16], the vCPU a per-vCPU notification is for.</summary>
    public ulong Vcpu => Flags >> 16;

    public static ParseResult<NotificationSet2> Decode(in SmcFrame frame) =>
        new NotificationSet2(EndpointId.Sender(frame.W(1)), EndpointId.Receiver(frame.W(1)), frame[2], NotificationBits.FromRegisters(frame, 3));

    public SmcFrame Encode() => Regs.Frame(FunctionId, [EndpointId.Pack(Sender, Receiver), Flags, .. Bitmap.Words()]);
}

/// <summary>
/// FFA_NOTIFICATION_GET2 (DEN0077 v1.3 §16.10 table 16.41; SMC64 only): w1 = vCPU[31:16] | receiver[15:0], x2 =
/// which bitmaps (as FFA_NOTIFICATION_GET's w2; bits[63:4] reserved), and masks of notifications NOT to retrieve:
/// x3..x8 from SPs, x9..x14 from VMs, x15 the SPM framework bitmap, x16 the hypervisor framework bitmap; x17 SBZ.
/// </summary>
public sealed record NotificationGet2(ushort Receiver, ushort Vcpu, ulong Flags, NotificationBits KeepFromSps = default,
    NotificationBits KeepFromVms = default, ulong KeepSpm = 0, ulong KeepHypervisor = 0) : IFfaCall<NotificationGet2>
{
    public uint FunctionId => FfaFunctions.Id64(FfaFunction.NotificationGet2);

    public static ParseResult<NotificationGet2> Decode(in SmcFrame frame) =>
        new NotificationGet2(EndpointId.Receiver(frame.W(1)), EndpointId.Sender(frame.W(1)), frame[2],
            NotificationBits.FromRegisters(frame, 3), NotificationBits.FromRegisters(frame, 9), frame[15], frame[16]);

    public SmcFrame Encode() => Regs.Frame(FunctionId,
        [EndpointId.Pack(Vcpu, Receiver), Flags, .. KeepFromSps.Words(), .. KeepFromVms.Words(), KeepSpm, KeepHypervisor]);
}

/// <summary>
/// The FFA_SUCCESS64 answer to FFA_NOTIFICATION_GET2 (DEN0077 v1.3 table 16.42): x2 = 0, x3..x8 = pending from SPs,
/// x9..x14 = from VMs, x15 = the SPM framework bitmap, x16 = the hypervisor framework bitmap, x17 = 0.
/// </summary>
public sealed record NotificationGet2Answer(NotificationBits FromSps, NotificationBits FromVms, ulong Spm, ulong Hypervisor)
{
    public uint FunctionId => FfaFunctions.Id64(FfaFunction.Success);

    public SmcFrame Encode() => Regs.Frame(FunctionId, [0, 0, .. FromSps.Words(), .. FromVms.Words(), Spm, Hypervisor]);

    /// <summary>The answer in <paramref name="frame"/>; null when it is not an FFA_SUCCESS64.</summary>
    public static NotificationGet2Answer? Decode(in SmcFrame frame) =>
        frame.FunctionId != FfaFunctions.Id64(FfaFunction.Success) ? null : new NotificationGet2Answer(
            NotificationBits.FromRegisters(frame, 3), NotificationBits.FromRegisters(frame, 9), frame[15], frame[16]);
}
