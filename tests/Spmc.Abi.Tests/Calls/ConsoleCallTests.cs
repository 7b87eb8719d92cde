using System.Text;
using Spmc.Abi.Calls;
using Spmc.Abi.Smccc;

namespace Spmc.Abi.Tests.Calls;

/// <summary>FFA_CONSOLE_LOG as a typed call: the count and the character registers of each width.</summary>
public class ConsoleCallTests
{
    private static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);

    [Fact]
    public void ConsoleLog32_PacksFourCharactersPerRegister_LittleEndian()
    {
        var frame = ConsoleLog.Of(Ascii("abcdefghi"), is64: false).Encode();
        Assert.Equal(0x8400_008Aul, frame[0]);
        Assert.Equal(9ul, frame[1]);
        Assert.Equal(0x6463_6261ul, frame[2]); // "abcd"
        Assert.Equal(0x6867_6665ul, frame[3]); // "efgh"
        Assert.Equal(0x69ul, frame[4]);        // "i"
        for (var i = 5; i < Registers.Count; i++) Assert.Equal(0ul, frame[i]);
    }

    [Fact]
    public void ConsoleLog64_PacksEightCharactersPerRegister_UpToX17()
    {
        var text = new string('x', 120) + "01234567";
        var frame = ConsoleLog.Of(Ascii(text), is64: true).Encode();
        Assert.Equal(0xC400_008Aul, frame[0]);
        Assert.Equal(128ul, frame[1]);
        Assert.Equal(0x7878_7878_7878_7878ul, frame[2]);
        Assert.Equal(0x3736_3534_3332_3130ul, frame[17]);
    }

    [Theory]
    [InlineData(false, "hello\n")]
    [InlineData(true, "hello\n")]
    [InlineData(false, "exactly twenty-four ch.\n")]
    [InlineData(true, "")]
    public void ConsoleLog_RoundTrips(bool is64, string text)
    {
        var call = ConsoleLog.Of(Ascii(text), is64);
        var decoded = ConsoleLog.Decode(call.Encode());
        Assert.True(decoded.Ok);
        Assert.Equal(call, decoded.Value);
        Assert.Equal(text, Encoding.ASCII.GetString(decoded.Value!.Characters.Span[..(int)decoded.Value.Count]));
    }

    [Fact]
    public void ConsoleLog_KeepsEveryCharacterRegister_WhateverTheCount()
    {
        // The count is the callee's to check: the decoder keeps it raw and all the characters the width carries.
        var frame = ConsoleLog.Of(Ascii("abcdef"), is64: false).Encode();
        frame[1] = 3;
        var decoded = ConsoleLog.Decode(frame).Value!;
        Assert.Equal(3ul, decoded.Count);
        Assert.Equal(24, decoded.Characters.Length);
        Assert.Equal(Ascii("abcdef"), decoded.Characters.Span[..6].ToArray());

        frame[1] = 0x1_0000_0000_0000;
        Assert.Equal(0ul, ConsoleLog.Decode(frame).Value!.Count); // SMC32: w1 only
        var wide = ConsoleLog.Of(Ascii("abc"), is64: true).Encode();
        wide[1] = 0x1_0000_0001;
        Assert.Equal(0x1_0000_0001ul, ConsoleLog.Decode(wide).Value!.Count);
    }

    [Fact]
    public void ConsoleLog32_ReadsOnlyW2ToW7()
    {
        var frame = ConsoleLog.Of(Ascii("abcd"), is64: false).Encode();
        frame[2] |= 0x4141_4141_0000_0000;
        frame[8] = 0x4242_4242;
        var decoded = ConsoleLog.Decode(frame).Value!;
        Assert.Equal(ConsoleLog.Of(Ascii("abcd"), is64: false), decoded);
    }

    [Fact]
    public void ConsoleLog_TooManyCharacters_CannotBeBuilt()
    {
        Assert.Throws<ArgumentException>(() => ConsoleLog.Of(new byte[25], is64: false));
        Assert.Throws<ArgumentException>(() => ConsoleLog.Of(new byte[129], is64: true));
        Assert.Throws<InvalidOperationException>(() => new ConsoleLog(1, new byte[25]).Encode());
    }

    [Fact]
    public void ConsoleLog_EqualityComparesTheCharacters()
    {
        Assert.Equal(ConsoleLog.Of(Ascii("ab"), false), ConsoleLog.Of(Ascii("ab"), false));
        Assert.NotEqual(ConsoleLog.Of(Ascii("ab"), false), ConsoleLog.Of(Ascii("ac"), false));
        Assert.NotEqual(ConsoleLog.Of(Ascii("ab"), false), ConsoleLog.Of(Ascii("ab"), true));
    }
}
