using Spmc.Abi.Ffa;
using Spmc.Abi.Rules;
using Spmc.Abi.Smccc;
using Spmc.Core.Calls;
using Spmc.Core.Proxy.Pkvm;
using static Spmc.Core.Tests.Proxy.PkvmAssert;

namespace Spmc.Core.Tests.Proxy;

public sealed partial class PkvmCaseTests
{
    private const uint Version = 0x8400_0063, IdGet = 0x8400_0069, Features = 0x8400_0064;
    private const ulong AllOnes = ulong.MaxValue;

    private static void ZeroFrom(FfaAnswer a, int first)
    {
        for (var i = first; i < Registers.Count; i++) Assert.True(a.Frame[i] == 0, $"x{i} = 0x{a.Frame[i]:X}");
    }

    [Theory]
    [MemberData(nameof(Profiles.Newest), MemberType = typeof(Profiles))]
    public void Case06_VersionMajor2_IsBareNotSupported_NoEl3(string profile)
    {
        var h = ProxyHarness.Create(profile);
        var a = h.Call(Version, 0x2_0000);
        Assert.Equal(AllOnes, a.Frame[0]);
        ZeroFrom(a, 1);
        Assert.Equal("pkvm.version.major-not-1", a.Rule);
        Assert.False(h.Proxy.Negotiated);
        NoEl3(h);
    }

    [Theory]
    [MemberData(nameof(Profiles.Smccc12), MemberType = typeof(Profiles))]
    public void Case07_VersionNegotiation_RunsPostInit_AndNegotiates12(string profile)
    {
        var h = ProxyHarness.Create(profile);
        var a = h.Call(Version, 0x1_0002);
        Assert.Equal(0x1_0002UL, a.Frame[0]);
        Assert.True(h.Proxy.Negotiated);
        El3Saw(h, IdGet, Features);
        Assert.Equal(0xC400_0066UL, h.Spmc.Frames[1][1]);
        if (h.Profile.VersionFill == VersionFill.Zero) ZeroFrom(a, 1);
    }

    [Theory]
    [MemberData(nameof(Profiles.Smccc12), MemberType = typeof(Profiles))]
    public void Case08_VersionNegotiation_HigherMinor_GetsHypVersion_NoVersionCallToEl3(string profile)
    {
        var h = ProxyHarness.Create(profile);
        Assert.Equal(0x1_0002UL, h.Call(Version, 0x1_0007).Frame[0]);
        Assert.True(h.Proxy.Negotiated);
        Assert.DoesNotContain(Version, h.Spmc.Ids);
    }

    [Theory]
    [MemberData(nameof(Profiles.Smccc12), MemberType = typeof(Profiles))]
    public void Case09_VersionNegotiation_Downgrade_AsksTheSpmcFirst(string profile)
    {
        var h = ProxyHarness.Create(profile);
        Assert.Equal(0x1_0001UL, h.Call(Version, 0x1_0001).Frame[0]);
        El3Saw(h, Version, IdGet, Features);
        Assert.Equal(0x1_0001UL, h.Spmc.Frames[0][1]);
        Assert.Equal(0x1_0001u, h.Proxy.HypVersion);
        Assert.Equal("1.1", h.Proxy.State.Version);
    }

    [Theory]
    [MemberData(nameof(Profiles.Newest), MemberType = typeof(Profiles))]
    public void Case10_VersionNegotiation_DowngradeRefusedBySpmc_GoesToHostVerbatim(string profile)
    {
        var h = ProxyHarness.Create(profile);
        h.Spmc.On(Version, 0xFFFF_FFFF);
        var a = h.Call(Version, 0x1_0000);
        Assert.Equal(0xFFFF_FFFFUL, a.Frame[0]);
        Assert.Equal("pkvm.version.downgrade-refused", a.Rule); // the mock SPMC gives no rule of its own
        Assert.False(h.Proxy.Negotiated);
        Assert.Equal(0x1_0002u, h.Proxy.HypVersion);
        El3Saw(h, Version);
    }

    [Theory]
    [MemberData(nameof(Profiles.Smccc12), MemberType = typeof(Profiles))]
    public void Case11_VersionNegotiation_LowerMinorAfterNegotiation_IsNotSupported(string profile)
    {
        var h = ProxyHarness.Create(profile).Negotiated();
        var a = h.Call(Version, 0x1_0001);
        Assert.Equal(AllOnes, a.Frame[0]);
        Assert.Equal("pkvm.version.downgrade-after-negotiation", a.Rule);
        NoEl3(h);
    }

    [Theory]
    [MemberData(nameof(Profiles.Smccc12), MemberType = typeof(Profiles))]
    public void Case12_VersionNegotiation_HigherMinorAfterNegotiation_GetsHypVersion(string profile)
    {
        var h = ProxyHarness.Create(profile).Negotiated();
        Assert.Equal(0x1_0002UL, h.Call(Version, 0x1_0003).Frame[0]);
        NoEl3(h);
    }

    [Theory]
    [MemberData(nameof(Profiles.Smccc12), MemberType = typeof(Profiles))]
    public void Case13_VersionNegotiation_NegotiatedAt11_ThenAskingFor12_Gets11(string profile)
    {
        var h = ProxyHarness.Create(profile).Negotiated(0x1_0001);
        Assert.Equal(0x1_0001UL, h.Call(Version, 0x1_0002).Frame[0]);
        NoEl3(h);
    }

    [Theory]
    [MemberData(nameof(Profiles.Gated), MemberType = typeof(Profiles))]
    public void Case14_VersionNegotiation_IdGetNotHostId_FailsThenRetrySucceeds(string profile)
    {
        var h = ProxyHarness.Create(profile);
        h.Spmc.On(IdGet, SpmcMock.Success, 0, 5);
        var a = h.Call(Version, 0x1_0002);
        Assert.Equal(AllOnes, a.Frame[0]);
        Assert.Equal(FfaErrorCode.NotSupported, (int?)a.Error);
        Assert.Equal("pkvm.version.post-init.not-host-id", a.Rule);
        Assert.Contains("HOST_FFA_ID", a.Reason);
        Assert.False(h.Proxy.Negotiated);

        h.Spmc.On(IdGet, SpmcMock.Success, 0, 0);
        Assert.Equal((ulong)h.Profile.InitVersion, h.Call(Version, 0x1_0002).Frame[0]);
        Assert.True(h.Proxy.Negotiated);
    }

    [Theory]
    [MemberData(nameof(Profiles.Newest), MemberType = typeof(Profiles))]
    public void Case10_DowngradeRefusedBySpmc_KeepsTheSpmcsOwnRule(string profile)
    {
        var h = ProxyHarness.Create(profile);
        h.Spmc.Refuse(Version, new Rejection(FfaError.NotSupported, "spmc.version.refused", "FFA_VERSION: no"), 0xFFFF_FFFF);
        var a = h.Call(Version, 0x1_0000);
        Assert.Equal(0xFFFF_FFFFUL, a.Frame[0]);
        Assert.Equal("spmc.version.refused", a.Rule);
        Assert.Equal(FfaErrorCode.NotSupported, (int?)a.Error);
        Assert.False(h.Proxy.Negotiated);
    }

    [Theory]
    [MemberData(nameof(Profiles.Gated), MemberType = typeof(Profiles))]
    public void PostInit_IdGetNotAnsweredWithSuccess_IsNotSupported_VersionStaysUnnegotiated(string profile)
    {
        var h = ProxyHarness.Create(profile);
        h.Spmc.On(IdGet, SpmcMock.FfaError(-2).ToArray());
        var a = h.Call(Version, 0x1_0002);
        Assert.Equal(AllOnes, a.Frame[0]);
        Assert.Equal("pkvm.version.post-init.id-get-failed", a.Rule);
        Assert.False(h.Proxy.Negotiated);
        El3Saw(h, IdGet);
    }

    [Theory]
    [MemberData(nameof(Profiles.Gated), MemberType = typeof(Profiles))]
    public void PostInit_FeaturesOfRxTxMapNotAnsweredWithSuccess_IsNotSupported(string profile)
    {
        var h = ProxyHarness.Create(profile);
        h.Spmc.On(Features, f => (uint)f[1] == 0xC400_0066 ? SpmcMock.FfaError(-1) : SpmcMock.Echo());
        var a = h.Call(Version, 0x1_0002);
        Assert.Equal(AllOnes, a.Frame[0]);
        Assert.Equal("pkvm.version.post-init.features-failed", a.Rule);
        Assert.False(h.Proxy.Negotiated);
    }

    public static TheoryData<string, ulong, string?> Case15Data()
    {
        var data = new TheoryData<string, ulong, string?>();
        foreach (var p in new[] { "pkvm-6.18", "pkvm-7.2", "pkvm-7.4" })
        {
            data.Add(p, 0x0001_0001, "pkvm.version.post-init.min-buffer-above-page"); // min 64K > PAGE_SIZE
            data.Add(p, 0x0001_0000, null);  // max pages in w2[31:16], min 4K: accepted thanks to the mask
            data.Add(p, 3, "pkvm.version.post-init.min-buffer-size-unknown");          // reserved encoding
        }
        return data;
    }

    /// <summary><paramref name="refusedBy"/>: the rule that fails the negotiation, null when it succeeds.</summary>
    [Theory]
    [MemberData(nameof(Case15Data))]
    public void Case15_VersionNegotiation_FeaturesRxTxMapMinimumSize_IsMaskedWithThree(string profile, ulong w2, string? refusedBy)
    {
        var negotiates = refusedBy is null;
        var h = ProxyHarness.Create(profile);
        h.Spmc.On(Features, f => (uint)f[1] == 0xC400_0066 ? F(SpmcMock.Success, 0, w2) : SpmcMock.Echo());
        var a = h.Call(Version, 0x1_0002);
        Assert.Equal(negotiates ? 0x1_0002UL : AllOnes, a.Frame[0]);
        Assert.Equal(negotiates, h.Proxy.Negotiated);
        Assert.Equal(refusedBy, a.Rule);
    }
}

/// <summary>FF-A status codes as numbers (the tests do not take them from the product's enum).</summary>
public static class FfaErrorCode
{
    public const int NotSupported = -1, InvalidParameters = -2, NoMemory = -3, Busy = -4, Denied = -6, Aborted = -8;
}
