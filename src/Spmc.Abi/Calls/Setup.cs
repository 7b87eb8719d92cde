using Spmc.Abi.Descriptors;
using Spmc.Abi.Ffa;
using Spmc.Abi.Rules;
using Spmc.Abi.Smccc;

namespace Spmc.Abi.Calls;

/// <summary>Register rules of the setup ABIs.</summary>
public static class SetupCallRules
{
    public static readonly Rule FeatureIdReservedBits = new("features.feature-id-bits-mbz", FfaError.NotSupported,
        "bits[30:8] of a feature ID (w1 bit 31 clear) are reserved (MBZ)",
        "DEN0077 v1.3 §13.3 table 13.12; Hafnium ffa_features_feature");
    public static readonly Rule FeatureIdInputProperties = new("features.feature-id-input-mbz", FfaError.NotSupported,
        "the input properties (w2) are reserved (MBZ) when w1 is a feature ID",
        "DEN0077 v1.3 §13.3 tables 13.12, 13.14; Hafnium ffa_features_feature");
}

/// <summary>The version query type of FFA_VERSION (DEN0077 v1.3 table 13.4: w2 bits[1:0]).</summary>
public enum VersionQuery
{
    /// <summary>b'00: negotiate the version in w1 (the only form before v1.3, where w2 was SBZ).</summary>
    Negotiate = 0,
    /// <summary>b'01: which compatible version does the callee implement? No negotiation.</summary>
    Compatible = 1,
    /// <summary>b'10: which version was negotiated for me? w1 is SBZ.</summary>
    Negotiated = 2,
    /// <summary>b'11: reserved; answered with SMCCC INVALID_PARAMETER.</summary>
    Reserved = 3,
}

/// <summary>
/// FFA_VERSION (DEN0077 v1.3 §13.2; named VersionCall beside System.Version): w1 = the caller's version, w2 = the
/// input flags (v1.3: bits[1:0] the query type, bits[31:2] SBZ; before v1.3 all of w2 was SBZ). Bit 31 and the
/// query type are checked by the SPMC, not here: FFA_VERSION answers bare SMCCC values in w0, never FFA_ERROR.
/// </summary>
public sealed record VersionCall(uint Requested, uint Flags = 0) : IFfaCall<VersionCall>
{
    /// <summary>w2 bits[1:0]: the version query type.</summary>
    public const uint QueryTypeMask = 0x3;

    /// <summary>SMCCC INVALID_PARAMETER (-3) as FFA_VERSION answers it in w0 (DEN0077 v1.3 table 13.6).</summary>
    public const uint SmcccInvalidParameter = 0xFFFF_FFFD;

    public uint FunctionId => FfaFunctions.Id32(FfaFunction.Version);

    /// <summary>The requested version; null when bit 31 is set (not a version).</summary>
    public FfaVersion? Version => FfaVersion.Decode(Requested);

    /// <summary>The v1.3 query type (w2 bits[1:0]); w2 bits[31:2] are SBZ and ignored.</summary>
    public VersionQuery Query => (VersionQuery)(Flags & QueryTypeMask);

    public static ParseResult<VersionCall> Decode(in SmcFrame frame) => new VersionCall(frame.W(1), frame.W(2));
    public SmcFrame Encode() => Regs.Frame(FunctionId, Requested, Flags);

    /// <summary>The answer to FFA_VERSION: w0 = a version (the callee's, or the Null version 0.0), bare (not wrapped in FFA_SUCCESS); w1..w7 MBZ.</summary>
    public static SmcFrame Answer(FfaVersion version) => SmcFrame.From(version.Encoded);

    /// <summary>The refusal of FFA_VERSION: w0 = NOT_SUPPORTED (-1) as a bare value, the other registers zero.</summary>
    public static SmcFrame NotSupportedAnswer() => SmcFrame.From(FfaError.NotSupported.Encoded());

    /// <summary>The v1.3 refusal of a malformed FFA_VERSION: w0 = SMCCC INVALID_PARAMETER (-3), bare; the other registers zero.</summary>
    public static SmcFrame InvalidParameterAnswer() => SmcFrame.From(SmcccInvalidParameter);
}

/// <summary>
/// FFA_FEATURES (DEN0077 v1.3 §13.3): w1 = a function ID (bit 31 set) or a feature ID (bit 31 clear, bits[30:8] MBZ,
/// bits[7:0] the ID); w2 = input properties, MBZ for a feature ID.
/// </summary>
public sealed record Features(uint Query, uint InputProperties = 0) : IFfaCall<Features>
{
    /// <summary>w1 bit 31: set for a function ID (the SMCCC fast-call bit), clear for a feature ID.</summary>
    public const uint FunctionQueryBit = 0x8000_0000;

    /// <summary>Feature IDs (DEN0077 v1.3 table 13.14): notification pending, schedule receiver and managed exit interrupts.</summary>
    public const byte NpiFeature = 1, SriFeature = 2, MeiFeature = 3;

    public uint FunctionId => FfaFunctions.Id32(FfaFunction.Features);
    public bool IsFunctionQuery => (Query & FunctionQueryBit) != 0;

    /// <summary>The feature ID (w1 bits[7:0]) of a feature query.</summary>
    public byte FeatureId => (byte)Query;

    public static ParseResult<Features> Decode(in SmcFrame frame)
    {
        uint query = frame.W(1), input = frame.W(2);
        if ((query & FunctionQueryBit) == 0)
        {
            if ((query & 0x7FFF_FF00) != 0) return SetupCallRules.FeatureIdReservedBits.Reject($"feature ID 0x{query:X8} has bits[30:8] set");
            if (input != 0) return SetupCallRules.FeatureIdInputProperties.Reject($"input properties (w2 = 0x{input:X}) must be zero for a feature ID");
        }
        return new Features(query, input);
    }

    public SmcFrame Encode() => Regs.Frame(FunctionId, Query, InputProperties);
}

/// <summary>FFA_ID_GET (DEN0077 v1.3 §13.10): no arguments.</summary>
public sealed record IdGet : IFfaCall<IdGet>
{
    public uint FunctionId => FfaFunctions.Id32(FfaFunction.IdGet);
    public static ParseResult<IdGet> Decode(in SmcFrame frame) => new IdGet();
    public SmcFrame Encode() => Regs.Frame(FunctionId);
}

/// <summary>FFA_SPM_ID_GET (DEN0077 v1.3 §13.11, v1.1): no arguments.</summary>
public sealed record SpmIdGet : IFfaCall<SpmIdGet>
{
    public uint FunctionId => FfaFunctions.Id32(FfaFunction.SpmIdGet);
    public static ParseResult<SpmIdGet> Decode(in SmcFrame frame) => new SpmIdGet();
    public SmcFrame Encode() => Regs.Frame(FunctionId);
}
