using Spmc.Abi.Calls;
using Spmc.Abi.Ffa;
using Spmc.Abi.Smccc;

namespace Spmc.Abi.Tests.Calls;

/// <summary>The run-time model records (FFA_MSG_WAIT, FFA_YIELD, FFA_RUN, FFA_INTERRUPT): round trips per width and the register rules.</summary>
public class RuntimeCallTests
{
    private const uint MsgWait32 = 0x8400_006B, Yield32 = 0x8400_006C, Run32 = 0x8400_006D, Interrupt32 = 0x8400_0062;

    private static T Ok<T>(Spmc.Abi.Descriptors.ParseResult<T> result)
    {
        Assert.True(result.Ok, result.Rejection?.ToString());
        return result.Value!;
    }

    [Fact]
    public void TargetInfo_IsEndpointHighVcpuLow()
    {
        Assert.Equal(0x8001_0003u, TargetInfo.Pack(0x8001, 3));
        Assert.Equal((ushort)0x8001, TargetInfo.Endpoint(0x8001_0003));
        Assert.Equal((ushort)3, TargetInfo.Vcpu(0x8001_0003));
    }

    // ---- FFA_MSG_WAIT -----------------------------------------------------------------------------------

    [Theory]
    [InlineData(false, MsgWait32)]
    [InlineData(true, 0xC400_006Bu)]
    public void MsgWait_RoundTrips_FlagsInW2(bool is64, uint fid)
    {
        var wait = new MsgWait(MsgWait.RetainRx, is64);
        var frame = wait.Encode();
        Assert.Equal([fid, 0ul, 1], frame.ToArray().Take(3));
        Assert.Equal(wait, Ok(MsgWait.Decode(frame)));
        Assert.True(wait.RetainsRx);
    }

    [Fact]
    public void MsgWait_Default_IsTheBareFunctionId()
    {
        Assert.Equal(SmcFrame.From(MsgWait32).ToArray(), new MsgWait().Encode().ToArray());
        Assert.False(new MsgWait().RetainsRx);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    public void MsgWait_ReservedRegister_IsRefused(int register)
    {
        var frame = SmcFrame.From(MsgWait32);
        frame[register] = 0x10;
        var result = MsgWait.Decode(frame);
        Assert.False(result.Ok);
        Assert.Equal("msg-wait.reserved-mbz", result.Rejection!.Rule);
        Assert.Equal(FfaError.InvalidParameters, result.Rejection.Code);
        Assert.Equal($"w{register} must be zero (w{register} = 0x10)", result.Rejection.Reason);
    }

    [Fact]
    public void MsgWait_W1IsCheckedBeforeW3_AndW2IsNotAReservedRegister()
    {
        Assert.Equal("w1 must be zero (w1 = 0x1)", MsgWait.Decode(SmcFrame.From(MsgWait32, 1, 0, 2)).Rejection!.Reason);
        Assert.Equal(0xFFFF_FFFEu, Ok(MsgWait.Decode(SmcFrame.From(MsgWait32, 0, 0xFFFF_FFFE))).Flags);
    }

    [Fact]
    public void MsgWait32_UpperHalvesAndX8ToX17_AreNotArguments()
    {
        var frame = SmcFrame.From(MsgWait32, 0x1_0000_0000, 0x2_0000_0001, 0x3_0000_0000, 0, 0, 0, 0, 0, 9);
        Assert.Equal(1u, Ok(MsgWait.Decode(frame)).Flags);
    }

    // ---- FFA_YIELD --------------------------------------------------------------------------------------

    [Fact]
    public void Yield_RoundTrips_TargetInfoAndTimeoutSplitOverW2W3()
    {
        var yield = new Yield(0x8004, 1, 0x0000_0020_0000_0010);
        var frame = yield.Encode();
        Assert.Equal([Yield32, 0x8004_0001ul, 0x10, 0x20, 0], frame.ToArray().Take(5));
        Assert.Equal(yield, Ok(Yield.Decode(frame)));
        var yield64 = yield with { Is64 = true };
        Assert.Equal(0xC400_006Cul, yield64.Encode()[0]);
        Assert.Equal(yield64, Ok(Yield.Decode(yield64.Encode())));
    }

    [Fact]
    public void Yield_TimeoutWordsAre32Bit()
    {
        var yield = Ok(Yield.Decode(SmcFrame.From(0xC400_006C, 0, 0xF_0000_0001, 0xF_0000_0002)));
        Assert.Equal(0x0000_0002_0000_0001ul, yield.Timeout);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    public void Yield_W4ToW7_AreRefused(int register)
    {
        var frame = SmcFrame.From(Yield32, 0, 1, 2);
        frame[register] = 1;
        var result = Yield.Decode(frame);
        Assert.False(result.Ok);
        Assert.Equal("yield.reserved-mbz", result.Rejection!.Rule);
        Assert.Equal(FfaError.InvalidParameters, result.Rejection.Code);
        Assert.Equal($"w{register} must be zero (w{register} = 0x1)", result.Rejection.Reason);
    }

    // ---- FFA_RUN, FFA_INTERRUPT -----------------------------------------------------------------------

    [Theory]
    [InlineData(false, Run32)]
    [InlineData(true, 0xC400_006Du)]
    public void Run_RoundTrips(bool is64, uint fid)
    {
        var run = new Run(0x8004, 2, is64);
        var frame = run.Encode();
        Assert.Equal([fid, 0x8004_0002ul, 0], frame.ToArray().Take(3));
        Assert.Equal(run, Ok(Run.Decode(frame)));
    }

    [Fact]
    public void Run32_ReadsW1Only() =>
        Assert.Equal(new Run(0x8001, 0), Ok(Run.Decode(SmcFrame.From(Run32, 0xFFFF_FFFF_8001_0000))));

    [Fact]
    public void Interrupt_ReturnedToTheNormalWorld_IsAllZero()
    {
        Assert.Equal(SmcFrame.From(Interrupt32).ToArray(), new Interrupt().Encode().ToArray());
        var interrupt = new Interrupt(0x8001, 1, 42, Is64: true);
        var frame = interrupt.Encode();
        Assert.Equal([0xC400_0062ul, 0x8001_0001, 42], frame.ToArray().Take(3));
        Assert.Equal(interrupt, Ok(Interrupt.Decode(frame)));
    }
}
