using Spmc.Abi.Calls;
using Spmc.Abi.Smccc;

namespace Spmc.Abi.Tests.Calls;

/// <summary>The FF-A 1.3 run-time records: FFA_ABORT, the SMC64 CPU-cycle forms, and x8..x17 of FFA_MSG_SEND_DIRECT_REQ_64.</summary>
public class Runtime13CallTests
{
    private static T Ok<T>(Spmc.Abi.Descriptors.ParseResult<T> result)
    {
        Assert.True(result.Ok, result.Rejection?.ToString());
        return result.Value!;
    }

    [Fact]
    public void Abort_RoundTrips_InBothWidths()
    {
        var a32 = new Abort(0x1_0000_0007);
        Assert.Equal([0x8400_0090ul, 0, 7], a32.Encode().ToArray()[..3]); // w2: 32 bits
        Assert.Equal(new Abort(7), Ok(Abort.Decode(a32.Encode())));
        var a64 = new Abort(0x1_0000_0007, Is64: true);
        Assert.Equal([0xC400_0090ul, 0, 0x1_0000_0007], a64.Encode().ToArray()[..3]);
        Assert.Equal(a64, Ok(Abort.Decode(a64.Encode())));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    public void Abort_NonZeroReservedRegister_IsRefused(int register)
    {
        var frame = SmcFrame.From(0xC400_0090);
        frame[register] = 1;
        var result = Abort.Decode(frame);
        Assert.False(result.Ok);
        Assert.Equal("abort.reserved-mbz", result.Rejection!.Rule);
    }

    [Fact]
    public void Abort_X8ToX17_AreIgnored()
    {
        var frame = SmcFrame.From(0xC400_0090, 0, 5);
        frame[8] = frame[17] = 1;
        Assert.Equal(5ul, Ok(Abort.Decode(frame)).Code);
    }

    [Fact]
    public void Smc64CpuCycleRecords_EncodeTheSmc64Ids()
    {
        Assert.Equal(0xC400_006Bul, new MsgWait(Is64: true).Encode()[0]);
        Assert.Equal(0xC400_006Cul, new Yield(1, 2, 3, Is64: true).Encode()[0]);
        Assert.Equal(0xC400_006Dul, new Run(0x8001, 0, Is64: true).Encode()[0]);
        Assert.Equal(0xC400_0062ul, new Interrupt(Is64: true).Encode()[0]);
        Assert.True(Ok(Run.Decode(SmcFrame.From(0xC400_006D, 0x8001_0001))).Is64);
        Assert.Equal(0xC400_0061ul, new Success(is64: true).Encode()[0]);
        Assert.Equal(0x8400_0061ul, new Success(is64: false).Encode()[0]);
    }

    [Fact]
    public void DirectReq64_CarriesX8ToX17_DirectReq32_DoesNot()
    {
        var frame = SmcFrame.From(0xC400_006F, 0x0000_8001, 0, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17);
        var req = Ok(DirectReq.Decode(frame));
        Assert.Equal([8ul, 9, 10, 11, 12, 13, 14, 15, 16, 17], req.Extended);
        Assert.True(req.HasExtendedPayload);
        Assert.Equal(frame.ToArray(), req.Encode().ToArray());
        Assert.Equal(req, Ok(DirectReq.Decode(req.Encode())));
        Assert.NotEqual(req, req with { Extended = [] });

        var as32 = SmcFrame.From(0x8400_006F, 0x0000_8001, 0, 3, 4, 5, 6, 7, 8, 9);
        Assert.Empty(Ok(DirectReq.Decode(as32)).Extended);

        var resp = req.Response([1, 2], [0xA, 0xB]);
        Assert.Equal([0xAul, 0xB], resp.Extended);
        Assert.Equal([0xAul, 0xB], resp.Forwarded(keepExtended: true).Extended);
        Assert.Empty(resp.Forwarded(keepExtended: false).Extended);
        Assert.Empty(resp.Forwarded().Extended);
    }
}
