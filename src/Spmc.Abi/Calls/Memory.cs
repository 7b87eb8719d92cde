using Spmc.Abi.Descriptors;
using Spmc.Abi.Ffa;
using Spmc.Abi.Rules;
using Spmc.Abi.Smccc;

namespace Spmc.Abi.Calls;

/// <summary>Register rules of the memory management ABIs, checked by the decoders before the SPMC sees the call.</summary>
public static class MemoryCallRules
{
    public static readonly Rule LengthsWide = new("mem-send.lengths-32-bit", FfaError.InvalidParameters,
        "the total and fragment lengths in x1/x2 are 32-bit values", "DEN0077 v1.2 §13.19 table 13.47");
    public static readonly Rule LengthsAbsurd = new("mem-send.lengths-absurd", FfaError.InvalidParameters,
        "a length above 2^31 cannot describe a transaction", "Spmc: bounds every length before it allocates");
    public static readonly Rule RetrieveLengthsWide = new("mem-retrieve.lengths-32-bit", FfaError.InvalidParameters,
        "the total and fragment lengths in x1/x2 are 32-bit values", "DEN0077 v1.2 §13.22");
    public static readonly Rule RetrieveLengthsAbsurd = new("mem-retrieve.lengths-absurd", FfaError.InvalidParameters,
        "a length above 2^31 cannot describe a retrieve request", "Spmc: bounds every length before it allocates");
    public static readonly Rule FragTxW4LowMbz = new("mem-frag-tx.w4-low-mbz", FfaError.InvalidParameters,
        "FFA_MEM_FRAG_TX: w4 bits[15:0] are reserved (MBZ)", "DEN0077 v1.2 §13.31 table 13.70");
    public static readonly Rule FragRxW4LowMbz = new("mem-frag-rx.w4-low-mbz", FfaError.InvalidParameters,
        "FFA_MEM_FRAG_RX: w4 bits[15:0] are reserved (MBZ)", "DEN0077 v1.2 §13.30");
    public static readonly Rule ReclaimFlagsMbz = new("mem-reclaim.flags-mbz", FfaError.InvalidParameters,
        "FFA_MEM_RECLAIM: only flags bit 0 (zero memory) may be set in w3; bits[31:2] are reserved and time slicing (bit 1) is not supported",
        "DEN0077 v1.2 §13.25; Spmc: refuses bit 1 as Hafnium does not implement time slicing");
}

/// <summary>
/// The four ABIs that take a transaction descriptor in a buffer (FFA_MEM_DONATE, _LEND, _SHARE, _RETRIEVE_REQ,
/// DEN0077 §13.19..§13.22): w1 = total length, w2 = fragment length, x3 = buffer address and w4 = its page count
/// (both 0: the descriptor is in the caller's TX buffer). <see cref="PageCount"/> keeps x4 whole for SMC64, so a
/// non-zero x4 is never mistaken for "no buffer".
/// </summary>
public abstract record MemTransactionCall(FfaFunction Function, uint TotalLength, uint FragmentLength, ulong Buffer, ulong PageCount, bool Is64)
{
    public uint FunctionId => Regs.Id(Function, Is64);

    /// <summary>True when the descriptor is in a buffer the caller allocated rather than its TX buffer.</summary>
    public bool UsesOwnBuffer => Buffer != 0 || PageCount != 0;

    public SmcFrame Encode() => Regs.Frame(FunctionId, TotalLength, FragmentLength, Buffer, PageCount);

    /// <summary>
    /// Decodes w1..w4 (x1..x4 for SMC64) into the record <paramref name="create"/> makes of them: the lengths must be
    /// 32-bit (<paramref name="wide"/>) and at most 2^31 (<paramref name="absurd"/>).
    /// </summary>
    protected static ParseResult<T> DecodeArgs<T>(in SmcFrame frame, Rule wide, Rule absurd, Func<uint, uint, ulong, ulong, bool, T> create)
    {
        ulong total = Regs.Arg(frame, 1), fragment = Regs.Arg(frame, 2);
        if (total > uint.MaxValue || fragment > uint.MaxValue) return wide.Reject("lengths in x1/x2 must fit in 32 bits");
        if (total > int.MaxValue || fragment > int.MaxValue)
            return absurd.Reject($"total length {total} or fragment length {fragment} is absurdly large");
        return create((uint)total, (uint)fragment, Regs.Arg(frame, 3), Regs.Arg(frame, 4), frame.Is64);
    }
}

/// <summary>FFA_MEM_SHARE (DEN0077 §13.21).</summary>
public sealed record MemShare(uint TotalLength, uint FragmentLength, ulong Buffer = 0, ulong PageCount = 0, bool Is64 = false)
    : MemTransactionCall(FfaFunction.MemShare, TotalLength, FragmentLength, Buffer, PageCount, Is64), IFfaCall<MemShare>
{
    public static ParseResult<MemShare> Decode(in SmcFrame frame) =>
        DecodeArgs(frame, MemoryCallRules.LengthsWide, MemoryCallRules.LengthsAbsurd,
            static (total, fragment, buffer, pages, is64) => new MemShare(total, fragment, buffer, pages, is64));
}

/// <summary>FFA_MEM_LEND (DEN0077 §13.20).</summary>
public sealed record MemLend(uint TotalLength, uint FragmentLength, ulong Buffer = 0, ulong PageCount = 0, bool Is64 = false)
    : MemTransactionCall(FfaFunction.MemLend, TotalLength, FragmentLength, Buffer, PageCount, Is64), IFfaCall<MemLend>
{
    public static ParseResult<MemLend> Decode(in SmcFrame frame) =>
        DecodeArgs(frame, MemoryCallRules.LengthsWide, MemoryCallRules.LengthsAbsurd,
            static (total, fragment, buffer, pages, is64) => new MemLend(total, fragment, buffer, pages, is64));
}

/// <summary>FFA_MEM_DONATE (DEN0077 §13.19).</summary>
public sealed record MemDonate(uint TotalLength, uint FragmentLength, ulong Buffer = 0, ulong PageCount = 0, bool Is64 = false)
    : MemTransactionCall(FfaFunction.MemDonate, TotalLength, FragmentLength, Buffer, PageCount, Is64), IFfaCall<MemDonate>
{
    public static ParseResult<MemDonate> Decode(in SmcFrame frame) =>
        DecodeArgs(frame, MemoryCallRules.LengthsWide, MemoryCallRules.LengthsAbsurd,
            static (total, fragment, buffer, pages, is64) => new MemDonate(total, fragment, buffer, pages, is64));
}

/// <summary>FFA_MEM_RETRIEVE_REQ (DEN0077 §13.22).</summary>
public sealed record MemRetrieveReq(uint TotalLength, uint FragmentLength, ulong Buffer = 0, ulong PageCount = 0, bool Is64 = false)
    : MemTransactionCall(FfaFunction.MemRetrieveReq, TotalLength, FragmentLength, Buffer, PageCount, Is64), IFfaCall<MemRetrieveReq>
{
    public static ParseResult<MemRetrieveReq> Decode(in SmcFrame frame) =>
        DecodeArgs(frame, MemoryCallRules.RetrieveLengthsWide, MemoryCallRules.RetrieveLengthsAbsurd,
            static (total, fragment, buffer, pages, is64) => new MemRetrieveReq(total, fragment, buffer, pages, is64));
}

/// <summary>
/// FFA_MEM_RETRIEVE_RESP (DEN0077 §13.23), the relayer's answer to FFA_MEM_RETRIEVE_REQ: w1 = total length of the
/// response, w2 = length of the fragment in the receiver's RX buffer.
/// </summary>
public sealed record MemRetrieveResp(uint TotalLength, uint FragmentLength) : IFfaCall<MemRetrieveResp>
{
    public uint FunctionId => FfaFunctions.Id32(FfaFunction.MemRetrieveResp);

    /// <summary>True when the descriptor does not fit in one fragment (the rest comes with FFA_MEM_FRAG_RX).</summary>
    public bool IsFragmented => FragmentLength < TotalLength;

    public static ParseResult<MemRetrieveResp> Decode(in SmcFrame frame) => new MemRetrieveResp(frame.W(1), frame.W(2));
    public SmcFrame Encode() => Regs.Frame(FunctionId, TotalLength, FragmentLength);
}

/// <summary>
/// FFA_MEM_FRAG_TX (DEN0077 §13.31): w1/w2 = handle, w3 = fragment length, w4[31:16] = sender (hypervisor only).
/// The sender's next fragment of a send, and the relayer's answer carrying the next fragment of a retrieve response.
/// </summary>
public sealed record MemFragTx(MemoryHandle Handle, uint FragmentLength, ushort Sender = 0) : IFfaCall<MemFragTx>
{
    public uint FunctionId => FfaFunctions.Id32(FfaFunction.MemFragTx);

    public static ParseResult<MemFragTx> Decode(in SmcFrame frame)
    {
        var w4 = frame.W(4);
        if ((ushort)w4 != 0) return MemoryCallRules.FragTxW4LowMbz.Reject($"w4 bits[15:0] must be zero (w4 = 0x{w4:X})");
        return new MemFragTx(MemoryHandle.FromRegisters(frame.W(1), frame.W(2)), frame.W(3), EndpointId.Sender(w4));
    }

    public SmcFrame Encode() => Regs.Frame(FunctionId, Handle.Low, Handle.High, FragmentLength, (ulong)Sender << 16);
}

/// <summary>
/// FFA_MEM_FRAG_RX (DEN0077 §13.30): w1/w2 = handle, w3 = offset of the fragment wanted, w4[31:16] = endpoint
/// (hypervisor only). A receiver's request for the next fragment of a retrieve response, and the relayer's answer
/// asking a sender for the next fragment of a send.
/// </summary>
public sealed record MemFragRx(MemoryHandle Handle, uint Offset, ushort Endpoint = 0) : IFfaCall<MemFragRx>
{
    public uint FunctionId => FfaFunctions.Id32(FfaFunction.MemFragRx);

    public static ParseResult<MemFragRx> Decode(in SmcFrame frame)
    {
        var w4 = frame.W(4);
        if ((ushort)w4 != 0) return MemoryCallRules.FragRxW4LowMbz.Reject($"w4 bits[15:0] must be zero (w4 = 0x{w4:X})");
        return new MemFragRx(MemoryHandle.FromRegisters(frame.W(1), frame.W(2)), frame.W(3), EndpointId.Sender(w4));
    }

    public SmcFrame Encode() => Regs.Frame(FunctionId, Handle.Low, Handle.High, Offset, (ulong)Endpoint << 16);
}

/// <summary>FFA_MEM_RELINQUISH (DEN0077 §13.24): the relinquish descriptor is in the caller's TX buffer; no arguments.</summary>
public sealed record MemRelinquish : IFfaCall<MemRelinquish>
{
    public uint FunctionId => FfaFunctions.Id32(FfaFunction.MemRelinquish);
    public static ParseResult<MemRelinquish> Decode(in SmcFrame frame) => new MemRelinquish();
    public SmcFrame Encode() => Regs.Frame(FunctionId);
}

/// <summary>FFA_MEM_RECLAIM (DEN0077 §13.25): w1/w2 = handle, w3 = flags (bit 0: zero the memory; no other bit is accepted).</summary>
public sealed record MemReclaim(MemoryHandle Handle, uint Flags) : IFfaCall<MemReclaim>
{
    public const uint ZeroMemory = 1;
    public uint FunctionId => FfaFunctions.Id32(FfaFunction.MemReclaim);

    /// <summary>True when the sender asks for the memory to be zeroed before it gets it back.</summary>
    public bool Zero => (Flags & ZeroMemory) != 0;

    public static ParseResult<MemReclaim> Decode(in SmcFrame frame)
    {
        var flags = frame.W(3);
        if ((flags & ~ZeroMemory) != 0) return MemoryCallRules.ReclaimFlagsMbz.Reject($"flags 0x{flags:X}: only bit 0 (zero memory) is supported");
        return new MemReclaim(MemoryHandle.FromRegisters(frame.W(1), frame.W(2)), flags);
    }

    public SmcFrame Encode() => Regs.Frame(FunctionId, Handle.Low, Handle.High, Flags);
}
