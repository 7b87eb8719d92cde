using Spmc.Abi.Descriptors;
using Spmc.Abi.Ffa;
using Spmc.Abi.Rules;
using Spmc.Abi.Smccc;

namespace Spmc.Abi.Calls;

/// <summary>Register rules of the memory management ABIs.</summary>
public static class MemoryCallRules
{
    public static readonly Rule LengthsWide = new("mem-send.lengths-32-bit", FfaError.InvalidParameters,
        "the total and fragment lengths in x1/x2 are 32-bit values", "DEN0077 v1.2 §13.19 table 13.47");
    public static readonly Rule LengthsAbsurd = new("mem-send.lengths-absurd", FfaError.InvalidParameters,
        "a length above 2^31 cannot describe a transaction", "Spmc: bounds every length before it allocates");
    public static readonly Rule FragTxW4LowMbz = new("mem-frag-tx.w4-low-mbz", FfaError.InvalidParameters,
        "FFA_MEM_FRAG_TX: w4 bits[15:0] are reserved (MBZ)", "DEN0077 v1.2 §13.31 table 13.70");
}

/// <summary>
/// The four ABIs that take a transaction descriptor in a buffer (FFA_MEM_DONATE, _LEND, _SHARE, _RETRIEVE_REQ,
/// DEN0077 §13.19..§13.22): w1 = total length, w2 = fragment length, x3 = buffer address and w4 = its page count
/// (both 0: the descriptor is in the caller's TX buffer).
/// </summary>
public abstract record MemTransactionCall(FfaFunction Function, uint TotalLength, uint FragmentLength, ulong Buffer, uint PageCount, bool Is64)
{
    public uint FunctionId => Regs.Id(Function, Is64);

    /// <summary>True when the descriptor is in a buffer the caller allocated rather than its TX buffer.</summary>
    public bool UsesOwnBuffer => Buffer != 0 || PageCount != 0;

    public SmcFrame Encode() => Regs.Frame(FunctionId, TotalLength, FragmentLength, Buffer, PageCount);

    protected static ParseResult<(uint Total, uint Fragment, ulong Buffer, uint Pages)> DecodeArgs(in SmcFrame frame)
    {
        ulong total = Regs.Arg(frame, 1), fragment = Regs.Arg(frame, 2);
        if (total > uint.MaxValue || fragment > uint.MaxValue) return MemoryCallRules.LengthsWide.Reject("lengths in x1/x2 must fit in 32 bits");
        if (total > int.MaxValue || fragment > int.MaxValue)
            return MemoryCallRules.LengthsAbsurd.Reject($"total length {total} or fragment length {fragment} is absurdly large");
        return ((uint)total, (uint)fragment, Regs.Arg(frame, 3), (uint)Regs.Arg(frame, 4));
    }
}

/// <summary>FFA_MEM_SHARE (DEN0077 §13.21).</summary>
public sealed record MemShare(uint TotalLength, uint FragmentLength, ulong Buffer = 0, uint PageCount = 0, bool Is64 = false)
    : MemTransactionCall(FfaFunction.MemShare, TotalLength, FragmentLength, Buffer, PageCount, Is64), IFfaCall<MemShare>
{
    public static ParseResult<MemShare> Decode(in SmcFrame frame)
    {
        var a = DecodeArgs(frame);
        return a.Ok ? new MemShare(a.Value.Total, a.Value.Fragment, a.Value.Buffer, a.Value.Pages, frame.Is64) : a.Rejection!;
    }
}

/// <summary>FFA_MEM_LEND (DEN0077 §13.20).</summary>
public sealed record MemLend(uint TotalLength, uint FragmentLength, ulong Buffer = 0, uint PageCount = 0, bool Is64 = false)
    : MemTransactionCall(FfaFunction.MemLend, TotalLength, FragmentLength, Buffer, PageCount, Is64), IFfaCall<MemLend>
{
    public static ParseResult<MemLend> Decode(in SmcFrame frame)
    {
        var a = DecodeArgs(frame);
        return a.Ok ? new MemLend(a.Value.Total, a.Value.Fragment, a.Value.Buffer, a.Value.Pages, frame.Is64) : a.Rejection!;
    }
}

/// <summary>FFA_MEM_DONATE (DEN0077 §13.19).</summary>
public sealed record MemDonate(uint TotalLength, uint FragmentLength, ulong Buffer = 0, uint PageCount = 0, bool Is64 = false)
    : MemTransactionCall(FfaFunction.MemDonate, TotalLength, FragmentLength, Buffer, PageCount, Is64), IFfaCall<MemDonate>
{
    public static ParseResult<MemDonate> Decode(in SmcFrame frame)
    {
        var a = DecodeArgs(frame);
        return a.Ok ? new MemDonate(a.Value.Total, a.Value.Fragment, a.Value.Buffer, a.Value.Pages, frame.Is64) : a.Rejection!;
    }
}

/// <summary>FFA_MEM_RETRIEVE_REQ (DEN0077 §13.22).</summary>
public sealed record MemRetrieveReq(uint TotalLength, uint FragmentLength, ulong Buffer = 0, uint PageCount = 0, bool Is64 = false)
    : MemTransactionCall(FfaFunction.MemRetrieveReq, TotalLength, FragmentLength, Buffer, PageCount, Is64), IFfaCall<MemRetrieveReq>
{
    public static ParseResult<MemRetrieveReq> Decode(in SmcFrame frame)
    {
        var a = DecodeArgs(frame);
        return a.Ok ? new MemRetrieveReq(a.Value.Total, a.Value.Fragment, a.Value.Buffer, a.Value.Pages, frame.Is64) : a.Rejection!;
    }
}

/// <summary>FFA_MEM_FRAG_TX (DEN0077 §13.31): w1/w2 = handle, w3 = fragment length, w4[31:16] = sender (hypervisor only).</summary>
public sealed record MemFragTx(MemoryHandle Handle, uint FragmentLength, ushort Sender) : IFfaCall<MemFragTx>
{
    public uint FunctionId => FfaFunctions.Id32(FfaFunction.MemFragTx);

    public static ParseResult<MemFragTx> Decode(in SmcFrame frame)
    {
        var w4 = frame.W(4);
        if ((ushort)w4 != 0) return MemoryCallRules.FragTxW4LowMbz.Reject($"w4 bits[15:0] must be zero (w4 = 0x{w4:X})");
        return new MemFragTx(MemoryHandle.FromRegisters(frame[1], frame[2]), frame.W(3), EndpointId.Sender(w4));
    }

    public SmcFrame Encode() => Regs.Frame(FunctionId, Handle.Low, Handle.High, FragmentLength, (ulong)Sender << 16);
}

/// <summary>FFA_MEM_FRAG_RX (DEN0077 §13.30): w1/w2 = handle, w3 = offset of the fragment wanted, w4[31:16] = endpoint (hypervisor only).</summary>
public sealed record MemFragRx(MemoryHandle Handle, uint Offset, ushort Endpoint) : IFfaCall<MemFragRx>
{
    public uint FunctionId => FfaFunctions.Id32(FfaFunction.MemFragRx);
    public static ParseResult<MemFragRx> Decode(in SmcFrame frame) =>
        new MemFragRx(MemoryHandle.FromRegisters(frame[1], frame[2]), frame.W(3), EndpointId.Sender(frame.W(4)));
    public SmcFrame Encode() => Regs.Frame(FunctionId, Handle.Low, Handle.High, Offset, (ulong)Endpoint << 16);
}

/// <summary>FFA_MEM_RELINQUISH (DEN0077 §13.24): the relinquish descriptor is in the caller's TX buffer; no arguments.</summary>
public sealed record MemRelinquish : IFfaCall<MemRelinquish>
{
    public uint FunctionId => FfaFunctions.Id32(FfaFunction.MemRelinquish);
    public static ParseResult<MemRelinquish> Decode(in SmcFrame frame) => new MemRelinquish();
    public SmcFrame Encode() => Regs.Frame(FunctionId);
}

/// <summary>FFA_MEM_RECLAIM (DEN0077 §13.25): w1/w2 = handle, w3 = flags (bit 0: zero the memory).</summary>
public sealed record MemReclaim(MemoryHandle Handle, uint Flags) : IFfaCall<MemReclaim>
{
    public const uint ZeroMemory = 1;
    public uint FunctionId => FfaFunctions.Id32(FfaFunction.MemReclaim);
    public static ParseResult<MemReclaim> Decode(in SmcFrame frame) => new MemReclaim(MemoryHandle.FromRegisters(frame[1], frame[2]), frame.W(3));
    public SmcFrame Encode() => Regs.Frame(FunctionId, Handle.Low, Handle.High, Flags);
}
