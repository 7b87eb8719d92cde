using Spmc.Abi.Calls;
using Spmc.Abi.Ffa;
using Spmc.Abi.Rules;
using Spmc.Abi.Smccc;
using Spmc.Core.Calls;
using Spmc.Core.Spm;

namespace Spmc.Core.Proxy;

/// <summary>
/// The SMC conduit into the secure world (EL3 and the SPMD in front of the SPMC): what a secure partition or
/// the hypervisor proxy reaches with an SMC. It applies the SMCCC 1.2 rules on both sides of the SPMC —
/// SMC32 arguments are w0..w7, SMC32 results are zero-extended w0..w7 with x8..x17 preserved for the caller,
/// SMC64 results are x0..x17 — answers SMCCC_VERSION and NOT_SUPPORTED (-1) for IDs outside FF-A, and can
/// record every call it takes (the hops a proxy made).
/// </summary>
public sealed class SpmcPort(ISecureWorld spmc) : ISecureWorld
{
    /// <summary>When set, every call is appended here with its answer.</summary>
    public List<Hop>? Recording { get; set; }

    public FfaAnswer Handle(FfaRequest request)
    {
        var answer = Dispatch(request);
        Recording?.Add(new Hop(request.Caller, request.Args, answer.Frame, Decode(request, answer)));
        return answer;
    }

    private FfaAnswer Dispatch(FfaRequest request)
    {
        var fid = request.FunctionId;
        if (fid.Canonical == SmcccFunctionId.SmcccVersion)
            return new FfaAnswer(Narrow(new SmcFrame().WithX0(SmcccFunctionId.Version1_2), request.Args, fid));
        if (!fid.IsFfa)
        {
            // SMCCC: an unknown function ID answers -1 in x0 (DEN0028 §5.2); only FF-A and SMCCC_VERSION exist here.
            var frame = Narrow(new SmcFrame(), request.Args, fid).WithX0(SmcccFunctionId.NotSupported);
            return new FfaAnswer(frame, SmcccRules.UnknownFunction.Reject(
                $"0x{request.Args.FunctionId:X8} is not an FF-A function ID (fast call, owner 4, number 0x60..0xFF); only FF-A and SMCCC_VERSION are simulated"));
        }
        var args = (fid.Is64Bit ? request.Args : request.Args.As32BitArguments()).WithX0(fid.Canonical);
        var answer = spmc.Handle(request with { Args = args });
        return answer with { Frame = Narrow(answer.Frame, request.Args, fid) };
    }

    /// <summary>
    /// SMC32 results are w0..w7, zero-extended; x8..x17 are preserved for the caller (SMCCC 1.2 §2.6), so they
    /// come back as sent. SMC64 results are x0..x17 with unused registers zero.
    /// </summary>
    public static SmcFrame Narrow(SmcFrame result, SmcFrame input, SmcccFunctionId fid)
    {
        // An SMC64 FF-A answer to a 32-bit call keeps its registers: FFA_RUN_32 or FFA_MSG_WAIT_32 can be answered
        // with FFA_MSG_SEND_DIRECT_RESP2_64 / REQ2_64, whose payload is x4..x17.
        if (fid.Is64Bit || (result.FunctionId & 0xFFFF_0000) == 0xC400_0000) return result;
        return SmcFrame.Smc32Result(result, input);
    }

    /// <summary>The decoded view of one call and its answer.</summary>
    public static Decoded Decode(FfaRequest request, FfaAnswer answer, IReadOnlyList<Hop>? hops = null)
    {
        var fid = request.FunctionId;
        var x0 = answer.Frame.X0;
        string function, result;
        if (fid.Canonical == SmcccFunctionId.SmcccVersion)
            (function, result) = ("SMCCC_VERSION", $"0x{x0:X}");
        else if (!fid.IsFfa)
            (function, result) = ($"SMCCC 0x{request.Args.FunctionId:X8}", x0 == SmcccFunctionId.NotSupported ? "NOT_SUPPORTED" : $"0x{x0:X}");
        else
        {
            var info = request.Info;
            function = info?.Name ?? $"FF-A 0x{fid.Canonical:X8}";
            // An SMC32 FFA_VERSION answers a bare version (or NOT_SUPPORTED, -1) in w0, not a function ID.
            result = FfaFunctions.NameOf((uint)x0) ?? (info?.Function == FfaFunction.Version && !fid.Is64Bit
                ? (uint)x0 switch
                {
                    uint.MaxValue => "NOT_SUPPORTED",
                    VersionCall.SmcccInvalidParameter => "INVALID_PARAMETER", // SMCCC -3 (v1.3 query type or bit 31)
                    _ => $"version {FfaVersion.Decode((uint)x0)}",
                }
                : $"0x{x0:X}");
        }
        return new Decoded(function, fid.Is64Bit ? "SMC64" : "SMC32", result, answer.Error?.Name(), answer.Reason, answer.Rule, hops,
            answer.Note is null ? null : new[] { answer.Note });
    }
}

/// <summary>Rules of the SMC conduit itself (EL3 and the SPMD), before any FF-A handler.</summary>
public static class SmcccRules
{
    public static readonly Rule UnknownFunction = new("smccc.unknown-function", FfaError.NotSupported,
        "a function ID outside FF-A and SMCCC_VERSION answers SMCCC NOT_SUPPORTED (-1) in x0", "SMCCC DEN0028 §5.2; TF-A std_svc_smc_handler");
}
