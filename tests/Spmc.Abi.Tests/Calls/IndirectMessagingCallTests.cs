using Spmc.Abi.Calls;
using Spmc.Abi.Smccc;

namespace Spmc.Abi.Tests.Calls;

/// <summary>FFA_MSG_SEND2 as a typed call.</summary>
public class IndirectMessagingCallTests
{
    [Fact]
    public void MsgSend2_W1IsTheNamedVm_W2TheFlags()
    {
        var call = new MsgSend2(0x0002, MsgSend2.DelaySriFlag);
        Assert.Equal([0x8400_0086UL, 0x0002_0000, 2], call.Encode().ToArray()[..3]);
        Assert.All(call.Encode().ToArray()[3..], r => Assert.Equal(0ul, r));
        Assert.True(call.DelaySri);
        Assert.False(new MsgSend2(0, 0xFFFF_FFFD).DelaySri);
    }

    [Theory]
    [InlineData((ushort)0, 0u, (ushort)0)]
    [InlineData((ushort)0x0001, 2u, (ushort)0)]
    [InlineData((ushort)0xFFFF, 0xFFFF_FFFFu, (ushort)0xFFFF)]
    public void MsgSend2_RoundTrips(ushort senderVm, uint flags, ushort reserved)
    {
        var call = new MsgSend2(senderVm, flags, reserved);
        var decoded = MsgSend2.Decode(call.Encode());
        Assert.True(decoded.Ok, decoded.Error);
        Assert.Equal(call, decoded.Value);
    }

    [Fact]
    public void MsgSend2_ReadsTheWView_AndKeepsTheReservedLowHalfOfW1()
    {
        // The decoder checks nothing: the SPMC judges w1[31:16] against the caller, and ignores w1[15:0].
        var decoded = MsgSend2.Decode(SmcFrame.From(0x8400_0086, 0xAAAA_AAAA_0003_8001, 0xBBBB_BBBB_0000_0002, 0xFF));
        Assert.True(decoded.Ok);
        Assert.Equal(new MsgSend2(0x0003, 2, ReservedW1: 0x8001), decoded.Value);
        Assert.Equal(0x0003_8001u, decoded.Value!.W1);
    }
}
