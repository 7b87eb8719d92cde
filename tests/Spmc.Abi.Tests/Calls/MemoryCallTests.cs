using Spmc.Abi.Calls;
using Spmc.Abi.Descriptors;
using Spmc.Abi.Ffa;
using Spmc.Abi.Smccc;

namespace Spmc.Abi.Tests.Calls;

/// <summary>The memory management records: encode→decode round trips per width, and each register rule of the decoders.</summary>
public class MemoryCallTests
{
    private static readonly MemoryHandle Handle = new(0x1234_5678_9ABC_DEF0);

    private static T Ok<T>(ParseResult<T> parsed)
    {
        Assert.True(parsed.Ok, parsed.Error);
        return parsed.Value!;
    }

    private static void Refused<T>(ParseResult<T> parsed, string rule)
    {
        Assert.False(parsed.Ok);
        Assert.Equal(rule, parsed.Rejection!.Rule);
        Assert.Equal(FfaError.InvalidParameters, parsed.Rejection.Code);
    }

    private static void RestIsZero(in SmcFrame frame, int from)
    {
        for (var i = from; i < Registers.Count; i++) Assert.Equal(0ul, frame[i]);
    }

    // ---- SHARE / LEND / DONATE / RETRIEVE_REQ ----------------------------------------------------------------

    [Theory]
    [InlineData(false, 0x8400_0073u)]
    [InlineData(true, 0xC400_0073u)]
    public void MemShare_RoundTrips(bool is64, uint id)
    {
        var call = new MemShare(0x90, 0x80, 0x8000_0000, 1, is64);
        var frame = call.Encode();
        Assert.Equal(id, frame.FunctionId);
        Assert.Equal([id, 0x90ul, 0x80ul, 0x8000_0000ul, 1ul], frame.ToArray()[..5]);
        RestIsZero(frame, 5);
        Assert.Equal(call, Ok(MemShare.Decode(frame)));
    }

    [Theory]
    [InlineData(false, 0x8400_0072u)]
    [InlineData(true, 0xC400_0072u)]
    public void MemLend_RoundTrips(bool is64, uint id)
    {
        var call = new MemLend(0x70, 0x70, Is64: is64);
        var frame = call.Encode();
        Assert.Equal(id, frame.FunctionId);
        RestIsZero(frame, 3);
        var decoded = Ok(MemLend.Decode(frame));
        Assert.Equal(call, decoded);
        Assert.False(decoded.UsesOwnBuffer);
    }

    [Theory]
    [InlineData(false, 0x8400_0071u)]
    [InlineData(true, 0xC400_0071u)]
    public void MemDonate_RoundTrips(bool is64, uint id)
    {
        var call = new MemDonate(0x70, 0x70, Is64: is64);
        var frame = call.Encode();
        Assert.Equal(id, frame.FunctionId);
        Assert.Equal(call, Ok(MemDonate.Decode(frame)));
    }

    [Theory]
    [InlineData(false, 0x8400_0074u)]
    [InlineData(true, 0xC400_0074u)]
    public void MemRetrieveReq_RoundTrips(bool is64, uint id)
    {
        var call = new MemRetrieveReq(0x50, 0x50, 0, 2, is64);
        var frame = call.Encode();
        Assert.Equal(id, frame.FunctionId);
        var decoded = Ok(MemRetrieveReq.Decode(frame));
        Assert.Equal(call, decoded);
        Assert.True(decoded.UsesOwnBuffer);
    }

    [Fact]
    public void Smc32Send_ReadsOnlyTheLowHalves()
    {
        var frame = SmcFrame.From(0x8400_0073, 0xFFFF_0000_0000_0090, 0xFFFF_0000_0000_0080, 0xFFFF_0000_0000_0000, 0xFFFF_0000_0000_0000);
        var call = Ok(MemShare.Decode(frame));
        Assert.Equal((0x90u, 0x80u, 0ul, 0ul), (call.TotalLength, call.FragmentLength, call.Buffer, call.PageCount));
        Assert.False(call.UsesOwnBuffer);
    }

    /// <summary>For SMC64 the whole of x4 counts: a page count in x4[63:32] still names a buffer of the caller's own.</summary>
    [Fact]
    public void Smc64Send_KeepsAllOfX4()
    {
        var call = Ok(MemLend.Decode(SmcFrame.From(0xC400_0072, 0x70, 0x70, 0, 1UL << 32)));
        Assert.Equal(1UL << 32, call.PageCount);
        Assert.True(call.UsesOwnBuffer);
    }

    [Theory]
    [InlineData(1UL << 32, 0x70UL)]
    [InlineData(0x70UL, 1UL << 32)]
    public void Smc64Send_LengthsWiderThan32Bits_AreRefused(ulong total, ulong fragment)
    {
        Refused(MemShare.Decode(SmcFrame.From(0xC400_0073, total, fragment)), "mem-send.lengths-32-bit");
        Refused(MemLend.Decode(SmcFrame.From(0xC400_0072, total, fragment)), "mem-send.lengths-32-bit");
        Refused(MemDonate.Decode(SmcFrame.From(0xC400_0071, total, fragment)), "mem-send.lengths-32-bit");
        Refused(MemRetrieveReq.Decode(SmcFrame.From(0xC400_0074, total, fragment)), "mem-retrieve.lengths-32-bit");
    }

    [Theory]
    [InlineData(0x8000_0000UL, 0x70UL)]
    [InlineData(0x70UL, 0xFFFF_FFFFUL)]
    public void Send_LengthsAbove2To31_AreRefused(ulong total, ulong fragment)
    {
        Refused(MemLend.Decode(SmcFrame.From(0x8400_0072, total, fragment)), "mem-send.lengths-absurd");
        Refused(MemShare.Decode(SmcFrame.From(0xC400_0073, total, fragment)), "mem-send.lengths-absurd");
        Refused(MemDonate.Decode(SmcFrame.From(0x8400_0071, total, fragment)), "mem-send.lengths-absurd");
        Refused(MemRetrieveReq.Decode(SmcFrame.From(0x8400_0074, total, fragment)), "mem-retrieve.lengths-absurd");
    }

    // ---- RETRIEVE_RESP ---------------------------------------------------------------------------------------

    [Fact]
    public void MemRetrieveResp_RoundTrips()
    {
        var resp = new MemRetrieveResp(4896, 4096);
        var frame = resp.Encode();
        Assert.Equal(0x8400_0075u, frame.FunctionId);
        Assert.Equal([0x8400_0075ul, 4896ul, 4096ul], frame.ToArray()[..3]);
        RestIsZero(frame, 3);
        Assert.Equal(resp, Ok(MemRetrieveResp.Decode(frame)));
    }

    // ---- FRAG_TX / FRAG_RX -----------------------------------------------------------------------------------

    [Fact]
    public void MemFragTx_RoundTrips()
    {
        var call = new MemFragTx(Handle, 0x40, 0x0001);
        var frame = call.Encode();
        Assert.Equal([0x8400_007Bul, 0x9ABC_DEF0ul, 0x1234_5678ul, 0x40ul, 0x0001_0000ul], frame.ToArray()[..5]);
        RestIsZero(frame, 5);
        Assert.Equal(call, Ok(MemFragTx.Decode(frame)));
    }

    [Fact]
    public void MemFragTx_AsTheRelayersAnswer_HasW4Zero()
    {
        var frame = new MemFragTx(Handle, 800).Encode();
        Assert.Equal(0ul, frame[4]);
        Assert.Equal(800ul, frame[3]);
    }

    [Theory]
    [InlineData(0x1UL)]
    [InlineData(0x8001_0001UL)]
    public void MemFragTx_W4LowBits_AreRefused(ulong w4) =>
        Refused(MemFragTx.Decode(SmcFrame.From(0x8400_007B, 1, 0, 16, w4)), "mem-frag-tx.w4-low-mbz");

    [Fact]
    public void MemFragRx_RoundTrips()
    {
        var call = new MemFragRx(Handle, 4096, 0x0002);
        var frame = call.Encode();
        Assert.Equal([0x8400_007Aul, 0x9ABC_DEF0ul, 0x1234_5678ul, 4096ul, 0x0002_0000ul], frame.ToArray()[..5]);
        RestIsZero(frame, 5);
        Assert.Equal(call, Ok(MemFragRx.Decode(frame)));
    }

    [Theory]
    [InlineData(0x1UL)]
    [InlineData(0xFFFFUL)]
    public void MemFragRx_W4LowBits_AreRefused(ulong w4) =>
        Refused(MemFragRx.Decode(SmcFrame.From(0x8400_007A, 1, 0, 0, w4)), "mem-frag-rx.w4-low-mbz");

    [Fact]
    public void FragCalls_ReadTheHandleFromW1AndW2Only()
    {
        var frame = SmcFrame.From(0x8400_007A, 0xAAAA_AAAA_0000_0001, 0xBBBB_BBBB_0000_0002, 0);
        Assert.Equal(new MemoryHandle(0x0000_0002_0000_0001), Ok(MemFragRx.Decode(frame)).Handle);
    }

    // ---- RELINQUISH / RECLAIM --------------------------------------------------------------------------------

    [Fact]
    public void MemRelinquish_RoundTrips()
    {
        var frame = new MemRelinquish().Encode();
        Assert.Equal(0x8400_0076u, frame.FunctionId);
        RestIsZero(frame, 1);
        Assert.True(MemRelinquish.Decode(frame).Ok);
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(MemReclaim.ZeroMemory)]
    public void MemReclaim_RoundTrips(uint flags)
    {
        var call = new MemReclaim(Handle, flags);
        var frame = call.Encode();
        Assert.Equal([0x8400_0077ul, 0x9ABC_DEF0ul, 0x1234_5678ul, flags], frame.ToArray()[..4]);
        RestIsZero(frame, 4);
        var decoded = Ok(MemReclaim.Decode(frame));
        Assert.Equal(call, decoded);
        Assert.Equal(flags != 0, decoded.Zero);
    }

    [Theory]
    [InlineData(0x2UL)] // time slicing: not supported
    [InlineData(0x3UL)]
    [InlineData(0x8000_0000UL)]
    public void MemReclaim_FlagsOtherThanBit0_AreRefused(ulong flags) =>
        Refused(MemReclaim.Decode(SmcFrame.From(0x8400_0077, 1, 0, flags)), "mem-reclaim.flags-mbz");
}
