using Spmc.Abi.Rules;
using Spmc.Abi.Smccc;
using Spmc.Core.Calls;
using Spmc.Core.Manifests;
using Spmc.Core.Spm;
using Spmc.Core.Systems;
using Spmc.Core.Tests.Support;

namespace Spmc.Core.Tests.Rules;

/// <summary>
/// One rejection shape: whatever the frame, an error answer names a rule of the catalogue and says why (and so do
/// the hops a proxy made), and a success names none. Seeded random frames over every FF-A function number, both
/// widths, from the host, a VM and a partition, through the pKVM 7.4 and passthrough proxies.
/// </summary>
public class EveryRefusalNamesItsRuleTests
{
    private static readonly HashSet<string> Catalogue =
        [.. RuleCatalogue.Collect(typeof(Rule).Assembly, typeof(PartitionManager).Assembly).Select(r => r.Id)];

    [Theory]
    [InlineData("pkvm-7.4", 1)]
    [InlineData("passthrough", 2)]
    public void Random_frames_are_refused_only_by_catalogued_rules(string proxy, int seed)
    {
        var system = new SimulatedSystem("rules", ManifestValidator.Validate(Support.Manifests.WithProxy(Support.Manifests.DefaultJson, proxy)));
        var random = new Random(seed);
        ushort[] callers = [0x0000, 0x8001, 0x8003];
        var refused = 0;
        for (var i = 0; i < 4000; i++)
        {
            var frame = new SmcFrame();
            var number = (ulong)random.Next(0x60, 0x98);
            frame[0] = (random.Next(2) == 0 ? 0x8400_0000UL : 0xC400_0000UL) | number;
            // Small values hit the rules' boundaries; a few registers get wide values.
            for (var r = 1; r < 8; r++)
                frame[r] = random.Next(4) switch { 0 => 0, 1 => (ulong)random.Next(0, 4), 2 => (ulong)random.NextInt64(), _ => 0x8001_0000 };
            var outcome = system.Call(new SmcCall(callers[random.Next(callers.Length)], 0, Conduit.Smc, frame));
            Check(outcome.Decoded, frame);
            if (outcome.Decoded.Error is not null) refused++;
        }
        Assert.True(refused > 1000, $"only {refused} refusals: the frames do not reach the rules");
    }

    private static void Check(Decoded decoded, SmcFrame frame)
    {
        if (decoded.Error is null) Assert.Null(decoded.Rule);
        else
        {
            Assert.True(decoded.Rule is { } rule && Catalogue.Contains(rule), $"{frame}: {decoded.Error} with rule '{decoded.Rule}' ({decoded.Reason})");
            Assert.False(string.IsNullOrWhiteSpace(decoded.Reason), $"{frame}: {decoded.Error} by '{decoded.Rule}' gives no reason");
        }
        foreach (var hop in decoded.Hops ?? []) Check(hop.Decoded, hop.Request);
    }
}
