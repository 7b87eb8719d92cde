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
    /// FFA_VERSION (DEN0077 §13.2): answers the SPMC's own version in w0, or a bare NOT_SUPPORTED (-1) in w0,
    /// never FFA_ERROR. Hafnium refuses a minor above its own rather than downgrading, and refuses a different
    /// version once other ABIs were used.
    /// </summary>
    private FfaAnswer Negotiate(Call c, VersionCall call)
    {
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

    /// <summary>A refusal of FFA_VERSION: NOT_SUPPORTED as a bare value in w0, the rule in the answer's rejection.</summary>
    private static FfaAnswer Refuse(Rule rule, string reason) =>
        new(VersionCall.NotSupportedAnswer(), rule.Reject($"FFA_VERSION: {reason}"));

    /// <summary>FFA_FEATURES (DEN0077 §13.3): w1 = function ID (bit 31 set) or feature ID; w2 = input properties.</summary>
    private FfaAnswer Query(Call c, Features call)
    {
        if (!call.IsFunctionQuery) return Feature(c, call.FeatureId);

        var query = call.Query;
        var fid = new SmcccFunctionId(query);
        var info = fid.IsFfa && fid.Canonical == query ? FfaFunctions.Find(fid.Number) : null;
        if (info is null || info.Since(fid.Is64Bit) is not { } since)
            return c.Reject(SetupRules.FeaturesNotFfaFunction, $"0x{query:X8} is not an FF-A function ID");
        var name = info.WidthName(fid.Is64Bit);
        // The availability rules are dispatch's: FFA_FEATURES reports what a call of that function would meet.
        if (!table.TryGet(info.Function, fid.Is64Bit, out var handler))
            return c.Reject(DispatchRules.NotImplemented, $"{name}: {HandlerTable.NotImplementedReason(info, fid.Is64Bit)}");
        if (table.Unavailable(c.Caller, handler, since) is { } why)
            return c.Reject(why.Prefixed(name));
        // Hafnium ignores input properties for every function but FFA_MEM_RETRIEVE_REQ.
        if (handler.Feature is not null) return handler.Feature(c, call.InputProperties);
        return FfaAnswer.Success32(w2: handler.Properties?.Invoke(c) ?? 0);
    }

    /// <summary>Feature IDs (bit 31 clear); the decoder has checked bits[30:8] and the input properties (Hafnium: NOT_SUPPORTED).</summary>
    private FfaAnswer Feature(Call c, byte feature)
    {
        if (_config.Version < FfaVersion.V1_1 || c.Caller.Version < FfaVersion.V1_1)
            return c.Reject(SetupRules.FeatureIdBeforeV1_1, "feature IDs are defined from FF-A 1.1");
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
            // FF-A 1.3 table 13.14: notification features, for 1.3 callers of a 1.3 SPMC (older ones: unknown feature).
            NotificationFeatures.FeatureId when _config.Version >= FfaVersion.V1_3 && c.Caller.Version >= FfaVersion.V1_3 =>
                FfaAnswer.Success32(w2: NotificationHandlers.FeatureBits(c.FromNormalWorld)),
            _ => c.Reject(SetupRules.UnknownFeature, $"feature ID {feature} is not supported"),
        };
    }
}
