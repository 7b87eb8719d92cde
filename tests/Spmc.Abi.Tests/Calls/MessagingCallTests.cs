using Spmc.Abi.Calls;
using Spmc.Abi.Ffa;
using Spmc.Abi.Smccc;

namespace Spmc.Abi.Tests.Calls;

/// <summary>The direct messaging records: encode/decode round trips per width, the register rules, and the responses.</summary>
public class MessagingCallTests
{
    private const uint Req32 = 0x8400_006F, Req64 = 0xC400_006F, Resp32 = 0x8400_0070, Resp64 = 0xC400_0070, Req2 = 0xC400_008D, Resp2 = 0xC400_008E;
    private static readonly FfaUuid Service = FfaUuid.Parse("7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4a01");

    private static ulong[] Values(int count, ulong seed) => [.. Enumerable.Range(0, count).Select(i => seed * (ulong)(i + 1))];

    private static T Ok<T>(Spmc.Abi.Descriptors.ParseResult<T> result)
    {
        Assert.True(result.Ok, result.Rejection?.ToString());
        return result.Value!;
    }

    // ---- FFA_MSG_SEND_DIRECT_REQ ----------------------------------------------------------------------

    [Fact]
    public void DirectReq32_EncodesW1W2AndW3ToW7_AndRoundTrips()
    {
        var req = new DirectReq(0x0001, 0x8002, 0, [1, 2, 3, 4, 5]);
        var frame = req.Encode();
        Assert.Equal([Req32, 0x0001_8002ul, 0, 1, 2, 3, 4, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], frame.ToArray());
        Assert.Equal(req, Ok(DirectReq.Decode(frame)));
    }

    [Fact]
    public void DirectReq64_RoundTrips_WithX1UpperHalfKept()
    {
        var req = new DirectReq(0x8003, 0x8001, 0, Values(5, 0x1111_1111_0000_0001), Is64: true) { X1High = 0xDEAD };
        var frame = req.Encode();
        Assert.Equal(Req64, frame[0]);
        Assert.Equal(0xDEAD_8003_8001ul, frame[1]);
        Assert.Equal(Values(5, 0x1111_1111_0000_0001), Enumerable.Range(3, 5).Select(i => frame[i]));
        Assert.All(Enumerable.Range(8, 10), i => Assert.Equal(0ul, frame[i]));
        Assert.Equal(req, Ok(DirectReq.Decode(frame)));
    }

    [Fact]
    public void DirectReq32_ReadsOnlyW1ToW7()
    {
        var frame = SmcFrame.From([Req32, 0xFFFF_0000_0000_8001, 0xFFFF_0000_0000_0000, 0xAAAA_0000_0000_0003, 4, 5, 6, 7, 8, 9]);
        var req = Ok(DirectReq.Decode(frame));
        Assert.Equal((ushort)0, req.Sender);
        Assert.Equal((ushort)0x8001, req.Receiver);
        Assert.Equal(0u, req.Flags);
        Assert.Equal(0u, req.X1High);
        Assert.Equal([3ul, 4, 5, 6, 7], req.Payload);
        Assert.False(req.Is64);
    }

    [Fact]
    public void DirectReq32_EncodeCutsValuesTo32Bits()
    {
        var frame = new DirectReq(0, 0x8001, 0, [0x1_0000_0002], Is64: false) { X1High = 7 }.Encode();
        Assert.Equal(0x8001ul, frame[1]);
        Assert.Equal(2ul, frame[3]);
    }

    [Theory]
    [InlineData(Req32, 1ul)]
    [InlineData(Req32, 0x7FFF_FFFFul)]
    [InlineData(Req64, 0x1_0000_0001ul)]
    public void DirectReq_PartitionMessageWithW2_IsRefused(uint fid, ulong x2)
    {
        var result = DirectReq.Decode(SmcFrame.From(fid, 0x8001, x2));
        Assert.False(result.Ok);
        Assert.Equal("direct-req.w2-mbz", result.Rejection!.Rule);
        Assert.Equal(FfaError.InvalidParameters, result.Rejection.Code);
        Assert.Equal($"w2 must be zero for a partition message (w2 = 0x{x2:X}); bit 31 marks a framework message", result.Rejection.Reason);
    }

    [Fact]
    public void DirectReq64_X2UpperHalf_IsNotTheFlags()
    {
        var req = Ok(DirectReq.Decode(SmcFrame.From(Req64, 0x8001, 0xFFFF_FFFF_0000_0000)));
        Assert.Equal(0u, req.Flags);
        Assert.Equal(0ul, req.Encode()[2]);
    }

    [Fact]
    public void DirectReq_FrameworkMessage_DecodesWithItsType()
    {
        var req = Ok(DirectReq.Decode(SmcFrame.From(Req32, 0x8001, 0x8000_0004, 0, 0, 5)));
        Assert.True(req.IsFramework);
        Assert.Equal((byte)4, DirectMessageFlags.Type(req.Flags));
        Assert.Equal(0x8000_0004ul, req.Encode()[2]);
    }

    [Fact]
    public void DirectReq_MorePayloadThanRegisters_Throws() =>
        Assert.Throws<ArgumentException>(() => new DirectReq(0, 0x8001, 0, new ulong[6]).Encode());

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void DirectReq_Response_IsRespOfTheSameWidth_BackToTheSender(bool is64)
    {
        var req = new DirectReq(0x0005, 0x8001, 0, [1, 2, 3, 4, 5], is64);
        var resp = Assert.IsType<DirectResp>(req.Response([0x1_0000_000A, 0xB, 0xC, 0xD, 0xE, 0xF]));
        Assert.Equal(is64 ? Resp64 : Resp32, resp.FunctionId);
        Assert.Equal(((ushort)0x8001, (ushort)0x0005), (resp.Sender, resp.Receiver));
        Assert.Equal(0u, resp.Flags);
        ulong[] expected = is64 ? [0x1_0000_000A, 0xB, 0xC, 0xD, 0xE] : [0xA, 0xB, 0xC, 0xD, 0xE];
        Assert.Equal(expected, resp.Payload);
    }

    // ---- FFA_MSG_SEND_DIRECT_RESP ---------------------------------------------------------------------

    [Fact]
    public void DirectResp32_RoundTrips()
    {
        var resp = new DirectResp(0x8001, 0x0000, 0, [9, 8, 7, 6, 5]);
        var frame = resp.Encode();
        Assert.Equal([Resp32, 0x8001_0000ul, 0, 9, 8, 7, 6, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], frame.ToArray());
        var decoded = Ok(DirectResp.Decode(frame));
        Assert.Equal(resp, decoded);
        Assert.Empty(decoded.Extended);
    }

    [Fact]
    public void DirectResp64_RoundTrips_WithX2UpperHalfAndX8ToX17()
    {
        var resp = new DirectResp(0x8001, 0x0000, 0, Values(5, 0x0101_0101_0101_0101), Is64: true)
        { X2High = 0x55, Extended = Values(10, 0x1000) };
        var frame = resp.Encode();
        Assert.Equal(Resp64, frame[0]);
        Assert.Equal(0x55_0000_0000ul, frame[2]);
        Assert.Equal(Values(10, 0x1000), Enumerable.Range(8, 10).Select(i => frame[i]));
        var decoded = Ok(DirectResp.Decode(frame));
        Assert.Equal(resp, decoded);
        Assert.Equal(0x55_0000_0000ul, decoded.X2);
        Assert.True(decoded.HasExtendedPayload);
    }

    [Fact]
    public void DirectResp64_WithZeroX8ToX17_HasNoExtendedPayload()
    {
        var decoded = Ok(DirectResp.Decode(new DirectResp(0x8001, 0, 0, [1], Is64: true).Encode()));
        Assert.Equal(10, decoded.Extended.Count);
        Assert.False(decoded.HasExtendedPayload);
    }

    [Fact]
    public void DirectResp32_ReadsOnlyW1ToW7()
    {
        var frame = SmcFrame.From([Resp32, 0x1_8001_0000, 0x1_0000_0000, 0xA_0000_0003, 4, 5, 6, 7, 8, 9]);
        var resp = Ok(DirectResp.Decode(frame));
        Assert.Equal(0ul, resp.X2);
        Assert.Equal([3ul, 4, 5, 6, 7], resp.Payload);
        Assert.Empty(resp.Extended);
    }

    [Fact]
    public void DirectResp_Forwarded_ClearsW2OfAPartitionMessage_AndDropsX8ToX17()
    {
        var resp = new DirectResp(0x8001, 0, 0, [1, 2], Is64: true) { X2High = 0xFF, Extended = Values(10, 3) };
        var forwarded = resp.Forwarded().Encode();
        Assert.Equal(0ul, forwarded[2]);
        Assert.All(Enumerable.Range(8, 10), i => Assert.Equal(0ul, forwarded[i]));
        Assert.Equal(1ul, forwarded[3]);

        var framework = new DirectResp(0x8001, 0, 0x8000_0005, [0], Is64: true) { Extended = Values(10, 3) };
        Assert.Equal(0x8000_0005ul, framework.Forwarded().Encode()[2]);
        Assert.Empty(framework.Forwarded().Extended);
    }

    [Fact]
    public void DirectResp_As32BitValues_CutsThePayload_AndKeepsTheFunctionId()
    {
        var resp = new DirectResp(0x8001, 0, 0, [0xAAAA_BBBB_1111_0001, 2, 0xFFFF_FFFF_FFFF_FFFF], Is64: true) { X2High = 1 };
        var frame = resp.As32BitValues().Encode();
        Assert.Equal(Resp64, frame[0]);
        Assert.Equal(0ul, frame[2]);
        Assert.Equal([0x1111_0001ul, 2, 0xFFFF_FFFF, 0, 0], Enumerable.Range(3, 5).Select(i => frame[i]));
    }

    // ---- FFA_MSG_SEND_DIRECT_REQ2 / RESP2 --------------------------------------------------------------

    [Fact]
    public void DirectReq2_RoundTrips_UuidInX2X3_PayloadX4ToX17()
    {
        var req = new DirectReq2(0x0000, 0x8001, Service, Values(14, 0x0101_0101_0101_0101)) { X1High = 3 };
        var frame = req.Encode();
        var (lo, hi) = Service.ToRegisters64();
        Assert.Equal(Req2, frame[0]);
        Assert.Equal(0x3_0000_8001ul, frame[1]);
        Assert.Equal((lo, hi), (frame[2], frame[3]));
        Assert.Equal(Values(14, 0x0101_0101_0101_0101), Enumerable.Range(4, 14).Select(i => frame[i]));
        Assert.Equal(req, Ok(DirectReq2.Decode(frame)));
    }

    [Fact]
    public void DirectReq2_Response_IsResp2_CappedAt14Registers()
    {
        var req = new DirectReq2(0x0005, 0x8001, FfaUuid.Nil, []);
        var resp = Assert.IsType<DirectResp2>(req.Response(Values(15, 0x1_0000_0000)));
        Assert.Equal(((ushort)0x8001, (ushort)0x0005), (resp.Sender, resp.Receiver));
        Assert.Equal(Values(14, 0x1_0000_0000), resp.Payload);
        Assert.Equal(Resp2, resp.FunctionId);
    }

    [Fact]
    public void DirectResp2_RoundTrips_X2X3AreNotRead_AndEncodedZero()
    {
        var resp = new DirectResp2(0x8001, 0x0000, Values(14, 7));
        var frame = resp.Encode();
        Assert.Equal([Resp2, 0x8001_0000ul, 0, 0], frame.ToArray().Take(4));
        Assert.Equal(resp, Ok(DirectResp2.Decode(frame)));
        frame[2] = 0x1234;
        frame[3] = 0x5678;
        Assert.Equal(resp, Ok(DirectResp2.Decode(frame)));
        Assert.Equal(0ul, Ok(DirectResp2.Decode(frame)).Encode()[2]);
    }

    [Fact]
    public void RecordsWithEqualPayloads_AreEqual()
    {
        Assert.Equal(new DirectReq2(1, 0x8001, Service, [1, 2]), new DirectReq2(1, 0x8001, Service, [1, 2]));
        Assert.Equal(new DirectReq2(1, 0x8001, Service, [1, 2]).GetHashCode(), new DirectReq2(1, 0x8001, Service, [1, 2]).GetHashCode());
        Assert.NotEqual(new DirectReq2(1, 0x8001, Service, [1, 2]), new DirectReq2(1, 0x8001, Service, [1, 3]));
        Assert.NotEqual(new DirectResp2(0x8001, 1, [1]), new DirectResp2(0x8001, 1, [2]));
        Assert.NotEqual(new DirectResp(0x8001, 1, 0, [1], true) { Extended = [1] }, new DirectResp(0x8001, 1, 0, [1], true));
    }

    // ---- any direct request ------------------------------------------------------------------------------

    [Fact]
    public void DecodeRequest_TellsTheThreeRequestsApart()
    {
        Assert.IsType<DirectReq>(DirectMessages.DecodeRequest(SmcFrame.From(Req32, 0x8001)));
        Assert.True(Assert.IsType<DirectReq>(DirectMessages.DecodeRequest(SmcFrame.From(Req64, 0x8001))).Is64);
        Assert.IsType<DirectReq2>(DirectMessages.DecodeRequest(SmcFrame.From(Req2, 0x8001)));
        Assert.Null(DirectMessages.DecodeRequest(SmcFrame.From(0x8400_006D, 0x8001_0000))); // FFA_RUN
        Assert.Null(DirectMessages.DecodeRequest(SmcFrame.From(Resp32, 0x8001_0000)));
        Assert.Null(DirectMessages.DecodeRequest(SmcFrame.From(Req32, 0x8001, 1))); // breaks direct-req.w2-mbz
    }

    [Fact]
    public void IDirectRequest_ExposesSenderReceiverAndPayload()
    {
        IDirectRequest req = Ok(DirectReq2.Decode(new DirectReq2(7, 0x8001, Service, [5, 6]).Encode()));
        Assert.Equal(((ushort)7, (ushort)0x8001), (req.Sender, req.Receiver));
        Assert.Equal(14, req.Payload.Count);
        Assert.Equal([5ul, 6], req.Payload.Take(2));
    }
}
