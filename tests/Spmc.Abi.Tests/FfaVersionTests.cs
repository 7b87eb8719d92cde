using Spmc.Abi.Ffa;

namespace Spmc.Abi.Tests;

public class FfaVersionTests
{
    [Theory]
    [InlineData(0x0001_0000u, 1, 0)]
    [InlineData(0x0001_0001u, 1, 1)]
    [InlineData(0x0001_0002u, 1, 2)]
    [InlineData(0x0001_0003u, 1, 3)]
    [InlineData(0x7FFF_FFFFu, 0x7FFF, 0xFFFF)]
    public void Decode_SplitsMajorAndMinor(uint encoded, int major, int minor)
    {
        var version = FfaVersion.Decode(encoded);
        Assert.NotNull(version);
        Assert.Equal(major, version.Value.Major);
        Assert.Equal(minor, version.Value.Minor);
    }

    [Theory]
    [InlineData(0x8000_0000u)]
    [InlineData(0x8001_0002u)]
    [InlineData(0xFFFF_FFFFu)]
    public void Decode_Bit31Set_IsNotAVersion(uint encoded) => Assert.Null(FfaVersion.Decode(encoded));

    [Fact]
    public void Encoded_IsMajorShiftedLeft16OrMinor()
    {
        Assert.Equal(0x0001_0000u, FfaVersion.V1_0.Encoded);
        Assert.Equal(0x0001_0001u, FfaVersion.V1_1.Encoded);
        Assert.Equal(0x0001_0002u, FfaVersion.V1_2.Encoded);
        Assert.Equal(0x0001_0003u, FfaVersion.V1_3.Encoded);
        Assert.Equal(0x0002_0005u, new FfaVersion(2, 5).Encoded);
    }

    [Theory]
    [InlineData(0x0001_0000u)]
    [InlineData(0x0001_0002u)]
    [InlineData(0x1234_5678u)]
    public void DecodeThenEncode_RoundTrips(uint encoded) => Assert.Equal(encoded, FfaVersion.Decode(encoded)!.Value.Encoded);

    [Theory]
    [InlineData(1, 0, 1, 2, true)]   // older caller, newer callee: callee serves the older ABI
    [InlineData(1, 2, 1, 2, true)]   // same version
    [InlineData(1, 1, 1, 2, true)]
    [InlineData(1, 2, 1, 1, false)]  // caller minor above the callee's
    [InlineData(1, 3, 1, 2, false)]
    [InlineData(2, 0, 1, 2, false)]  // major mismatch
    [InlineData(0, 1, 1, 2, false)]
    [InlineData(1, 0, 2, 0, false)]
    public void IsCompatibleWith_NeedsSameMajorAndCallerMinorNotAbove(int cMaj, int cMin, int eMaj, int eMin, bool expected) =>
        Assert.Equal(expected, new FfaVersion((ushort)cMaj, (ushort)cMin).IsCompatibleWith(new FfaVersion((ushort)eMaj, (ushort)eMin)));

    [Fact]
    public void Comparison_FollowsEncodedOrder()
    {
        Assert.True(FfaVersion.V1_0 < FfaVersion.V1_1);
        Assert.True(FfaVersion.V1_2 > FfaVersion.V1_1);
        Assert.True(FfaVersion.V1_2 >= new FfaVersion(1, 2));
        Assert.True(FfaVersion.V1_2 <= new FfaVersion(1, 2));
        Assert.False(FfaVersion.V1_2 <= FfaVersion.V1_1);
        Assert.True(new FfaVersion(2, 0) > new FfaVersion(1, 0xFFFF));
        Assert.Equal(0, FfaVersion.V1_1.CompareTo(new FfaVersion(1, 1)));
        Assert.True(FfaVersion.V1_0.CompareTo(FfaVersion.V1_2) < 0);
    }

    [Theory]
    [InlineData("1.0", 1, 0)]
    [InlineData("1.1", 1, 1)]
    [InlineData("1.2", 1, 2)]
    [InlineData(" 1.2 ", 1, 2)]
    [InlineData("2.13", 2, 13)]
    public void TryParse_AcceptsMajorDotMinor(string text, int major, int minor)
    {
        Assert.True(FfaVersion.TryParse(text, out var v));
        Assert.Equal(new FfaVersion((ushort)major, (ushort)minor), v);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("x")]
    [InlineData("1")]
    [InlineData("1.")]
    [InlineData(".2")]
    [InlineData("1.2.0")]
    [InlineData("+1.2")]
    [InlineData("-1.2")]
    [InlineData("1.-2")]
    [InlineData("1.65536")]   // minor does not fit 16 bits
    [InlineData("32768.0")]   // major does not fit 15 bits (bit 31 must stay clear)
    [InlineData("0x1.0x2")]
    public void TryParse_RejectsAnythingElse(string? text) => Assert.False(FfaVersion.TryParse(text, out _));

    [Fact]
    public void ToString_IsMajorDotMinor()
    {
        Assert.Equal("1.2", FfaVersion.V1_2.ToString());
        Assert.Equal("1.0", FfaVersion.V1_0.ToString());
    }

    [Fact]
    public void Supported_Is_1_0_To_1_3()
    {
        Assert.Equal([FfaVersion.V1_0, FfaVersion.V1_1, FfaVersion.V1_2, FfaVersion.V1_3], FfaVersion.Supported);
    }
}
