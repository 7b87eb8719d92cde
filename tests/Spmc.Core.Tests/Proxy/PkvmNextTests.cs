using Spmc.Abi.Ffa;
using Spmc.Abi.Smccc;
using Spmc.Core.Proxy;
using Spmc.Core.Proxy.Pkvm;
using Spmc.Core.Tests.Support;
using static Spmc.Core.Tests.Proxy.PkvmAssert;
using static Spmc.Core.Tests.Support.Manifests;

namespace Spmc.Core.Tests.Proxy;

/// <summary>
/// pkvm-next: 7.4 plus the unmerged host direct-messaging series ("KVM: arm64: Support FF-A direct messaging
/// interfaces", v7 of 30 Aug 2026 pending; checks as read in v6 1/2 and 2/2, do_ffa_direct_msg). Opt-in only.
/// </summary>
public sealed class PkvmNextTests
{
    private const uint Req32 = 0x8400_006F, Req64 = 0xC400_006F, Req2 = 0xC400_008D, Resp2 = 0xC400_008E, Features = 0x8400_0064;

    private static SmcFrame F(params ulong[] x) => SmcFrame.From(x);

    [Fact]
    public void PkvmNext_IsKnownByName_UnmergedAndNeverTheDefault()
    {
        var next = PkvmProfile.Find("pkvm-next")!;
        Assert.False(next.Merged);
        Assert.True(next.DirectMessagesAtEl2);
        Assert.True(next.StrictSbz); // 7.4 underneath
        Assert.DoesNotContain(next, PkvmProfile.All);
        Assert.Contains("pkvm-next", ProxyProfiles.Known);
        Assert.Equal("passthrough", ProxyProfiles.Default);
        Assert.Equal("pkvm-7.4", ProxyProfiles.LatestPkvm);
        Assert.Contains("NOT MERGED", next.Summary);
        Assert.Equal(PkvmProfile.Pkvm7_4.DenyList.Except([Req2, Resp2]).Order(), next.DenyList.Order());
    }

    /// <summary>v6 1/2: w1[31:16] (FFA_SRC_ENDPOINT_MASK) must be HOST_FFA_ID, for REQ of both widths and REQ2 (2/2).</summary>
    [Theory]
    [InlineData(Req32)]
    [InlineData(Req64)]
    [InlineData(Req2)]
    public void DirectReq_SourceNotTheHost_IsInvalidParameters_NoEl3(uint id)
    {
        var h = ProxyHarness.Create("pkvm-next").Negotiated();
        Err(h, h.Call(id, 0x0001_8001), -2, "pkvm.direct-req.source-not-host", id, 0x0001_8001);
        NoEl3(h);
    }

    /// <summary>v6 1/2: REQ's w2 must be 0, which keeps the host from sending framework messages (bit 31).</summary>
    [Theory]
    [InlineData(Req32)]
    [InlineData(Req64)]
    public void DirectReq_W2NotZero_IsInvalidParameters_FrameworkMessagesFiltered(uint id)
    {
        var h = ProxyHarness.Create("pkvm-next").Negotiated();
        Err(h, h.Call(id, 0x8001, 0x8000_0004), -2, "pkvm.direct-req.w2-not-zero", id, 0x8001, 0x8000_0004);
        NoEl3(h);
    }

    /// <summary>A valid REQ2: the host's whole x0..x17 (UUID in x2/x3, payload to x17) reaches EL3 and EL3's x0..x17 come back.</summary>
    [Fact]
    public void DirectReq2_FromTheHost_ForwardsX0ToX17BothWays()
    {
        var h = ProxyHarness.Create("pkvm-next").Negotiated();
        var input = F(Req2, 0x8001, 0x1111, 0x2222, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17);
        Passed(h.Call(input), SpmcMock.Echo());
        Assert.Equal(input.ToArray(), Assert.Single(h.Spmc.Frames).ToArray());
    }

    [Fact]
    public void DirectReq32_FromTheHost_ForwardedAsIs()
    {
        var h = ProxyHarness.Create("pkvm-next").Negotiated();
        var input = F(Req32, 0x8001, 0, 3, 4, 5, 6, 7);
        Passed(h.Call(input), SpmcMock.Echo());
        Assert.Equal(input.ToArray(), Assert.Single(h.Spmc.Frames).ToArray());
    }

    /// <summary>Upstream 7.4, for contrast: REQ passes unchecked (any source, any w2), REQ2 and FEATURES(REQ2) are NOT_SUPPORTED.</summary>
    [Fact]
    public void Pkvm74_PassesReqUnchecked_DeniesReq2_PkvmNextAsksTheSpmc()
    {
        var h = ProxyHarness.Create("pkvm-7.4").Negotiated();
        Passed(h.Call(Req32, 0x0001_8001, 0x8000_0004), SpmcMock.Echo());
        h.Spmc.Mark();
        Err(h, h.Call(Req2, 0x8001), -1, "pkvm.deny-list", Req2, 0x8001);
        Err(h, h.Call(Features, Req2), -1, "pkvm.features.denied-id", Features, Req2);

        var next = ProxyHarness.Create("pkvm-next").Negotiated();
        Passed(next.Call(Features, Req2), SpmcMock.Echo());
        next.Spmc.Mark();
        Passed(next.Call(Resp2, 0x8001_0000), SpmcMock.Echo()); // RESP2 off the deny list: passed through
    }

    /// <summary>Through the real SPMC (default manifest): the host's REQ2 reaches the echo partition and its RESP2 comes back.</summary>
    [Fact]
    public void DefaultManifest_PkvmNext_HostReq2ToEcho_IsAnswered()
    {
        var sys = TestSystem.FromJson(WithProxy(DefaultJson, "pkvm-next"), "next");
        Assert.Equal(0x1_0002UL, sys.Call(0, F(0x8400_0063, 0x1_0002)).Frame[0]);
        var (lo, hi) = FfaUuid.Parse("7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4a01").ToRegisters64();
        var o = sys.Call(0, F(Req2, 0x8001, lo, hi, 0xAB, 0xCD));
        Assert.Equal(Resp2, o.Frame[0]);
        Assert.Equal(0xABUL, o.Frame[4]);
        Assert.Equal(0xCDUL, o.Frame[5]);
        Assert.Equal("pkvm-next", sys.State.Proxy!.Profile);
    }
}
