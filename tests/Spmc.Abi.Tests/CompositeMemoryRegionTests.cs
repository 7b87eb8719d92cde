using System.Buffers.Binary;
using Spmc.Abi.Descriptors;
using Spmc.Abi.Ffa;

namespace Spmc.Abi.Tests;

public class CompositeMemoryRegionTests
{
    private static readonly CompositeMemoryRegion Sample =
        CompositeMemoryRegion.Of(new MemoryRegionConstituent(0x1_2345_6000, 1), new MemoryRegionConstituent(0x9000_0000, 2));

    // total pages 3, 2 constituents, 8 reserved bytes; each constituent: u64 address, u32 pages, u32 reserved.
    private static readonly byte[] SampleBytes =
    [
        0x03, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0,
        0x00, 0x60, 0x45, 0x23, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0, 0, 0, 0,
        0x00, 0x00, 0x00, 0x90, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0, 0, 0, 0,
    ];

    private static void AssertFails<T>(ParseResult<T> result, string rule)
    {
        Assert.False(result.Ok);
        Assert.False(string.IsNullOrWhiteSpace(result.Error));
        Assert.Equal(rule, result.Rejection!.Rule);
        Assert.Equal(FfaError.InvalidParameters, result.Rejection.Code);
    }

    [Fact]
    public void Of_SumsThePageCounts()
    {
        Assert.Equal(3u, Sample.TotalPageCount);
        Assert.Equal(48, Sample.Size);
    }

    [Fact]
    public void Write_IsByteExact()
    {
        var buffer = new byte[Sample.Size];
        Sample.Write(buffer);
        Assert.Equal(SampleBytes, buffer);
    }

    [Fact]
    public void Read_RoundTrips()
    {
        var read = CompositeMemoryRegion.Read(SampleBytes, 0);
        Assert.True(read.Ok, read.Error);
        Assert.Equal(3u, read.Value!.TotalPageCount);
        Assert.Equal(Sample.Constituents, read.Value.Constituents);
    }

    [Fact]
    public void Read_AtAnOffset()
    {
        var buffer = new byte[64 + SampleBytes.Length];
        SampleBytes.CopyTo(buffer, 64);
        var read = CompositeMemoryRegion.Read(buffer, 64);
        Assert.True(read.Ok, read.Error);
        Assert.Equal(Sample.Constituents, read.Value!.Constituents);
    }

    [Fact]
    public void Read_NoConstituents_IsAnEmptyList()
    {
        var read = CompositeMemoryRegion.Read(new byte[16], 0);
        Assert.True(read.Ok, read.Error);
        Assert.Empty(read.Value!.Constituents);
    }

    [Theory]
    [InlineData(49ul)]                     // beyond the buffer
    [InlineData(40ul)]                     // header would straddle the end
    [InlineData(33ul)]                     // header needs 16 bytes, 15 left
    [InlineData(0xFFFF_FFFFul)]
    [InlineData(0xFFFF_FFFF_FFFF_FFF0ul)]  // offset + 16 wraps in 64 bits
    [InlineData(ulong.MaxValue)]
    public void Read_OffsetOutOfBounds_Fails(ulong offset) =>
        AssertFails(CompositeMemoryRegion.Read(SampleBytes, offset), "composite.header-out-of-bounds");

    [Fact]
    public void Read_EmptyBuffer_Fails() => AssertFails(CompositeMemoryRegion.Read([], 0), "composite.header-out-of-bounds");

    [Theory]
    [InlineData(8)]
    [InlineData(15)]
    public void Read_ReservedHeaderBytesNonZero_Fails(int index)
    {
        var bytes = (byte[])SampleBytes.Clone();
        bytes[index] = 1;
        AssertFails(CompositeMemoryRegion.Read(bytes, 0), "composite.reserved-mbz");
    }

    [Theory]
    [InlineData(16 + 12)]
    [InlineData(32 + 15)]
    public void Read_ConstituentReservedBytesNonZero_Fails(int index)
    {
        var bytes = (byte[])SampleBytes.Clone();
        bytes[index] = 1;
        AssertFails(CompositeMemoryRegion.Read(bytes, 0), "constituent.reserved-mbz");
    }

    [Fact]
    public void Read_MoreConstituentsThanTheBufferHolds_Fails()
    {
        var bytes = (byte[])SampleBytes.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), 3);
        AssertFails(CompositeMemoryRegion.Read(bytes, 0), "composite.constituents-truncated");
    }

    [Theory]
    [InlineData(0xFFFF_FFFFu)]
    [InlineData(0x8000_0000u)]
    [InlineData(0x1000_0000u)]  // 16 * count overflows 32 bits
    [InlineData(0x0FFF_FFFFu)]
    public void Read_HugeConstituentCount_FailsCleanly(uint count)
    {
        var bytes = (byte[])SampleBytes.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), count);
        var read = CompositeMemoryRegion.Read(bytes, 0);
        AssertFails(read, "composite.constituents-truncated");
        Assert.Null(read.Value);
    }

    [Fact]
    public void Read_KeepsItsRuleWhateverTheName()
    {
        // The name only leads the reason (for an endpoint RX/TX descriptor, "RX composite"); the rule is the check's.
        var read = CompositeMemoryRegion.Read([], 0, "RX composite");
        AssertFails(read, "composite.header-out-of-bounds");
        Assert.StartsWith("RX composite", read.Error);
    }

    [Fact]
    public void Read_ConstituentFailure_KeepsTheConstituentsRule()
    {
        var bytes = (byte[])SampleBytes.Clone();
        bytes[32 + 12] = 1;
        // The composite reports the constituent's own rule, the one a lone constituent read gives.
        Assert.Equal("constituent.reserved-mbz", MemoryRegionConstituent.Read(bytes.AsSpan(32)).Rejection!.Rule);
        Assert.Equal("constituent.reserved-mbz", CompositeMemoryRegion.Read(bytes, 0).Rejection!.Rule);
    }

    [Fact]
    public void Constituent_ReadShort_Fails() => AssertFails(MemoryRegionConstituent.Read(new byte[15]), "constituent.truncated");

    [Fact]
    public void Constituent_ReservedNonZero_Fails()
    {
        var bytes = new byte[16];
        bytes[15] = 0x80;
        AssertFails(MemoryRegionConstituent.Read(bytes), "constituent.reserved-mbz");
    }

    [Fact]
    public void Constituent_ByteLength_DoesNotOverflow() =>
        Assert.Equal(0xFFFF_FFFFul * 4096, new MemoryRegionConstituent(0, uint.MaxValue).ByteLength);

    [Fact]
    public void Constituent_Write_ZeroesReservedWord()
    {
        var buffer = Enumerable.Repeat((byte)0xFF, 16).ToArray();
        new MemoryRegionConstituent(0x1000, 1).Write(buffer);
        Assert.Equal(new byte[] { 0, 0x10, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0 }, buffer);
    }

    [Theory]
    [InlineData(0ul, 16ul, 16, true)]
    [InlineData(0ul, 17ul, 16, false)]
    [InlineData(16ul, 0ul, 16, true)]
    [InlineData(17ul, 0ul, 16, false)]
    [InlineData(8ul, ulong.MaxValue, 16, false)]
    [InlineData(ulong.MaxValue, 1ul, 16, false)]
    [InlineData(ulong.MaxValue, ulong.MaxValue, int.MaxValue, false)]
    public void Bounds_Fits_NeverWraps(ulong offset, ulong length, int size, bool fits) =>
        Assert.Equal(fits, Bounds.Fits(offset, length, size));
}
