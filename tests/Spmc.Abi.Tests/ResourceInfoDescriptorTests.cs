using System.Buffers.Binary;
using Spmc.Abi.Calls;
using Spmc.Abi.Descriptors;
using Spmc.Abi.Smccc;

namespace Spmc.Abi.Tests;

/// <summary>FFA_NS_RES_INFO_GET's record and its resource information descriptor (DEN0077 v1.3 §13.13, tables 13.59..13.63).</summary>
public class ResourceInfoDescriptorTests
{
    private static readonly ResourceInfoDescriptor Sample = new([
        new AddressMapDescriptor(0x8010_0000, 2, 0x33, 0x8001, RegionAccessType.Direct),
        new AddressMapDescriptor(0x8000_1000, 1, 0x30, 0x8000, RegionAccessType.Indirect),
    ]);

    // Header {16, 2, 16, 0}; AMD {u64 address, u32 pages, u8 RAP, u16 component, u8 flags}.
    private static readonly byte[] SampleBytes =
    [
        0x10, 0, 0, 0, 0x02, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0,
        0x00, 0x00, 0x10, 0x80, 0, 0, 0, 0, 0x02, 0, 0, 0, 0x33, 0x01, 0x80, 0x00,
        0x00, 0x10, 0x00, 0x80, 0, 0, 0, 0, 0x01, 0, 0, 0, 0x30, 0x00, 0x80, 0x01,
    ];

    [Fact]
    public void Encode_IsTheTableLayout()
    {
        Assert.Equal(SampleBytes, Sample.Encode());
        Assert.Equal(48, Sample.Size);
    }

    [Fact]
    public void Read_RoundTrips()
    {
        var read = ResourceInfoDescriptor.Read(SampleBytes);
        Assert.True(read.Ok, read.Error);
        Assert.Equal(Sample.Regions, read.Value!.Regions);
        Assert.Empty(ResourceInfoDescriptor.Read(new ResourceInfoDescriptor([]).Encode()).Value!.Regions);
    }

    [Fact]
    public void Read_AHeaderOrArrayThatDoesNotFit_IsTruncated()
    {
        Assert.Equal("ns-res-info-desc.truncated", ResourceInfoDescriptor.Read(SampleBytes[..15]).Rejection!.Rule);
        Assert.Equal("ns-res-info-desc.truncated", ResourceInfoDescriptor.Read(SampleBytes[..47]).Rejection!.Rule);
    }

    [Fact]
    public void Read_ACountOrOffsetNearTheTopOfU32_IsTruncated_NotWrapped()
    {
        var hugeCount = SampleBytes.ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(hugeCount.AsSpan(4), uint.MaxValue);
        Assert.Equal("ns-res-info-desc.truncated", ResourceInfoDescriptor.Read(hugeCount).Rejection!.Rule);
        var hugeOffset = SampleBytes.ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(hugeOffset.AsSpan(8), 0xFFFF_FFF0u);
        Assert.Equal("ns-res-info-desc.truncated", ResourceInfoDescriptor.Read(hugeOffset).Rejection!.Rule);
    }

    [Theory]
    [InlineData(0, 24)] // AMD size
    [InlineData(8, 8)]  // array offset below the header
    [InlineData(8, 24)] // array offset not 16-byte aligned
    public void Read_AnOddLayout_IsRefused(int field, byte value)
    {
        var bytes = SampleBytes.ToArray();
        bytes[field] = value;
        Assert.Equal("ns-res-info-desc.entry-size", ResourceInfoDescriptor.Read(bytes).Rejection!.Rule);
    }

    [Fact]
    public void NsResInfoGet_X1IsTheTarget_X2TheFlags()
    {
        var call = NsResInfoGet.Decode(SmcFrame.From(0xC400_008F, 0xFFFF_0000_0000_8002, 0b1_1101)).Value!;
        Assert.True(call.TargetValid);
        Assert.Equal(0x8002, call.Target);
        Assert.Equal(3, call.ResourceType);
        Assert.True(call.Continue);
        Assert.Equal([0xC400_008FUL, 0x8001, 1], NsResInfoGet.Start(0x8001).Encode().ToArray()[..3]);
        Assert.Equal([0xC400_008FUL, 0, 0], NsResInfoGet.Start().Encode().ToArray()[..3]);
        Assert.Equal(0x0000_0010_0000_0020ul, NsResInfoGet.Sizes(0x10, 0x20));
    }
}
