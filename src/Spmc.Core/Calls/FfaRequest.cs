using Spmc.Abi.Calls;
using Spmc.Abi.Ffa;
using Spmc.Abi.Rules;
using Spmc.Abi.Smccc;

namespace Spmc.Core.Calls;

/// <summary>
/// An SMC as an instance receives it: the calling endpoint and vCPU, and x0..x17 as the caller left them.
/// The SPMC's port narrows SMC32 arguments to w0..w7 before a handler sees them.
/// </summary>
public sealed record FfaRequest(ushort Caller, uint Vcpu, SmcFrame Args)
{
    /// <summary>
    /// True when the call comes from whatever runs the partition (its built-in behaviour or its attached
    /// client): only that driver may use the run-time ABIs (FFA_MSG_WAIT, FFA_YIELD, direct responses).
    /// </summary>
    public bool FromDriver { get; init; }

    public SmcccFunctionId FunctionId => new(Args.FunctionId);
    public bool Is64 => FunctionId.Is64Bit;
    public FfaFunctionInfo? Info => FfaFunctions.Find(FunctionId.Number);

    /// <summary>The name used in reasons: the base FF-A name, or the raw ID when FF-A does not define it.</summary>
    public string Name => Info?.Name ?? $"FF-A function 0x{Args.FunctionId:X8}";
}

/// <summary>
/// The answer of an FF-A instance: the result registers, for a refusal its <see cref="Rejection"/> (error, rule,
/// reason), and an optional note (a proxy model says here when it reproduces a kernel's bug, for instance).
/// </summary>
public readonly record struct FfaAnswer(SmcFrame Frame, Rejection? Rejection = null, string? Note = null,
    Waiter? Wait = null)
{
    /// <summary>An answer given later: the caller lent its cycles to a partition and waits for them back.</summary>
    public static FfaAnswer Pending(Waiter waiter) => new(new SmcFrame(), null, null, waiter);

    public bool IsPending => Wait is not null;

    public FfaError? Error => Rejection?.Code;
    public string? Reason => Rejection?.Reason;
    public string? Rule => Rejection?.Rule;

    /// <summary>FFA_SUCCESS_32 with results in w2/w3 (an answer with more results encodes its own record).</summary>
    public static FfaAnswer Success32(ulong w2 = 0, ulong w3 = 0) =>
        new(Regs.Frame(FfaFunctions.Id32(FfaFunction.Success), 0, w2, w3));

    /// <summary>FFA_ERROR with w2 = the rejection's code (FFA_ERROR_32: the 64-bit form only exists from v1.3).</summary>
    public static FfaAnswer Fail(Rejection rejection) =>
        new(Regs.Frame(FfaFunctions.Id32(FfaFunction.Error), 0, rejection.Code.Encoded()), rejection);

    public bool IsError => Rejection is not null;

    /// <summary>This answer with <paramref name="note"/> added after any note it has (each shows as its own decoded note).</summary>
    public FfaAnswer WithNote(string? note) =>
        note is null ? this : this with { Note = Note is null ? note : $"{Note}\n{note}" };
}
