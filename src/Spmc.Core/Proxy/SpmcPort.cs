using Spmc.Abi.Calls;
using Spmc.Abi.Ffa;
using Spmc.Abi.Rules;
using Spmc.Abi.Smccc;
using Spmc.Core.Calls;
using Spmc.Core.Manifests;
using Spmc.Core.Observability;
using Spmc.Core.Spm;

namespace Spmc.Core.Proxy;

/// <summary>
/// The SMC conduit into the secure world (EL3 and the SPMD in front of the SPMC): what a secure partition or
/// the hypervisor proxy reaches with an SMC. It applies the SMCCC 1.2 rules on both sides of the SPMC —
/// SMC32 arguments are w0..w7, SMC32 results are zero-extended w0..w7 with x8..x17 as the system's
/// <see cref="RegisterContract"/> says, SMC64 results are x0..x17 — answers SMCCC_VERSION and NOT_SUPPORTED (-1)
/// for IDs outside FF-A, and can record every call it takes (the hops a proxy made).
/// </summary>
public sealed class SpmcPort(ISecureWorld spmc, RegisterContract contract = RegisterContract.Smccc) : ISecureWorld
{
    /// <summary>What the <c>poison</c> contract writes in xN (N = 8..17) of every SMC32 answer: this | N.</summary>
    public const ulong PoisonPattern = 0x5EC0_DEAD_0000_0000;

    /// <summary>When set, every call is appended here with its answer.</summary>
    public List<Hop>? Recording { get; set; }

    public RegisterContract Contract { get; } = contract;

    /// <summary>
    /// Where in <see cref="Recording"/> a hop was recorded whose answer is pending (a direct request or FFA_RUN to an
    /// attached partition), with its request: the caller of the port fills it in with <see cref="CompleteHop"/>. Created
    /// by the first such hop while recording (most calls have none), cleared by the caller with <see cref="Recording"/>.
    /// </summary>
    internal List<(int Index, FfaRequest Request)>? PendingHops { get; set; }

    public FfaAnswer Handle(FfaRequest request)
    {
        // A recorded hop is also a child span of the SMC's (when something listens; a pending one ends when answered).
        var span = Recording is null ? null : SpmcTelemetry.StartHop(request);
        FfaAnswer answer;
        try
        {
            answer = Dispatch(request);
        }
        catch (Exception e) when (span is not null)
        {
            SpmcTelemetry.Fail(span, e);
            span.Stop();
            throw;
        }
        if (Recording is { } hops)
        {
            if (answer.IsPending) (PendingHops ??= []).Add((hops.Count, request));
            var hop = new Hop(request.Caller, request.Args, answer.Frame, Decode(request, answer));
            hops.Add(hop);
            SpmcTelemetry.EndHop(span, request, hop, answer.IsPending);
        }
        return answer;
    }

    /// <summary>The hop of <paramref name="request"/> as answered at last by <paramref name="final"/> (completed for the hop's own width).</summary>
    public Hop CompleteHop(FfaRequest request, FfaAnswer final)
    {
        var answer = Complete(final with { Wait = null }, request.Args, request.FunctionId);
        var hop = new Hop(request.Caller, request.Args, answer.Frame, Decode(request, answer));
        SpmcTelemetry.CompleteHop(request, hop);
        return hop;
    }

    private FfaAnswer Dispatch(FfaRequest request)
    {
        var fid = request.FunctionId;
        if (fid.Canonical == SmcccFunctionId.SmcccVersion)
            return Complete(new FfaAnswer(new SmcFrame().WithX0(SmcccFunctionId.Version1_2)), request.Args, fid);
        if (!fid.IsFfa)
        {
            // SMCCC: an unknown function ID answers -1 in x0 (DEN0028 §5.2); only FF-A and SMCCC_VERSION exist here.
            var refused = Complete(new FfaAnswer(new SmcFrame()), request.Args, fid);
            return refused with
            {
                Frame = refused.Frame.WithX0(SmcccFunctionId.NotSupported),
                Rejection = SmcccRules.UnknownFunction.Reject(
                    $"0x{request.Args.FunctionId:X8} is not an FF-A function ID (fast call, owner 4, number 0x60..0xFF); only FF-A and SMCCC_VERSION are simulated"),
            };
        }
        var args = (fid.Is64Bit ? request.Args : request.Args.As32BitArguments()).WithX0(fid.Canonical);
        return Complete(spmc.Handle(request with { Args = args }), request.Args, fid);
    }

    /// <summary>
    /// The registers an SMC32 caller gets back (an SMC64 caller gets the answer as it is): w0..w7 zero-extended,
    /// and x8..x17 preserved (contract <c>smccc</c>, SMCCC 1.2 §2.6) or filled with <see cref="PoisonPattern"/>
    /// (<c>poison</c>). An SMC32 call completed by an SMC64 function (FF-A 1.3 §11.1.2: FFA_MSG_WAIT_32 resumed by
    /// DIRECT_REQ_64, FFA_RUN_32 by DIRECT_RESP_64) keeps that function's x0..x17 under either contract, and the
    /// answer gets a note naming the registers that no longer hold the caller's values. A pending answer is
    /// completed later (see <see cref="Systems.SimulatedSystem"/>).
    /// </summary>
    public FfaAnswer Complete(FfaAnswer answer, SmcFrame input, SmcccFunctionId fid)
    {
        if (answer.IsPending || fid.Is64Bit) return answer;
        var result = answer.Frame;
        if ((result.FunctionId & 0xFFFF_0000) == 0xC400_0000)
            return answer.WithNote(Continuation(input, fid, result));
        var frame = SmcFrame.Smc32Result(result, input);
        if (Contract == RegisterContract.Poison)
            for (var i = 8; i < Registers.Count; i++) frame[i] = PoisonPattern | (uint)i;
        return answer with { Frame = frame };
    }

    /// <summary>The §11.1.2 diagnostic: which scenario, which function completed the call, which registers changed.</summary>
    private static string Continuation(SmcFrame input, SmcccFunctionId fid, SmcFrame result)
    {
        var called = FfaFunctions.Find(fid.Number) is { } info ? info.WidthName(false) : $"0x{fid.Canonical:X8}";
        var by = FfaFunctions.NameOf((uint)result.FunctionId) ?? $"0x{result.FunctionId:X8}";
        // Scenario 1: the caller entered Waiting (FFA_MSG_WAIT, a direct response); scenario 2: it entered Blocked
        // (FFA_RUN, a direct request, FFA_YIELD) and was resumed.
        var waiting = (FfaFunction)fid.Number is FfaFunction.MsgWait or FfaFunction.MsgSendDirectResp or FfaFunction.MsgSendDirectResp2;
        var changed = Enumerable.Range(8, Registers.Count - 8).Where(i => result[i] != input[i]).Select(i => $"x{i}").ToList();
        return $"FF-A 1.3 §11.1.2 scenario {(waiting ? 1 : 2)}: SMC32 {called} was completed by SMC64 {by}, whose x8..x17 are its own " +
               $"parameters: {(changed.Count == 0 ? "none differs from the caller's values this time, but" : $"{string.Join(", ", changed)} no longer hold the caller's values;")} " +
               "a caller must not rely on x8..x17 after an SMC32 FF-A call (mitigation M1) or must use SMC64 IDs (M2)";
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
            answer.Note?.Split('\n'));
    }
}

/// <summary>Rules of the SMC conduit itself (EL3 and the SPMD), before any FF-A handler.</summary>
public static class SmcccRules
{
    public static readonly Rule UnknownFunction = new("smccc.unknown-function", FfaError.NotSupported,
        "a function ID outside FF-A and SMCCC_VERSION answers SMCCC NOT_SUPPORTED (-1) in x0", "SMCCC DEN0028 §5.2; TF-A std_svc_smc_handler");
}
