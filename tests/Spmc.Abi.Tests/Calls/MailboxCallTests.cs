using Spmc.Abi.Calls;
using Spmc.Abi.Ffa;
using Spmc.Abi.Smccc;

namespace Spmc.Abi.Tests.Calls;

/// <summary>FFA_RXTX_MAP, FFA_RXTX_UNMAP, FFA_RX_RELEASE, FFA_RX_ACQUIRE as typed calls.</summary>
public class MailboxCallTests
{
    private static SmcFrame Frame(params ulong[] registers) => SmcFrame.From(registers);

    private static void AssertFrame(SmcFrame actual, params ulong[] expected)
    {
        for (var i = 0; i < Registers.Count; i++) Assert.Equal(i < expected.Length ? expected[i] : 0, actual[i]);
    }

    [Fact]
    public void RxTxMap64_EncodesX1ToX3_AndRoundTrips()
    {
        var call = new RxTxMap(0x1_8000_0000, 0x1_8000_1000, 2);
        AssertFrame(call.Encode(), 0xC400_0066, 0x1_8000_0000, 0x1_8000_1000, 2);
        Assert.Equal(call, RxTxMap.Decode(call.Encode()).Value);
    }

    [Fact]
    public void RxTxMap32_EncodesW1ToW3_AndRoundTrips()
    {
        var call = new RxTxMap(0x8000_0000, 0x8000_1000, 1, Is64: false);
        AssertFrame(call.Encode(), 0x8400_0066, 0x8000_0000, 0x8000_1000, 1);
        Assert.Equal(call, RxTxMap.Decode(call.Encode()).Value);
    }

    [Fact]
    public void RxTxMap32_ReadsOnlyTheLowerHalves()
    {
        var decoded = RxTxMap.Decode(Frame(0x8400_0066, 0xAB_8000_0000, 0xCD_8000_1000, 0xEF_0000_0001));
        Assert.Equal(new RxTxMap(0x8000_0000, 0x8000_1000, 1, Is64: false), decoded.Value);
    }

    [Fact]
    public void RxTxMap64_X3UpperHalf_IsRejected()
    {
        var decoded = RxTxMap.Decode(Frame(0xC400_0066, 0x8000_0000, 0x8000_1000, 0x1_0000_0001));
        Assert.Equal("rxtx-map.x3-high-mbz", decoded.Rejection!.Rule);
        Assert.Equal(FfaError.InvalidParameters, decoded.Rejection.Code);
        Assert.Equal("x3 bits[63:32] must be zero (x3 = 0x100000001)", decoded.Rejection.Reason);
    }

    [Fact]
    public void RxTxMap_ForwardingForm_IsAllZero()
    {
        Assert.True(new RxTxMap(0, 0, 0).IsForwardingForm);
        Assert.False(new RxTxMap(0, 0, 1).IsForwardingForm);
        Assert.False(new RxTxMap(0x1000, 0, 0).IsForwardingForm);
    }

    [Fact]
    public void RxTxUnmap_EncodesTheIdInW1Bits31To16_AndRoundTrips()
    {
        var call = new RxTxUnmap(0x0002);
        AssertFrame(call.Encode(), 0x8400_0067, 0x0002_0000);
        Assert.Equal(call, RxTxUnmap.Decode(call.Encode()).Value);
        Assert.Equal(new RxTxUnmap(0), RxTxUnmap.Decode(Frame(0x8400_0067, 0xFFFF_FFFF_0000_0000)).Value);
    }

    [Theory]
    [InlineData(0x0000_0001ul)]
    [InlineData(0x0001_8000ul)]
    public void RxTxUnmap_W1Bits15To0_AreRejected(ulong w1)
    {
        var decoded = RxTxUnmap.Decode(Frame(0x8400_0067, w1));
        Assert.Equal("rxtx-unmap.w1-low-mbz", decoded.Rejection!.Rule);
        Assert.Equal(FfaError.InvalidParameters, decoded.Rejection.Code);
    }

    [Fact]
    public void RxRelease_AndRxAcquire_CarryTheVmInW1Bits15To0()
    {
        AssertFrame(new RxRelease(0x0003).Encode(), 0x8400_0065, 3);
        AssertFrame(new RxAcquire(0x0001).Encode(), 0x8400_0084, 1);
        Assert.Equal(new RxRelease(0x0003), RxRelease.Decode(new RxRelease(0x0003).Encode()).Value);
        Assert.Equal(new RxAcquire(0x0001), RxAcquire.Decode(new RxAcquire(0x0001).Encode()).Value);
        Assert.Equal(new RxRelease(0), RxRelease.Decode(Frame(0x8400_0065)).Value);
    }
}
