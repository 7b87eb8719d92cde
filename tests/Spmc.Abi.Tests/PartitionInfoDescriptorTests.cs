using System.Buffers.Binary;
using Spmc.Abi.Descriptors;
using Spmc.Abi.Ffa;

namespace Spmc.Abi.Tests;

public class PartitionInfoDescriptorTests
{
    private static readonly FfaUuid Uuid = FfaUuid.Parse("a1a2a3a4-b1b2-c1c2-d1d2-d3d4d5d6d7d8");

    private static readonly PartitionInfoDescriptor Sample =
        new(0x8001, 0x0002, (PartitionProperties)0x30D, Uuid);

    // Offsets 0..7: ID (u16), execution contexts (u16), properties (u32), little-endian.
    private static readonly byte[] V1_0Bytes = [0x01, 0x80, 0x02, 0x00, 0x0D, 0x03, 0x00, 0x00];

    // v1.1: the same 8 bytes, then the UUID's 16 bytes in string order.
    private static readonly byte[] V1_1Bytes =
    [
        0x01, 0x80, 0x02, 0x00, 0x0D, 0x03, 0x00, 0x00,
        0xa1, 0xa2, 0xa3, 0xa4, 0xb1, 0xb2, 0xc1, 0xc2, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8,
    ];

    [Fact]
    public void Sizes_Are8ForV1_0And24FromV1_1()
    {
        Assert.Equal(8, PartitionInfoDescriptor.SizeV1_0);
        Assert.Equal(24, PartitionInfoDescriptor.SizeV1_1);
        Assert.Equal(8, PartitionInfoDescriptor.SizeFor(FfaVersion.V1_0));
        Assert.Equal(24, PartitionInfoDescriptor.SizeFor(FfaVersion.V1_1));
        Assert.Equal(24, PartitionInfoDescriptor.SizeFor(FfaVersion.V1_2));
    }

    [Fact]
    public void Write_V1_0_IsByteExact_AndTouchesOnly8Bytes()
    {
        var buffer = Enumerable.Repeat((byte)0xEE, 24).ToArray();
        Sample.Write(buffer, FfaVersion.V1_0);
        Assert.Equal(V1_0Bytes, buffer[..8]);
        Assert.All(buffer[8..], b => Assert.Equal(0xEE, b));
    }

    [Fact]
    public void Write_V1_1_IsByteExact()
    {
        var buffer = Enumerable.Repeat((byte)0xEE, 32).ToArray();
        Sample.Write(buffer, FfaVersion.V1_1);
        Assert.Equal(V1_1Bytes, buffer[..24]);
        Assert.All(buffer[24..], b => Assert.Equal(0xEE, b));
    }

    [Fact]
    public void Write_V1_2_UsesThe24ByteLayout()
    {
        var buffer = new byte[24];
        Sample.Write(buffer, FfaVersion.V1_2);
        Assert.Equal(V1_1Bytes, buffer);
    }

    [Fact]
    public void Write_DestinationTooSmall_Throws()
    {
        Assert.Throws<ArgumentException>(() => Sample.Write(new byte[23], FfaVersion.V1_1));
        Assert.Throws<ArgumentException>(() => Sample.Write(new byte[7], FfaVersion.V1_0));
    }

    [Fact]
    public void Read_V1_1_RoundTrips()
    {
        var read = PartitionInfoDescriptor.Read(V1_1Bytes, FfaVersion.V1_1);
        Assert.True(read.Ok);
        Assert.Equal(Sample, read.Value);
    }

    [Fact]
    public void Read_V1_0_HasNoUuid()
    {
        var read = PartitionInfoDescriptor.Read(V1_0Bytes, FfaVersion.V1_0);
        Assert.True(read.Ok);
        Assert.Equal(Sample with { Uuid = FfaUuid.Nil }, read.Value);
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(7, 0)]
    [InlineData(8, 1)]
    [InlineData(23, 1)]
    public void Read_TooShort_FailsByItsRule(int length, int layout)
    {
        var version = layout == 0 ? FfaVersion.V1_0 : FfaVersion.V1_1;
        var read = PartitionInfoDescriptor.Read(new byte[length], version);
        Assert.False(read.Ok);
        Assert.NotNull(read.Error);
        Assert.Equal("partition-info-desc.truncated", read.Rejection!.Rule);
        Assert.Equal(FfaError.InvalidParameters, read.Rejection.Code);
    }

    [Fact]
    public void ToRegisters_PacksIdContextsPropertiesThenUuidHalves()
    {
        var (word0, lo, hi) = Sample.ToRegisters();
        Assert.Equal(0x0000_030D_0002_8001ul, word0);
        Assert.Equal(0xc2c1b2b1_a4a3a2a1ul, lo);
        Assert.Equal(0xd8d7d6d5_d4d3d2d1ul, hi);
    }

    [Fact]
    public void Registers_MatchTheByteLayout()
    {
        // x3 of PARTITION_INFO_GET_REGS is the first 8 bytes of the descriptor, read little-endian.
        var (word0, lo, hi) = Sample.ToRegisters();
        Assert.Equal(BinaryPrimitives.ReadUInt64LittleEndian(V1_1Bytes.AsSpan(0)), word0);
        Assert.Equal(BinaryPrimitives.ReadUInt64LittleEndian(V1_1Bytes.AsSpan(8)), lo);
        Assert.Equal(BinaryPrimitives.ReadUInt64LittleEndian(V1_1Bytes.AsSpan(16)), hi);
    }

    [Fact]
    public void FromRegisters_RoundTrips()
    {
        var (word0, lo, hi) = Sample.ToRegisters();
        Assert.Equal(Sample, PartitionInfoDescriptor.FromRegisters(word0, lo, hi));
    }

    [Fact]
    public void DefinedAt_ReservesBitsTheVersionDoesNotDefine()
    {
        Assert.Equal((PartitionProperties)0x7, PartitionInfoDescriptor.DefinedAt(FfaVersion.V1_0));
        // v1.1: bits 0-3 and 6-8 (bits 4-5, the ID type, are 00 for PE endpoints).
        Assert.Equal((PartitionProperties)0x1CF, PartitionInfoDescriptor.DefinedAt(FfaVersion.V1_1));
        // v1.2 adds bits 9 and 10 (direct request 2).
        Assert.Equal((PartitionProperties)0x7CF, PartitionInfoDescriptor.DefinedAt(FfaVersion.V1_2));
    }

    [Fact]
    public void DefinedAt_V1_3_AddsBits11To13()
    {
        // v1.3 adds bits 11 (live activation), 12 (CPU rendezvous) and 13 (SMC64 CPU-cycle IDs); bits 31:14 stay reserved.
        Assert.Equal((PartitionProperties)0x3FCF, PartitionInfoDescriptor.DefinedAt(FfaVersion.V1_3));
        Assert.Equal(PartitionProperties.None, PartitionInfoDescriptor.DefinedAt(FfaVersion.V1_2)
            & (PartitionProperties.LiveActivation | PartitionProperties.NeedsRendezvous | PartitionProperties.Smc64CpuCycles));
    }

    private static readonly FfaUuid Image = FfaUuid.Parse("e1e2e3e4-f1f2-0102-0304-05060708090a");

    private static readonly PartitionInfoDescriptor SampleV1_3 =
        Sample with { Properties = (PartitionProperties)0x230D, ImageUuid = Image, PartitionVersion = FfaVersion.V1_3 };

    // v1.3 (table 6.1): the v1.1 bytes (properties now with bit 13), the image UUID at 24, the version at 40, 4 MBZ bytes.
    private static readonly byte[] V1_3Bytes =
    [
        0x01, 0x80, 0x02, 0x00, 0x0D, 0x23, 0x00, 0x00,
        0xa1, 0xa2, 0xa3, 0xa4, 0xb1, 0xb2, 0xc1, 0xc2, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8,
        0xe1, 0xe2, 0xe3, 0xe4, 0xf1, 0xf2, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a,
        0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];

    [Fact]
    public void Size_Is48FromV1_3()
    {
        Assert.Equal(48, PartitionInfoDescriptor.SizeV1_3);
        Assert.Equal(48, PartitionInfoDescriptor.SizeFor(FfaVersion.V1_3));
        Assert.Equal(24, PartitionInfoDescriptor.SizeFor(FfaVersion.V1_2));
    }

    [Fact]
    public void Write_V1_3_IsByteExact_AndTouchesOnly48Bytes()
    {
        var buffer = Enumerable.Repeat((byte)0xEE, 56).ToArray();
        SampleV1_3.Write(buffer, FfaVersion.V1_3);
        Assert.Equal(V1_3Bytes, buffer[..48]);
        Assert.All(buffer[48..], b => Assert.Equal(0xEE, b));
        Assert.Throws<ArgumentException>(() => SampleV1_3.Write(new byte[47], FfaVersion.V1_3));
    }

    [Fact]
    public void Write_V1_2_LeavesOutTheV1_3Fields()
    {
        var buffer = Enumerable.Repeat((byte)0xEE, 48).ToArray();
        SampleV1_3.Write(buffer, FfaVersion.V1_2);
        Assert.Equal(V1_3Bytes[..24], buffer[..24]);
        Assert.All(buffer[24..], b => Assert.Equal(0xEE, b));
    }

    [Fact]
    public void Read_V1_3_RoundTrips_AndATruncatedOneFailsByItsRule()
    {
        Assert.Equal(SampleV1_3, PartitionInfoDescriptor.Read(V1_3Bytes, FfaVersion.V1_3).Value);
        var read = PartitionInfoDescriptor.Read(V1_3Bytes.AsSpan(0, 47), FfaVersion.V1_3);
        Assert.False(read.Ok);
        Assert.Equal("partition-info-desc.truncated", read.Rejection!.Rule);
    }

    [Fact]
    public void ToRegisters_V1_3_IsSixLittleEndianWordsOfThe48Bytes()
    {
        var registers = SampleV1_3.ToRegisters(FfaVersion.V1_3);
        Assert.Equal(6, registers.Length);
        for (var i = 0; i < 6; i++) Assert.Equal(BinaryPrimitives.ReadUInt64LittleEndian(V1_3Bytes.AsSpan(8 * i)), registers[i]);
        Assert.Equal(0x0001_0003ul, registers[5]); // table 13.41 xN+5: version in bits[30:0], bits[63:31] MBZ
        Assert.Equal(SampleV1_3, PartitionInfoDescriptor.FromRegisters(registers));
        Assert.Equal(3, SampleV1_3.ToRegisters(FfaVersion.V1_2).Length);
    }

    [Fact]
    public void Properties_BitPositionsFollowTheSpec()
    {
        Assert.Equal(1u << 0, (uint)PartitionProperties.DirectRequestReceive);
        Assert.Equal(1u << 1, (uint)PartitionProperties.DirectRequestSend);
        Assert.Equal(1u << 2, (uint)PartitionProperties.IndirectMessaging);
        Assert.Equal(1u << 3, (uint)PartitionProperties.NotificationReceive);
        Assert.Equal(1u << 6, (uint)PartitionProperties.VmCreatedMessages);
        Assert.Equal(1u << 7, (uint)PartitionProperties.VmDestroyedMessages);
        Assert.Equal(1u << 8, (uint)PartitionProperties.AArch64);
        Assert.Equal(1u << 9, (uint)PartitionProperties.DirectRequest2Receive);
        Assert.Equal(1u << 10, (uint)PartitionProperties.DirectRequest2Send);
    }
}
