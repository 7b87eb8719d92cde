using Spmc.Abi.Smccc;

namespace Spmc.Abi.Tests;

public class SmcFrameTests
{
    [Fact]
    public void From_FillsGivenRegisters_RestAreZero()
    {
        var frame = SmcFrame.From(1, 2, 3);
        Assert.Equal(1ul, frame[0]);
        Assert.Equal(2ul, frame[1]);
        Assert.Equal(3ul, frame[2]);
        for (var i = 3; i < Registers.Count; i++) Assert.Equal(0ul, frame[i]);
        Assert.Equal(18, frame.ToArray().Length);
    }

    [Fact]
    public void From_MoreThan18Registers_Throws() =>
        Assert.Throws<ArgumentException>(() => SmcFrame.From(new ulong[19]));

    [Fact]
    public void From_Exactly18Registers_Works()
    {
        var values = Enumerable.Range(100, 18).Select(v => (ulong)v).ToArray();
        Assert.Equal(values, SmcFrame.From(values).ToArray());
    }

    [Fact]
    public void FunctionId_IsTheLow32BitsOfX0() =>
        Assert.Equal(0x8400_0063u, SmcFrame.From(0xFFFF_FFFF_8400_0063).FunctionId);

    [Fact]
    public void As32BitArguments_KeepsLowHalvesOfX0ToX7_AndDropsX8ToX17()
    {
        var values = Enumerable.Range(0, 18).Select(i => 0xAAAA_0000_0000_0000ul | (uint)(i + 1)).ToArray();
        var narrowed = SmcFrame.From(values).As32BitArguments();
        for (var i = 0; i < 8; i++) Assert.Equal((ulong)(i + 1), narrowed[i]);
        for (var i = 8; i < 18; i++) Assert.Equal(0ul, narrowed[i]);
    }

    [Fact]
    public void ExtendedRegistersAreZero_LooksAtX8ToX17Only()
    {
        Assert.True(SmcFrame.From(1, 2, 3, 4, 5, 6, 7, 8).ExtendedRegistersAreZero());
        var frame = new SmcFrame { [17] = 1 };
        Assert.False(frame.ExtendedRegistersAreZero());
        frame = new SmcFrame { [8] = 1 };
        Assert.False(frame.ExtendedRegistersAreZero());
    }

    [Fact]
    public void IsAValueType_CopiesAreIndependent()
    {
        var a = SmcFrame.From(1);
        var b = a;
        b[0] = 2;
        Assert.Equal(1ul, a[0]);
        Assert.Equal(2ul, b[0]);
    }
}

public class AbiJsonTests
{
    [Fact]
    public void Frame_and_uuid_round_trip_through_json_as_plain_values()
    {
        var frame = Spmc.Abi.Smccc.SmcFrame.From(0xC400_008D, 0x8001_0000, ulong.MaxValue);
        var json = System.Text.Json.JsonSerializer.Serialize(frame);
        Assert.StartsWith("[3288334477,2147549184,18446744073709551615,0,", json);
        Assert.Equal(frame.ToArray(), System.Text.Json.JsonSerializer.Deserialize<Spmc.Abi.Smccc.SmcFrame>(json).ToArray());

        var uuid = Spmc.Abi.Ffa.FfaUuid.Parse("7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4a01");
        var text = System.Text.Json.JsonSerializer.Serialize(uuid);
        Assert.Equal("\"7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4a01\"", text);
        Assert.Equal(uuid, System.Text.Json.JsonSerializer.Deserialize<Spmc.Abi.Ffa.FfaUuid>(text));
    }
}
