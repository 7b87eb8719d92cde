using Spmc.Abi.Descriptors;
using Spmc.Abi.Descriptors.Memory;
using Spmc.Abi.Ffa;
using Spmc.Abi.Smccc;
using Spmc.Core.Calls;
using Spmc.Core.Tests.Support;
using static Spmc.Core.Tests.Support.Manifests;

namespace Spmc.Core.Tests.Proxy;

/// <summary>
/// Issue 14, "hypervisor retrieve at every host version": pKVM's reclaim (do_ffa_mem_reclaim) sends the SPMC a
/// hypervisor retrieve request of sizeof(struct ffa_mem_region) — 32 bytes in 6.3, 48 from 6.10 — whatever the host
/// negotiated, and parses the answer in its own negotiated layout. Hafnium classifies the request by its receiver
/// count (byte 28) and validates only the caller-version fields, with no length rule (api_ffa_mem_retrieve_req,
/// api_ffa_memory_hypervisor_retrieve_request_validate). Every profile × host version the profile can negotiate,
/// and passthrough, must reclaim with the pages back with the host on both halves: stage 2 OWNED, the SPMC's
/// record gone, and the same pages shareable again.
/// </summary>
/// <remarks>
/// Combinations the model (and the real kernel) cannot reach: pkvm-6.3 at 1.1 or 1.2 — its hyp_ffa_init fixes FF-A
/// 1.0 at boot and makes FFA_ID_GET/FEATURES there, after which the SPMC refuses ID 0 another version (the host's
/// FFA_VERSION passes through and is answered NOT_SUPPORTED), and 6.3's own arm_ffa driver speaks only 1.0;
/// pkvm-6.10 at 1.2 — its hyp version is clamped at 1.1 and do_ffa_version answers 1.1 to a request for 1.2.
/// A host at 1.0 under 6.10+ (or at 1.1 under 6.18+) is what the in-tree driver gets from an SPMC of that version,
/// or what a host asking for it explicitly gets; either way pKVM lowers its own version and still sends 48 bytes.
/// </remarks>
public sealed class PkvmReclaimEveryVersionTests
{
    private const ushort Sp = MemorySp, HostId = Support.Manifests.Host;
    private const ulong HostRx = 0x8000_0000, HostTx = 0x8000_1000, SpRx = 0x6010_0000, SpTx = 0x6010_1000;
    private const ulong Success = 0x8400_0061, RetrieveResp = 0x8400_0075, FragRx = 0x8400_007A, FragTx = 0x8400_007B;
    private const ulong Share32 = 0x8400_0073, Reclaim = 0x8400_0077, RxRelease = 0x8400_0065, Version = 0x8400_0063;

    /// <summary>Every (profile, host version) the profile can negotiate, passthrough included.</summary>
    public static TheoryData<string, string> Reachable => new()
    {
        { "passthrough", "1.0" }, { "passthrough", "1.1" }, { "passthrough", "1.2" },
        { "pkvm-6.3", "1.0" },
        { "pkvm-6.10", "1.0" }, { "pkvm-6.10", "1.1" },
        { "pkvm-6.18", "1.0" }, { "pkvm-6.18", "1.1" }, { "pkvm-6.18", "1.2" },
        { "pkvm-7.2", "1.0" }, { "pkvm-7.2", "1.1" }, { "pkvm-7.2", "1.2" },
        { "pkvm-7.4", "1.0" }, { "pkvm-7.4", "1.1" }, { "pkvm-7.4", "1.2" },
    };

    private static SmcFrame F(params ulong[] x) => SmcFrame.From(x);

    private static FfaVersion Parse(string version) => FfaVersion.TryParse(version, out var v) ? v : throw new ArgumentException(version);

    private static uint Encode(string version) => Parse(version).Encoded;

    /// <summary>A system under <paramref name="profile"/> with the host at <paramref name="version"/>, its buffers mapped; the SP's too.</summary>
    private static (TestSystem Sys, MemoryDescriptorLayout Layout) Boot(string profile, string version)
    {
        var sys = TestSystem.FromJson(WithProxy(DefaultJson, profile), profile);
        Assert.Equal(Success, sys.Call(Sp, F(0xC400_0066, SpTx, SpRx, 1)).Frame[0]);
        var answer = sys.Call(HostId, F(Version, Encode(version)));
        // The SPMC answers its own version (1.3) to a passthrough or pkvm-6.3 host; pKVM answers the one it settled on.
        Assert.True(answer.Frame[0] == Encode(version) || answer.Frame[0] == 0x1_0003, $"{profile}: FFA_VERSION({version}) → 0x{answer.Frame[0]:X}");
        Assert.Equal(Success, sys.Call(HostId, F(0xC400_0066, HostTx, HostRx, 1)).Frame[0]);
        return (sys, MemoryDescriptorLayouts.For(Parse(version)));
    }

    private static string Stage2(TestSystem sys, ulong page) =>
        sys.State.Proxy?.Stage2.Single(r => r.Base <= page && page < r.Base + r.Size).State ?? "owned";

    /// <summary>The host's view of a page in the SPMC: owned by it, in no transaction.</summary>
    private static void OwnedByTheHostAtTheSpmc(TestSystem sys, ulong page)
    {
        var region = sys.State.Memory.Single(r => r.Base <= page && page < r.Base + r.Size);
        Assert.Equal(HostId, region.Owner);
        Assert.Null(region.Share);
    }

    /// <summary>SHARE of <paramref name="pages"/> one-page constituents to the SP, in fragments of at most <paramref name="fragment"/> bytes.</summary>
    private static (SmcOutcome Last, ulong Handle, List<int> Fragments) Share(TestSystem sys, MemoryDescriptorLayout layout, ulong[] pages, int fragment = FfaPage.Size)
    {
        var d = PkvmEndToEndTests.ShareDescriptor(layout, pages);
        var cuts = new List<int> { Math.Min(fragment, d.Length) };
        var o = sys.Call(HostId, F(Share32, (ulong)d.Length, (ulong)cuts[0]), writes: [new MemoryWrite(HostTx, d[..cuts[0]])]);
        var sent = cuts[0];
        while (o.Frame[0] == FragRx && sent < d.Length)
        {
            var next = Math.Min(fragment, d.Length - sent);
            o = sys.Call(HostId, F(FragTx, o.Frame[1], o.Frame[2], (ulong)next), writes: [new MemoryWrite(HostTx, d[sent..(sent + next)])]);
            cuts.Add(next);
            sent += next;
        }
        Assert.True(o.Frame[0] == Success, $"share: {o.Decoded.Reason}");
        return (o, o.Frame[2] | (o.Frame[3] << 32), cuts);
    }

    private static SmcOutcome ReclaimCall(TestSystem sys, ulong handle) => sys.Call(HostId, F(Reclaim, (uint)handle, handle >> 32, 0));

    [Theory]
    [MemberData(nameof(Reachable))]
    public void Reclaim_AtEveryReachableHostVersion_ReturnsThePagesToTheHost(string profile, string version)
    {
        var (sys, layout) = Boot(profile, version);
        ulong[] pages = [0x8020_0000, 0x8040_0000];
        var (_, handle, _) = Share(sys, layout, pages);
        if (profile != "passthrough") Assert.All(pages, p => Assert.Equal("shared-owned (FF-A)", Stage2(sys, p)));
        Assert.All(pages, p => Assert.NotNull(sys.State.Memory.Single(r => r.Base <= p && p < r.Base + r.Size).Share));

        var reclaim = ReclaimCall(sys, handle);
        Assert.True(reclaim.Frame[0] == Success, $"{profile} at {version}: {reclaim.Decoded.Reason}");
        if (profile != "passthrough")
        {
            // pKVM's hypervisor retrieve: its own struct size, whatever the host negotiated (6.3: 32, 6.10+: 48).
            var retrieve = reclaim.Decoded.Hops![0];
            Assert.Equal(0xC400_0074UL, retrieve.Request[0]);
            Assert.Equal(profile == "pkvm-6.3" ? 32UL : 48UL, retrieve.Request[1]);
            Assert.Equal(RetrieveResp, retrieve.Answer[0]);
        }
        Assert.All(pages, p => Assert.Equal("owned", Stage2(sys, p)));
        Assert.Empty(sys.State.Shares);
        Assert.All(pages, p => OwnedByTheHostAtTheSpmc(sys, p));
        // Really back: the same pages can be shared again (after 6.3's unreleased RX is freed by the host's RX_RELEASE).
        if (profile == "pkvm-6.3") Assert.Equal(Success, sys.Call(HostId, F(RxRelease)).Frame[0]);
        Share(sys, layout, pages);
    }

    /// <summary>The host version each profile actually settles on when asked for one it cannot give.</summary>
    [Theory]
    [InlineData("pkvm-6.3", 0x1_0001u, 0xFFFF_FFFFUL)]  // FFA_VERSION passes through; the SPMC holds ID 0 at the boot-time 1.0
    [InlineData("pkvm-6.3", 0x1_0002u, 0xFFFF_FFFFUL)]
    [InlineData("pkvm-6.10", 0x1_0002u, 0x1_0001UL)]    // hyp_ffa_version is clamped at 1.1
    public void UnreachableHostVersions_AreAnsweredSo(string profile, uint asked, ulong answered)
    {
        var sys = TestSystem.FromJson(WithProxy(DefaultJson, profile), profile);
        Assert.Equal(answered, sys.Call(HostId, F(Version, asked)).Frame[0]);
    }

    /// <summary>
    /// A 48-byte request from a host at 1.0 straight to the SPMC (passthrough) is what pKVM 6.10+ sends for such a
    /// host: Hafnium reads the v1.0 fields only and ignores bytes 32..47 (api_ffa_memory_hypervisor_retrieve_request_validate).
    /// The answer is in the v1.0 layout: the EMAD right after the 32-byte header.
    /// </summary>
    [Fact]
    public void HypervisorRetrieve_48Bytes_FromAV10Host_IsAnsweredInTheV10Layout()
    {
        var (sys, layout) = Boot("passthrough", "1.0");
        var (_, handle, _) = Share(sys, layout, [0x8020_0000]);
        var request = SharingDescriptors.HypervisorRetrieve(handle);
        request[40] = 0xEE; // v1.1 reserved bytes: not part of the v1.0 header, not read
        var o = sys.Call(HostId, F(0xC400_0074, 48, 48), writes: [new MemoryWrite(HostTx, request)], reads: [new MemoryReadRequest(HostRx, 96)]);
        Assert.True(o.Frame[0] == RetrieveResp, o.Decoded.Reason);
        var response = SharingDescriptors.ParseResponse(o.Reads[0].Data![..(int)o.Frame[2]], v1_0: true);
        Assert.Equal(handle, response.Handle);
        Assert.Equal(Sp, response.Receivers.Single().Access.Endpoint);
        Assert.Equal(32u + 16, response.Receivers[0].CompositeOffset);
    }

    /// <summary>
    /// A share the host sent in fragments (first 1024 bytes, then 1024-byte FRAG_TX) comes back to pKVM's reclaim loop
    /// cut the same way: the first fragment is the header, EMAD, composite and the constituents of the host's first
    /// fragment; each FFA_MEM_FRAG_RX returns one of the host's later fragments (Hafnium
    /// ffa_hypervisor_retrieve_response_init, ffa_memory_retrieve_continue). pKVM's loop (FRAG_RX with w4 = 0,
    /// RX_RELEASE after each copy) reclaims it, and every page goes back to the host.
    /// </summary>
    [Theory]
    [InlineData("pkvm-7.4")]
    [InlineData("passthrough")]
    public void FragmentedShare_IsReclaimed_WithTheRetrieveCutAsTheHostSentIt(string profile)
    {
        var (sys, layout) = Boot(profile, "1.2");
        var pages = Enumerable.Range(0, 150).Select(i => 0x8100_0000UL + 0x2000UL * (ulong)i).ToArray();
        var (_, handle, cuts) = Share(sys, layout, pages, fragment: 1024);
        Assert.Equal([1024, 1024, 448], cuts); // 48 + 32 + 16 + 150 × 16 = 2496 bytes: 58, 64 and 28 constituents

        if (profile == "passthrough")
        {
            // The host pulls as pKVM would: first fragment, then FRAG_RX(offset, w4 = 0) for each of the rest.
            var first = sys.Call(HostId, F(0xC400_0074, 48, 48), writes: [new MemoryWrite(HostTx, SharingDescriptors.HypervisorRetrieve(handle))]);
            Assert.Equal([RetrieveResp, 2496UL, 1024UL], first.Frame.ToArray()[..3]);
            var offset = 1024UL;
            foreach (var expected in new[] { 1024UL, 448UL })
            {
                Assert.Equal(Success, sys.Call(HostId, F(RxRelease)).Frame[0]);
                var next = sys.Call(HostId, F(FragRx, (uint)handle, handle >> 32, offset, 0));
                Assert.Equal([FragTx, (uint)handle, handle >> 32, expected], next.Frame.ToArray()[..4]);
                offset += expected;
            }
            Assert.Equal(Success, sys.Call(HostId, F(RxRelease)).Frame[0]);
        }

        var reclaim = ReclaimCall(sys, handle);
        Assert.True(reclaim.Frame[0] == Success, $"{profile}: {reclaim.Decoded.Reason}");
        if (profile != "passthrough")
        {
            var hops = reclaim.Decoded.Hops!;
            Assert.Equal([0xC400_0074UL, RxRelease, FragRx, RxRelease, FragRx, RxRelease, Reclaim], hops.Select(h => h.Request[0]));
            Assert.Equal([RetrieveResp, 2496UL, 1024UL], hops[0].Answer.ToArray()[..3]);
            Assert.Equal([FragRx, (uint)handle, handle >> 32, 1024UL, 0UL], hops[2].Request.ToArray()[..5]);
            Assert.Equal(1024UL, hops[2].Answer[3]);
            Assert.Equal([FragRx, (uint)handle, handle >> 32, 2048UL, 0UL], hops[4].Request.ToArray()[..5]);
            Assert.Equal(448UL, hops[4].Answer[3]);
        }
        Assert.All(pages, p => Assert.Equal("owned", Stage2(sys, p)));
        Assert.Empty(sys.State.Shares);
        Assert.All(pages, p => OwnedByTheHostAtTheSpmc(sys, p));
    }
}
