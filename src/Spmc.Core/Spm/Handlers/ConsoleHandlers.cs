using Spmc.Abi.Calls;
using Spmc.Abi.Ffa;
using Spmc.Core.Calls;

namespace Spmc.Core.Spm.Handlers;

/// <summary>FFA_CONSOLE_LOG (v1.2): partitions print through the SPMC; lines are kept per system.</summary>
internal sealed class ConsoleHandlers(SpmcContext spmc)
{
    public void Register(HandlerTable table) =>
        // The spec reserves it for secure endpoints (pKVM cites DEN0077 1.2 table 13.53 when blocking it);
        // Hafnium would also log for the normal world, and its FFA_FEATURES reports it to every caller of a 1.2+
        // SPMC. Hafnium serves partitions below v1.2 too (with the 6-register limit).
        table.Register<ConsoleLog>(FfaFunction.ConsoleLog, Callers.SecurePartitions, Log, smc32: true, smc64: true,
            reportedTo: Callers.Any);

    /// <summary>
    /// w1 = character count; characters packed little-endian from w2: SMC32 carries up to 24 (w2..w7), SMC64
    /// up to 48 (x2..x7) or, for v1.2+ callers, 128 (x2..x17). Hafnium's limits.
    /// </summary>
    private FfaAnswer Log(Call c, ConsoleLog call)
    {
        var max = !call.Is64 ? ConsoleLog.MaxCharacters32
            : c.Caller.Version >= FfaVersion.V1_2 ? ConsoleLog.MaxCharacters64 : ConsoleLog.MaxCharacters64Before1_2;
        var count = call.Count;
        if (count == 0 || count > (ulong)max)
            return c.Reject(ConsoleRules.Count, $"character count {count} is outside 1..{max}");

        spmc.State.Console.Append(c.Caller.Id, call.Characters.Span[..(int)count]);
        return FfaAnswer.Success32();
    }
}
