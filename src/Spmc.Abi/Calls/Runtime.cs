using Spmc.Abi.Descriptors;
using Spmc.Abi.Ffa;
using Spmc.Abi.Rules;
using Spmc.Abi.Smccc;

namespace Spmc.Abi.Calls;

/// <summary>Register rules of the CPU cycle management ABIs (the partition run-time model).</summary>
public static class RuntimeCallRules
{
    public static readonly Rule MsgWaitReservedMbz = new("msg-wait.reserved-mbz", FfaError.InvalidParameters,
        "FFA_MSG_WAIT: w1 and w3..w7 are reserved (MBZ)", "DEN0077 v1.3 table 14.3; Hafnium api_ffa_msg_wait");
    public static readonly Rule YieldReservedMbz = new("yield.reserved-mbz", FfaError.InvalidParameters,
        "FFA_YIELD: w4..w7 are reserved (MBZ)", "DEN0077 v1.3 table 14.9; Hafnium api_yield");
    public static readonly Rule AbortReservedMbz = new("abort.reserved-mbz", FfaError.InvalidParameters,
        "FFA_ABORT: w1/x1 and w3..w7 (x3..x7) are reserved and must be zero",
        "DEN0077 v1.3 table 13.73 (SBZ); Hafnium api_ffa_abort refuses non-zero x1, x3..x7 with INVALID_PARAMETERS");
}

/// <summary>
/// Target information (DEN0077 v1.2 FFA_RUN w1; Hafnium ffa_vm_vcpu): the endpoint ID in bits[31:16] and the vCPU
/// (execution context index) in bits[15:0], as FFA_RUN, FFA_YIELD and FFA_INTERRUPT carry it in w1.
/// </summary>
public static class TargetInfo
{
    public static uint Pack(ushort endpoint, ushort vcpu) => (uint)endpoint << 16 | vcpu;
    public static ushort Endpoint(ulong w1) => (ushort)(w1 >> 16);
    public static ushort Vcpu(ulong w1) => (ushort)w1;
}

/// <summary>
/// FFA_ABORT_32/64 (DEN0077 v1.3 §13.14, table 13.73; new in 1.3): an SP's execution context enters the aborted
/// state after a fatal error. w1 SBZ, w2/x2 an IMPLEMENTATION DEFINED code, w3..w7 SBZ. The call never completes.
/// </summary>
public sealed record Abort(ulong Code = 0, bool Is64 = false) : IFfaCall<Abort>
{
    public uint FunctionId => Regs.Id(FfaFunction.Abort, Is64);

    public static ParseResult<Abort> Decode(in SmcFrame frame)
    {
        if ((Regs.MustBeZero(frame, 1, 1, RuntimeCallRules.AbortReservedMbz) ?? Regs.MustBeZero(frame, 3, 7, RuntimeCallRules.AbortReservedMbz)) is { } reserved)
            return reserved;
        return new Abort(Regs.Arg(frame, 2), frame.Is64);
    }

    public SmcFrame Encode() => Regs.Frame(FunctionId, 0, Is64 ? Code : (uint)Code);
}

/// <summary>
/// FFA_MSG_WAIT (DEN0077 v1.3 table 14.3): w2 = flags (v1.2: bit 0 keeps the RX buffer; before v1.2 MBZ), w1 and
/// w3..w7 MBZ. Also the return value a scheduler gets when the partition it ran with FFA_RUN waits again (all zero).
/// <see cref="Is64"/> is the FF-A 1.3 SMC64 form (0xC400006B), which this SPMC takes from 1.3 callers.
/// </summary>
public sealed record MsgWait(uint Flags = 0, bool Is64 = false) : IFfaCall<MsgWait>
{
    /// <summary>Flags bit 0 (v1.2): the caller keeps ownership of its RX buffer.</summary>
    public const uint RetainRx = 1;

    public uint FunctionId => Regs.Id(FfaFunction.MsgWait, Is64);

    public bool RetainsRx => (Flags & RetainRx) != 0;

    public static ParseResult<MsgWait> Decode(in SmcFrame frame)
    {
        if ((Regs.MustBeZero(frame, 1, 1, RuntimeCallRules.MsgWaitReservedMbz) ?? Regs.MustBeZero(frame, 3, 7, RuntimeCallRules.MsgWaitReservedMbz)) is { } reserved)
            return reserved;
        return new MsgWait((uint)Regs.Arg(frame, 2), frame.Is64);
    }

    public SmcFrame Encode() => Regs.Frame(FunctionId, 0, Flags);
}

/// <summary>
/// FFA_YIELD (DEN0077 v1.3 table 14.9): a partition gives its cycles back; w2/w3 = timeout hint bits[31:0]/[63:32],
/// w4..w7 MBZ. Returned to whoever lent the cycles with w1 = target info of the context that yielded, which that
/// caller resumes with FFA_RUN. <see cref="Is64"/> is the FF-A 1.3 SMC64 form.
/// </summary>
public sealed record Yield(ushort Endpoint, ushort Vcpu, ulong Timeout, bool Is64 = false) : IFfaCall<Yield>
{
    public uint FunctionId => Regs.Id(FfaFunction.Yield, Is64);

    public static ParseResult<Yield> Decode(in SmcFrame frame)
    {
        if (Regs.MustBeZero(frame, 4, 7, RuntimeCallRules.YieldReservedMbz) is { } reserved) return reserved;
        var w1 = Regs.Arg(frame, 1);
        var timeout = Regs.Join(Regs.Arg(frame, 2), Regs.Arg(frame, 3));
        return new Yield(TargetInfo.Endpoint(w1), TargetInfo.Vcpu(w1), timeout, frame.Is64);
    }

    public SmcFrame Encode() => Regs.Frame(FunctionId, TargetInfo.Pack(Endpoint, Vcpu), (uint)Timeout, Timeout >> 32);
}

/// <summary>
/// FFA_RUN (DEN0077 v1.3 table 14.13): w1 = target info of the execution context to run. Also what a partition's
/// context is resumed with when it is given cycles that way. <see cref="Is64"/> is the FF-A 1.3 SMC64 form.
/// </summary>
public sealed record Run(ushort Target, ushort Vcpu, bool Is64 = false) : IFfaCall<Run>
{
    public uint FunctionId => Regs.Id(FfaFunction.Run, Is64);

    public static ParseResult<Run> Decode(in SmcFrame frame)
    {
        var w1 = Regs.Arg(frame, 1);
        return new Run(TargetInfo.Endpoint(w1), TargetInfo.Vcpu(w1), frame.Is64);
    }

    public SmcFrame Encode() => Regs.Frame(FunctionId, TargetInfo.Pack(Target, Vcpu));
}

/// <summary>
/// FFA_INTERRUPT (DEN0077 v1.3 table 14.17), a return value: w1 = target info of the preempted context (zero when
/// the SPMC returns it to the normal world, as Hafnium does), w2 = interrupt ID. <see cref="Is64"/> is the FF-A 1.3
/// SMC64 form.
/// </summary>
public sealed record Interrupt(ushort Endpoint = 0, ushort Vcpu = 0, uint InterruptId = 0, bool Is64 = false) : IFfaCall<Interrupt>
{
    public uint FunctionId => Regs.Id(FfaFunction.Interrupt, Is64);

    public static ParseResult<Interrupt> Decode(in SmcFrame frame)
    {
        var w1 = Regs.Arg(frame, 1);
        return new Interrupt(TargetInfo.Endpoint(w1), TargetInfo.Vcpu(w1), (uint)Regs.Arg(frame, 2), frame.Is64);
    }

    public SmcFrame Encode() => Regs.Frame(FunctionId, TargetInfo.Pack(Endpoint, Vcpu), InterruptId);
}
