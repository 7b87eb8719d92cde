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
}
