using Spmc.Abi.Calls;
using Spmc.Abi.Smccc;

namespace Spmc.Abi.Tests.Calls;

/// <summary>The FF-A 1.3 extended notification records (DEN0077 v1.3 §16.1, §16.7..§16.10, table 13.14) and <see cref="NotificationBits"/>.</summary>
public class ExtendedNotificationCallTests
{
    private static void RoundTrips<T>(T value) where T : IFfaCall<T>
    {
        var decoded = T.Decode(value.Encode());
        Assert.True(decoded.Ok, decoded.Error);
        Assert.Equal(value, decoded.Value);
    }

    private static readonly NotificationBits Sample = new(1, 2, 3, 4, 5, 0x8000_0000_0000_0000);

    [Fact]
    public void Bits_WordIIsNotifications64iTo64iPlus63()
    {
        var bits = new NotificationBits(0b101, 0, 0, 0, 1ul << 44, 1ul << 63);
        Assert.Equal([0, 2, 300, 383], bits.Bits());
        Assert.Equal(0b101ul, bits.Low);
        Assert.Equal(1ul << 44, bits[4]);
        Assert.False(bits.IsEmpty);
        Assert.True(NotificationBits.None.IsEmpty);
        Assert.Equal(new NotificationBits(7, 0, 0, 0, 0, 0), (NotificationBits)7ul);
    }

    [Theory]
    [InlineData(0, 0ul, 0ul)]
    [InlineData(1, 1ul, 0ul)]
    [InlineData(64, ulong.MaxValue, 0ul)]
    [InlineData(65, ulong.MaxValue, 1ul)]
    [InlineData(128, ulong.MaxValue, ulong.MaxValue)]
    public void Below_SetsTheFirstCountBits(int count, ulong w0, ulong w1)
    {
        var below = NotificationBits.Below(count);
        Assert.Equal(w0, below.W0);
        Assert.Equal(w1, below.W1);
        Assert.Equal(count, below.Bits().Count());
        Assert.Equal(384, NotificationBits.Below(384).Bits().Count());
    }

    [Fact]
    public void FirstAtOrAbove_FindsTheFirstNotificationBeyondACount()
    {
        var bits = new NotificationBits(1, 1, 0, 0, 0, 0); // 0 and 64
        Assert.Equal(64, bits.FirstAtOrAbove(64));
        Assert.Equal(0, bits.FirstAtOrAbove(0));
        Assert.Null(bits.FirstAtOrAbove(65));
    }

    [Fact]
    public void Operators_AreWordwise()
    {
        var a = new NotificationBits(0b1100, 0, 0, 0, 0, 1);
        var b = new NotificationBits(0b1010, 0, 0, 0, 0, 3);
        Assert.Equal(new NotificationBits(0b1000, 0, 0, 0, 0, 1), a & b);
        Assert.Equal(new NotificationBits(0b1110, 0, 0, 0, 0, 3), a | b);
        Assert.Equal(new NotificationBits(~0b1100ul, ulong.MaxValue, ulong.MaxValue, ulong.MaxValue, ulong.MaxValue, ~1ul), ~a);
    }

    [Fact]
    public void ToString_IsOneHexNumber()
    {
        Assert.Equal("0x5", new NotificationBits(5, 0, 0, 0, 0, 0).ToString());
        Assert.Equal("0x1_0000000000000002", new NotificationBits(2, 1, 0, 0, 0, 0).ToString());
    }

    [Fact]
    public void BitmapCreate_W3IsTheNotificationCount()
    {
        var create = new NotificationBitmapCreate(0, 4, W3: 0xFFFF_FE40);
        Assert.Equal(0x40, create.ExtraNotifications);
        Assert.Equal([0x8400_007DUL, 0, 4, 0xFFFF_FE40], create.Encode().ToArray()[..4]);
        RoundTrips(create);
    }

    [Fact]
    public void Features4_EncodesPerVcpuBitsAndCounts()
    {
        var f = new NotificationFeatures(true, true, 320, 320);
        Assert.Equal(0x3u | (320u << 2) | (320u << 11), f.Encode());
        Assert.Equal(f, NotificationFeatures.Decode(f.Encode()));
        Assert.Equal(new NotificationFeatures(false, true, 0, 5), NotificationFeatures.Decode(0x2 | (5u << 11) | 0xFFF0_0000));
    }

    [Fact]
    public void Bind2_X2IsTheFlags_X3ToX8TheBitmap()
    {
        var bind = new NotificationBind2(0x8001, 0x8003, 1, Sample);
        Assert.Equal([0xC400_0094UL, 0x8001_8003, 1, 1, 2, 3, 4, 5, 0x8000_0000_0000_0000, 0], bind.Encode().ToArray()[..10]);
        Assert.True(bind.PerVcpu);
        RoundTrips(bind);
        RoundTrips(new NotificationUnbind2(0x8001, 0x8003, Sample, ReservedX2: 9));
        Assert.Equal(0xC400_0095UL, new NotificationUnbind2(1, 2, Sample).Encode()[0]);
    }

    [Fact]
    public void Set2_VcpuIsX2Bits63To16()
    {
        var set = new NotificationSet2(0x8001, 0x8003, (0x1_0000ul << 16) | 0b11, Sample);
        Assert.True(set.PerVcpu);
        Assert.True(set.DelaySri);
        Assert.Equal(0x1_0000ul, set.Vcpu);
        Assert.Equal(0xC400_0096UL, set.Encode()[0]);
        RoundTrips(set);
    }

    [Fact]
    public void Get2_MasksAreX3ToX16()
    {
        var get = new NotificationGet2(0x8003, 2, 0xF, Sample, new NotificationBits(6, 0, 0, 0, 0, 7), 8, 9);
        var frame = get.Encode();
        Assert.Equal([0xC400_0097UL, 0x0002_8003, 0xF, 1, 2, 3, 4, 5, 0x8000_0000_0000_0000, 6, 0, 0, 0, 0, 7, 8, 9, 0], frame.ToArray()[..18]);
        RoundTrips(get);
    }

    [Fact]
    public void Get2Answer_IsSuccess64_X3ToX16()
    {
        var answer = new NotificationGet2Answer(Sample, new NotificationBits(6, 0, 0, 0, 0, 7), 1, 2);
        var frame = answer.Encode();
        Assert.Equal([0xC400_0061UL, 0, 0, 1, 2, 3, 4, 5, 0x8000_0000_0000_0000, 6, 0, 0, 0, 0, 7, 1, 2, 0], frame.ToArray()[..18]);
        Assert.Equal(answer, NotificationGet2Answer.Decode(frame));
        Assert.Null(NotificationGet2Answer.Decode(SmcFrame.From(0x8400_0061)));
    }

    [Theory]
    [InlineData(0ul, 0ul, 0ul, "0x0")]
    [InlineData(0x20ul, 0ul, 0ul, "0x20")]
    [InlineData(1ul, 0x10ul, 0ul, "0x100000000000000001")]
    [InlineData(0ul, 0ul, 0xABul, "0xAB00000000000000000000000000000000")]
    public void ToHex_IsOneNumber_AsWideAsItsHighestWord(ulong w0, ulong w1, ulong w2, string hex) =>
        Assert.Equal(hex, new NotificationBits(w0, w1, w2, 0, 0, 0).ToHex());
}
