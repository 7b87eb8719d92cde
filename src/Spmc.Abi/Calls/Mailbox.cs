using Spmc.Abi.Descriptors;
using Spmc.Abi.Ffa;
using Spmc.Abi.Rules;
using Spmc.Abi.Smccc;

namespace Spmc.Abi.Calls;

/// <summary>Register rules of the RX/TX buffer ABIs.</summary>
public static class MailboxCallRules
{
    public static readonly Rule RxTxMapPageCountHigh = new("rxtx-map.x3-high-mbz", FfaError.InvalidParameters,
        "x3 bits[63:32] are reserved (MBZ); the page count is w3",
        "DEN0077 v1.3 §13.6 table 13.26 (the page count is a uint32 parameter); Spmc: Hafnium truncates x3 instead");
    public static readonly Rule RxTxUnmapLowMbz = new("rxtx-unmap.w1-low-mbz", FfaError.InvalidParameters,
        "w1 bits[15:0] are reserved (MBZ); the endpoint ID is w1[31:16]",
        "DEN0077 v1.3 §13.7 table 13.31");
}

/// <summary>FFA_RXTX_MAP (DEN0077 v1.3 §13.6): x1 = TX address, x2 = RX address, w3 = page count.</summary>
public sealed record RxTxMap(ulong Tx, ulong Rx, uint PageCount, bool Is64 = true) : IFfaCall<RxTxMap>
{
    public uint FunctionId => Regs.Id(FfaFunction.RxTxMap, Is64);

    /// <summary>
    /// x1 = x2 = w3 = 0: the form in which the hypervisor forwards a VM's pair, described by an endpoint RX/TX
    /// descriptor in its own TX buffer (DEN0077 v1.3 table 13.26; Hafnium api_get_rxtx_description).
    /// </summary>
    public bool IsForwardingForm => Tx == 0 && Rx == 0 && PageCount == 0;

    public static ParseResult<RxTxMap> Decode(in SmcFrame frame)
    {
        var x3 = Regs.Arg(frame, 3);
        if (x3 >> 32 != 0) return MailboxCallRules.RxTxMapPageCountHigh.Reject($"x3 bits[63:32] must be zero (x3 = 0x{x3:X})");
        return new RxTxMap(Regs.Arg(frame, 1), Regs.Arg(frame, 2), (uint)x3, frame.Is64);
    }

    public SmcFrame Encode() => Regs.Frame(FunctionId, Tx, Rx, PageCount);
}

/// <summary>FFA_RXTX_UNMAP (DEN0077 v1.3 §13.7): w1[31:16] = the VM whose pair the hypervisor unmaps, else 0.</summary>
public sealed record RxTxUnmap(ushort Endpoint) : IFfaCall<RxTxUnmap>
{
    public uint FunctionId => FfaFunctions.Id32(FfaFunction.RxTxUnmap);

    public static ParseResult<RxTxUnmap> Decode(in SmcFrame frame)
    {
        var w1 = frame.W(1);
        if ((ushort)w1 != 0) return MailboxCallRules.RxTxUnmapLowMbz.Reject($"w1 bits[15:0] must be zero (w1 = 0x{w1:X})");
        return new RxTxUnmap(EndpointId.Sender(w1));
    }

    public SmcFrame Encode() => Regs.Frame(FunctionId, (ulong)Endpoint << 16);
}

/// <summary>FFA_RX_RELEASE (DEN0077 v1.3 §13.5): w1[15:0] = the VM whose RX the hypervisor releases, else 0.</summary>
public sealed record RxRelease(ushort Endpoint) : IFfaCall<RxRelease>
{
    public uint FunctionId => FfaFunctions.Id32(FfaFunction.RxRelease);
    public static ParseResult<RxRelease> Decode(in SmcFrame frame) => new RxRelease(EndpointId.Receiver(frame.W(1)));
    public SmcFrame Encode() => Regs.Frame(FunctionId, Endpoint);
}

/// <summary>FFA_RX_ACQUIRE (DEN0077 v1.3 §13.4, v1.1): w1[15:0] = the VM whose RX the hypervisor takes.</summary>
public sealed record RxAcquire(ushort Endpoint) : IFfaCall<RxAcquire>
{
    public uint FunctionId => FfaFunctions.Id32(FfaFunction.RxAcquire);
    public static ParseResult<RxAcquire> Decode(in SmcFrame frame) => new RxAcquire(EndpointId.Receiver(frame.W(1)));
    public SmcFrame Encode() => Regs.Frame(FunctionId, Endpoint);
}
