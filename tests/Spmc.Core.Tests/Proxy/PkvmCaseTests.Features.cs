using static Spmc.Core.Tests.Proxy.PkvmAssert;

namespace Spmc.Core.Tests.Proxy;

public sealed partial class PkvmCaseTests
{
    public static TheoryData<string, uint> Case16Data()
    {
        var data = new TheoryData<string, uint>();
        foreach (var p in Profiles.AllNames)
            foreach (var id in new uint[] { 0x8400_0073, 0xC400_0073, 0x8400_0072, 0xC400_0072 }) data.Add(p, id);
        return data;
    }

    [Theory]
    [MemberData(nameof(Case16Data))]
    public void Case16_Features_ShareAndLend_AnsweredAtEl2WithNoDynamicBuffers(string profile, uint id)
    {
        var h = ProxyHarness.Create(profile).Negotiated();
        Ok(h, h.Call(Features, id, 0xFF), 0, Features, id, 0xFF);
        NoEl3(h);
    }

    [Theory]
    [MemberData(nameof(Profiles.Smccc12), MemberType = typeof(Profiles))]
    public void Case17_Features_DirectReq2_IsNotSupported_NoEl3(string profile)
    {
        var h = ProxyHarness.Create(profile).Negotiated();
        Err(h, h.Call(Features, 0xC400_008D), -1, "pkvm.features.denied-id", Features, 0xC400_008D);
        NoEl3(h);
    }

    [Theory]
    [MemberData(nameof(Profiles.All), MemberType = typeof(Profiles))]
    public void Case18_Features_RxTxMap32IsDenied_RxTxMap64GoesToEl3Unchanged(string profile)
    {
        var h = ProxyHarness.Create(profile).Negotiated();
        Err(h, h.Call(Features, 0x8400_0066), -1, "pkvm.features.denied-id", Features, 0x8400_0066);
        NoEl3(h);

        h.Spmc.On(Features, F(SpmcMock.Success, 0, 0x0001_0000, 0, 0, 0, 0, 0, 0x88).ToArray());
        var input = F(Features, 0xC400_0066, 0x1234);
        var a = h.Call(input);
        Assert.Equal(input.ToArray(), Assert.Single(h.Spmc.Frames).ToArray());
        Passed(a, F(SpmcMock.Success, 0, 0x0001_0000, 0, 0, 0, 0, 0, 0x88));
    }

    [Theory]
    [MemberData(nameof(Profiles.All), MemberType = typeof(Profiles))]
    public void Case19_Features_OfFfaVersion_PassesThrough(string profile)
    {
        var h = ProxyHarness.Create(profile).Negotiated();
        var a = h.Call(Features, 0x8400_0063);
        Assert.Single(h.Spmc.Frames);
        Passed(a, SpmcMock.Echo());
    }

    [Theory]
    [MemberData(nameof(Profiles.Smccc12), MemberType = typeof(Profiles))]
    public void Case20_Features_NotificationBind_DeniedIn618And72_PassesIn74(string profile)
    {
        var h = ProxyHarness.Create(profile).Negotiated();
        var a = h.Call(Features, 0x8400_007F);
        if (profile == "pkvm-7.4")
        {
            Assert.Single(h.Spmc.Frames);
            Passed(a, SpmcMock.Echo());
        }
        else
        {
            Err(h, a, -1, "pkvm.features.denied-id", Features, 0x8400_007F);
            NoEl3(h);
        }
    }
}
