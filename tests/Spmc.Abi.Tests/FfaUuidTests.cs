using Spmc.Abi.Ffa;

namespace Spmc.Abi.Tests;

public class FfaUuidTests
{
    // The example of the ABI reference (ffa-abi.md §1.2): bytes in string order, split into little-endian words.
    private const string Example = "a1a2a3a4-b1b2-c1c2-d1d2-d3d4d5d6d7d8";

    [Fact]
    public void Parse_ThenToString_RoundTrips()
    {
        Assert.Equal(Example, FfaUuid.Parse(Example).ToString());
        const string other = "7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4a01";
        Assert.Equal(other, FfaUuid.Parse(other).ToString());
    }

    [Fact]
    public void Parse_AcceptsUpperCase_AndPrintsLowerCase()
    {
        Assert.Equal(Example, FfaUuid.Parse(Example.ToUpperInvariant()).ToString());
        Assert.Equal(FfaUuid.Parse(Example), FfaUuid.Parse(Example.ToUpperInvariant()));
    }

    [Fact]
    public void Registers32_AreLittleEndianWordsOfTheBytesInStringOrder()
    {
        var (w1, w2, w3, w4) = FfaUuid.Parse(Example).ToRegisters32();
        Assert.Equal(0xa4a3a2a1u, w1);
        Assert.Equal(0xc2c1b2b1u, w2);
        Assert.Equal(0xd4d3d2d1u, w3);
        Assert.Equal(0xd8d7d6d5u, w4);
    }

    [Fact]
    public void Registers64_AreLittleEndianDoubleWordsOfTheBytesInStringOrder()
    {
        var (lo, hi) = FfaUuid.Parse(Example).ToRegisters64();
        Assert.Equal(0xc2c1b2b1_a4a3a2a1ul, lo);
        Assert.Equal(0xd8d7d6d5_d4d3d2d1ul, hi);
    }

    [Fact]
    public void FromRegisters32_RoundTrips_AndIgnoresUpperHalves()
    {
        var uuid = FfaUuid.Parse(Example);
        Assert.Equal(uuid, FfaUuid.FromRegisters32(0xa4a3a2a1, 0xc2c1b2b1, 0xd4d3d2d1, 0xd8d7d6d5));
        Assert.Equal(uuid, FfaUuid.FromRegisters32(0xFFFF_FFFF_a4a3a2a1, 0x1_c2c1b2b1, 0xDEAD_0000_d4d3d2d1, 0x8000_0000_d8d7d6d5));
    }

    [Fact]
    public void FromRegisters64_RoundTrips()
    {
        var uuid = FfaUuid.Parse(Example);
        var (lo, hi) = uuid.ToRegisters64();
        Assert.Equal(uuid, FfaUuid.FromRegisters64(lo, hi));
        Assert.Equal(Example, FfaUuid.FromRegisters64(0xc2c1b2b1_a4a3a2a1, 0xd8d7d6d5_d4d3d2d1).ToString());
    }

    [Fact]
    public void WriteTo_WritesTheBytesInStringOrder()
    {
        var bytes = new byte[16];
        FfaUuid.Parse(Example).WriteTo(bytes);
        Assert.Equal(Convert.FromHexString("a1a2a3a4b1b2c1c2d1d2d3d4d5d6d7d8"), bytes);
        Assert.Equal(FfaUuid.Parse(Example), FfaUuid.FromBytes(bytes));
    }

    [Fact]
    public void FromBytes_ShorterThan16_Throws() => Assert.Throws<ArgumentException>(() => FfaUuid.FromBytes(new byte[15]));

    [Fact]
    public void Nil_IsAllZero()
    {
        Assert.True(FfaUuid.Nil.IsNil);
        Assert.True(FfaUuid.Parse("00000000-0000-0000-0000-000000000000").IsNil);
        Assert.False(FfaUuid.Parse("00000000-0000-0000-0000-000000000001").IsNil);
        Assert.Equal("00000000-0000-0000-0000-000000000000", FfaUuid.Nil.ToString());
        Assert.Equal((0u, 0u, 0u, 0u), FfaUuid.Nil.ToRegisters32());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("not a uuid")]
    [InlineData("a1a2a3a4b1b2c1c2d1d2d3d4d5d6d7d8")]         // no dashes
    [InlineData("{a1a2a3a4-b1b2-c1c2-d1d2-d3d4d5d6d7d8}")]   // braces
    [InlineData("a1a2a3a4-b1b2-c1c2-d1d2-d3d4d5d6d7")]       // short
    [InlineData("a1a2a3a4-b1b2-c1c2-d1d2-d3d4d5d6d7d8d9")]   // long
    [InlineData("g1a2a3a4-b1b2-c1c2-d1d2-d3d4d5d6d7d8")]     // not hex
    [InlineData("a1a2a3a4b-1b2-c1c2-d1d2-d3d4d5d6d7d8")]     // groups misplaced
    public void TryParse_RejectsNonCanonicalText(string? text)
    {
        Assert.False(FfaUuid.TryParse(text, out var uuid));
        Assert.True(uuid.IsNil);
    }

    [Fact]
    public void Parse_Invalid_ThrowsFormatException() => Assert.Throws<FormatException>(() => FfaUuid.Parse("nope"));

    [Fact]
    public void Equality_ComparesAllSixteenBytes()
    {
        var a = FfaUuid.Parse("7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4a01");
        var b = FfaUuid.Parse("7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4a02");
        var c = FfaUuid.Parse("8a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4a01");
        Assert.NotEqual(a, b);
        Assert.NotEqual(a, c);
        Assert.True(a == FfaUuid.Parse("7A3F2B1C-5D4E-4F60-8A9B-0C1D2E3F4A01"));
        Assert.True(a != b);
        Assert.Equal(a.GetHashCode(), FfaUuid.Parse("7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4a01").GetHashCode());
        Assert.False(a.Equals((object)"7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4a01"));
    }
}
