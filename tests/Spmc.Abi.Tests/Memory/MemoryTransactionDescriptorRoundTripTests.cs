using Spmc.Abi.Descriptors;
using Spmc.Abi.Descriptors.Memory;
using static Spmc.Abi.Tests.Memory.MemoryDescriptorTestSupport;

namespace Spmc.Abi.Tests.Memory;

public class MemoryTransactionDescriptorRoundTripTests
{
    public static TheoryData<MemoryDescriptorLayout, int, bool> Shapes()
    {
        var data = new TheoryData<MemoryDescriptorLayout, int, bool>();
        foreach (var layout in AllLayouts)
            foreach (var receivers in new[] { 1, 2 })
                foreach (var composite in new[] { true, false })
                    data.Add(layout, receivers, composite);
        return data;
    }

    private static MemoryTransactionDescriptor Build(int receivers, bool composite, bool impdef)
    {
        var emads = new List<EndpointMemoryAccess>();
        for (var i = 0; i < receivers; i++)
            emads.Add(new EndpointMemoryAccess(
                MemoryAccessPermissions.Of((ushort)(0x8002 + i), i == 0 ? DataAccess.ReadWrite : DataAccess.ReadOnly,
                    i == 0 ? InstructionAccess.NotExecutable : InstructionAccess.NotSpecified, (byte)(composite ? 0 : i)),
                0,
                impdef ? new UInt128(0xA1A2_A3A4_A5A6_A7A8ul + (ulong)i, 0xB1B2_B3B4_B5B6_B7B8ul) : UInt128.Zero));
        return composite
            // A send: handle 0, a composite.
            ? new MemoryTransactionDescriptor(0x0001, MemoryRegionAttributes.NormalWriteBackInner,
                new MemoryTransactionFlags(MemoryTransactionFlags.TimeSlicing), 0, SampleTag, emads,
                CompositeMemoryRegion.Of(new MemoryRegionConstituent(0x8001_0000, 1), new MemoryRegionConstituent(0x8003_0000, 2),
                    new MemoryRegionConstituent(0xFFFF_FFFF_F000_0000, 7)))
            // A retrieve request: handle set, composite offset 0 and no composite.
            : new MemoryTransactionDescriptor(0x0001, MemoryRegionAttributes.NormalWriteBackInner,
                MemoryTransactionFlags.OfType(MemoryTransactionType.Lend, MemoryTransactionFlags.ZeroAfterRelinquish), 0x8000_0000_0000_0042,
                SampleTag, emads);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void EmitThenParse_GivesBackEveryField(MemoryDescriptorLayout layout, int receivers, bool composite)
    {
        var original = Build(receivers, composite, impdef: false);
        var bytes = original.ToBytes(layout);
        Assert.Equal(original.Size(layout), bytes.Length);

        var parsed = MemoryTransactionDescriptor.Read(bytes, IsV1_0(layout));

        Assert.True(parsed.Ok, parsed.Error);
        AssertRoundTripped(original, parsed.Value!, layout);
        Assert.Equal(bytes, parsed.Value!.ToBytes(layout));
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void ReadHeader_GivesTheHeaderAndEmadsButNoComposite(MemoryDescriptorLayout layout, int receivers, bool composite)
    {
        var original = Build(receivers, composite, impdef: false);
        var bytes = original.ToBytes(layout);

        var head = MemoryTransactionDescriptor.ReadHeader(bytes, IsV1_0(layout));

        Assert.True(head.Ok, head.Error);
        Assert.Null(head.Value!.Composite);
        // Without the composite, the EMADs are expected to name where the writer put it.
        var offset = composite ? (uint)original.CompositeOffsetIn(layout) : 0u;
        var expected = original with { Composite = null, Receivers = [.. original.Receivers.Select(r => r with { CompositeOffset = offset })] };
        AssertRoundTripped(expected, head.Value, layout);
        Assert.Equal(composite ? (uint)original.CompositeOffsetIn(layout) : 0u, head.Value.CompositeOffset);
    }

    [Theory]
    [InlineData(1, true)]
    [InlineData(2, true)]
    [InlineData(1, false)]
    [InlineData(2, false)]
    public void ImplementationDefinedValue_RoundTripsInV1_2(int receivers, bool composite)
    {
        var original = Build(receivers, composite, impdef: true);
        var parsed = MemoryTransactionDescriptor.Read(original.ToBytes(MemoryDescriptorLayout.V1_2), false);

        Assert.True(parsed.Ok, parsed.Error);
        AssertRoundTripped(original, parsed.Value!, MemoryDescriptorLayout.V1_2);
        for (var i = 0; i < receivers; i++)
            Assert.Equal(original.Receivers[i].ImplementationDefined, parsed.Value!.Receivers[i].ImplementationDefined);
        Assert.NotEqual(UInt128.Zero, parsed.Value!.Receivers[0].ImplementationDefined);
    }

    [Fact]
    public void ImplementationDefinedValue_AllOnes_RoundTripsInV1_2()
    {
        var original = new MemoryTransactionDescriptor(1, MemoryRegionAttributes.NormalWriteBackInner, default, 0, 0,
            [new EndpointMemoryAccess(MemoryAccessPermissions.Of(0x8002, DataAccess.ReadOnly), 0, UInt128.MaxValue)], SampleComposite());
        var parsed = MemoryTransactionDescriptor.Read(original.ToBytes(MemoryDescriptorLayout.V1_2), false);
        Assert.True(parsed.Ok, parsed.Error);
        Assert.Equal(UInt128.MaxValue, parsed.Value!.Receivers[0].ImplementationDefined);
        Assert.Equal(0ul, parsed.Value.Receivers[0].Reserved);
    }

    [Theory]
    [InlineData(MemoryDescriptorLayout.V1_0)]
    [InlineData(MemoryDescriptorLayout.V1_1)]
    public void ImplementationDefinedValue_HasNoRoomIn16ByteEmads(MemoryDescriptorLayout layout)
    {
        var original = Build(2, composite: true, impdef: true);
        var bytes = original.ToBytes(layout);
        Assert.Equal(layout.HeaderSize() + 2 * 16 + original.Composite!.Size, bytes.Length);

        var parsed = MemoryTransactionDescriptor.Read(bytes, IsV1_0(layout));

        Assert.True(parsed.Ok, parsed.Error);
        Assert.All(parsed.Value!.Receivers, r => Assert.Equal(UInt128.Zero, r.ImplementationDefined));
        AssertRoundTripped(original, parsed.Value, layout);
    }

    [Theory]
    [InlineData(MemoryDescriptorLayout.V1_0)]
    [InlineData(MemoryDescriptorLayout.V1_1)]
    [InlineData(MemoryDescriptorLayout.V1_2)]
    public void NoReceivers_RoundTrips(MemoryDescriptorLayout layout)
    {
        var original = new MemoryTransactionDescriptor(0x8001, new MemoryRegionAttributes(0x14), new MemoryTransactionFlags(3), 7, 9, []);
        var bytes = original.ToBytes(layout);
        Assert.Equal(layout.HeaderSize(), bytes.Length);

        var parsed = MemoryTransactionDescriptor.Read(bytes, IsV1_0(layout));

        Assert.True(parsed.Ok, parsed.Error);
        AssertRoundTripped(original, parsed.Value!, layout);
        Assert.Empty(parsed.Value!.Receivers);
    }

    [Fact]
    public void V1_1Attributes_Keep16Bits()
    {
        // Bits[15:7] are MBZ by the spec, but the codec keeps them so a validator can reject them.
        var original = SampleShare() with { Attributes = new MemoryRegionAttributes(0xA5EF) };
        foreach (var layout in new[] { MemoryDescriptorLayout.V1_1, MemoryDescriptorLayout.V1_2 })
        {
            var parsed = MemoryTransactionDescriptor.Read(original.ToBytes(layout), false);
            Assert.True(parsed.Ok, parsed.Error);
            Assert.Equal((ushort)0xA5EF, parsed.Value!.Attributes.Value);
            Assert.True(parsed.Value.Attributes.ReservedBitsSet);
        }
    }

    [Fact]
    public void PermissionFlagsByte_RoundTrips()
    {
        var original = new MemoryTransactionDescriptor(1, MemoryRegionAttributes.NormalWriteBackInner, default, 5, 0,
        [
            new EndpointMemoryAccess(MemoryAccessPermissions.Of(0x8002, DataAccess.ReadWrite), 0),
            new EndpointMemoryAccess(MemoryAccessPermissions.Of(0x8003, DataAccess.ReadOnly, InstructionAccess.Executable,
                MemoryAccessPermissions.NonRetrievalBorrower), 0),
        ]);
        foreach (var layout in AllLayouts)
        {
            var parsed = MemoryTransactionDescriptor.Read(original.ToBytes(layout), IsV1_0(layout));
            Assert.True(parsed.Ok, parsed.Error);
            Assert.Equal(MemoryAccessPermissions.NonRetrievalBorrower, parsed.Value!.Receivers[1].Access.Flags);
            Assert.Equal(InstructionAccess.Executable, parsed.Value.Receivers[1].Access.Instruction);
            Assert.Equal(0, parsed.Value.Receivers[0].Access.Flags);
        }
    }
}
