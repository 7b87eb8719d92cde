using System.Reflection;
using Spmc.Abi.Rules;
using Spmc.Core.Proxy.Pkvm;

namespace Spmc.Core.Tests.Proxy;

/// <summary>The pKVM rules as the catalogue collects them (every rule is hit by a case test that asserts its ID).</summary>
public sealed class PkvmRulesTests
{
    private static IReadOnlyList<Rule> Declared() =>
        [.. typeof(PkvmRules).GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.FieldType == typeof(Rule)).Select(f => (Rule)f.GetValue(null)!)];

    [Fact]
    public void EveryPkvmRule_IsWellFormed_PrefixedPkvm_WithSummaryAndReference()
    {
        var rules = Declared();
        Assert.NotEmpty(rules);
        Assert.All(rules, r =>
        {
            Assert.True(RuleCatalogue.IsWellFormed(r.Id), r.Id);
            Assert.StartsWith("pkvm.", r.Id);
            Assert.False(string.IsNullOrWhiteSpace(r.Summary), r.Id);
            Assert.False(string.IsNullOrWhiteSpace(r.Reference), r.Id);
        });
    }

    [Fact]
    public void TheCatalogueOfTheCoreAssembly_HoldsEveryPkvmRule_AndNoOtherPkvmRule()
    {
        var collected = RuleCatalogue.Collect(typeof(PkvmRules).Assembly).Where(r => r.Id.StartsWith("pkvm.", StringComparison.Ordinal));
        Assert.Equal(Declared().Select(r => r.Id).Order(StringComparer.Ordinal), collected.Select(r => r.Id));
    }
}
