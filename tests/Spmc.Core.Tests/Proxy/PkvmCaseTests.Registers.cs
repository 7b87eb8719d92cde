using Spmc.Abi.Smccc;
using static Spmc.Core.Tests.Proxy.PkvmAssert;

namespace Spmc.Core.Tests.Proxy;

public sealed partial class PkvmCaseTests
{
    [Theory]
    [MemberData(nameof(Profiles.Smccc12), MemberType = typeof(Profiles))]
    public void Case65_RegisterWidth_ProxiedSmc32Call_ZeroesX8ToX17(string profile)
    {
        var h = ProxyHarness.Create(profile).Mapped();
        var input = F(RxTxUnmap, 0);
        for (var i = 8; i < Registers.Count; i++) input[i] = 0xAAAA_AAAA_AAAA_AAAA;
        var a = h.Call(input);
        Ok(h, a, 0, input);
        for (var i = 8; i < Registers.Count; i++) Assert.Equal(0UL, a.Frame[i]);
    }

    [Theory]
    [MemberData(nameof(Profiles.Gated), MemberType = typeof(Profiles))]
    public void Case66_RegisterWidth_PassthroughDirectReq32_ReturnsEl3sX8ToX17(string profile)
    {
        var h = ProxyHarness.Create(profile).Negotiated();
        var el3 = F(0x8400_0070, 0x8001_0000, 0, 3, 4, 5, 6, 7, 0x108, 0x109, 0x10A, 0x10B, 0x10C, 0x10D, 0x10E, 0x10F, 0x110, 0x111);
        h.Spmc.On(0x8400_006F, el3.ToArray());
        var input = F(0x8400_006F, 0x0000_8001, 0, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17);
        Passed(h.Call(input), el3);
    }
}
