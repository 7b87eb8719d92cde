using Spmc.Abi.Ffa;
using Spmc.Abi.Rules;
using Spmc.Core.Proxy.Pkvm;
using static Spmc.Core.Tests.Proxy.PkvmAssert;
using static Spmc.Core.Tests.Proxy.ProxyHarness;

namespace Spmc.Core.Tests.Proxy;

public sealed partial class PkvmCaseTests
{
    private const uint RxTxMap = 0xC400_0066, RxTxUnmap = 0x8400_0067, PartInfo = 0x8400_0068, RxRelease = 0x8400_0065;

    // ---- RX/TX buffers --------------------------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(Profiles.All), MemberType = typeof(Profiles))]
    public void Case24_RxTxMap_TwoPages_IsInvalidParameters(string profile)
    {
        var h = ProxyHarness.Create(profile).Negotiated();
        var a = Err(h, h.Call(RxTxMap, T, R, 2), -2, "pkvm.rxtx-map.page-count", RxTxMap, T, R, 2);
        Assert.Equal("pKVM: FFA_RXTX_MAP page count 2 is not PAGE_SIZE/4096 (1)", a.Reason);
        NoEl3(h);
    }

    [Theory]
    [MemberData(nameof(Profiles.All), MemberType = typeof(Profiles))]
    public void Case25_RxTxMap_UnalignedRx_IsInvalidParameters(string profile)
    {
        var h = ProxyHarness.Create(profile).Negotiated();
        Err(h, h.Call(RxTxMap, T, R + 0x800, 1), -2, "pkvm.rxtx-map.unaligned", RxTxMap, T, R + 0x800, 1);
        NoEl3(h);
    }

    [Theory]
    [MemberData(nameof(Profiles.All), MemberType = typeof(Profiles))]
    public void Case26_RxTxMap_RegistersTheHypervisorsBuffers_AndSharesTheHostsWithIt(string profile)
    {
        var h = ProxyHarness.Create(profile).Negotiated();
        Ok(h, h.Call(RxTxMap, T, R, 1), 0, RxTxMap, T, R, 1);
        El3Saw(h, RxTxMap);
        Assert.Equal([RxTxMap, HypTx, HypRx, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], h.Spmc.Frames[0].ToArray());
        Assert.Equal(Stage2State.SharedWithHyp, h.StateOf(T));
        Assert.Equal(Stage2State.SharedWithHyp, h.StateOf(R));
        Assert.Equal((ulong?)T, h.Proxy.State.HostTx);
        Assert.Equal((ulong?)R, h.Proxy.State.HostRx);
    }

    [Theory]
    [MemberData(nameof(Profiles.All), MemberType = typeof(Profiles))]
    public void Case27_RxTxMap_Twice_IsDenied_NoEl3(string profile)
    {
        var h = ProxyHarness.Create(profile).Mapped();
        Err(h, h.Call(RxTxMap, Q, Q + 0x1000, 1), -6, "pkvm.rxtx-map.already-mapped", RxTxMap, Q, Q + 0x1000, 1);
        NoEl3(h);
    }

    [Theory]
    [MemberData(nameof(Profiles.All), MemberType = typeof(Profiles))]
    public void Case28_RxTxMap_SpmcRefusesTheHypervisorsBuffers_ErrorGoesToHost_NothingShared(string profile)
    {
        var h = ProxyHarness.Create(profile).Negotiated();
        h.Spmc.On(RxTxMap, SpmcMock.FfaError(-6).ToArray());
        Err(h, h.Call(RxTxMap, T, R, 1), -6, "pkvm.rxtx-map.spmc-refused", RxTxMap, T, R, 1);
        Assert.Equal(Stage2State.Owned, h.StateOf(T));
        Assert.Equal(Stage2State.Owned, h.StateOf(R));
    }

    /// <summary>The error is the SPMC's: so is the rule, when the SPMC names one (the real SPMC always does).</summary>
    [Theory]
    [MemberData(nameof(Profiles.All), MemberType = typeof(Profiles))]
    public void Case28_SpmcRefusesTheHypervisorsBuffers_WithItsOwnRule_TheHostGetsThatRule(string profile)
    {
        var h = ProxyHarness.Create(profile).Negotiated();
        h.Spmc.Refuse(RxTxMap, new Rejection(FfaError.Denied, "spmc.rxtx-map.refused", "FFA_RXTX_MAP: no"), SpmcMock.FfaError(-6).ToArray());
        var a = h.Call(RxTxMap, T, R, 1);
        Assert.Equal([Error, 0, 0xFFFF_FFFF_FFFF_FFFA, 0], a.Frame.ToArray()[..4]);
        Assert.Equal(FfaErrorCode.Denied, (int?)a.Error);
        Assert.Equal("spmc.rxtx-map.refused", a.Rule);
        Assert.StartsWith("pKVM: FFA_RXTX_MAP: the SPMC refused the hypervisor's own buffers", a.Reason);
        Assert.Equal(Stage2State.Owned, h.StateOf(T));
    }

    [Theory]
    [MemberData(nameof(Profiles.All), MemberType = typeof(Profiles))]
    public void Case29_RxTxMap_TxEqualsRx_FailsAtTheSecondShare_AndRollsBack(string profile)
    {
        var h = ProxyHarness.Create(profile).Negotiated();
        Err(h, h.Call(RxTxMap, T, T, 1), -2, "pkvm.rxtx-map.share-hyp-failed", RxTxMap, T, T, 1);
        El3Saw(h, RxTxMap, RxTxUnmap);
        Assert.Equal(0UL, h.Spmc.Frames[1][1]);
        Assert.Equal(Stage2State.Owned, h.StateOf(T));
    }

    [Theory]
    [MemberData(nameof(Profiles.All), MemberType = typeof(Profiles))]
    public void Case30_RxTxMap_TxNotHostOwned_IsInvalidParameters_HypBuffersUnmappedAgain(string profile)
    {
        var h = ProxyHarness.Create(profile).Negotiated();
        Err(h, h.Call(RxTxMap, GuestPage, R, 1), -2, "pkvm.rxtx-map.share-hyp-failed", RxTxMap, GuestPage, R, 1);
        El3Saw(h, RxTxMap, RxTxUnmap);
        Assert.Equal(Stage2State.Owned, h.StateOf(R));
    }

    [Theory]
    [MemberData(nameof(Profiles.All), MemberType = typeof(Profiles))]
    public void Case31_RxTxUnmap_NonZeroId_IsInvalidParameters(string profile)
    {
        var h = ProxyHarness.Create(profile).Mapped();
        Err(h, h.Call(RxTxUnmap, 0x0001_0000), -2, "pkvm.rxtx-unmap.not-host-id", RxTxUnmap, 0x0001_0000);
        NoEl3(h);
        Assert.Equal(Stage2State.SharedWithHyp, h.StateOf(T));
    }

    [Theory]
    [MemberData(nameof(Profiles.All), MemberType = typeof(Profiles))]
    public void Case32_RxTxUnmap_NothingMapped_IsInvalidParameters(string profile)
    {
        var h = ProxyHarness.Create(profile).Negotiated();
        Err(h, h.Call(RxTxUnmap, 0), -2, "pkvm.rxtx-unmap.not-mapped", RxTxUnmap, 0);
        NoEl3(h);
    }

    [Theory]
    [MemberData(nameof(Profiles.All), MemberType = typeof(Profiles))]
    public void Case33_RxTxUnmap_UnsharesAndUnmaps_SucceedsEvenWhenTheSpmcRefuses(string profile)
    {
        var h = ProxyHarness.Create(profile).Mapped();
        h.Spmc.On(RxTxUnmap, SpmcMock.FfaError(-2).ToArray());
        Ok(h, h.Call(RxTxUnmap, 0), 0, RxTxUnmap, 0);
        El3Saw(h, RxTxUnmap);
        Assert.Equal(0UL, h.Spmc.Frames[0][1]);
        Assert.Equal(Stage2State.Owned, h.StateOf(T));
        Assert.Equal(Stage2State.Owned, h.StateOf(R));
        Assert.Null(h.Proxy.State.HostTx);
    }

    // ---- Partition info ---------------------------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(Profiles.Gated), MemberType = typeof(Profiles))]
    public void Case59_PartitionInfoGet_NoHostRx_IsBusy_NoEl3(string profile)
    {
        var h = ProxyHarness.Create(profile).Negotiated();
        Err(h, h.Call(PartInfo), -4, "pkvm.partition-info-get.no-host-rx", PartInfo);
        NoEl3(h);
    }

    private static void FillHypRx(ProxyHarness h, int bytes) =>
        h.Memory.Write(HypRx, [.. Enumerable.Range(0, bytes).Select(i => (byte)(i + 1))]);

    [Theory]
    [MemberData(nameof(Profiles.Gated), MemberType = typeof(Profiles))]
    public void Case60_PartitionInfoGet_CopiesCountTimesSizeIntoHostRx_NoRxRelease(string profile)
    {
        var h = ProxyHarness.Create(profile).Mapped();
        FillHypRx(h, 4096);
        var el3 = F(SpmcMock.Success, 0, 2, 24);
        h.Spmc.On(PartInfo, el3.ToArray());
        var input = F(PartInfo, 0, 0, 0, 0, 0);
        var a = h.Call(input);
        Verbatim(h, a, el3, input);
        El3Saw(h, PartInfo);
        Assert.Equal(h.Memory.Read(HypRx, 48), h.Memory.Read(R, 48));
        Assert.All(h.Memory.Read(R + 48, 16), b => Assert.Equal(0, b));
    }

    [Theory]
    [MemberData(nameof(Profiles.Gated), MemberType = typeof(Profiles))]
    public void Case61_PartitionInfoGet_CountOnly_NoCopy(string profile)
    {
        var h = ProxyHarness.Create(profile).Mapped();
        FillHypRx(h, 64);
        var el3 = F(SpmcMock.Success, 0, 2, 24);
        h.Spmc.On(PartInfo, el3.ToArray());
        var input = F(PartInfo, 0, 0, 0, 0, 1);
        Verbatim(h, h.Call(input), el3, input);
        Assert.Equal(1UL, h.Spmc.Frames[0][5]);
        Assert.All(h.Memory.Read(R, 64), b => Assert.Equal(0, b));
    }

    [Theory]
    [MemberData(nameof(Profiles.Gated), MemberType = typeof(Profiles))]
    public void Case62_PartitionInfoGet_V10_CopiesEightBytesPerEntry_IgnoringW3(string profile)
    {
        var h = ProxyHarness.Create(profile).Mapped(0x1_0000);
        Assert.Equal(0x1_0000u, h.Proxy.HypVersion);
        FillHypRx(h, 64);
        var el3 = F(SpmcMock.Success, 0, 3, 100);
        h.Spmc.On(PartInfo, el3.ToArray());
        Verbatim(h, h.Call(PartInfo), el3, F(PartInfo));
        Assert.Equal(h.Memory.Read(HypRx, 24), h.Memory.Read(R, 24));
        Assert.All(h.Memory.Read(R + 24, 16), b => Assert.Equal(0, b));
    }

    [Theory]
    [MemberData(nameof(Profiles.Gated), MemberType = typeof(Profiles))]
    public void Case63_PartitionInfoGet_CopyLargerThanAPage_IsAborted(string profile)
    {
        var h = ProxyHarness.Create(profile).Mapped();
        h.Spmc.On(PartInfo, SpmcMock.Success, 0, 200, 24);
        Err(h, h.Call(PartInfo), -8, "pkvm.partition-info-get.copy-exceeds-page", PartInfo);
    }

    [Theory]
    [MemberData(nameof(Profiles.Gated), MemberType = typeof(Profiles))]
    public void Case64_PartitionInfoGet_SpmcError_IsVerbatim(string profile)
    {
        var h = ProxyHarness.Create(profile).Mapped();
        var el3 = SpmcMock.FfaError(-4);
        h.Spmc.On(PartInfo, el3.ToArray());
        Verbatim(h, h.Call(PartInfo), el3, F(PartInfo));
    }
}
