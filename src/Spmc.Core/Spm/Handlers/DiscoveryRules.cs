using Spmc.Abi.Ffa;
using Spmc.Abi.Rules;

namespace Spmc.Core.Spm.Handlers;

/// <summary>Rules the SPMC applies to partition discovery (Hafnium api_ffa_partition_info_get, api_ffa_partition_info_get_regs).</summary>
public static class DiscoveryRules
{
    public static readonly Rule InfoGetUnknownUuid = new("partition-info-get.unknown-uuid", FfaError.InvalidParameters,
        "a non-Nil UUID must be one a partition implements, for the count-only form too",
        "DEN0077 v1.3 §13.8 table 13.37; Hafnium api_ffa_partition_info_get");
    public static readonly Rule InfoGetRxBusy = new("partition-info-get.rx-busy", FfaError.Busy,
        "the caller's RX buffer must be mapped and free (owned by the SPMC) to receive the descriptors",
        "DEN0077 v1.3 table 13.37; Hafnium api_ffa_partition_info_get");
    public static readonly Rule InfoGetRxTooSmall = new("partition-info-get.rx-too-small", FfaError.NoMemory,
        "the descriptors must fit the caller's RX buffer",
        "DEN0077 v1.3 table 13.37; Hafnium api_ffa_partition_info_get");

    public static readonly Rule InfoGetRegsTag = new("partition-info-get-regs.tag-not-current", FfaError.Retry,
        "the information tag must be the current one; this SPMC's is always 0",
        "DEN0077 v1.3 §13.9.2; Hafnium api_ffa_partition_info_get_regs (no tags: any non-zero tag is RETRY)");
    public static readonly Rule InfoGetRegsUnknownUuid = new("partition-info-get-regs.unknown-uuid", FfaError.InvalidParameters,
        "a non-Nil UUID must be one a partition implements",
        "DEN0077 v1.3 §13.9 table 13.42; Hafnium api_ffa_partition_info_get_regs");
    public static readonly Rule InfoGetRegsStartIndex = new("partition-info-get-regs.start-index", FfaError.InvalidParameters,
        "the start index must be below the number of entries",
        "DEN0077 v1.3 table 13.42; Hafnium api_ffa_partition_info_get_regs");
}
