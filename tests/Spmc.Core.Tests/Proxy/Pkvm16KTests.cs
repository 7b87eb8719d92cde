using System.Text.Json.Nodes;
using Spmc.Abi.Smccc;
using Spmc.Core.Calls;
using Spmc.Core.Manifests;
using Spmc.Core.Proxy.Pkvm;
using Spmc.Core.Tests.Support;
using static Spmc.Core.Tests.Proxy.PkvmAssert;
using static Spmc.Core.Tests.Support.Manifests;

namespace Spmc.Core.Tests.Proxy;

/// <summary>
/// proxyOptions.pageSize 16384: pKVM on a 16K-page host kernel. Every PAGE_SIZE rule of ffa.c scales (do_ffa_rxtx_map
/// w3 = PAGE_SIZE/4096 = 4 and 16K alignment; the hyp's own TX/RX one kernel page each, mapped with the SPMC with w3 = 4;
/// __do_ffa_mem_xfer / do_ffa_mem_frag_tx fragments ≤ 16384; do_ffa_part_get copy ≤ 16384; hyp_ffa_post_init's minimum
/// buffer size ≤ PAGE_SIZE; constituents and the stage 2 in 16K granules). HF 723e1d25 names this case ("pKVM on a 16K
/// PAGE_SIZE kernel talking directly to Hafnium-as-SPMC"); HF 1210acbc lets the SPMC take 4-page RX/TX.
/// </summary>
public sealed class Pkvm16KTests
{
    private static readonly ProxyOptions Page16K = new(ProxyOptions.Page16K);
    private const ulong R16 = 0x8000_0000, T16 = 0x8000_4000, P = 0x8001_0000;
    private const ulong HypTx16 = 0x803F_8000, HypRx16 = 0x803F_C000; // the harness host's top 2 × 16K
    private const uint RxTxMap = 0xC400_0066, Share32 = 0x8400_0073, FragTx = 0x8400_007B, PartInfo = 0x8400_0068, Features = 0x8400_0064;

    private static SmcFrame F(params ulong[] x) => SmcFrame.From(x);

    private static ProxyHarness Harness(string profile = "pkvm-7.4", Action<SpmcMock>? boot = null) =>
        ProxyHarness.Create(profile, boot, Page16K);

    private static ProxyHarness Mapped16K(string profile = "pkvm-7.4")
    {
        var h = Harness(profile).Negotiated();
        Ok(h, h.Call(RxTxMap, T16, R16, 4), 0, RxTxMap, T16, R16, 4);
        h.Spmc.Mark();
        return h;
    }

    [Fact]
    public void Profile_ForPageSize_ScalesPagesPerPageAndDescriptorBuffer()
    {
        var p = PkvmProfile.Pkvm7_4.ForPageSize(16384);
        Assert.Equal(16384u, p.PageSize);
        Assert.Equal(4u, p.FfaPagesPerPage);
        Assert.Equal(3 * 16384, p.DescriptorBufferBytes); // DIV_ROUND_UP(desc_max, PAGE_SIZE) pages
        Assert.Same(PkvmProfile.Pkvm7_4, PkvmProfile.Pkvm7_4.ForPageSize(4096));
        Assert.Equal(4096u, PkvmProfile.Pkvm7_4.PageSize);
    }

    [Theory]
    [MemberData(nameof(Profiles.All), MemberType = typeof(Profiles))]
    public void HypPages_AreTheTopTwo16KPages_Stage2In16KGranules(string profile)
    {
        var h = Harness(profile);
        Assert.Equal(16384u, h.Proxy.PageSize);
        Assert.Equal((HypTx16, HypRx16), (h.Proxy.HypTx, h.Proxy.HypRx));
        Assert.Contains(h.Proxy.State.Stage2, r => r.Base == HypTx16 && r.Size == 0x4000 && r.State == "hyp (proxy TX)");
        Assert.Contains(h.Proxy.State.Notes, n => n.StartsWith("host PAGE_SIZE 16K: RXTX_MAP takes 4 FF-A pages", StringComparison.Ordinal));
        Assert.NotNull(h.Proxy.HostAccess(0, HypRx16 + 0x3000, 1, write: false));
    }

    /// <summary>do_ffa_rxtx_map: w3 must be 4 (a 4K-page driver's 1 is refused), addresses 16K aligned; the hyp maps its own pair with w3 = 4.</summary>
    [Fact]
    public void RxTxMap_PageCountFourAnd16KAlignment_HypMapsItsOwnFourPagePair()
    {
        var h = Harness().Negotiated();
        Err(h, h.Call(RxTxMap, T16, R16, 1), -2, "pkvm.rxtx-map.page-count", RxTxMap, T16, R16, 1);
        Err(h, h.Call(RxTxMap, 0x8000_1000, R16, 4), -2, "pkvm.rxtx-map.unaligned", RxTxMap, 0x8000_1000, R16, 4);
        NoEl3(h);
        Ok(h, h.Call(RxTxMap, T16, R16, 4), 0, RxTxMap, T16, R16, 4);
        Assert.Equal([RxTxMap, HypTx16, HypRx16, 4], Assert.Single(h.Spmc.Frames).ToArray()[..4]);
        Assert.Equal(Stage2State.SharedWithHyp, h.StateOf(T16 + 0x3000));
        Assert.Equal(Stage2State.SharedWithHyp, h.StateOf(R16 + 0x3000));
    }

    /// <summary>__do_ffa_mem_xfer / do_ffa_mem_frag_tx: fragments up to PAGE_SIZE = 16384, not one byte more.</summary>
    [Fact]
    public void Fragments_UpTo16384_AreWithinPageSize()
    {
        var h = Mapped16K();
        Err(h, h.Call(Share32, 16400, 16400), -2, "pkvm.mem-share.fragment-exceeds-page", Share32, 16400, 16400);
        Err(h, h.Call(FragTx, 0x1234, 7, 16400), -2, "pkvm.mem-frag-tx.fragment-exceeds-page", FragTx, 0x1234, 7, 16400);
        NoEl3(h);
        Assert.NotEqual("pkvm.mem-share.fragment-exceeds-page", h.Call(Share32, 16384, 16384).Rule);
        Assert.NotEqual("pkvm.mem-frag-tx.fragment-exceeds-page", h.Call(FragTx, 0x1234, 7, 16384).Rule);
    }

    /// <summary>Constituents are shared in 16K granules: one FF-A page, or four from an unaligned address, is DENIED; four aligned ones are shared.</summary>
    /// <summary>FFA_MEM_SHARE_32 of <paramref name="d"/> written into the 16K host TX (T16).</summary>
    private static FfaAnswer Share(ProxyHarness h, PkvmDescriptor d)
    {
        h.Memory.Write(T16, d.Bytes);
        return h.Call(Share32, (ulong)d.Length, (ulong)d.Length);
    }

    [Fact]
    public void Constituents_MustBeWhole16KPages()
    {
        var h = Mapped16K();
        var one = h.D((P, 1));
        Err(h, Share(h, one), -6, F(Share32, (ulong)one.Length, (ulong)one.Length), "pkvm.mem-share.range-unaligned");
        var shifted = h.D((P + 0x1000, 4));
        Err(h, Share(h, shifted), -6, F(Share32, (ulong)shifted.Length, (ulong)shifted.Length), "pkvm.mem-share.range-unaligned");
        NoEl3(h);
        var four = h.D((P, 4));
        Assert.Equal(SpmcMock.Success, Share(h, four).Frame[0]);
        Assert.Equal(Stage2State.SharedWithFfa, h.StateOf(P + 0x3000));
        Assert.Equal(Stage2State.Owned, h.StateOf(P + 0x4000));
    }

    /// <summary>do_ffa_part_get: count × size may fill the 16K RX (4800 bytes copied), not more (ABORTED).</summary>
    [Fact]
    public void PartitionInfo_CopyUpTo16K()
    {
        var h = Mapped16K();
        h.Spmc.On(PartInfo, SpmcMock.Success, 0, 200, 24);
        Assert.Equal(SpmcMock.Success, h.Call(PartInfo).Frame[0]);
        h.Spmc.On(PartInfo, SpmcMock.Success, 0, 700, 24);
        Err(h, h.Call(PartInfo), -8, "pkvm.partition-info-get.copy-exceeds-page", PartInfo);
    }

    /// <summary>hyp_ffa_post_init: an SPMC asking for 16K-aligned buffers (w2 &amp; 3 = 2) is fine on a 16K host, refused on a 4K one.</summary>
    [Fact]
    public void PostInit_MinimumBuffer16K_AcceptedOn16KHost_RefusedOn4K()
    {
        void Min16K(SpmcMock m) => m.On(Features, a => (uint)a[1] == RxTxMap ? F(SpmcMock.Success, 0, 2) : SpmcMock.Default(a));
        var big = Harness(boot: Min16K);
        Assert.Equal(0x1_0002UL, big.Call(0x8400_0063, 0x1_0002).Frame[0]);
        Assert.True(big.Proxy.Negotiated);

        var small = ProxyHarness.Create("pkvm-7.4", Min16K);
        var a = small.Call(0x8400_0063, 0x1_0002);
        Assert.Equal(ulong.MaxValue, a.Frame[0]);
        Assert.Equal("pkvm.version.post-init.min-buffer-above-page", a.Rule);
        Assert.Contains("exceeds PAGE_SIZE (4K)", a.Reason);
    }

    // ---- Through the real SPMC (the default manifest: host 256 MiB at 0x80000000) -------------------------------------

    private const ulong HypTx = 0x8FFF_8000, HypRx = 0x8FFF_C000, Pages = 0x8010_0000;

    public static string Json(uint rxtxMaxPages)
    {
        var node = JsonNode.Parse(WithProxy(DefaultJson, "pkvm-7.4"))!.AsObject();
        node["spmc"]!["rxtxMaxPages"] = rxtxMaxPages;
        node["proxyOptions"] = new JsonObject { ["pageSize"] = 16384 };
        return node.ToJsonString();
    }

    /// <summary>
    /// An SPMC whose RX/TX is at most one page (Hafnium's default plat_rxtx_max_page_count = 1) cannot take pKVM's
    /// 4-page hyp buffers: api_vm_configure_pages answers INVALID_PARAMETERS and ffa_map_hyp_buffers hands it to the host.
    /// </summary>
    [Fact]
    public void System_SpmcWithOnePageRxTx_RxTxMapFails_NothingShared()
    {
        var sys = TestSystem.FromJson(Json(1), "16k-small");
        Assert.Equal(0x1_0002UL, sys.Call(0, F(0x8400_0063, 0x1_0002)).Frame[0]);
        var o = sys.Call(0, F(RxTxMap, T16, R16, 4));
        Assert.Equal(SpmcMock.Error, o.Frame[0]);
        Assert.Equal("INVALID_PARAMETERS", o.Decoded.Error);
        Assert.Equal([RxTxMap, HypTx, HypRx, 4], Assert.Single(o.Decoded.Hops!).Request.ToArray()[..4]);
        Assert.Contains("refused the hypervisor's own buffers", o.Decoded.Reason);
        var proxy = sys.State.Proxy!;
        Assert.Null(proxy.HostTx);
        Assert.Null(sys.Endpoint(0).Mailbox);
        Assert.Contains(proxy.Stage2, r => r.Base <= T16 && T16 < r.Base + r.Size && r.State == "owned");
    }

    /// <summary>
    /// A working 16K system (spmc.rxtxMaxPages 4): map, a share whose single fragment is larger than 4 KiB (251
    /// constituents of one 16K page: 4112 bytes) copied through the 16K hyp TX, and its reclaim.
    /// </summary>
    [Fact]
    public void System_SpmcWithFourPageRxTx_MapShareBiggerThan4KAndReclaim()
    {
        var sys = TestSystem.FromJson(Json(4), "16k");
        Assert.Equal(0x1_0002UL, sys.Call(0, F(0x8400_0063, 0x1_0002)).Frame[0]);
        var map = sys.Call(0, F(RxTxMap, T16, R16, 4));
        Assert.True(map.Frame[0] == SpmcMock.Success, map.Decoded.Reason);
        Assert.Equal(new Spmc.Core.Systems.MailboxView(HypTx, HypRx, 4, sys.Endpoint(0).Mailbox!.State), sys.Endpoint(0).Mailbox);

        var d = new PkvmDescriptor(0x1_0002, [.. Enumerable.Range(0, 251).Select(i => (Pages + (ulong)i * 0x4000, 4u))]);
        Assert.Equal(4112, d.Length);
        var share = sys.Call(0, F(Share32, (ulong)d.Length, (ulong)d.Length), writes: [new MemoryWrite(T16, d.Bytes)]);
        Assert.True(share.Frame[0] == SpmcMock.Success, share.Decoded.Reason);
        var hop = Assert.Single(share.Decoded.Hops!);
        Assert.Equal([0xC400_0073, 4112, 4112], hop.Request.ToArray()[..3]);
        Assert.Contains(sys.State.Proxy!.Stage2, r => r.Base == Pages && r.Size == 251 * 0x4000UL && r.State == "shared-owned (FF-A)");

        var handle = share.Frame[2] | share.Frame[3] << 32;
        var reclaim = sys.Call(0, F(0x8400_0077, (uint)handle, handle >> 32, 0));
        Assert.True(reclaim.Frame[0] == SpmcMock.Success, reclaim.Decoded.Reason);
        Assert.Contains(sys.State.Proxy!.Stage2, r => r.Base <= Pages && Pages + 251 * 0x4000UL <= r.Base + r.Size && r.State == "owned");
    }

    [Fact]
    public void Manifest_16KHostNeedsTwo16KPagesAtTheTop()
    {
        var json = """
            { "proxy": "pkvm-7.4", "proxyOptions": { "pageSize": 16384 },
              "vms": [ { "id": 0, "name": "host", "memory": [ { "base": "0x80000000", "size": "0x100000" }, { "base": "0xA0000000", "size": "0x6000" } ] } ] }
            """;
        var e = Assert.Throws<InvalidRequestException>(() => ManifestValidator.Validate(json));
        Assert.Contains("proxy: profile 'pkvm-7.4' needs VM 0's highest region at least 32 KiB once aligned to PAGE_SIZE (16 KiB)", e.Message);
        Assert.Equal(16384u, ManifestValidator.Validate(json.Replace("0x6000", "0x8000")).Proxy.PageSize);
    }
}
