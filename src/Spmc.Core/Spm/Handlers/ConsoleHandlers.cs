using Spmc.Abi.Ffa;
using Spmc.Core.Calls;

namespace Spmc.Core.Spm.Handlers;

/// <summary>FFA_CONSOLE_LOG (v1.2): partitions print through the SPMC; lines are kept per system.</summary>
internal sealed class ConsoleHandlers(SpmcContext spmc)
{

    public void Register(HandlerTable table) =>
        // The spec reserves it for secure endpoints (pKVM cites DEN0077 1.2 table 13.53 when blocking it);
        // Hafnium would also log for the normal world. Hafnium serves partitions below v1.2 too (with the
        // 6-register limit), so the ABI is not gated by the caller's version.
        table.Register(FfaFunction.ConsoleLog, Callers.SecurePartitions, ConsoleLog, smc32: true, smc64: true, servesOlderCallers: true);

    /// <summary>
    /// w1 = character count; characters packed little-endian from w2: SMC32 carries up to 24 (w2..w7), SMC64
    /// up to 48 (x2..x7) or, for v1.2+ callers, 128 (x2..x17). Hafnium's limits.
    /// </summary>
    private FfaAnswer ConsoleLog(Call c)
    {
        var is64 = c.Request.Is64;
        var registers = is64 && c.Caller.Version >= FfaVersion.V1_2 ? 16 : 6;
        var width = is64 ? 8 : 4;
        var max = registers * width;
        var count = c[1];
        if (count == 0 || count > (ulong)max)
            return c.Fail(FfaError.InvalidParameters, $"character count {count} is outside 1..{max}");

        var chars = new byte[max];
        for (var r = 0; r < registers; r++)
        {
            var value = c[2 + r];
            for (var b = 0; b < width; b++) chars[r * width + b] = (byte)(value >> (8 * b));
        }
        spmc.State.Console.Append(c.Caller.Id, chars.AsSpan(0, (int)count));
        return FfaAnswer.Success32();
    }
}
