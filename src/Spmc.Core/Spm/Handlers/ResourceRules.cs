using Spmc.Abi.Ffa;
using Spmc.Abi.Rules;

namespace Spmc.Core.Spm.Handlers;

/// <summary>The SPMC's rules for FFA_NS_RES_INFO_GET (DEN0077 v1.3 §13.13; Hafnium api_ffa_ns_res_info_get).</summary>
public static class NsResInfoGetRules
{
    private const string ResInfo = "DEN0077 v1.3 ALP4 §13.13 table 13.61";

    public static readonly Rule ResourceType = new("ns-res-info-get.resource-type", FfaError.InvalidParameters,
        "x2 bits[3:2], the resource type, must be 0b00 (regions of the NS PAS)",
        $"{ResInfo} (parameters not correctly encoded); Hafnium api_ffa_ns_res_info_get");
    public static readonly Rule InvalidTarget = new("ns-res-info-get.invalid-target", FfaError.InvalidParameters,
        "with x2 bit 0 set, x1[15:0] must be a secure partition of this system",
        $"{ResInfo} (an invalid endpoint ID is specified); Hafnium api_ffa_ns_res_info_get");
    public static readonly Rule RxNotMapped = new("ns-res-info-get.rx-not-mapped", FfaError.Retry,
        "the caller's RX buffer must be mapped with the SPMC (FFA_RXTX_MAP)", $"{ResInfo} (RETRY: RX buffer of the caller is not mapped in the callee)");
    public static readonly Rule RxNotOwned = new("ns-res-info-get.rx-not-owned", FfaError.Retry,
        "the SPMC must own the caller's RX buffer (FFA_RX_RELEASE the previous chunk first)",
        $"{ResInfo} (RETRY: RX buffer of the caller is not owned by the callee)");
}
