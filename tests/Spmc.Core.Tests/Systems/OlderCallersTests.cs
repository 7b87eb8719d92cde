using Spmc.Abi.Smccc;
using Spmc.Core.Calls;
using Spmc.Core.Tests.Support;

namespace Spmc.Core.Tests.Systems;

/// <summary>
/// FF-A 1.3 changes nothing for callers at 1.0–1.2: the same seeded call sequence, made by endpoints that negotiated
/// an older version, gets register-for-register the same answers from a 1.3 SPMC as from a 1.2 one. Only
/// FFA_VERSION itself differs (it answers the SPMC's own version), so the sequence leaves it out after negotiation.
/// </summary>
public sealed class OlderCallersTests
{
    private const ushort Host = 0, Echo = 0x8001, Memory = 0x8002, Notifier = 0x8003;
    private const ulong HostTx = 0x8000_0000, HostRx = 0x8000_1000;

    [Theory]
    [InlineData(0x1_0000u, 1)]
    [InlineData(0x1_0001u, 2)]
    [InlineData(0x1_0002u, 3)]
    [InlineData(0x1_0002u, 4)]
    public void A13Spmc_AnswersOlderCallers_AsA12SpmcDoes(uint version, int seed)
    {
        var old = TestSystem.DefaultAt("1.2");
        var now = TestSystem.Default();
        Assert.Equal("1.3", now.System.Config.Version.ToString());
        var differences = new List<string>();
        var calls = 0;

        void Both(ushort caller, SmcFrame frame, bool compare = true)
        {
            var a = old.Call(caller, frame);
            var b = now.Call(caller, frame);
            calls++;
            if (!compare) return;
            for (var i = 0; i < 18; i++)
                if (a.Frame[i] != b.Frame[i])
                {
                    differences.Add($"{frame} from 0x{caller:X4}: x{i} 0x{a.Frame[i]:X} (1.2 SPMC, {a.Decoded.Result} {a.Decoded.Rule}) " +
                                    $"vs 0x{b.Frame[i]:X} (1.3 SPMC, {b.Decoded.Result} {b.Decoded.Rule})");
                    break;
                }
            if (a.Decoded.Error != b.Decoded.Error) differences.Add($"{frame} from 0x{caller:X4}: {a.Decoded.Error} vs {b.Decoded.Error}");
        }

        ushort[] callers = [Host, Echo, Memory, Notifier];
        // Every endpoint negotiates the older version first (the answer is each SPMC's own version, so not compared).
        foreach (var caller in callers) Both(caller, SmcFrame.From(0x8400_0063, version), compare: false);
        Both(Host, SmcFrame.From(0xC400_0066, HostTx, HostRx, 1));

        var random = new Random(seed);
        for (var i = 0; i < 3000; i++)
        {
            var number = (ulong)random.Next(0x60, 0x98);
            if (number == 0x63) continue; // FFA_VERSION: answers the SPMC's own version
            var frame = new SmcFrame();
            frame[0] = (random.Next(2) == 0 ? 0x8400_0000UL : 0xC400_0000UL) | number;
            for (var r = 1; r < 18; r++)
                frame[r] = random.Next(8) switch
                {
                    0 or 1 => 0,
                    2 => (ulong)random.Next(0, 4),
                    3 => (ulong)callers[random.Next(callers.Length)] << 16 | callers[random.Next(callers.Length)],
                    4 => random.Next(2) == 0 ? HostTx : HostRx,
                    5 => callers[random.Next(callers.Length)],
                    6 when r < 8 => (ulong)random.NextInt64(),
                    _ => 0,
                };
            Both(callers[random.Next(callers.Length)], frame);
        }

        Assert.True(calls > 2500);
        Assert.True(differences.Count == 0, $"{differences.Count} answers differ, first: {string.Join("\n", differences.Take(5))}");
    }
}
