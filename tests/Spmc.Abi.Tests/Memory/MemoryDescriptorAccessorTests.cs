using Spmc.Abi.Descriptors.Memory;
using Spmc.Abi.Ffa;

namespace Spmc.Abi.Tests.Memory;

public class MemoryDescriptorAccessorTests
{
    // §5.4 permissions byte: bits[1:0] data, bits[3:2] instruction, bits[7:4] MBZ; flags byte bit 0 non-retrieval borrower.
    [Theory]
    [InlineData(0x00, DataAccess.NotSpecified, InstructionAccess.NotSpecified)]
    [InlineData(0x01, DataAccess.ReadOnly, InstructionAccess.NotSpecified)]
    [InlineData(0x02, DataAccess.ReadWrite, InstructionAccess.NotSpecified)]
    [InlineData(0x03, DataAccess.Reserved, InstructionAccess.NotSpecified)]
    [InlineData(0x04, DataAccess.NotSpecified, InstructionAccess.NotExecutable)]
    [InlineData(0x05, DataAccess.ReadOnly, InstructionAccess.NotExecutable)]
    [InlineData(0x06, DataAccess.ReadWrite, InstructionAccess.NotExecutable)]
    [InlineData(0x09, DataAccess.ReadOnly, InstructionAccess.Executable)]
    [InlineData(0x0E, DataAccess.ReadWrite, InstructionAccess.Reserved)]
    [InlineData(0xF5, DataAccess.ReadOnly, InstructionAccess.NotExecutable)]
    public void Permissions_DataAndInstruction(byte permissions, DataAccess data, InstructionAccess instruction)
    {
        var p = new MemoryAccessPermissions(0x8002, permissions);
        Assert.Equal(data, p.Data);
        Assert.Equal(instruction, p.Instruction);
    }

    [Theory]
    [InlineData(DataAccess.ReadOnly, InstructionAccess.NotSpecified, 0x01)]
    [InlineData(DataAccess.ReadWrite, InstructionAccess.NotSpecified, 0x02)]
    [InlineData(DataAccess.ReadWrite, InstructionAccess.NotExecutable, 0x06)]
    [InlineData(DataAccess.ReadOnly, InstructionAccess.Executable, 0x09)]
    [InlineData(DataAccess.NotSpecified, InstructionAccess.NotExecutable, 0x04)]
    public void Permissions_Of_EncodesTheByte(DataAccess data, InstructionAccess instruction, byte expected)
    {
        var p = MemoryAccessPermissions.Of(0x1234, data, instruction);
        Assert.Equal(expected, p.Permissions);
        Assert.Equal(0x1234, p.Endpoint);
        Assert.Equal(0, p.Flags);
        Assert.False(p.ReservedBitsSet);
    }

    [Theory]
    [InlineData(0x0F, 0x00, false)]
    [InlineData(0x0F, 0x01, false)] // non-retrieval borrower is a defined flag
    [InlineData(0x10, 0x00, true)]
    [InlineData(0x80, 0x00, true)]
    [InlineData(0x02, 0x02, true)]
    [InlineData(0x02, 0x80, true)]
    [InlineData(0x03, 0x00, false)] // data access 11 is a reserved value, not a reserved bit
    public void Permissions_ReservedBitsSet(byte permissions, byte flags, bool expected)
    {
        Assert.Equal(expected, new MemoryAccessPermissions(1, permissions, flags).ReservedBitsSet);
    }

    [Fact]
    public void Permissions_WriteAndRead_AreByteExact()
    {
        var bytes = new byte[4];
        MemoryAccessPermissions.Of(0x8002, DataAccess.ReadWrite, InstructionAccess.NotExecutable, MemoryAccessPermissions.NonRetrievalBorrower).Write(bytes);
        Assert.Equal(new byte[] { 0x02, 0x80, 0x06, 0x01 }, bytes);
        Assert.Equal(new MemoryAccessPermissions(0x8002, 0x06, 0x01), MemoryAccessPermissions.Read(bytes));
    }

    // §5.5 attributes: [1:0] shareability, [3:2] cacheability / device type, [5:4] type, [6] NS, [15:7] MBZ.
    [Theory]
    [InlineData(0x2F, MemoryType.Normal, Shareability.InnerShareable, Cacheability.WriteBack, false)]
    [InlineData(0x6F, MemoryType.Normal, Shareability.InnerShareable, Cacheability.WriteBack, true)]
    [InlineData(0x26, MemoryType.Normal, Shareability.OuterShareable, Cacheability.NonCacheable, false)]
    [InlineData(0x24, MemoryType.Normal, Shareability.NonShareable, Cacheability.NonCacheable, false)]
    [InlineData(0x14, MemoryType.Device, Shareability.NonShareable, Cacheability.NonCacheable, false)]
    [InlineData(0x13, MemoryType.Device, Shareability.InnerShareable, Cacheability.Reserved0, false)]
    [InlineData(0x00, MemoryType.NotSpecified, Shareability.NonShareable, Cacheability.Reserved0, false)]
    [InlineData(0x39, MemoryType.Reserved, Shareability.Reserved, Cacheability.Reserved2, false)]
    public void Attributes_Fields(ushort value, MemoryType type, Shareability shareability, Cacheability cacheability, bool ns)
    {
        var a = new MemoryRegionAttributes(value);
        Assert.Equal(type, a.Type);
        Assert.Equal(shareability, a.Shareability);
        Assert.Equal(cacheability, a.Cacheability);
        Assert.Equal(ns, a.NonSecure);
        Assert.False(a.ReservedBitsSet);
    }

    [Theory]
    [InlineData(0x10, 0)] // device nGnRnE
    [InlineData(0x14, 1)] // device nGnRE
    [InlineData(0x18, 2)] // device nGRE
    [InlineData(0x1C, 3)] // device GRE
    public void Attributes_DeviceType(ushort value, byte device)
    {
        var a = new MemoryRegionAttributes(value);
        Assert.Equal(MemoryType.Device, a.Type);
        Assert.Equal(device, a.DeviceAttributes);
    }

    [Theory]
    [InlineData(0x007F, false)]
    [InlineData(0x0080, true)]
    [InlineData(0x00AF, true)]
    [InlineData(0x0100, true)]
    [InlineData(0x8000, true)]
    [InlineData(0x2F00, true)]
    public void Attributes_ReservedBitsSet(ushort value, bool expected)
    {
        Assert.Equal(expected, new MemoryRegionAttributes(value).ReservedBitsSet);
    }

    [Fact]
    public void Attributes_WithNonSecure_SetsAndClearsOnlyBit6()
    {
        Assert.Equal(0x2F, MemoryRegionAttributes.NormalWriteBackInner.Value);
        var ns = MemoryRegionAttributes.NormalWriteBackInner.WithNonSecure(true);
        Assert.Equal(0x6F, ns.Value);
        Assert.True(ns.NonSecure);
        Assert.Equal(0x6F, ns.WithNonSecure(true).Value);
        Assert.Equal(0x2F, ns.WithNonSecure(false).Value);
        Assert.Equal(0x2F, MemoryRegionAttributes.NormalWriteBackInner.WithNonSecure(false).Value);
        Assert.Equal(0xFFBF, new MemoryRegionAttributes(0xFFFF).WithNonSecure(false).Value);
        Assert.Equal(MemoryRegionAttributes.NsBit, new MemoryRegionAttributes(0).WithNonSecure(true).Value);
    }

    // §5.6 flags: bits[4:3] transaction type.
    [Theory]
    [InlineData(0x00u, MemoryTransactionType.NotSpecified)]
    [InlineData(0x08u, MemoryTransactionType.Share)]
    [InlineData(0x10u, MemoryTransactionType.Lend)]
    [InlineData(0x18u, MemoryTransactionType.Donate)]
    [InlineData(0xFFFF_FFE7u, MemoryTransactionType.NotSpecified)]
    [InlineData(0x0000_000Fu, MemoryTransactionType.Share)]
    public void Flags_Type(uint value, MemoryTransactionType type)
    {
        Assert.Equal(type, new MemoryTransactionFlags(value).Type);
    }

    [Theory]
    [InlineData(MemoryTransactionType.NotSpecified, 0u, 0x00u)]
    [InlineData(MemoryTransactionType.Share, 0u, 0x08u)]
    [InlineData(MemoryTransactionType.Lend, MemoryTransactionFlags.ZeroAfterRelinquish, 0x14u)]
    [InlineData(MemoryTransactionType.Donate, MemoryTransactionFlags.ZeroMemory | MemoryTransactionFlags.TimeSlicing, 0x1Bu)]
    public void Flags_OfType(MemoryTransactionType type, uint other, uint expected)
    {
        var flags = MemoryTransactionFlags.OfType(type, other);
        Assert.Equal(expected, flags.Value);
        Assert.Equal(type, flags.Type);
    }

    [Fact]
    public void Flags_BitPositions_MatchTheTable()
    {
        Assert.Equal(1u << 0, MemoryTransactionFlags.ZeroMemory);
        Assert.Equal(1u << 1, MemoryTransactionFlags.TimeSlicing);
        Assert.Equal(1u << 2, MemoryTransactionFlags.ZeroAfterRelinquish);
        Assert.Equal(0x18u, MemoryTransactionFlags.TypeMask);
        Assert.Equal(0x1E0u, MemoryTransactionFlags.AlignmentHintMask);
        Assert.Equal(1u << 9, MemoryTransactionFlags.AlignmentHintValid);
        Assert.Equal(1u << 10, MemoryTransactionFlags.BypassMultipleBorrowerCheck);
    }

    [Fact]
    public void Flags_Has()
    {
        var flags = new MemoryTransactionFlags(MemoryTransactionFlags.ZeroMemory | MemoryTransactionFlags.BypassMultipleBorrowerCheck | 0x10);
        Assert.True(flags.Has(MemoryTransactionFlags.ZeroMemory));
        Assert.True(flags.Has(MemoryTransactionFlags.BypassMultipleBorrowerCheck));
        Assert.False(flags.Has(MemoryTransactionFlags.TimeSlicing));
        Assert.False(flags.Has(MemoryTransactionFlags.ZeroAfterRelinquish));
        Assert.False(flags.Has(MemoryTransactionFlags.AlignmentHintValid));
        Assert.True(flags.Has(MemoryTransactionFlags.TypeMask));
        Assert.False(new MemoryTransactionFlags(0).Has(MemoryTransactionFlags.TypeMask));
        Assert.False(flags.Has(0));
    }

    [Fact]
    public void Layouts_For_Version()
    {
        Assert.Equal(MemoryDescriptorLayout.V1_0, MemoryDescriptorLayouts.For(FfaVersion.V1_0));
        Assert.Equal(MemoryDescriptorLayout.V1_1, MemoryDescriptorLayouts.For(FfaVersion.V1_1));
        Assert.Equal(MemoryDescriptorLayout.V1_2, MemoryDescriptorLayouts.For(FfaVersion.V1_2));
        Assert.Equal(MemoryDescriptorLayout.V1_2, MemoryDescriptorLayouts.For(FfaVersion.V1_3)); // v1.3 keeps the v1.2 layout
        Assert.Equal(MemoryDescriptorLayout.V1_0, MemoryDescriptorLayouts.For(new FfaVersion(0, 9)));
        Assert.Equal(MemoryDescriptorLayout.V1_2, MemoryDescriptorLayouts.For(new FfaVersion(1, 7)));
    }

    [Theory]
    [InlineData(MemoryDescriptorLayout.V1_0, 32, 16)]
    [InlineData(MemoryDescriptorLayout.V1_1, 48, 16)]
    [InlineData(MemoryDescriptorLayout.V1_2, 48, 32)]
    public void Layouts_HeaderAndEmadSizes(MemoryDescriptorLayout layout, int header, int emad)
    {
        Assert.Equal(header, layout.HeaderSize());
        Assert.Equal(emad, layout.EmadSize());
    }

    [Fact]
    public void EmadSizes_AndCompositeOffset_OfAnEmptyDescriptor()
    {
        Assert.Equal(16, EndpointMemoryAccess.SizeV1_0);
        Assert.Equal(32, EndpointMemoryAccess.SizeV1_2);
        var d = new MemoryTransactionDescriptor(0, default, default, 0, 0, []);
        Assert.Equal(0u, d.CompositeOffset);
        Assert.Equal(MemoryDescriptorLayout.V1_2, d.Layout); // the default layout
    }

    [Fact]
    public void Emad_WriteAndRead_AreByteExact()
    {
        var emad = new EndpointMemoryAccess(MemoryAccessPermissions.Of(0x8002, DataAccess.ReadOnly), 0x30, new UInt128(0x1111_2222_3333_4444, 0x5555_6666_7777_8888));

        var small = Enumerable.Repeat((byte)0xEE, 16).ToArray();
        emad.Write(small, 16);
        Assert.Equal(Convert.FromHexString("0280010030000000" + "0000000000000000"), small);
        Assert.Equal(emad with { ImplementationDefined = 0 }, EndpointMemoryAccess.Read(small, 16));

        var large = Enumerable.Repeat((byte)0xEE, 32).ToArray();
        emad.Write(large, 32);
        Assert.Equal(Convert.FromHexString("0280010030000000" + "8888777766665555" + "4444333322221111" + "0000000000000000"), large);
        Assert.Equal(emad, EndpointMemoryAccess.Read(large, 32));
    }
}
