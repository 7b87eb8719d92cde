using Spmc.Abi.Ffa;
using Spmc.Abi.Rules;

namespace Spmc.Core.Spm.Handlers;

/// <summary>
/// Rules the SPMC applies to FFA_VERSION and FFA_FEATURES (Hafnium api_ffa_version, api_ffa_features). FFA_VERSION
/// answers its refusals with a bare NOT_SUPPORTED (-1) in w0, never FFA_ERROR; its rules name why.
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

    public static readonly Rule FeaturesNotFfaFunction = new("features.not-ffa-function", FfaError.NotSupported,
        "a queried function ID must be an FF-A function ID, in a width FF-A defines for it (no SVE hint or other stray bits)",
        "DEN0077 v1.3 §13.3 table 13.12; Hafnium ffa_features_function default case");
    public static readonly Rule FeatureIdBeforeV1_1 = new("features.feature-id-before-v1-1", FfaError.NotSupported,
        "feature IDs exist from FF-A 1.1: the SPMC and the caller must both be at 1.1 or later",
        "DEN0077 v1.1 §13.3 (feature IDs are new in v1.1); Spmc: Hafnium only checks its own compiled version");
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
        "the feature ID must be one this SPMC implements (1 NPI, 2 SRI, 3 MEI)",
        "DEN0077 v1.3 table 13.14; Hafnium ffa_features_feature default case");
}
