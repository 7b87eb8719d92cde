using System.Reflection;
using Spmc.Abi.Descriptors;
using Spmc.Abi.Descriptors.Memory;
using Spmc.Abi.Ffa;
using Spmc.Abi.Rules;
using static Spmc.Abi.Tests.Memory.MemoryDescriptorTestSupport;
using static Spmc.Abi.Tests.Memory.MemoryTransactionDescriptorBytesTests;

namespace Spmc.Abi.Tests;

/// <summary>
/// The rules of the descriptor codecs as a whole: every one is declared well, and every one is what some input
/// actually gets. A rule added without an input here, or an ID renamed, fails <see cref="EveryDescriptorRule_RefusesItsInput"/>.
/// </summary>
public class DescriptorRulesTests
{
    /// <summary>Every rule declared by a type of Spmc.Abi.Descriptors (and its sub-namespaces).</summary>
    private static IReadOnlyList<Rule> DeclaredRules() =>
    [
        .. typeof(ParseResult<>).Assembly.GetTypes()
            .Where(t => t.Namespace?.StartsWith("Spmc.Abi.Descriptors", StringComparison.Ordinal) == true)
            .SelectMany(t => t.GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.DeclaredOnly))
            .Where(f => f.FieldType == typeof(Rule))
            .Select(f => (Rule)f.GetValue(null)!),
    ];

    /// <summary>Rule ID → an input only that rule refuses, read by the codec that owns the check.</summary>
    private static readonly Dictionary<string, Func<Rejection?>> Inputs = new(StringComparer.Ordinal)
    {
        ["mem-desc.header-truncated"] = () => MemoryTransactionDescriptor.Read(ShareV1_1[..47], false).Rejection,
        ["mem-desc.v1-0-byte-3-mbz"] = () => MemoryTransactionDescriptor.Read(WithByte(ShareV1_0, 3, 1), true).Rejection,
        ["mem-desc.v1-0-bytes-24-27-mbz"] = () => MemoryTransactionDescriptor.Read(WithByte(ShareV1_0, 24, 1), true).Rejection,
        ["mem-desc.bytes-36-47-mbz"] = () => MemoryTransactionDescriptor.Read(WithByte(ShareV1_2, 36, 1), false).Rejection,
        ["mem-desc.emad-size-invalid"] = () => MemoryTransactionDescriptor.Read(WithU32(ShareV1_2, 24, 48 + 8), false).Rejection,
        ["mem-desc.receivers-offset-in-header"] = () => MemoryTransactionDescriptor.Read(WithU32(ShareV1_1, 32, 0), false).Rejection,
        ["mem-desc.receivers-offset-unaligned"] = () => MemoryTransactionDescriptor.Read(WithU32(ShareV1_1, 32, 50), false).Rejection,
        ["mem-desc.emads-truncated"] = () => MemoryTransactionDescriptor.Read(ShareV1_2[..79], false).Rejection,
        ["mem-desc.emad-reserved-mbz"] = () => MemoryTransactionDescriptor.Read(WithByte(ShareV1_2, 72, 1), false).Rejection,
        ["composite.header-out-of-bounds"] = () => CompositeMemoryRegion.Read(new byte[31], 16).Rejection,
        ["composite.reserved-mbz"] = () => CompositeMemoryRegion.Read(WithByte(new byte[16], 8, 1), 0).Rejection,
        ["composite.constituents-truncated"] = () => CompositeMemoryRegion.Read(WithU32(new byte[31], 4, 1), 0).Rejection,
        ["constituent.truncated"] = () => MemoryRegionConstituent.Read(new byte[MemoryRegionConstituent.Size - 1]).Rejection,
        ["constituent.reserved-mbz"] = () => MemoryRegionConstituent.Read(WithByte(new byte[16], 12, 1)).Rejection,
        ["rxtx-desc.header-truncated"] = () => EndpointRxTxDescriptor.Read(new byte[EndpointRxTxDescriptor.HeaderSize - 1]).Rejection,
        ["rxtx-desc.offset-unaligned"] = () => EndpointRxTxDescriptor.Read(WithU32(new byte[64], 8, 36)).Rejection,
        ["relinquish-desc.header-truncated"] = () => MemoryRelinquishDescriptor.Read(new byte[MemoryRelinquishDescriptor.HeaderSize - 1]).Rejection,
        ["relinquish-desc.endpoints-truncated"] = () => MemoryRelinquishDescriptor.Read(WithU32(new byte[17], 12, 1)).Rejection,
        ["partition-info-desc.truncated"] = () => PartitionInfoDescriptor.Read(new byte[PartitionInfoDescriptor.SizeV1_1 - 1], FfaVersion.V1_2).Rejection,
        ["msg-header.truncated"] = () => IndirectMessageHeader.Read(new byte[IndirectMessageHeader.SizeV1_1 - 1], FfaVersion.V1_1).Rejection,
        ["ns-res-info-desc.truncated"] = () => ResourceInfoDescriptor.Read(new byte[ResourceInfoDescriptor.HeaderSize - 1]).Rejection,
        ["ns-res-info-desc.entry-size"] = () => ResourceInfoDescriptor.Read(new byte[ResourceInfoDescriptor.HeaderSize]).Rejection,
    };

    public static TheoryData<string> TestedRules() => new(Inputs.Keys);

    [Theory]
    [MemberData(nameof(TestedRules))]
    public void EveryDescriptorRule_RefusesItsInput(string rule)
    {
        var rejection = Inputs[rule]();

        Assert.NotNull(rejection);
        Assert.Equal(rule, rejection.Rule);
        Assert.Equal(DeclaredRules().Single(r => r.Id == rule).Code, rejection.Code);
        Assert.False(string.IsNullOrWhiteSpace(rejection.Reason));
    }

    [Fact]
    public void EveryDeclaredDescriptorRule_HasAnInput()
    {
        var declared = DeclaredRules().Select(r => r.Id).Order(StringComparer.Ordinal);

        Assert.Equal(declared, Inputs.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void DescriptorRules_AreWellDeclared()
    {
        var rules = DeclaredRules();

        Assert.NotEmpty(rules);
        Assert.Equal(rules.Count, rules.Select(r => r.Id).Distinct(StringComparer.Ordinal).Count());
        Assert.All(rules, r =>
        {
            Assert.True(RuleCatalogue.IsWellFormed(r.Id), r.Id);
            Assert.Equal(FfaError.InvalidParameters, r.Code);
            Assert.False(string.IsNullOrWhiteSpace(r.Summary), r.Id);
            Assert.StartsWith("DEN0077 ", r.Reference, StringComparison.Ordinal);
        });
        // The catalogue sees them all, each under its one ID.
        var catalogue = RuleCatalogue.Collect(typeof(ParseResult<>).Assembly);
        Assert.All(rules, r => Assert.Same(r, catalogue.Single(c => c.Id == r.Id)));
    }

    [Fact]
    public void NoDescriptorRuleIsAPlaceholder()
    {
        // The transitional "descriptor.malformed" rule is gone: a codec cannot fail without naming its check.
        Assert.DoesNotContain(DeclaredRules(), r => r.Id == "descriptor.malformed");
        Assert.DoesNotContain(typeof(ParseResult<int>).GetMethods(BindingFlags.Public | BindingFlags.Static),
            m => m.Name == "Fail" && m.GetParameters() is [{ ParameterType: var p }] && p == typeof(string));
    }
}
