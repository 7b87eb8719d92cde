using Spmc.Abi.Calls;
using Spmc.Abi.Descriptors;
using Spmc.Abi.Ffa;
using Spmc.Abi.Smccc;

namespace Spmc.Abi.Tests.Calls;

/// <summary>FFA_PARTITION_INFO_GET and FFA_PARTITION_INFO_GET_REGS as typed calls, and the GET_REGS answer.</summary>
public class DiscoveryCallTests
{
    // Bytes in string order, split into little-endian words (ffa-abi.md §1.2).
    private static readonly FfaUuid Example = FfaUuid.Parse("a1a2a3a4-b1b2-c1c2-d1d2-d3d4d5d6d7d8");

    private static SmcFrame Frame(params ulong[] registers) => SmcFrame.From(registers);

    private static void AssertFrame(SmcFrame actual, params ulong[] expected)
    {
        for (var i = 0; i < Registers.Count; i++) Assert.Equal(i < expected.Length ? expected[i] : 0, actual[i]);
    }

    [Fact]
    public void PartitionInfoGet_EncodesTheUuidInW1ToW4_AndTheFlagsInW5()
    {
        var call = new PartitionInfoGet(Example, PartitionInfoGet.ReturnCountOnly);
        AssertFrame(call.Encode(), 0x8400_0068, 0xa4a3a2a1, 0xc2c1b2b1, 0xd4d3d2d1, 0xd8d7d6d5, 1);
        Assert.True(call.CountOnly);
        Assert.False(new PartitionInfoGet(Example).CountOnly);
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(1u)]
    public void PartitionInfoGet_RoundTrips(uint flags)
    {
        var call = new PartitionInfoGet(Example, flags);
        Assert.Equal(call, PartitionInfoGet.Decode(call.Encode()).Value);
        var nil = new PartitionInfoGet(FfaUuid.Nil, flags);
        Assert.Equal(nil, PartitionInfoGet.Decode(nil.Encode()).Value);
    }

    [Fact]
    public void PartitionInfoGet_ReadsOnlyTheLowerHalves()
    {
        var frame = new PartitionInfoGet(Example, 1).Encode();
        for (var i = 1; i <= 5; i++) frame[i] |= 0xABCD_0000_0000_0000;
        frame[6] = 7;
        Assert.Equal(new PartitionInfoGet(Example, 1), PartitionInfoGet.Decode(frame).Value);
    }

    [Theory]
    [InlineData(0x2ul)]
    [InlineData(0x3ul)]
    [InlineData(0xFFFFul)]
    [InlineData(0x8000_0000ul)]
    public void PartitionInfoGet_FlagsBits31To1_AreRejected(ulong flags)
    {
        var decoded = PartitionInfoGet.Decode(Frame(0x8400_0068, 0, 0, 0, 0, flags));
        Assert.Equal("partition-info-get.flags-mbz", decoded.Rejection!.Rule);
        Assert.Equal(FfaError.InvalidParameters, decoded.Rejection.Code);
        Assert.Equal($"w5 flags 0x{flags:X}: bits[31:1] must be zero", decoded.Rejection.Reason);
    }

    [Fact]
    public void PartitionInfoGetRegs_EncodesTheUuidInX1X2_AndStartAndTagInX3()
    {
        var call = new PartitionInfoGetRegs(Example, StartIndex: 5, Tag: 0x1234);
        AssertFrame(call.Encode(), 0xC400_008B, 0xc2c1b2b1a4a3a2a1, 0xd8d7d6d5d4d3d2d1, 0x1234_0005);
        Assert.Equal(call, PartitionInfoGetRegs.Decode(call.Encode()).Value);
        Assert.Equal(new PartitionInfoGetRegs(FfaUuid.Nil), PartitionInfoGetRegs.Decode(new PartitionInfoGetRegs(FfaUuid.Nil).Encode()).Value);
    }

    [Fact]
    public void PartitionInfoGetRegs_X3UpperHalf_IsRejected()
    {
        var decoded = PartitionInfoGetRegs.Decode(Frame(0xC400_008B, 0, 0, 0x1_0000_0000));
        Assert.Equal("partition-info-get-regs.x3-high-mbz", decoded.Rejection!.Rule);
        Assert.Equal(FfaError.InvalidParameters, decoded.Rejection.Code);
        Assert.Equal("x3 bits[63:32] must be zero (x3 = 0x100000000)", decoded.Rejection.Reason);
    }

    private static PartitionInfoDescriptor Descriptor(int i) =>
        new((ushort)(0x8001 + i), (ushort)(i + 1), (PartitionProperties)(0x100u | (uint)i), i % 2 == 0 ? Example : FfaUuid.Nil);

    [Fact]
    public void PartitionInfoGetRegsAnswer_PacksX2_AndThreeRegistersPerDescriptor()
    {
        var answer = new PartitionInfoGetRegsAnswer(6, 4, 0, 24, [.. Enumerable.Range(0, 5).Select(Descriptor)]);
        var frame = answer.Encode();
        Assert.Equal(0xC400_0061ul, frame[0]);
        Assert.Equal(0ul, frame[1]);
        Assert.Equal(6ul | (4ul << 16) | (24ul << 48), frame[2]);
        Assert.Equal(0x8001ul | (1ul << 16) | (0x100ul << 32), frame[3]);
        Assert.Equal(0xc2c1b2b1a4a3a2a1ul, frame[4]);
        Assert.Equal(0xd8d7d6d5d4d3d2d1ul, frame[5]);
        Assert.Equal(0x8002ul | (2ul << 16) | (0x101ul << 32), frame[6]);
        Assert.Equal(0ul, frame[7]);
        Assert.Equal(0x8005ul | (5ul << 16) | (0x104ul << 32), frame[15]);
    }

    [Theory]
    [InlineData(0, 0, 1)]
    [InlineData(5, 6, 2)]
    [InlineData(2, 6, 5)]
    public void PartitionInfoGetRegsAnswer_RoundTrips_GivenTheStartIndex(ushort start, ushort last, int count)
    {
        var descriptors = Enumerable.Range(0, count).Select(Descriptor).ToArray();
        var answer = new PartitionInfoGetRegsAnswer(last, (ushort)(start + count - 1), 0, 24, descriptors);
        var frame = answer.Encode();
        for (var i = 3 + count * 3; i < Registers.Count; i++) Assert.Equal(0ul, frame[i]);
        var decoded = PartitionInfoGetRegsAnswer.Decode(frame, start)!;
        Assert.Equal((answer.LastIndex, answer.CurrentIndex, answer.Tag, answer.DescriptorSize),
            (decoded.LastIndex, decoded.CurrentIndex, decoded.Tag, decoded.DescriptorSize));
        Assert.Equal(descriptors, decoded.Descriptors);
    }

    [Fact]
    public void PartitionInfoGetRegsAnswer_DecodeRefusesOtherFrames()
    {
        Assert.Null(PartitionInfoGetRegsAnswer.Decode(Frame(0x8400_0061, 0, 0), 0));     // FFA_SUCCESS_32
        Assert.Null(PartitionInfoGetRegsAnswer.Decode(Frame(0xC400_0061, 0, 3ul | (5ul << 16)), 0)); // current above last
        Assert.Null(PartitionInfoGetRegsAnswer.Decode(Frame(0xC400_0061, 0, 9ul | (9ul << 16)), 0)); // ten entries
        Assert.Null(PartitionInfoGetRegsAnswer.Decode(Frame(0xC400_0061, 0, 9ul | (2ul << 16)), 3)); // current below start
    }

    private static PartitionInfoDescriptor DescriptorV1_3(int i) =>
        Descriptor(i) with { ImageUuid = i % 2 == 0 ? FfaUuid.Nil : Example, PartitionVersion = FfaVersion.V1_3 };

    [Fact]
    public void PartitionInfoGetRegsAnswer_V1_3_PacksSixRegistersPerDescriptor_TwoPerCall()
    {
        Assert.Equal(5, PartitionInfoGetRegsAnswer.MaxDescriptorsFor(24));
        Assert.Equal(2, PartitionInfoGetRegsAnswer.MaxDescriptorsFor(48));
        var answer = new PartitionInfoGetRegsAnswer(3, 1, 0, 48, [DescriptorV1_3(0), DescriptorV1_3(1)]);
        var frame = answer.Encode();
        Assert.Equal(0xC400_0061ul, frame[0]);
        Assert.Equal(3ul | (1ul << 16) | (48ul << 48), frame[2]);
        Assert.Equal(0x8001ul | (1ul << 16) | (0x100ul << 32), frame[3]);
        Assert.Equal(0xc2c1b2b1a4a3a2a1ul, frame[4]);
        Assert.Equal(0ul, frame[6]);                                 // image UUID of the first: Nil
        Assert.Equal(0x0001_0003ul, frame[8]);                        // its FF-A version
        Assert.Equal(0x8002ul | (2ul << 16) | (0x101ul << 32), frame[9]);
        Assert.Equal(0xc2c1b2b1a4a3a2a1ul, frame[12]);                // image UUID of the second
        Assert.Equal(0x0001_0003ul, frame[14]);
        for (var i = 15; i < Registers.Count; i++) Assert.Equal(0ul, frame[i]);

        var decoded = PartitionInfoGetRegsAnswer.Decode(frame, 0)!;
        Assert.Equal(48, decoded.DescriptorSize);
        Assert.Equal(new[] { DescriptorV1_3(0), DescriptorV1_3(1) }, decoded.Descriptors);
        Assert.Throws<InvalidOperationException>(() =>
            new PartitionInfoGetRegsAnswer(3, 2, 0, 48, [.. Enumerable.Range(0, 3).Select(DescriptorV1_3)]).Encode());
        Assert.Null(PartitionInfoGetRegsAnswer.Decode(Frame(0xC400_0061, 0, 9ul | (2ul << 16) | (48ul << 48)), 0)); // three of 48 bytes
    }

    [Fact]
    public void PartitionInfoGetRegsAnswer_MoreThanFiveDescriptors_CannotBeEncoded() =>
        Assert.Throws<InvalidOperationException>(() =>
            new PartitionInfoGetRegsAnswer(5, 5, 0, 24, [.. Enumerable.Range(0, 6).Select(Descriptor)]).Encode());
}
