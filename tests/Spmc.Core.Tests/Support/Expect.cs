using Spmc.Abi.Rules;
using Spmc.Core.Calls;

namespace Spmc.Core.Tests.Support;

/// <summary>An FF-A error as the tests expect it: its name and its u32 encoding in w2.</summary>
public sealed record Err(string Name, ulong Code)
{
    public static readonly Err NotSupported = new("NOT_SUPPORTED", 0xFFFF_FFFF);
    public static readonly Err InvalidParameters = new("INVALID_PARAMETERS", 0xFFFF_FFFE);
    public static readonly Err NoMemory = new("NO_MEMORY", 0xFFFF_FFFD);
    public static readonly Err Busy = new("BUSY", 0xFFFF_FFFC);
    public static readonly Err Denied = new("DENIED", 0xFFFF_FFFA);
    public static readonly Err Retry = new("RETRY", 0xFFFF_FFF9);
    public static readonly Err Aborted = new("ABORTED", 0xFFFF_FFF8);
    public static readonly Err NotReady = new("NOT_READY", 0xFFFF_FFF6);

    public override string ToString() => Name;
}

/// <summary>Assertions on an SMC outcome that print the whole answer when they fail.</summary>
public static class Expect
{
    private static string Show(SmcOutcome o) =>
        $"x0=0x{o.Frame[0]:X} x1=0x{o.Frame[1]:X} x2=0x{o.Frame[2]:X} x3=0x{o.Frame[3]:X}; decoded {o.Decoded}";

    /// <summary>FFA_SUCCESS_32 with no error, and optionally w2/w3.</summary>
    public static SmcOutcome Success(SmcOutcome o, ulong? w2 = null, ulong? w3 = null)
    {
        if (o.Frame[0] != Ffa.Success32 || o.Decoded.Error is not null)
            Assert.Fail($"expected FFA_SUCCESS_32, got {Show(o)}");
        Assert.Equal("FFA_SUCCESS_32", o.Decoded.Result);
        Assert.Null(o.Decoded.Reason);
        Assert.Equal(0ul, o.Frame[1]);
        if (w2 is { } v2) Assert.Equal(v2, o.Frame[2]);
        if (w3 is { } v3) Assert.Equal(v3, o.Frame[3]);
        return o;
    }

    /// <summary>FFA_SUCCESS_64 with no error.</summary>
    public static SmcOutcome Success64(SmcOutcome o)
    {
        if (o.Frame[0] != Ffa.Success64 || o.Decoded.Error is not null)
            Assert.Fail($"expected FFA_SUCCESS_64, got {Show(o)}");
        Assert.Equal("FFA_SUCCESS_64", o.Decoded.Result);
        Assert.Equal(0ul, o.Frame[1]);
        return o;
    }

    /// <summary>FFA_ERROR_32, w1 = 0, w2 = the code; decoded with the error's name, a rule ID and a reason.</summary>
    public static SmcOutcome Error(SmcOutcome o, Err error)
    {
        if (o.Frame[0] != Ffa.Error32 || o.Frame[2] != error.Code || o.Decoded.Error != error.Name)
            Assert.Fail($"expected FFA_ERROR({error.Name}), got {Show(o)}");
        Assert.Equal(0ul, o.Frame[1]);
        Assert.Equal("FFA_ERROR_32", o.Decoded.Result);
        Assert.False(string.IsNullOrWhiteSpace(o.Decoded.Reason), "an error carries a reason");
        Assert.True(o.Decoded.Rule is { } rule && RuleCatalogue.IsWellFormed(rule), $"an error names its rule: {Show(o)}");
        return o;
    }

    /// <summary>As <see cref="Error(SmcOutcome, Err)"/>, refused by the rule with ID <paramref name="rule"/> (docs/rules.md).</summary>
    public static SmcOutcome Error(SmcOutcome o, Err error, string rule)
    {
        Error(o, error);
        if (o.Decoded.Rule != rule) Assert.Fail($"expected rule {rule}, got {o.Decoded.Rule}: {Show(o)}");
        return o;
    }
}
