using Spmc.Abi.Calls;
using Spmc.Abi.Ffa;
using Spmc.Abi.Smccc;

namespace Spmc.Abi.Tests.Calls;

/// <summary>FFA_VERSION, FFA_FEATURES, FFA_ID_GET, FFA_SPM_ID_GET as typed calls: exact frames, round trips and register rules.</summary>
public class SetupCallTests
{
    private static SmcFrame Frame(params ulong[] registers) => SmcFrame.From(registers);

    private static void AssertFrame(SmcFrame actual, params ulong[] expected)
    {
        for (var i = 0; i < Registers.Count; i++) Assert.Equal(i < expected.Length ? expected[i] : 0, actual[i]);
    }

    [Fact]
    public void Version_EncodesW1_AndRoundTrips()
    {
        var call = new VersionCall(0x0001_0002);
        AssertFrame(call.Encode(), 0x8400_0063, 0x0001_0002);
        Assert.Equal(call, VersionCall.Decode(call.Encode()).Value);
        Assert.Equal(FfaVersion.V1_2, call.Version);
    }

    [Fact]
    public void Version_Bit31Set_DecodesButIsNoVersion()
    {
        // The SPMC refuses it with a bare NOT_SUPPORTED in w0, so the decoder does not reject it.
        var decoded = VersionCall.Decode(Frame(0x8400_0063, 0x8001_0002));
        Assert.True(decoded.Ok);
        Assert.Equal(0x8001_0002u, decoded.Value!.Requested);
        Assert.Null(decoded.Value.Version);
    }

    [Fact]
    public void Version_ReadsW1AndW2_AsSmc32Words_AndNothingElse()
    {
        var decoded = VersionCall.Decode(Frame(0x8400_0063, 0xFFFF_FFFF_0001_0001, 0xAAAA_0000_0000_0055, 0x77, 0x88));
        Assert.Equal(new VersionCall(0x0001_0001, 0x55), decoded.Value);
    }

    [Theory]
    [InlineData(0u, VersionQuery.Negotiate)]
    [InlineData(1u, VersionQuery.Compatible)]
    [InlineData(2u, VersionQuery.Negotiated)]
    [InlineData(3u, VersionQuery.Reserved)]
    [InlineData(0xFFFF_FFFCu, VersionQuery.Negotiate)] // bits[31:2] are SBZ: not part of the query type
    [InlineData(0x8000_0006u, VersionQuery.Negotiated)]
    public void Version_QueryType_IsW2Bits1To0(uint flags, VersionQuery query)
    {
        var call = new VersionCall(0x0001_0003, flags);
        Assert.Equal(query, call.Query);
        AssertFrame(call.Encode(), 0x8400_0063, 0x0001_0003, flags);
        Assert.Equal(call, VersionCall.Decode(call.Encode()).Value);
    }

    [Fact]
    public void Version_Answers_AreBareValuesInW0()
    {
        AssertFrame(VersionCall.Answer(FfaVersion.V1_1), 0x0001_0001);
        AssertFrame(VersionCall.Answer(new FfaVersion(0, 0)), 0);
        AssertFrame(VersionCall.NotSupportedAnswer(), 0xFFFF_FFFF);
        AssertFrame(VersionCall.InvalidParameterAnswer(), 0xFFFF_FFFD); // SMCCC INVALID_PARAMETER (-3)
    }

    [Theory]
    [InlineData(0xC400_0066u, 0u)]          // a function ID
    [InlineData(0x8400_0074u, 0x2u)]        // FFA_MEM_RETRIEVE_REQ with its input properties
    [InlineData(0x8400_0069u, 0xFFFFu)]     // input properties are the callee's business for a function
    [InlineData(2u, 0u)]                    // a feature ID
    [InlineData(0xFFu, 0u)]
    public void Features_RoundTrips(uint query, uint input)
    {
        var call = new Features(query, input);
        AssertFrame(call.Encode(), 0x8400_0064, query, input);
        Assert.Equal(call, Features.Decode(call.Encode()).Value);
    }

    [Fact]
    public void Features_TellsFunctionsFromFeatures()
    {
        Assert.True(new Features(0x8400_0063).IsFunctionQuery);
        var feature = new Features(3);
        Assert.False(feature.IsFunctionQuery);
        Assert.Equal(Features.MeiFeature, feature.FeatureId);
    }

    [Theory]
    [InlineData(0x0000_0101ul)]
    [InlineData(0x7FFF_FF02ul)]
    [InlineData(0x4000_0001ul)]
    public void Features_FeatureIdWithBits30To8Set_IsRejected(ulong query)
    {
        var decoded = Features.Decode(Frame(0x8400_0064, query));
        Assert.False(decoded.Ok);
        Assert.Equal("features.feature-id-bits-mbz", decoded.Rejection!.Rule);
        Assert.Equal(FfaError.NotSupported, decoded.Rejection.Code);
        Assert.Contains($"0x{query:X8}", decoded.Rejection.Reason);
    }

    [Fact]
    public void Features_FeatureIdWithInputProperties_IsRejected()
    {
        var decoded = Features.Decode(Frame(0x8400_0064, 1, 0x100));
        Assert.Equal("features.feature-id-input-mbz", decoded.Rejection!.Rule);
        Assert.Equal(FfaError.NotSupported, decoded.Rejection.Code);
        // Bits[30:8] are checked first.
        Assert.Equal("features.feature-id-bits-mbz", Features.Decode(Frame(0x8400_0064, 0x101, 1)).Rejection!.Rule);
    }

    [Fact]
    public void Features_ReadsOnlyW1AndW2()
    {
        // The upper half of x1 is not part of the SMC32 call: 0xFFFF_FFFF_0000_0002 is feature 2.
        var decoded = Features.Decode(Frame(0x8400_0064, 0xFFFF_FFFF_0000_0002, 0xFFFF_FFFF_0000_0000));
        Assert.Equal(new Features(2), decoded.Value);
    }

    [Fact]
    public void IdGet_AndSpmIdGet_HaveNoArguments()
    {
        AssertFrame(new IdGet().Encode(), 0x8400_0069);
        AssertFrame(new SpmIdGet().Encode(), 0x8400_0085);
        Assert.True(IdGet.Decode(Frame(0x8400_0069, 1, 2, 3)).Ok);
        Assert.True(SpmIdGet.Decode(Frame(0x8400_0085, 1, 2, 3)).Ok);
        Assert.Equal(new IdGet(), IdGet.Decode(new IdGet().Encode()).Value);
        Assert.Equal(new SpmIdGet(), SpmIdGet.Decode(new SpmIdGet().Encode()).Value);
    }
}
