using Spmc.Abi.Ffa;
using Spmc.Abi.Rules;

namespace Spmc.Core.Spm;

/// <summary>Rules the SPMC applies before any ABI handler runs (Hafnium handler.c / api.c dispatch).</summary>
public static class DispatchRules
{
    public static readonly Rule UnknownCaller = new("dispatch.unknown-caller", FfaError.InvalidParameters,
        "the caller must be an endpoint of this system", "Spmc: a frame names its caller");
    public static readonly Rule UndefinedFunction = new("dispatch.undefined-function", FfaError.NotSupported,
        "the function number must be one FF-A defines", "DEN0077 v1.2 §13.1 table 13.1; Hafnium ffa_handler default case");
    public static readonly Rule UndefinedWidth = new("dispatch.undefined-width", FfaError.NotSupported,
        "the function must exist in the width called (SMC32 or SMC64)", "DEN0077 v1.2 table 13.1");
    public static readonly Rule NotImplemented = new("dispatch.not-implemented", FfaError.NotSupported,
        "the function must be implemented by this SPMC (as Hafnium implements it)", "Hafnium ffa_handler; spmc-behaviour.md");
    public static readonly Rule NewerThanSpmc = new("dispatch.newer-than-spmc", FfaError.NotSupported,
        "a function introduced after the SPMC's FF-A version does not exist at this SPMC (to calls and to FFA_FEATURES)",
        "DEN0077 v1.2 §13.2.1; Hafnium ffa_features_function (FFA_VERSION_COMPILED gates), api_ffa_spm_id_get");
    public static readonly Rule NewerThanCaller = new("dispatch.newer-than-caller", FfaError.NotSupported,
        "a function introduced after FF-A 1.2 is not part of the ABI of a caller at an older version, so that 1.0-1.2 callers get what a 1.2 SPMC answers; functions of 1.0-1.2 have no caller-version gate (their handlers check the versions that matter)",
        "Spmc (issue 13); Hafnium has no generic caller-version gate: api_ffa_abort and ffa_features_function (FFA_ABORT) refuse a caller below 1.3");
    public static readonly Rule HypervisorOnly = new("dispatch.hypervisor-only", FfaError.NotSupported,
        "the function is the hypervisor's (ID 0) only: to calls, and to FFA_FEATURES for RX_ACQUIRE, NOTIFICATION_INFO_GET and NS_RES_INFO_GET",
        "DEN0077 v1.2 table 13.38; Hafnium ffa_notifications_is_bitmap_access_valid, vm_is_primary, ffa_features_function");
    public static readonly Rule SecureOnly = new("dispatch.secure-only", FfaError.NotSupported,
        "the function is valid at the secure virtual instance only (secure partitions): to calls, and to FFA_FEATURES for YIELD and ABORT",
        "DEN0077 v1.2 table 13.53; Hafnium ffa_features_function (FFA_YIELD_32, FFA_ABORT)");
    public static readonly Rule CallerAborted = new("dispatch.caller-aborted", FfaError.Aborted,
        "a partition that called FFA_ABORT never runs again: any call made as it (by its client on another vCPU, or a test) answers ABORTED",
        "DEN0077 v1.3 §7 (an aborted partition's contexts do not run); Hafnium never schedules an aborted vCPU (VCPU_STATE_ABORTED)");
    public static readonly Rule ReturnValue = new("dispatch.return-value", FfaError.NotSupported,
        "FFA_SUCCESS, FFA_ERROR, FFA_INTERRUPT and FFA_MEM_RETRIEVE_RESP are return values, not calls", "DEN0077 v1.2 §13.1");
}
