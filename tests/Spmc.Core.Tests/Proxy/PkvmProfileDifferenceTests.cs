using Spmc.Abi.Smccc;
using Spmc.Core.Proxy;
using Spmc.Core.Proxy.Pkvm;
using static Spmc.Core.Tests.Proxy.PkvmAssert;
using static Spmc.Core.Tests.Proxy.ProxyHarness;

namespace Spmc.Core.Tests.Proxy;

/// <summary>
/// What each release does differently, one test per knob of <see cref="PkvmProfile"/> (against the scripted SPMC).
/// The case number in a name is the §9 case whose outcome the older release changes.
/// </summary>
public sealed class PkvmProfileDifferenceTests
{
    private const uint Version = 0x8400_0063, IdGet = 0x8400_0069, Features = 0x8400_0064, RxTxMap = 0xC400_0066, RxTxUnmap = 0x8400_0067,
        PartInfo = 0x8400_0068, Share32 = 0x8400_0073, Share64 = 0xC400_0073, Reclaim = 0x8400_0077, RetrieveReq64 = 0xC400_0074,
        RetrieveResp = 0x8400_0075, RxRelease = 0x8400_0065, BitmapCreate = 0x8400_007D;

    private static SmcFrame F(params ulong[] x) => SmcFrame.From(x);

    // ---- The table --------------------------------------------------------------------------------------------

    [Fact]
    public void Table_ListsFiveReleases_OldestFirst_EachAKnownProxyProfile()
    {
        Assert.Equal(["pkvm-6.3", "pkvm-6.10", "pkvm-6.18", "pkvm-7.2", "pkvm-7.4"], PkvmProfile.All.Select(p => p.Name));
        // pkvm-next (the unmerged direct-messaging series) is known by name but is no release: not in All, not the default.
        Assert.Equal(["passthrough", "pkvm-6.3", "pkvm-6.10", "pkvm-6.18", "pkvm-7.2", "pkvm-7.4", "pkvm-next"], ProxyProfiles.Known);
        Assert.Equal("pkvm-7.4", ProxyProfiles.LatestPkvm);
        for (var i = 1; i < PkvmProfile.All.Count; i++) Assert.NotEqual(PkvmProfile.All[i - 1] with { Name = "x", Layer = "", Summary = "" },
            PkvmProfile.All[i] with { Name = "x", Layer = "", Summary = "" });
        Assert.All(PkvmProfile.All, p => Assert.Equal(9 * 4096, p.DescriptorBufferBytes));
    }

    [Theory]
    [InlineData("pkvm-6.3", new uint[] { 0x8000_0000, Version, IdGet, Features }, 0x1_0000u)]
    [InlineData("pkvm-6.10", new uint[] { 0x8000_0000, Version }, 0x1_0001u)]
    [InlineData("pkvm-6.18", new uint[] { 0x8000_0000, Version }, 0x1_0002u)]
    [InlineData("pkvm-7.4", new uint[] { 0x8000_0000, Version }, 0x1_0002u)]
    public void Boot_HypFfaInit_AsksTheReleasesVersion_PostInitAtBootOnlyIn63(string profile, uint[] boot, uint asked)
    {
        var h = ProxyHarness.Create(profile);
        Assert.Equal(boot, h.Spmc.Received.Select(r => r.Frame.FunctionId));
        Assert.All(h.Spmc.Received, r => Assert.Equal(0, r.Caller));
        Assert.Equal((ulong)asked, h.Spmc.Received[1].Frame[1]);
        Assert.Equal(asked, h.Proxy.HypVersion);
        Assert.Contains(h.Proxy.State.Notes, n => n.StartsWith("boot: FFA_VERSION", StringComparison.Ordinal));
    }

    // ---- pkvm-6.3 (L1.0) ------------------------------------------------------------------------------------------

    [Fact]
    public void Pkvm63_NoGate_FfaVersionAndIdGetPassThrough()
    {
        var h = ProxyHarness.Create("pkvm-6.3");
        Passed(h.Call(IdGet), SpmcMock.Default(F(IdGet)));
        var a = h.Call(Version, 0x1_0002);
        Assert.Equal(0x1_0002UL, a.Frame[0]);
        Assert.Equal([IdGet, Version], h.Spmc.Ids);
    }

    [Fact]
    public void Pkvm63_BootPostInitFails_PkvmDoesNotComeUp_HostSmcsGoToEl3Directly()
    {
        var h = ProxyHarness.Create("pkvm-6.3", spmc => spmc.On(IdGet, SpmcMock.Success, 0, 5));
        Assert.Null(h.Proxy.Stage2);
        Assert.Null(h.Proxy.State.HypTx);
        Assert.Contains(h.Proxy.State.Notes, n => n.Contains("did not initialise", StringComparison.Ordinal));
        var a = h.Call(RxTxMap, T, R, 1);
        Assert.Equal([RxTxMap, T, R, 1], Assert.Single(h.Spmc.Frames).ToArray()[..4]); // the host's own pages, not the hyp's
        Assert.Contains("pKVM is not running", a.Note);
        Assert.Null(h.Proxy.HostAccess(0, HypTx, 16, false));
    }

    [Theory]
    [InlineData("pkvm-6.3", true)]
    [InlineData("pkvm-6.10", true)]
    [InlineData("pkvm-6.18", false)]
    public void Case17_21_Pkvm63And610_Optional12Interfaces_AreNotDenied(string profile, bool passes)
    {
        var h = ProxyHarness.Create(profile).Negotiated();
        foreach (var id in new uint[] { 0xC400_008D, 0xC400_008E, 0x8400_008A, 0xC400_008B })
        {
            var a = h.Call(id, 1);
            if (passes) Passed(a, SpmcMock.Echo());
            else Err(h, a, -1, "pkvm.deny-list", id, 1);
        }
        Assert.Equal(passes ? 4 : 0, h.Spmc.Frames.Count);
    }

    [Fact]
    public void Case22_Pkvm63_DirectReq32_IsDenied()
    {
        var h = ProxyHarness.Create("pkvm-6.3");
        Err(h, h.Call(0x8400_006F, 0x8001), -1, "pkvm.deny-list", 0x8400_006F, 0x8001);
        NoEl3(h);
    }

    [Fact]
    public void Case59_60_Pkvm63_PartitionInfoGet_PassesThrough_TheSpmcWritesTheHypRxTheHostCannotRead()
    {
        var h = ProxyHarness.Create("pkvm-6.3").Negotiated();
        Passed(h.Call(PartInfo), SpmcMock.Echo()); // no host RX needed: it is not an EL2 call
        h.Memory.Write(HypRx, [1, 2, 3]);
        Ok(h, h.Call(RxTxMap, T, R, 1), 0, RxTxMap, T, R, 1);
        h.Call(PartInfo);
        Assert.Equal(new byte[3], h.Memory.Read(R, 3));
        Assert.Contains("hyp (proxy RX)", h.Proxy.HostAccess(0, HypRx, 1, false));
    }

    [Fact]
    public void Case38_Pkvm63_HasNoShareLengthCheck_TheSpmcDecides()
    {
        var h = ProxyHarness.Create("pkvm-6.3").Mapped();
        var d = h.D((P, 1));
        var el3 = SpmcMock.FfaError(-3);
        h.Spmc.On(Share64, el3.ToArray());
        var a = h.Share(d, 0x10_0000, (uint)d.Length);
        Verbatim(h, a, el3, F(Share32, 0x10_0000, (ulong)d.Length));
        Assert.Equal(Stage2State.Owned, h.StateOf(P)); // shared, then unshared when the SPMC said no
        Assert.Contains("unshared again", a.Note);
    }

    [Fact]
    public void Case54_57_Pkvm63_Reclaim_NeverReleasesTheHypRx()
    {
        var h = ProxyHarness.Create("pkvm-6.3").Mapped();
        var d = h.D((P, 1));
        h.Share(d);
        h.Spmc.On(RetrieveReq64, _ => { h.Memory.Write(HypRx, d.Bytes); return F(RetrieveResp, (ulong)d.Length, (ulong)d.Length); });
        h.Spmc.Mark();
        Assert.Equal(SpmcMock.Success, h.Call(Reclaim, SpmcMock.HandleLo, SpmcMock.HandleHi, 0).Frame[0]);
        Assert.Equal([RetrieveReq64, Reclaim], h.Spmc.Ids);
        Assert.Equal(32UL, h.Spmc.Frames[0][1]); // the 32-byte v1.0 retrieve request
        Assert.Equal(Stage2State.Owned, h.StateOf(P));

        h.Spmc.On(RetrieveReq64, _ => F(RetrieveResp, 0x1_0000, (ulong)d.Length));
        h.Spmc.Mark();
        Err(h, h.Call(Reclaim, 1, 0, 0), -3, "pkvm.mem-reclaim.descriptor-too-long", Reclaim, 1, 0, 0);
        Assert.Equal([RetrieveReq64], h.Spmc.Ids);
    }

    [Fact]
    public void Case40_Pkvm63_CompositeOffsetWraps_ConstituentsReadOutsideTheHypTx()
    {
        var h = ProxyHarness.Create("pkvm-6.3").Mapped();
        var d = h.D((P, 1), (Q, 1)).With(d => d.CompositeOffset = 0xFFFF_FFF8);
        // 80 + 16 bytes: (96 − 8) is no whole constituent count either, so this still ends INVALID_PARAMETERS,
        // but a fragment of 72 + 16k bytes would make pKVM 6.3 read constituents from hyp TX + 4 GiB.
        var len = (uint)d.ConstituentsAt + 8 + 16;
        var a = h.Share(d, len, len);
        Assert.Equal(SpmcMock.Error, a.Frame[0]);
        Assert.Contains("wrapped", a.Note);
    }

    // ---- x0..x3 results (6.3, 6.10) -------------------------------------------------------------------------------

    [Theory]
    [InlineData("pkvm-6.3")]
    [InlineData("pkvm-6.10")]
    public void Case65_X0ToX3Releases_ProxiedCallsKeepTheHostsX4ToX17(string profile)
    {
        var h = ProxyHarness.Create(profile).Mapped();
        var input = F(RxTxUnmap, 0);
        for (var i = 4; i < Registers.Count; i++) input[i] = 0xAAAA_AAAA_AAAA_AAAA;
        var a = h.Call(input);
        Assert.Equal([SpmcMock.Success, 0UL, 0UL, 0UL], a.Frame.ToArray()[..4]);
        for (var i = 4; i < Registers.Count; i++) Assert.Equal(0xAAAA_AAAA_AAAA_AAAAUL, a.Frame[i]);
    }

    // ---- pkvm-6.10 (L1.1) ------------------------------------------------------------------------------------------

    [Fact]
    public void Case07_Pkvm610_NegotiatesAtMost11_AndLeaksStackInX1ToX3()
    {
        var h = ProxyHarness.Create("pkvm-6.10");
        var input = F(Version, 0x1_0002, 0, 0, 0x44);
        var a = h.Call(input);
        Assert.Equal(0x1_0001UL, a.Frame[0]);
        for (var i = 1; i < 4; i++) Assert.Equal(PkvmProxy.UninitialisedPattern | (uint)i, a.Frame[i]);
        Assert.Equal(0x44UL, a.Frame[4]);
        Assert.Contains("uninitialised EL2 stack in x1..x3", a.Note);
        Assert.Equal([IdGet, Features], h.Spmc.Ids);
    }

    [Fact]
    public void Case11_Pkvm610_AfterNegotiation_AnyVersionGetsTheHypVersion()
    {
        var h = ProxyHarness.Create("pkvm-6.10").Negotiated();
        Assert.Equal(0x1_0001UL, h.Call(Version, 0x1_0000).Frame[0]);
        NoEl3(h);
    }

    [Theory]
    [InlineData("pkvm-6.10", false)]
    [InlineData("pkvm-6.18", true)]
    public void Case15_WholeW2Switch_MaxPagesInW2TopHalf_FailsPostInitBefore618(string profile, bool negotiates)
    {
        var h = ProxyHarness.Create(profile);
        h.Spmc.On(Features, f => (uint)f[1] == RxTxMap ? F(SpmcMock.Success, 0, 0x0001_0000) : SpmcMock.Echo());
        var a = h.Call(Version, 0x1_0002);
        Assert.Equal(negotiates, h.Proxy.Negotiated);
        Assert.Equal(negotiates ? null : "pkvm.version.post-init.min-buffer-size-unknown", a.Rule);
        if (!negotiates) Assert.Contains("whole w2", a.Reason);
    }

    [Fact]
    public void Case05_Pkvm610_SveHintBitIsNotCleared_VersionWithTheBitIsGated()
    {
        var h = ProxyHarness.Create("pkvm-6.10");
        Err(h, h.Call(0x8401_0063, 0x1_0002), -2, "pkvm.version.not-negotiated", 0x8401_0063, 0x1_0002);
        NoEl3(h);
    }

    [Theory]
    [InlineData("pkvm-6.10")]
    [InlineData("pkvm-6.18")]
    public void Case10_64BitNotSupportedCompare_ZeroExtendedRefusalIsTakenAsAcceptance(string profile)
    {
        var h = ProxyHarness.Create(profile);
        h.Spmc.On(Version, 0xFFFF_FFFF);
        var a = h.Call(Version, 0x1_0000);
        Assert.Equal(0x1_0000UL, a.Frame[0]);
        Assert.True(h.Proxy.Negotiated);
        Assert.Equal(0x1_0000u, h.Proxy.HypVersion);
        Assert.Contains("taken as acceptance", a.Note);
    }

    // ---- pkvm-6.18 (L1.2) vs 7.2 (L-hard) ----------------------------------------------------------------------------

    [Theory]
    [InlineData("pkvm-6.18", true)]
    [InlineData("pkvm-7.2", false)]
    [InlineData("pkvm-7.4", false)]
    public void Case06_VersionOnlySetsX0_618LeaksUninitialisedStack_72Zeroes(string profile, bool leaks)
    {
        var h = ProxyHarness.Create(profile);
        var a = h.Call(Version, 0x2_0000);
        Assert.Equal(ulong.MaxValue, a.Frame[0]);
        for (var i = 1; i < Registers.Count; i++) Assert.Equal(leaks ? PkvmProxy.UninitialisedPattern | (uint)i : 0, a.Frame[i]);
        if (leaks) Assert.Contains("pKVM pkvm-6.18 bug: FFA_VERSION returns uninitialised EL2 stack in x1..x17", a.Note);
        else Assert.Null(a.Note);
    }

    [Fact]
    public void Case09_Downgrade_KeepsTheSpmcsRegisters_NoLeakNote()
    {
        var h = ProxyHarness.Create("pkvm-6.18");
        h.Spmc.On(Version, 0x1_0002, 0, 0, 0, 0, 0, 0, 0, 0x88);
        var a = h.Call(Version, 0x1_0001);
        Assert.Equal(0x1_0001UL, a.Frame[0]);
        Assert.Equal(0x88UL, a.Frame[8]);
        Assert.Null(a.Note);
    }

    [Theory]
    [InlineData("pkvm-6.18", "pkvm.mem-share.fragment-too-short", "below the 80 bytes")]
    [InlineData("pkvm-7.2", "pkvm.mem-share.composite-outside-fragment", "composite header at 64")]
    public void Case37_MinimumFragment_618Is80WhateverTheVersion_72FollowsTheVersion(string profile, string rule, string reason)
    {
        // At v1.1 a 64-byte fragment is the header and one EMAD: 7.2 accepts that minimum and fails the next check.
        var h = ProxyHarness.Create(profile).Mapped(0x1_0001);
        var a = Err(h, h.Share(h.D((P, 1)), 64, 64), -2, rule, Share32, 64, 64);
        Assert.Contains(reason, a.Reason);
    }

    [Theory]
    [InlineData("pkvm-6.18", true)]
    [InlineData("pkvm-7.2", false)]
    public void Case41_EmadOffset_618ReadsAFixed48_72FollowsEpMemOffset(string profile, bool forwarded)
    {
        var h = ProxyHarness.Create(profile).Mapped();
        var d = h.D((P, 1)).With(d => d.EpMemOffset = 4090);
        var a = h.Share(d);
        Assert.Equal(forwarded ? 1 : 0, h.Spmc.Frames.Count);
        Assert.Equal(forwarded ? SpmcMock.Success : SpmcMock.Error, a.Frame[0]);
    }

    [Theory]
    [InlineData("pkvm-6.3")]
    [InlineData("pkvm-6.10")]
    [InlineData("pkvm-6.18")]
    public void Case46_BeforeL72_UnalignedConstituentIsTruncatedToItsPage_AndForwarded(string profile)
    {
        var h = ProxyHarness.Create(profile).Mapped();
        var a = h.Share(h.D((P + 0x800, 1)));
        Assert.Equal(SpmcMock.Success, a.Frame[0]);
        Assert.Equal(Stage2State.SharedWithFfa, h.StateOf(P));
        Assert.Contains("truncates constituent 0's address", a.Note);
    }

    [Theory]
    [InlineData("pkvm-6.10")]
    [InlineData("pkvm-6.18")]
    public void Case56_BeforeL72_CompositeHeaderPastLength_IsNotCaught_ReclaimIsSent(string profile)
    {
        var h = ProxyHarness.Create(profile).Mapped();
        var d = h.D((P, 1));
        h.Share(d);
        d.CompositeOffset = (uint)d.Length - 8;
        h.Spmc.On(RetrieveReq64, _ => { h.Memory.Write(HypRx, d.Bytes); return F(RetrieveResp, (ulong)d.Length, (ulong)d.Length); });
        h.Spmc.On(Reclaim, SpmcMock.Success);
        h.Spmc.Mark();
        h.Call(Reclaim, SpmcMock.HandleLo, SpmcMock.HandleHi, 0);
        Assert.Equal([RetrieveReq64, RxRelease, Reclaim], h.Spmc.Ids);
    }

    /// <summary>Before 8c6db30d only composite_off &gt; len is caught, inside a WARN_ON; 6.3 does not release the hyp RX.</summary>
    [Theory]
    [InlineData("pkvm-6.3", false)]
    [InlineData("pkvm-6.10", true)]
    [InlineData("pkvm-6.18", true)]
    public void Case56_BeforeL72_CompositeOffsetPastLength_IsTheWarnOn_Aborted_NoReclaimSent(string profile, bool releasesRx)
    {
        var h = ProxyHarness.Create(profile).Mapped();
        var d = h.D((P, 1));
        h.Share(d);
        d.CompositeOffset = (uint)d.Length + 8;
        h.Spmc.On(RetrieveReq64, _ => { h.Memory.Write(HypRx, d.Bytes); return F(RetrieveResp, (ulong)d.Length, (ulong)d.Length); });
        h.Spmc.Mark();
        var a = Err(h, h.Call(Reclaim, SpmcMock.HandleLo, SpmcMock.HandleHi, 0), -8, "pkvm.mem-reclaim.composite-beyond-length",
            Reclaim, SpmcMock.HandleLo, SpmcMock.HandleHi, 0);
        Assert.Contains($"composite offset {d.Length + 8} exceeds its total length {d.Length}", a.Reason);
        Assert.Contains("WARN_ON", a.Note);
        Assert.Equal(releasesRx ? [RetrieveReq64, RxRelease] : [RetrieveReq64], h.Spmc.Ids);
        Assert.Equal(Stage2State.SharedWithFfa, h.StateOf(P));
    }

    [Theory]
    [InlineData("pkvm-6.10", true)]
    [InlineData("pkvm-6.18", false)]
    [InlineData("pkvm-7.2", false)]
    public void Case67_BeforeL74_NotificationsAreUncheckedPassthrough_ThenDenied(string profile, bool passes)
    {
        var h = ProxyHarness.Create(profile).Negotiated();
        var a = h.Call(BitmapCreate, 1);
        if (passes) Passed(a, SpmcMock.Echo());
        else Err(h, a, -1, "pkvm.deny-list", BitmapCreate, 1);
    }

    [Fact]
    public void Case67_Pkvm63_NotificationIdsAbove0x7F_AreGenericSmcs_Below_PassAsFfa()
    {
        var h = ProxyHarness.Create("pkvm-6.3");
        Passed(h.Call(BitmapCreate, 1), SpmcMock.Echo());
        Passed(h.Call(0x8400_0082, 1), SpmcMock.Echo());
        Assert.False(h.Proxy.IsFfaCall(0x8400_0082));
        Assert.True(h.Proxy.IsFfaCall(0x8400_007F));
    }

    // ---- Boot against an SPMC that refuses the version ------------------------------------------------------------

    [Fact]
    public void Boot_Pkvm618_ZeroExtendedNotSupported_FailsTheMajorCheck_PkvmDoesNotComeUp()
    {
        var h = ProxyHarness.Create("pkvm-6.18", spmc => spmc.On(Version, 0xFFFF_FFFF));
        Assert.Null(h.Proxy.Stage2);
        Assert.Contains(h.Proxy.State.Notes, n => n.Contains("64-bit compare", StringComparison.Ordinal));
    }

    [Fact]
    public void Boot_Pkvm72_ZeroExtendedNotSupported_IsFfaAbsent_AndTheHostThenNegotiatesVersionZero()
    {
        var h = ProxyHarness.Create("pkvm-7.2", spmc => spmc.On(Version, 0xFFFF_FFFF));
        Assert.NotNull(h.Proxy.Stage2);
        Assert.Equal(0u, h.Proxy.HypVersion);
        Err(h, h.Call(IdGet), -2, "pkvm.version.not-negotiated", IdGet); // still gated
        Assert.Equal(0UL, h.Call(Version, 0x1_0001).Frame[0]); // digest §6: the edge case with no use in practice
        Assert.True(h.Proxy.Negotiated);
        Assert.Equal("0.0", h.Proxy.State.Version);
    }
}
