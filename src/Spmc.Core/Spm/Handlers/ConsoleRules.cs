using Spmc.Abi.Ffa;
using Spmc.Abi.Rules;

namespace Spmc.Core.Spm.Handlers;

/// <summary>Rules the SPMC applies to FFA_CONSOLE_LOG (Hafnium api_ffa_console_log).</summary>
public static class ConsoleRules
{
    public static readonly Rule Count = new("console-log.count", FfaError.InvalidParameters,
        "the character count must be 1..24 for SMC32 and 1..128 for SMC64 (1..48 for callers below v1.2, as Hafnium)",
        "DEN0077 v1.3 §13.12 tables 13.55, 13.56; Hafnium api_ffa_console_log");
}
