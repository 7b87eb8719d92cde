using Spmc.Abi.Ffa;
using Spmc.Abi.Rules;

namespace Spmc.Core.Spm.Handlers;

/// <summary>
/// Rules the SPMC applies to FFA_VERSION and FFA_FEATURES (Hafnium api_ffa_version, api_ffa_features). FFA_VERSION
/// answers its refusals with a bare value in w0, never FFA_ERROR: NOT_SUPPORTED (-1); for a v1.3 request SMCCC
/// INVALID_PARAMETER (-3), the closest incompatible version or the Null version. Its rules name why.
/// </summary>
public static class SetupRules
{
    public static readonly Rule VersionBit31 = new("version.bit31-set", FfaError.NotSupported,
        "the requested version must have bit 31 clear",
        "DEN0077 v1.3 §13.2 table 13.4 (bit 31 MBZ); Hafnium api_ffa_version (NOT_SUPPORTED)");
    public static readonly Rule VersionIncompatible = new("version.incompatible", FfaError.NotSupported,
        "the requested version must have the SPMC's major and a minor not above the SPMC's (Hafnium refuses rather than downgrading)",
        "DEN0077 v1.3 §13.2.1; Hafnium api_ffa_version, ffa_versions_are_compatible");
    public static readonly Rule VersionLocked = new("version.locked", FfaError.NotSupported,
        "once the caller has made another FF-A call, FFA_VERSION may only repeat the version in force",
        "DEN0077 v1.3 §13.2.2.1; Hafnium api_ffa_version (ffa_version_negotiated, handler.c)");

    public static readonly Rule VersionQueryTypeReserved = new("version.query-type-reserved", FfaError.InvalidParameters,
        "v1.3: the version query type (w2 bits[1:0]) must be 0, 1 or 2; b'11 is answered with SMCCC INVALID_PARAMETER (-3) as a bare value in w0",
        "DEN0077 v1.3 ALP4 §13.2.2 R0198, tables 13.4 and 13.6");
    public static readonly Rule VersionBit31InvalidParameter = new("version.bit31-invalid-parameter", FfaError.InvalidParameters,
        "v1.3: the input version must have bit 31 clear, for every query type; answered with SMCCC INVALID_PARAMETER (-3) as a bare value in w0 (1.0-1.2 requests keep version.bit31-set)",
        "DEN0077 v1.3 ALP4 §13.2.2.1, §13.2.2.2 R0229, table 13.6");
    public static readonly Rule VersionNoCompatible = new("version.no-compatible-version", FfaError.NotSupported,
        "v1.3: a negotiation needs a version compatible with the input; otherwise w0 is the SPMC's closest incompatible version (the highest below the input, else the lowest above) and the negotiated version is unchanged",
        "DEN0077 v1.3 ALP4 §13.2.2.1 and its outcome table (rows 7-10), S0231");
    public static readonly Rule VersionInUse = new("version.in-use", FfaError.Denied,
        "v1.3: a negotiation while the Framework is in use by the caller (RX/TX mapped, notifications bound or pending, memory not reclaimed, calls outstanding) is answered with the Null version (w0 = 0) and the negotiated version is unchanged",
        "DEN0077 v1.3 ALP4 §13.2.2.1 D0212, S0231 is_version_negotiable");

    public static readonly Rule FeaturesNotFfaFunction = new("features.not-ffa-function", FfaError.NotSupported,
        "a queried function ID must be an FF-A function ID, in a width FF-A defines for it (no SVE hint or other stray bits)",
        "DEN0077 v1.3 §13.3 table 13.12; Hafnium ffa_features_function default case");
    public static readonly Rule FeatureIdSpmcBeforeV1_2 = new("features.feature-id-spmc-before-v1-2", FfaError.NotSupported,
        "NPI, SRI and MEI (feature IDs 1-3) are reported by an SPMC at FF-A 1.2 or later, whatever the caller's version",
        "Hafnium ffa_features_feature (FFA_VERSION_1_2 > FFA_VERSION_COMPILED)");
    public static readonly Rule NpiSecureOnly = new("features.npi-secure-only", FfaError.NotSupported,
        "the notification pending interrupt (feature 1) is reported to secure partitions only",
        "DEN0077 v1.3 table 13.14; Hafnium ffa_features_feature");
    public static readonly Rule SriNormalWorldOnly = new("features.sri-normal-world-only", FfaError.NotSupported,
        "the schedule receiver interrupt (feature 2) is reported to the normal world only",
        "DEN0077 v1.3 table 13.14; Hafnium ffa_features_feature");
    public static readonly Rule MeiSecureOnly = new("features.mei-secure-only", FfaError.NotSupported,
        "the managed exit interrupt (feature 3) is reported to secure partitions only",
        "DEN0077 v1.3 table 13.14; Hafnium ffa_features_feature");
    public static readonly Rule UnknownFeature = new("features.unknown-feature", FfaError.NotSupported,
        "the feature ID must be one this SPMC implements (1 NPI, 2 SRI, 3 MEI; 4 notification features for a 1.3 caller of a 1.3 SPMC)",
        "DEN0077 v1.3 table 13.14; Hafnium ffa_features_feature default case");
}
