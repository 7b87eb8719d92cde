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
        table.Register(FfaFunction.Version, Callers.Any, VersionCall);
        table.Register(FfaFunction.Features, Callers.Any, Features);
        table.Register(FfaFunction.IdGet, Callers.Any, c => FfaAnswer.Success32(w2: c.Caller.Id));
        table.Register(FfaFunction.SpmIdGet, Callers.Any, c => FfaAnswer.Success32(w2: _config.SpmcId));
    }

    /// <summary>
    /// FFA_VERSION (DEN0077 §13.2): answers the SPMC's own version in w0, or a bare NOT_SUPPORTED (-1) in w0,
    /// never FFA_ERROR. Hafnium refuses a minor above its own rather than downgrading, and refuses a different
    /// version once other ABIs were used.
    /// </summary>
    private FfaAnswer VersionCall(Call c)
    {
        var requested = (uint)c[1];
        FfaAnswer Refuse(string reason) =>
            new(SmcFrame.From(FfaError.NotSupported.Encoded()), new Rejection(FfaError.NotSupported, "unclassified", $"FFA_VERSION: {reason}"));

        if (FfaVersion.Decode(requested) is not { } version)
            return Refuse($"requested version 0x{requested:X8} has bit 31 set");
        if (!version.IsCompatibleWith(_config.Version))
            return Refuse($"requested {version} is not compatible with this SPMC's {_config.Version} (same major, minor not above)");
        if (c.Caller.VersionLocked && version != c.Caller.Version)
            return Refuse($"the version is locked at {c.Caller.Version} because other FF-A calls were made");

        c.Caller.Version = version;
        c.Caller.VersionNegotiated = true;
        return new FfaAnswer(SmcFrame.From(_config.Version.Encoded));
    }

    /// <summary>FFA_FEATURES (DEN0077 §13.3): w1 = function ID (bit 31 set) or feature ID; w2 = input properties.</summary>
    private FfaAnswer Features(Call c)
    {
        var query = (uint)c[1];
        var input = (uint)c[2];
        if ((query & 0x8000_0000) == 0) return Feature(c, query, input);

        var fid = new SmcccFunctionId(query);
        var info = fid.IsFfa && fid.Canonical == query ? FfaFunctions.Find(fid.Number) : null;
        if (info is null || info.Since(fid.Is64Bit) is not { } since)
            return c.Fail(FfaError.NotSupported, $"0x{query:X8} is not an FF-A function ID");
        var name = info.WidthName(fid.Is64Bit);
        if (!table.TryGet(info.Function, fid.Is64Bit, out var handler))
            return c.Fail(FfaError.NotSupported, $"{name}: {HandlerTable.NotImplementedReason(info, fid.Is64Bit)}");
        if (table.Unavailable(c.Caller, handler, since) is { } why)
            return c.Reject(why.Prefixed(name));
        // Hafnium ignores input properties for every function but FFA_MEM_RETRIEVE_REQ.
        if (handler.Feature is not null) return handler.Feature(c, input);
        return FfaAnswer.Success32(w2: handler.Properties?.Invoke(c) ?? 0);
    }

    /// <summary>Feature IDs (bit 31 clear): bits[30:8] and the input properties must be zero (Hafnium returns NOT_SUPPORTED).</summary>
    private FfaAnswer Feature(Call c, uint feature, uint input)
    {
        if ((feature & 0x7FFF_FF00) != 0) return c.Fail(FfaError.NotSupported, $"feature ID 0x{feature:X8} has bits[30:8] set");
        if (input != 0) return c.Fail(FfaError.NotSupported, $"input properties (w2 = 0x{input:X}) must be zero for a feature ID");
        if (_config.Version < FfaVersion.V1_1 || c.Caller.Version < FfaVersion.V1_1)
            return c.Fail(FfaError.NotSupported, "feature IDs are defined from FF-A 1.1");
        return feature switch
        {
            1 when c.FromNormalWorld => c.Fail(FfaError.NotSupported, "NPI (feature 1) is reported to secure partitions only"),
            1 => FfaAnswer.Success32(w2: NotificationPendingInterrupt),
            2 when !c.FromNormalWorld => c.Fail(FfaError.NotSupported, "SRI (feature 2) is reported to the normal world only"),
            2 => FfaAnswer.Success32(w2: ScheduleReceiverInterrupt),
            3 when c.FromNormalWorld => c.Fail(FfaError.NotSupported, "MEI (feature 3) is reported to secure partitions only"),
            3 => FfaAnswer.Success32(w2: ManagedExitInterrupt),
            _ => c.Fail(FfaError.NotSupported, $"feature ID {feature} is not supported"),
        };
    }
}
