using Spmc.Abi.Calls;
using Spmc.Abi.Ffa;
using Spmc.Abi.Rules;
using Spmc.Abi.Smccc;
using Spmc.Core.Calls;
using Spmc.Core.Manifests;

namespace Spmc.Core.Spm.Handlers;

/// <summary>Setup and discovery: FFA_VERSION, FFA_FEATURES, FFA_ID_GET, FFA_SPM_ID_GET.</summary>
internal sealed class SetupHandlers(SpmcContext spmc, HandlerTable table)
{
    /// <summary>Interrupt IDs Hafnium reports for the feature IDs (NPI, MEI to SPs; SRI to the normal world).</summary>
    public const uint NotificationPendingInterrupt = 5, ManagedExitInterrupt = 4, ScheduleReceiverInterrupt = 8;

    private readonly SystemConfig _config = spmc.Config;

    public void Register()
    {
        table.Register<VersionCall>(FfaFunction.Version, Callers.Any, Negotiate);
        table.Register<Features>(FfaFunction.Features, Callers.Any, Query);
        table.Register<IdGet>(FfaFunction.IdGet, Callers.Any, (c, _) => FfaAnswer.Success32(w2: c.Caller.Id));
        table.Register<SpmIdGet>(FfaFunction.SpmIdGet, Callers.Any, (c, _) => FfaAnswer.Success32(w2: _config.SpmcId));
    }

    /// <summary>
    /// FFA_VERSION (DEN0077 §13.2). A v1.3 request of a v1.3 SPMC follows the v1.3 rules (<see cref="VersionV1_3"/>);
    /// every other request gets today's answer: the SPMC's own version in w0, or a bare NOT_SUPPORTED (-1) in w0,
    /// never FFA_ERROR. Hafnium refuses a minor above its own rather than downgrading, and refuses a different
    /// version once other ABIs were used.
    /// </summary>
    private FfaAnswer Negotiate(Call c, VersionCall call)
    {
        if (SpeaksV1_3(c.Caller, call)) return VersionV1_3(c, call);
        if (call.Version is not { } version)
            return Refuse(SetupRules.VersionBit31, $"requested version 0x{call.Requested:X8} has bit 31 set");
        if (!version.IsCompatibleWith(_config.Version))
            return Refuse(SetupRules.VersionIncompatible, $"requested {version} is not compatible with this SPMC's {_config.Version} (same major, minor not above)");
        if (c.Caller.VersionLocked && version != c.Caller.Version)
            return Refuse(SetupRules.VersionLocked, $"the version is locked at {c.Caller.Version} because other FF-A calls were made");

        c.Caller.Version = version;
        c.Caller.VersionNegotiated = true;
        return new FfaAnswer(VersionCall.Answer(_config.Version));
    }

    /// <summary>
    /// Whether a request gets the v1.3 rules: the SPMC implements 1.3 and the caller speaks it — it names a query type
    /// in w2[1:0] (a 1.0–1.2 caller writes w2 as zero: SBZ), or asks for 1.3 or later in w1, or has negotiated 1.3
    /// (a VM by an earlier FFA_VERSION; a partition by its manifest, I0203). A VM that never called FFA_VERSION is
    /// not taken for a 1.3 caller, so a 1.2 kernel's first FFA_VERSION(1.2) gets the answer it always got.
    /// </summary>
    private bool SpeaksV1_3(Endpoint caller, VersionCall call) =>
        _config.Version >= FfaVersion.V1_3
        && (call.Query != VersionQuery.Negotiate
            || call.Version is { } v && v >= FfaVersion.V1_3
            || (caller.VersionNegotiated || caller.IsSecure) && caller.Version >= FfaVersion.V1_3);

    /// <summary>
    /// FFA_VERSION at v1.3 (§13.2.2, tables 13.4–13.6): a reserved query type or bit 31 set → SMCCC INVALID_PARAMETER
    /// (-3) in w0; b'10 → the negotiated version (w1 SBZ, ignored); b'01 → a compatible version, else the closest
    /// incompatible one, without negotiating; b'00 → negotiation by <see cref="VersionNegotiation.Negotiate"/>: the
    /// Null version while the Framework is in use by the caller (D0212), downgrades permitted otherwise (I0211: this
    /// SPMC's choice, as Hafnium permits renegotiation before use). w1..w7 are MBZ in every answer (table 13.5).
    /// </summary>
    private FfaAnswer VersionV1_3(Call c, VersionCall call)
    {
        if (call.Query == VersionQuery.Reserved)
            return InvalidParameter(SetupRules.VersionQueryTypeReserved, $"w2 = 0x{call.Flags:X8}: query type b'11 is reserved");
        if (call.Version is not { } version)
            return InvalidParameter(SetupRules.VersionBit31InvalidParameter, $"w1 = 0x{call.Requested:X8} has bit 31 set");

        FfaVersion[] implemented = [_config.Version];
        switch (call.Query)
        {
            case VersionQuery.Negotiated:
                return new FfaAnswer(VersionCall.Answer(c.Caller.Version));
            case VersionQuery.Compatible:
                var found = VersionNegotiation.Discover(implemented, version)!.Value;
                return new FfaAnswer(VersionCall.Answer(found), Note: VersionNegotiation.Compatible(implemented, version) is null
                    ? $"FFA_VERSION: no version compatible with {version} is implemented; w0 is the closest incompatible one ({found})" : null);
        }

        var inUse = FrameworkUse.Reasons(spmc.State, c.Caller);
        var outcome = VersionNegotiation.Negotiate(implemented, version, c.Caller.Version, inUse.Count > 0, downgradeAllowed: true);
        switch (outcome.Refusal)
        {
            case VersionRefusal.NoCompatibleVersion:
                return new FfaAnswer(VersionCall.Answer(outcome.Output!.Value), SetupRules.VersionNoCompatible.Reject(
                    $"FFA_VERSION: requested {version} is not compatible with this SPMC's {_config.Version}; w0 = {outcome.Output}, the closest incompatible version; the negotiated version stays {c.Caller.Version}"));
            case VersionRefusal.InUse:
                return new FfaAnswer(VersionCall.Answer(VersionNegotiation.Null), SetupRules.VersionInUse.Reject(
                    $"FFA_VERSION: the Framework is in use by {EndpointId.Format(c.Caller.Id)} ({string.Join("; ", inUse)}); w0 = the Null version, the negotiated version stays {c.Caller.Version}"));
        }
        c.Caller.Version = outcome.NegotiatedAfter;
        c.Caller.VersionNegotiated = true;
        // An SP's notification count follows its version (384 at 1.3, 64 before). A negotiation succeeds only while
        // no notification of the SP is bound or pending (D0212), so its bitmaps are empty and may be resized.
        if (c.Caller.Partition is not null && spmc.State.Notifications.TryGetValue(c.Caller.Id, out var notifications))
            notifications.Count = NotificationHandlers.PartitionCount(_config, c.Caller);
        return new FfaAnswer(VersionCall.Answer(outcome.Output!.Value));
    }

    /// <summary>A v1.3 refusal of a malformed FFA_VERSION: SMCCC INVALID_PARAMETER (-3) as a bare value in w0.</summary>
    private static FfaAnswer InvalidParameter(Rule rule, string reason) =>
        new(VersionCall.InvalidParameterAnswer(), rule.Reject($"FFA_VERSION: {reason}"),
            "FFA_VERSION answers SMCCC codes in w0: 0xFFFFFFFD is SMCCC INVALID_PARAMETER (-3), not an FFA_ERROR");

    /// <summary>A refusal of FFA_VERSION: NOT_SUPPORTED as a bare value in w0, the rule in the answer's rejection.</summary>
    private static FfaAnswer Refuse(Rule rule, string reason) =>
        new(VersionCall.NotSupportedAnswer(), rule.Reject($"FFA_VERSION: {reason}"));

    /// <summary>
    /// FFA_FEATURES (DEN0077 §13.3): w1 = function ID (bit 31 set) or feature ID; w2 = input properties. As Hafnium's
    /// api_ffa_features, the answer depends on the SPMC's own version and what it implements, and on the caller's
    /// identity where Hafnium checks it (<see cref="HandlerTable.Unreported"/>); the caller's version matters only
    /// for RXTX_MAP's w2, MEM_RETRIEVE_REQ's input and ABORT, and for the ABIs and feature after FF-A 1.2, which
    /// 1.0-1.2 callers never get (issue 13: they get what a 1.2 SPMC answers).
    /// </summary>
    private FfaAnswer Query(Call c, Features call)
    {
        if (!call.IsFunctionQuery) return Feature(c, call.FeatureId);

        var query = call.Query;
        var fid = new SmcccFunctionId(query);
        var info = fid.IsFfa && fid.Canonical == query ? FfaFunctions.Find(fid.Number) : null;
        if (info is null || info.Since(fid.Is64Bit) is not { } since)
            return c.Reject(SetupRules.FeaturesNotFfaFunction, $"0x{query:X8} is not an FF-A function ID");
        var name = info.WidthName(fid.Is64Bit);
        if (table.Find(info, fid.Is64Bit, out var handler) is { } unimplemented) return c.Reject(unimplemented.Prefixed(name));
        if (table.Unreported(c.Caller, handler, since) is { } why)
            return c.Reject(why.Prefixed(name));
        // Hafnium ignores input properties for every function but FFA_MEM_RETRIEVE_REQ.
        if (handler.Feature is not null) return handler.Feature(c, call.InputProperties);
        return FfaAnswer.Success32(w2: handler.Properties?.Invoke(c) ?? 0);
    }

    /// <summary>
    /// Feature IDs (bit 31 clear); the decoder has checked bits[30:8] and the input properties (Hafnium: NOT_SUPPORTED).
    /// Hafnium ffa_features_feature: NPI, SRI and MEI need FFA_VERSION_COMPILED ≥ 1.2, then the caller's identity;
    /// no feature ID looks at the caller's version. Feature 4 (FF-A 1.3) needs a 1.3 SPMC and, here, a 1.3 caller.
    /// </summary>
    private FfaAnswer Feature(Call c, byte feature)
    {
        if (feature is Features.NpiFeature or Features.SriFeature or Features.MeiFeature && _config.Version < FfaVersion.V1_2)
            return c.Reject(SetupRules.FeatureIdSpmcBeforeV1_2, $"feature ID {feature}: this SPMC implements FF-A {_config.Version}; NPI, SRI and MEI are reported from 1.2");
        return feature switch
        {
            Features.NpiFeature when c.FromNormalWorld =>
                c.Reject(SetupRules.NpiSecureOnly, "NPI (feature 1) is reported to secure partitions only"),
            Features.NpiFeature => FfaAnswer.Success32(w2: NotificationPendingInterrupt),
            Features.SriFeature when !c.FromNormalWorld =>
                c.Reject(SetupRules.SriNormalWorldOnly, "SRI (feature 2) is reported to the normal world only"),
            Features.SriFeature => FfaAnswer.Success32(w2: ScheduleReceiverInterrupt),
            Features.MeiFeature when c.FromNormalWorld =>
                c.Reject(SetupRules.MeiSecureOnly, "MEI (feature 3) is reported to secure partitions only"),
            Features.MeiFeature => FfaAnswer.Success32(w2: ManagedExitInterrupt),
            // FF-A 1.3 table 13.14: notification features. Hafnium answers any caller of a 1.3 SPMC; a 1.0-1.2 caller
            // here gets what a 1.2 SPMC answers (issue 13): an unknown feature.
            NotificationFeatures.FeatureId when _config.Version >= FfaVersion.V1_3 && c.Caller.Version >= FfaVersion.V1_3 =>
                FfaAnswer.Success32(w2: NotificationHandlers.FeatureBits(c.FromNormalWorld)),
            NotificationFeatures.FeatureId => c.Reject(SetupRules.UnknownFeature, _config.Version < FfaVersion.V1_3
                ? $"feature ID {feature} (notification features) is FF-A 1.3; this SPMC implements {_config.Version}"
                : $"feature ID {feature} (notification features) is FF-A 1.3; the caller uses {c.Caller.Version} and gets what a 1.2 SPMC answers"),
            _ => c.Reject(SetupRules.UnknownFeature, $"feature ID {feature} is not supported"),
        };
    }
}
