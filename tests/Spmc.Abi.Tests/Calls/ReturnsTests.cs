using Spmc.Abi.Calls;
using Spmc.Abi.Smccc;

namespace Spmc.Abi.Tests.Calls;

public class ReturnsTests
{
    [Fact]
    public void Success32_EncodesTargetAndResults_InW1ToW7_RestZero()
    {
        var frame = new Success(false, 0x8001_0002, 2, 3, 4, 5, 6, 7).Encode();
        Assert.Equal([0x8400_0061UL, 0x8001_0002, 2, 3, 4, 5, 6, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], frame.ToArray());
    }

    [Fact]
    public void Success64_EncodesX2ToX17()
    {
        var results = Enumerable.Range(0, 16).Select(i => 0xAAAA_0000_0000_0000UL | (uint)i).ToArray();
        var frame = new Success(true, 0, results).Encode();
        Assert.Equal(0xC400_0061UL, frame[0]);
        Assert.Equal(results, frame.ToArray()[2..]);
    }

    [Fact]
    public void Success_RoundTrips()
    {
        Success[] values =
        [
            new Success(),
            new Success(false, 0, 0x24),
            new Success(false, 7, 1, 2, 3, 4, 5, 0xFFFF_FFFF),
            new Success(true, 0x8001_0000, 0x1_0000_0000, 2),
            new Success(true, 0, [.. Enumerable.Range(1, 16).Select(i => (ulong)i << 40)]),
        ];
        foreach (var value in values)
        {
            var decoded = Success.Decode(value.Encode());
            Assert.True(decoded.Ok);
            Assert.Equal(value, decoded.Value);
            Assert.Equal(value.GetHashCode(), decoded.Value!.GetHashCode());
        }
    }

    [Fact]
    public void Success32_Decode_ReadsTheW_ViewOnly_AndNothingAboveW7()
    {
        var frame = SmcFrame.From(0x8400_0061, 0xFFFF_FFFF_0000_0005, 0x1_0000_0002, 3, 4, 5, 6, 7, 0x88);
        var s = Success.Decode(frame).Value!;
        Assert.False(s.Is64);
        Assert.Equal(5u, s.Target);
        Assert.Equal(2UL, s.Arg(2));
        Assert.Equal([2UL, 3, 4, 5, 6, 7], s.Results);
    }

    [Fact]
    public void Success64_Decode_ReadsX2ToX17Whole()
    {
        var frame = SmcFrame.From(0xC400_0061, 0, 0x1_0000_0002);
        frame[17] = 0x1717;
        var s = Success.Decode(frame).Value!;
        Assert.True(s.Is64);
        Assert.Equal(0x1_0000_0002UL, s.Arg(2));
        Assert.Equal(0x1717UL, s.Arg(17));
    }

    [Fact]
    public void Success_DiffersByWidthTargetOrResult()
    {
        Assert.NotEqual(new Success(false, 0, 1), new Success(true, 0, 1));
        Assert.NotEqual(new Success(false, 0, 1), new Success(false, 1, 1));
        Assert.NotEqual(new Success(false, 0, 1), new Success(false, 0, 2));
        Assert.Equal(new Success(false, 0, 1), new Success(false, 0, 1, 0, 0));
    }

    [Fact]
    public void Success_TooManyResultsOrA64BitValueInSmc32_Throws()
    {
        Assert.Throws<ArgumentException>(() => new Success(false, 0, 1, 2, 3, 4, 5, 6, 7));
        Assert.Throws<ArgumentException>(() => new Success(true, 0, new ulong[17]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Success(false, 0, 0x1_0000_0000));
    }

    [Fact]
    public void MemRetrieveResp_EncodesLengthsInW1W2()
    {
        Assert.Equal([0x8400_0075UL, 8192, 4096, 0], new MemRetrieveResp(8192, 4096).Encode().ToArray()[..4]);
        Assert.True(new MemRetrieveResp(8192, 4096).IsFragmented);
        Assert.False(new MemRetrieveResp(112, 112).IsFragmented);
    }

    [Theory]
    [InlineData(0u, 0u)]
    [InlineData(112u, 112u)]
    [InlineData(0xFFFF_FFFFu, 4096u)]
    public void MemRetrieveResp_RoundTrips(uint total, uint fragment)
    {
        var value = new MemRetrieveResp(total, fragment);
        Assert.Equal(value, MemRetrieveResp.Decode(value.Encode()).Value);
    }

    [Fact]
    public void MemRetrieveResp_Decode_ReadsW1W2_IgnoringUpperHalvesAndReservedRegisters()
    {
        var decoded = MemRetrieveResp.Decode(SmcFrame.From(0x8400_0075, 0xF_0000_0070, 0x70, 0x99));
        Assert.True(decoded.Ok);
        Assert.Equal(new MemRetrieveResp(0x70, 0x70), decoded.Value);
    }
}
