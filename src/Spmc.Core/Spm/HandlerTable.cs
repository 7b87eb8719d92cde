using Spmc.Abi.Calls;
using Spmc.Abi.Ffa;
using Spmc.Abi.Rules;
using Spmc.Core.Calls;

namespace Spmc.Core.Spm;

/// <summary>Which callers an ABI is valid for at this SPMC (DEN0077 tables 13.1, 13.38, 13.53; Hafnium's FEATURES rules).</summary>
internal enum Callers
{
    Any,
    /// <summary>ID 0: the hypervisor, or the normal-world kernel at the physical instance.</summary>
    Hypervisor,
    SecurePartitions,
}

/// <summary>What a handler sees: the request, the calling endpoint, and helpers that name the ABI in reasons.</summary>
internal readonly record struct Call(FfaRequest Request, Endpoint Caller)
{
    /// <summary>Refuses the call by <paramref name="rule"/>; the reason is prefixed with the function's name.</summary>
    public FfaAnswer Reject(Rule rule, string reason) => FfaAnswer.Fail(rule.Reject($"{Request.Name}: {reason}"));

    /// <summary>Refuses the call with a rejection made elsewhere (a decoder, a descriptor parser), prefixed with the function's name.</summary>
    public FfaAnswer Reject(Rejection rejection) => FfaAnswer.Fail(rejection.Prefixed(Request.Name));

    public bool FromHypervisor => Caller.Id == EndpointId.Hypervisor;
    public bool FromNormalWorld => !Caller.IsSecure;
}

/// <summary>
/// One ABI: who may call it (<paramref name="Who"/>), whom FFA_FEATURES reports it to (<paramref name="ReportedTo"/>:
/// Hafnium's api_ffa_features has its own identity checks, which differ from the calls' for some ABIs), what it does,
/// and what FFA_FEATURES answers for it (w2, or a whole answer).
/// </summary>
internal sealed record Handler(Callers Who, Callers ReportedTo, Func<Call, FfaAnswer> Run, Func<Call, uint>? Properties,
    Func<Call, uint, FfaAnswer>? Feature);

/// <summary>
/// The ABIs this SPMC implements, one handler per function and width, registered by the ABI families. Dispatch and
/// FFA_FEATURES both read it, so discovery always matches what is implemented.
/// </summary>
internal sealed class HandlerTable(FfaVersion spmcVersion)
{
    /// <summary>
    /// The last FF-A version whose ABIs every caller gets whatever version it negotiated (Hafnium has no generic
    /// caller-version gate). ABIs introduced after it are refused to callers below their version, so that callers
    /// at 1.0–1.2 get from a 1.3 SPMC exactly what a 1.2 SPMC answers them (issue 13).
    /// </summary>
    public static readonly FfaVersion UngatedUpTo = FfaVersion.V1_2;

    private readonly Dictionary<(FfaFunction, bool), Handler> _handlers = [];

    /// <summary>
    /// Null and the handler when this SPMC implements <paramref name="info"/> in the width called, else the
    /// <see cref="DispatchRules.NotImplemented"/> rejection saying why: to calls and to FFA_FEATURES alike.
    /// </summary>
    public Rejection? Find(FfaFunctionInfo info, bool is64, out Handler handler) =>
        _handlers.TryGetValue((info.Function, is64), out handler!) ? null : DispatchRules.NotImplemented.Reject(NotImplementedReason(info, is64));

    /// <summary>
    /// Registers an ABI. <paramref name="reportedTo"/>: whom FFA_FEATURES reports it to, when that differs from who
    /// may call it (<paramref name="who"/>, the default).
    /// </summary>
    public void Register(FfaFunction function, Callers who, Func<Call, FfaAnswer> run, bool smc32 = true, bool smc64 = false,
        Func<Call, uint>? properties = null, Func<Call, uint, FfaAnswer>? feature = null, Callers? reportedTo = null)
    {
        var handler = new Handler(who, reportedTo ?? who, run, properties, feature);
        if (smc32) _handlers[(function, false)] = handler;
        if (smc64) _handlers[(function, true)] = handler;
    }

    /// <summary>
    /// Registers a handler that takes the call decoded as <typeparamref name="T"/>: a frame whose registers break a
    /// rule of the ABI is refused by the decoder's rejection before the handler runs.
    /// </summary>
    public void Register<T>(FfaFunction function, Callers who, Func<Call, T, FfaAnswer> run, bool smc32 = true, bool smc64 = false,
        Func<Call, uint>? properties = null, Func<Call, uint, FfaAnswer>? feature = null, Callers? reportedTo = null)
        where T : IFfaCall<T> =>
        Register(function, who, c =>
        {
            var decoded = T.Decode(c.Request.Args);
            return decoded.Ok ? run(c, decoded.Value!) : c.Reject(decoded.Rejection!);
        }, smc32, smc64, properties, feature, reportedTo);

    /// <summary>
    /// Null when the caller may call this ABI, else the rule that keeps it from it (answered as NOT_SUPPORTED). The
    /// caller's version gates only ABIs newer than <see cref="UngatedUpTo"/>: the older ones check the versions
    /// that matter inside their handlers, with Hafnium's codes (MSG_SEND2 DENIED, BIND NOT_SUPPORTED, REQ2 DENIED).
    /// </summary>
    public Rejection? Unavailable(Endpoint caller, Handler handler, FfaVersion since) =>
        VersionGate(caller, since) ?? IdentityGate(caller, handler.Who, "call it");

    /// <summary>
    /// Null when FFA_FEATURES reports this ABI to the caller, else the rule it answers NOT_SUPPORTED by: the same
    /// version gates as a call (Hafnium ffa_features_function checks FFA_VERSION_COMPILED, never the caller's
    /// version), and the identity Hafnium reports the ABI to.
    /// </summary>
    public Rejection? Unreported(Endpoint caller, Handler handler, FfaVersion since) =>
        VersionGate(caller, since) ?? IdentityGate(caller, handler.ReportedTo, "use it");

    private Rejection? VersionGate(Endpoint caller, FfaVersion since)
    {
        // DEN0077: an ABI newer than the SPMC's version does not exist at this SPMC (Hafnium: FFA_VERSION_COMPILED).
        if (since > spmcVersion) return DispatchRules.NewerThanSpmc.Reject($"introduced in FF-A {since}; this SPMC implements {spmcVersion}");
        if (since > UngatedUpTo && since > caller.Version)
            return DispatchRules.NewerThanCaller.Reject(
                $"introduced in FF-A {since}; the caller uses {caller.Version}, and a caller at 1.0-{UngatedUpTo} gets what an FF-A {UngatedUpTo} SPMC answers");
        return null;
    }

    private static Rejection? IdentityGate(Endpoint caller, Callers who, string what) => who switch
    {
        Callers.Hypervisor when caller.Id != EndpointId.Hypervisor => DispatchRules.HypervisorOnly.Reject($"only the hypervisor (ID 0) may {what}"),
        Callers.SecurePartitions when !caller.IsSecure => DispatchRules.SecureOnly.Reject("reserved for secure partitions"),
        _ => null,
    };

    private static string NotImplementedReason(FfaFunctionInfo info, bool is64) => info.Function switch
    {
        FfaFunction.RxTxMap when !is64 => "only the SMC64 form is implemented (as in Hafnium)",
        FfaFunction.MsgSend or FfaFunction.MsgPoll => "the v1.0 indirect messaging ABIs are not implemented (use FFA_MSG_SEND2)",
        FfaFunction.MemOpPause or FfaFunction.MemOpResume => "memory operation time slicing is not implemented (as in Hafnium)",
        _ => $"{info.WidthName(is64)} is not implemented by this SPMC",
    };
}
