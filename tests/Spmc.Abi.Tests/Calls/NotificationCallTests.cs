using Spmc.Abi.Calls;
using Spmc.Abi.Smccc;

namespace Spmc.Abi.Tests.Calls;

public class NotificationCallTests
{
    private static void RoundTrips<T>(T value) where T : IFfaCall<T>
    {
        var decoded = T.Decode(value.Encode());
        Assert.True(decoded.Ok, decoded.Error);
        Assert.Equal(value, decoded.Value);
    }

    [Fact]
    public void BitmapCreate_W1IsTheVmId_W2TheVcpuCount_ReservedBitsKept()
    {
        Assert.Equal([0x8400_007DUL, 0x0001_0005, 8], new NotificationBitmapCreate(5, 8, ReservedW1: 1).Encode().ToArray()[..3]);
        var d = NotificationBitmapCreate.Decode(SmcFrame.From(0x8400_007D, 0xFFFF_FFFF_0002_0001, 4)).Value!;
        Assert.Equal(new NotificationBitmapCreate(1, 4, 2), d);
        Assert.Equal(0x0002_0001u, d.W1);
        RoundTrips(new NotificationBitmapCreate(0, 0));
        RoundTrips(new NotificationBitmapCreate(0xFFFF, 0xFFFF_FFFF, 0xFFFF));
    }

    [Fact]
    public void BitmapDestroy_RoundTrips_ReservedBitsKept()
    {
        Assert.Equal([0x8400_007EUL, 0x0003_0007], new NotificationBitmapDestroy(7, 3).Encode().ToArray()[..2]);
        RoundTrips(new NotificationBitmapDestroy(0));
        RoundTrips(new NotificationBitmapDestroy(1, 0x8000));
        Assert.Equal(0x8000_0001u, new NotificationBitmapDestroy(1, 0x8000).W1);
    }

    [Fact]
    public void Bind_W1IsSenderAndReceiver_W3W4TheBitmap()
    {
        var bind = new NotificationBind(0x8001, 0x0005, NotificationBind.PerVcpuFlag, 0x1234_5678_9ABC_DEF0);
        Assert.Equal([0x8400_007FUL, 0x8001_0005, 1, 0x9ABC_DEF0, 0x1234_5678], bind.Encode().ToArray()[..5]);
        Assert.True(bind.PerVcpu);
        RoundTrips(bind);
        RoundTrips(new NotificationBind(0, 0, 0xFFFF_FFFF, 0));
    }

    [Fact]
    public void Unbind_KeepsTheReservedW2()
    {
        var unbind = new NotificationUnbind(0x8001, 0x0005, 0xF0, ReservedW2: 1);
        Assert.Equal([0x8400_0080UL, 0x8001_0005, 1, 0xF0, 0], unbind.Encode().ToArray()[..5]);
        RoundTrips(unbind);
        RoundTrips(new NotificationUnbind(1, 2, ulong.MaxValue));
    }

    [Fact]
    public void Set_FlagsNameTheVcpuAndTheDelaySriBit()
    {
        var set = new NotificationSet(0x0005, 0x8001, 0x0003_0003, 1UL << 63);
        Assert.Equal([0x8400_0081UL, 0x0005_8001, 0x0003_0003, 0, 0x8000_0000], set.Encode().ToArray()[..5]);
        Assert.True(set.PerVcpu);
        Assert.True(set.DelaySri);
        Assert.Equal(3, set.Vcpu);
        RoundTrips(set);
        RoundTrips(new NotificationSet(0, 0, 0, 0));
    }

    [Fact]
    public void Get_W1IsVcpuAndReceiver()
    {
        var get = new NotificationGet(0x0005, 2, NotificationGet.FromSpsFlag | NotificationGet.FromSpmFlag);
        Assert.Equal([0x8400_0082UL, 0x0002_0005, 5], get.Encode().ToArray()[..3]);
        RoundTrips(get);
        RoundTrips(new NotificationGet(0xFFFF, 0xFFFF, 0xFFFF_FFF0));
    }

    [Fact]
    public void InfoGet_WidthFollowsTheFunctionId()
    {
        Assert.Equal(0xC400_0083UL, new NotificationInfoGet().Encode()[0]);
        Assert.Equal(0x8400_0083UL, new NotificationInfoGet(Is64: false).Encode()[0]);
        RoundTrips(new NotificationInfoGet(true));
        RoundTrips(new NotificationInfoGet(false));
    }

    [Fact]
    public void Smc32Decoders_ReadTheWView_AndCheckNoReservedBits()
    {
        var frame = SmcFrame.From(0x8400_0080, 0xAAAA_AAAA_0001_0002, 0xFFFF_FFFF, 0x1_0000_0003, 4);
        var decoded = NotificationUnbind.Decode(frame);
        Assert.True(decoded.Ok);
        Assert.Equal(new NotificationUnbind(1, 2, 0x4_0000_0003, 0xFFFF_FFFF), decoded.Value);
    }

    [Fact]
    public void GetAnswer_PutsTheThreeBitmapsInW2ToW7_LowHalfFirst()
    {
        var answer = new NotificationGetAnswer(0x8000_0001_0000_0004, 0x1_0000_0000, 1ul << 32);
        Assert.Equal([0x8400_0061UL, 0, 4, 0x8000_0001, 0, 1, 0, 1], answer.Encode().ToArray()[..8]);
        Assert.All(answer.Encode().ToArray()[8..], r => Assert.Equal(0ul, r));
        Assert.Equal(answer, NotificationGetAnswer.Decode(answer.Encode()));
        Assert.Equal(new NotificationGetAnswer(0, 0, 0), NotificationGetAnswer.Decode(new NotificationGetAnswer(0, 0, 0).Encode()));
        var all = new NotificationGetAnswer(ulong.MaxValue, ulong.MaxValue, ulong.MaxValue);
        Assert.Equal(all, NotificationGetAnswer.Decode(all.Encode()));
    }

    [Fact]
    public void GetAnswer_DecodeRefusesOtherFrames()
    {
        Assert.Null(NotificationGetAnswer.Decode(SmcFrame.From(0x8400_0060, 0, 0xFFFF_FFFE))); // FFA_ERROR_32
        Assert.Null(NotificationGetAnswer.Decode(SmcFrame.From(0xC400_0061, 0, 1)));           // FFA_SUCCESS_64
    }

    [Fact]
    public void InfoGetAnswer64_PacksFourIdsPerRegister_FromX3()
    {
        var answer = new NotificationInfoGetAnswer([0x8001, 0x8002, 0x0000, 0x0001, 0x8005], More: true);
        var frame = answer.Encode();
        Assert.Equal([0xC400_0061UL, 0, 1 | (5ul << 7), 0x0001_0000_8002_8001, 0x8005, 0, 0, 0], frame.ToArray()[..8]);
        Assert.All(frame.ToArray()[8..], r => Assert.Equal(0ul, r));
        var decoded = NotificationInfoGetAnswer.Decode(frame)!;
        Assert.Equal(answer.Endpoints, decoded.Endpoints);
        Assert.True(decoded.More);
        Assert.True(decoded.Is64);
    }

    [Fact]
    public void InfoGetAnswer32_PacksTwoIdsPerRegister_FromW3()
    {
        var answer = new NotificationInfoGetAnswer([0x8002, 0x8001, 0x0000], More: false, Is64: false);
        var frame = answer.Encode();
        Assert.Equal([0x8400_0061UL, 0, 3ul << 7, 0x8001_8002, 0x0000, 0, 0, 0], frame.ToArray()[..8]);
        var decoded = NotificationInfoGetAnswer.Decode(frame)!;
        Assert.Equal(answer.Endpoints, decoded.Endpoints);
        Assert.False(decoded.More);
        Assert.False(decoded.Is64);
    }

    [Theory]
    [InlineData(true, 20)]
    [InlineData(false, 10)]
    public void InfoGetAnswer_HoldsAtMostTheWidthsIdCount(bool is64, int max)
    {
        Assert.Equal(max, NotificationInfoGetAnswer.MaxIds(is64));
        ushort[] ids = [.. Enumerable.Range(0, max).Select(i => (ushort)(0x8001 + i))];
        var full = new NotificationInfoGetAnswer(ids, More: true, is64);
        Assert.Equal(ids, NotificationInfoGetAnswer.Decode(full.Encode())!.Endpoints);
        Assert.Equal((ulong)max << 7 | 1, full.Encode()[2]);
        Assert.Throws<InvalidOperationException>(() => new NotificationInfoGetAnswer([.. ids, 0x9000], More: false, is64).Encode());
    }

    [Fact]
    public void InfoGetAnswer_DecodeRefusesOtherFrames()
    {
        Assert.Null(NotificationInfoGetAnswer.Decode(SmcFrame.From(0x8400_0060, 0, 0xFFFF_FFF7)));        // FFA_ERROR(NO_DATA)
        Assert.Null(NotificationInfoGetAnswer.Decode(SmcFrame.From(0x8400_0061, 0, 11ul << 7)));          // 11 IDs in SMC32
        Assert.Null(NotificationInfoGetAnswer.Decode(SmcFrame.From(0xC400_0061, 0, 1ul << 7 | 1ul << 12))); // a list with a vCPU ID
    }
}
