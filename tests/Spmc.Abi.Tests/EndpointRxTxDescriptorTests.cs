using System.Buffers.Binary;
using Spmc.Abi.Descriptors;
using Spmc.Abi.Ffa;

namespace Spmc.Abi.Tests;

public class EndpointRxTxDescriptorTests
{
    private static readonly EndpointRxTxDescriptor Sample = new(
        0x0001,
        CompositeMemoryRegion.Of(new MemoryRegionConstituent(0x9000_1000, 1)),
        CompositeMemoryRegion.Of(new MemoryRegionConstituent(0x9000_0000, 1)));

    // Header: endpoint ID, reserved u16, RX offset (16), TX offset (48), padding; then the two composites.
    private static readonly byte[] SampleBytes =
    [
        0x01, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x30, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0,
        0x00, 0x10, 0x00, 0x90, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0, 0, 0, 0,
        0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0,
        0x00, 0x00, 0x00, 0x90, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0, 0, 0, 0,
    ];

    private static byte[] Bytes(Action<byte[]> edit)
    {
        var bytes = new byte[256];
        SampleBytes.CopyTo(bytes, 0);
        edit(bytes);
        return bytes;
    }

    private static void AssertFails(byte[] bytes, string rule)
    {
        var read = EndpointRxTxDescriptor.Read(bytes);
        Assert.False(read.Ok);
        Assert.False(string.IsNullOrWhiteSpace(read.Error));
        Assert.Null(read.Value);
        Assert.Equal(rule, read.Rejection!.Rule);
        Assert.Equal(FfaError.InvalidParameters, read.Rejection.Code);
    }

    [Fact]
    public void Size_IsHeaderPlusBothComposites() => Assert.Equal(80, Sample.Size);

    [Fact]
    public void Write_IsByteExact_AndClearsReservedFields()
    {
        var buffer = Enumerable.Repeat((byte)0xEE, 96).ToArray();
        Sample.Write(buffer);
        Assert.Equal(SampleBytes, buffer[..80]);
        Assert.All(buffer[80..], b => Assert.Equal(0xEE, b));
    }

    [Fact]
    public void Read_RoundTrips()
    {
        var read = EndpointRxTxDescriptor.Read(SampleBytes);
        Assert.True(read.Ok, read.Error);
        Assert.Equal(0x0001, read.Value!.EndpointId);
        Assert.Equal(Sample.Rx.Constituents, read.Value.Rx.Constituents);
        Assert.Equal(Sample.Tx.Constituents, read.Value.Tx.Constituents);
        Assert.Equal(1u, read.Value.Rx.TotalPageCount);
        Assert.Equal(1u, read.Value.Tx.TotalPageCount);
    }

    [Fact]
    public void Read_FromAWholePage_IgnoresTrailingBytes()
    {
        var page = new byte[4096];
        SampleBytes.CopyTo(page, 0);
        page[4000] = 0xFF;
        Assert.True(EndpointRxTxDescriptor.Read(page).Ok);
    }

    [Fact]
    public void Read_CompositesInEitherOrder()
    {
        var bytes = Bytes(b =>
        {
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(4), 48);
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(8), 16);
        });
        var read = EndpointRxTxDescriptor.Read(bytes);
        Assert.True(read.Ok, read.Error);
        Assert.Equal(0x9000_0000ul, read.Value!.Rx.Constituents[0].Address);
        Assert.Equal(0x9000_1000ul, read.Value.Tx.Constituents[0].Address);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(15)]
    public void Read_ShorterThanHeader_Fails(int length) => AssertFails(new byte[length], "rxtx-desc.header-truncated");

    [Theory]
    [InlineData(4, 20u)]   // RX offset not 8-byte aligned
    [InlineData(4, 17u)]
    [InlineData(8, 52u)]   // TX offset not 8-byte aligned
    [InlineData(8, 49u)]
    public void Read_MisalignedOffset_Fails(int field, uint offset) =>
        AssertFails(Bytes(b => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(field), offset)), "rxtx-desc.offset-unaligned");

    [Theory]
    [InlineData(4, 256u)]          // RX composite header past the end
    [InlineData(8, 248u)]          // TX composite header straddles the end
    [InlineData(4, 0xFFFF_FFF8u)]  // aligned, far outside
    [InlineData(8, 0xFFFF_FFF8u)]
    public void Read_OffsetOutOfBounds_Fails(int field, uint offset) =>
        AssertFails(Bytes(b => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(field), offset)), "composite.header-out-of-bounds");

    [Theory]
    [InlineData(16 + 4)]  // RX constituent count
    [InlineData(48 + 4)]  // TX constituent count
    public void Read_HugeConstituentCount_FailsCleanly(int field) =>
        AssertFails(Bytes(b => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(field), 0xFFFF_FFFF)), "composite.constituents-truncated");

    [Theory]
    [InlineData(16 + 8, "composite.reserved-mbz")]     // RX composite reserved
    [InlineData(48 + 15, "composite.reserved-mbz")]    // TX composite reserved
    [InlineData(32 + 12, "constituent.reserved-mbz")]  // RX constituent reserved
    [InlineData(64 + 15, "constituent.reserved-mbz")]  // TX constituent reserved
    public void Read_ReservedNonZeroInAComposite_Fails(int index, string rule) => AssertFails(Bytes(b => b[index] = 1), rule);
}
