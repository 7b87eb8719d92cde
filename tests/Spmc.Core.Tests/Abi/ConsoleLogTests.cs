using Spmc.Core.Tests.Support;
using static Spmc.Core.Tests.Support.Manifests;

namespace Spmc.Core.Tests.Abi;

/// <summary>FFA_CONSOLE_LOG (ffa-abi.md §1.4 and §8.4; Hafnium api_ffa_console_log).</summary>
public class ConsoleLogTests
{
    private static (ushort Endpoint, string Text)[] Lines(TestSystem sys) => [.. sys.State.Console.Select(l => (l.Endpoint, l.Text))];

    [Theory]
    [InlineData(Host, false)]
    [InlineData(Host, true)]
    [InlineData(Vm1, false)]
    public void ConsoleLog_FromTheNormalWorld_IsNotSupported(ushort caller, bool is64)
    {
        var sys = TestSystem.Rich();
        Expect.Error(sys.Call(caller, is64 ? Ffa.ConsoleLog64("hi\n") : Ffa.ConsoleLog32("hi\n")), Err.NotSupported, "dispatch.secure-only");
        Assert.Empty(sys.State.Console);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ConsoleLog_CountZero_IsInvalid(bool is64)
    {
        var sys = TestSystem.Rich();
        Expect.Error(sys.Call(Sp12, is64 ? Ffa.ConsoleLog64("abc\n", 0) : Ffa.ConsoleLog32("abc\n", 0)), Err.InvalidParameters, "console-log.count");
        Assert.Empty(sys.State.Console);
        Assert.Empty(sys.State.ConsolePending);
    }

    [Fact]
    public void ConsoleLog_Smc32_UpTo24Characters_Succeeds()
    {
        var sys = TestSystem.Rich();
        var text = new string('a', 23) + "\n";
        var o = Expect.Success(sys.Call(Sp12, Ffa.ConsoleLog32(text)));
        Assert.Equal("FFA_CONSOLE_LOG", o.Decoded.Function);
        Assert.Equal("SMC32", o.Decoded.Width);
        Assert.Equal([(Sp12, new string('a', 23))], Lines(sys));
    }

    [Theory]
    [InlineData(25ul)]
    [InlineData(48ul)]
    public void ConsoleLog_Smc32_MoreThan24Characters_IsInvalid(ulong count)
    {
        var sys = TestSystem.Rich();
        Expect.Error(sys.Call(Sp12, Ffa.ConsoleLog32("abc", count)), Err.InvalidParameters, "console-log.count");
        Assert.Empty(sys.State.ConsolePending);
    }

    [Fact]
    public void ConsoleLog_Smc32_IgnoresTheUpperHalfOfTheCount()
    {
        // The upper half of x1 is not part of an SMC32 call: 0x1_0000_0001 is a count of 1.
        var sys = TestSystem.Rich();
        Expect.Success(sys.Call(Sp12, Ffa.ConsoleLog32("abc", 0x1_0000_0001)));
        Assert.Equal("a", sys.State.ConsolePending[Sp12]);
    }

    [Fact]
    public void ConsoleLog_Smc64_V1_2Partition_UpTo128Characters_Succeeds()
    {
        var sys = TestSystem.Rich();
        var text = new string('x', 100) + "0123456789abcdefghijklmnopq\n"; // 128 characters over x2..x17
        Expect.Success(sys.Call(Sp12, Ffa.ConsoleLog64(text)));
        Assert.Equal([(Sp12, text[..^1])], Lines(sys));
    }

    [Theory]
    [InlineData(129ul)]
    [InlineData(255ul)]
    [InlineData(0x1_0000_0001ul)]
    public void ConsoleLog_Smc64_V1_2Partition_MoreThan128Characters_IsInvalid(ulong count) =>
        Expect.Error(TestSystem.Rich().Call(Sp12, Ffa.ConsoleLog64("abc", count)), Err.InvalidParameters, "console-log.count");

    [Fact]
    public void ConsoleLog_Smc64_V1_1Partition_UpTo48Characters_Succeeds()
    {
        // Hafnium serves pre-1.2 callers too, with 6 registers (x2..x7) for SMC64.
        var sys = TestSystem.Rich();
        var text = new string('y', 47) + "\n";
        Expect.Success(sys.Call(Sp11, Ffa.ConsoleLog64(text)));
        Assert.Equal([(Sp11, new string('y', 47))], Lines(sys));
    }

    [Fact]
    public void ConsoleLog_Smc64_V1_1Partition_MoreThan48Characters_IsInvalid() =>
        Expect.Error(TestSystem.Rich().Call(Sp11, Ffa.ConsoleLog64(new string('y', 49))), Err.InvalidParameters, "console-log.count");

    [Theory]
    [InlineData(false, 129ul)]
    [InlineData(true, 129ul)]
    [InlineData(true, 1000ul)]
    public void ConsoleLog_MoreThan128Characters_IsInvalidForEveryone(bool is64, ulong count) =>
        Expect.Error(TestSystem.Rich().Call(Sp12, is64 ? Ffa.ConsoleLog64("abc", count) : Ffa.ConsoleLog32("abc", count)), Err.InvalidParameters, "console-log.count");

    [Fact]
    public void ConsoleLog_LinesAreAssembledAcrossCallsAtNewline()
    {
        var sys = TestSystem.Default();
        Expect.Success(sys.Call(Echo, Ffa.ConsoleLog32("hel")));
        Assert.Empty(sys.State.Console);
        Assert.Equal("hel", sys.State.ConsolePending[Echo]);
        Expect.Success(sys.Call(Echo, Ffa.ConsoleLog32("lo\nwor")));
        Expect.Success(sys.Call(Echo, Ffa.ConsoleLog64("ld\n")));
        Assert.Equal([(Echo, "hello"), (Echo, "world")], Lines(sys));
        Assert.Empty(sys.State.ConsolePending);
        var console = sys.State.Console.ToArray();
        Assert.True(console[0].Sequence < console[1].Sequence);
    }

    [Fact]
    public void ConsoleLog_EachPartitionHasItsOwnLine()
    {
        var sys = TestSystem.Default();
        Expect.Success(sys.Call(Echo, Ffa.ConsoleLog32("ab")));
        Expect.Success(sys.Call(Notifier, Ffa.ConsoleLog32("cd\n"), vcpu: 1));
        Expect.Success(sys.Call(Echo, Ffa.ConsoleLog32("e\n")));
        Assert.Equal([(Notifier, "cd"), (Echo, "abe")], Lines(sys));
    }

    [Fact]
    public void ConsoleLog_OnlyCountCharactersAreUsed()
    {
        var sys = TestSystem.Default();
        Expect.Success(sys.Call(Echo, Ffa.ConsoleLog32("abcdef", 3)));
        Expect.Success(sys.Call(Echo, Ffa.ConsoleLog32("\n")));
        Assert.Equal([(Echo, "abc")], Lines(sys));
    }

    [Fact]
    public void ConsoleLog_Smc32_IgnoresUpperHalvesOfTheCharacterRegisters()
    {
        var sys = TestSystem.Default();
        var frame = Ffa.ConsoleLog32("abcdefgh\n");
        frame[2] |= 0x4141_4141_0000_0000; // "AAAA" in the upper half of x2 is not part of w2
        Expect.Success(sys.Call(Echo, frame));
        Assert.Equal([(Echo, "abcdefgh")], Lines(sys));
    }

    [Fact]
    public void ConsoleLog_SeveralLinesInOneCall()
    {
        var sys = TestSystem.Default();
        Expect.Success(sys.Call(Echo, Ffa.ConsoleLog32("a\nb\nc\n")));
        Assert.Equal([(Echo, "a"), (Echo, "b"), (Echo, "c")], Lines(sys));
    }
}
