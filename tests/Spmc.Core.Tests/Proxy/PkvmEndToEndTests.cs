using System.Text;
using Spmc.Abi.Descriptors;
using Spmc.Abi.Descriptors.Memory;
using Spmc.Abi.Smccc;
using Spmc.Core.Calls;
using Spmc.Core.Tests.Support;
using Xunit.Abstractions;
using static Spmc.Core.Tests.Support.Manifests;

namespace Spmc.Core.Tests.Proxy;

/// <summary>
/// The same host share → SP retrieve → relinquish → host reclaim, twice, on the default manifest under every
/// proxy profile (passthrough included), with the real SPMC. The host behaves like a driver: it asks for
/// FF-A 1.2, falls back to 1.0 when refused, and writes descriptors in the layout of the version it got.
/// Each profile's answers are recorded in one row; the table goes to the test output and the documented
/// differences are asserted.
/// </summary>
public sealed class PkvmEndToEndTests(ITestOutputHelper output)
{
    private const ushort Sp = MemorySp;
    private const ulong HostRx = 0x8000_0000, HostTx = 0x8000_1000, SpRx = 0x6010_0000, SpTx = 0x6010_1000, PageA = 0x8020_0000, PageB = 0x8040_0000;
    private const ulong Success = 0x8400_0061, Error = 0x8400_0060, Tag = 0x77;
    private const string Shared = "shared-owned (FF-A)";

    public static readonly string[] AllProfiles = ["passthrough", .. Profiles.AllNames];

    /// <summary>One profile's answers.</summary>
    public sealed record Row(string Profile, ulong VersionX0, ulong VersionX1, string VersionHops, string Negotiated, string MapHopTx,
        bool HostRxFilled, ulong ShareX0, ulong Handle, string ShareHop, string Stage2AfterShare, ulong ReclaimX0, string ReclaimHops,
        string Stage2AfterReclaim, string SecondReclaim, ulong UnmapX8);

    public static byte[] ShareDescriptor(MemoryDescriptorLayout layout, params ulong[] pages) =>
        new MemoryTransactionDescriptor(Host, MemoryRegionAttributes.NormalWriteBackInner, new MemoryTransactionFlags(0), 0, Tag,
            [new EndpointMemoryAccess(MemoryAccessPermissions.Of(Sp, DataAccess.ReadWrite), 0)],
            CompositeMemoryRegion.Of([.. pages.Select(p => new MemoryRegionConstituent(p, 1))])).ToBytes(layout);

    private static SmcFrame F(params ulong[] x) => SmcFrame.From(x);

    /// <summary>A hop's function, with "_64" for SMC64 frames.</summary>
    private static string Name(Hop h) => h.Decoded.Width == "SMC64" ? $"{h.Decoded.Function}_64" : h.Decoded.Function;

    private static string Hops(SmcOutcome o) => string.Join(" + ", (o.Decoded.Hops ?? []).Select(Name));

    private static string Stage2(TestSystem sys, ulong page) =>
        sys.State.Proxy?.Stage2.Single(r => r.Base <= page && page < r.Base + r.Size).State ?? "n/a";

    /// <summary>Share PageA and PageB with the SP; returns the SHARE outcome and the handle.</summary>
    private static (SmcOutcome Outcome, ulong Handle) ShareTwoPages(TestSystem sys, MemoryDescriptorLayout layout)
    {
        var d = ShareDescriptor(layout, PageA, PageB);
        var o = sys.Call(Host, F(0x8400_0073, (ulong)d.Length, (ulong)d.Length), writes: [new MemoryWrite(HostTx, d)]);
        return (o, o.Frame[2] | (o.Frame[3] << 32));
    }

    /// <summary>The SP retrieves (v1.2), reads the host's bytes, releases its RX and relinquishes.</summary>
    private static void SpRetrievesAndRelinquishes(TestSystem sys, ulong handle)
    {
        var request = new MemoryTransactionDescriptor(Host, new MemoryRegionAttributes(0), MemoryTransactionFlags.OfType(MemoryTransactionType.Share), handle, Tag,
            [new EndpointMemoryAccess(MemoryAccessPermissions.Of(Sp, DataAccess.ReadWrite), 0)]).ToBytes(MemoryDescriptorLayout.V1_2);
        var r = sys.Call(Sp, F(0xC400_0074, (ulong)request.Length, (ulong)request.Length), writes: [new MemoryWrite(SpTx, request)]);
        Assert.True(r.Frame[0] == 0x8400_0075, $"retrieve: {r.Decoded.Reason}");
        Assert.Equal("from the host", Encoding.ASCII.GetString(sys.System.ReadMemory(Sp, PageB, 13)));
        Assert.Equal(Success, sys.Call(Sp, F(0x8400_0065)).Frame[0]);
        var relinquish = new MemoryRelinquishDescriptor(handle, 0, [Sp]).ToBytes();
        Assert.Equal(Success, sys.Call(Sp, F(0x8400_0076), writes: [new MemoryWrite(SpTx, relinquish)]).Frame[0]);
    }

    public static Row Run(string profile)
    {
        var sys = TestSystem.FromJson(WithProxy(DefaultJson, profile), profile);
        Assert.Equal(Success, sys.Call(Sp, F(0xC400_0066, SpTx, SpRx, 1)).Frame[0]);

        // Version: ask 1.2; on NOT_SUPPORTED fall back to 1.0 (what pkvm-6.3 needs: the SPMC holds ID 0 at 1.0).
        var version = sys.Call(Host, F(0x8400_0063, 0x1_0002));
        var got = (uint)version.Frame[0];
        var negotiated = got == uint.MaxValue ? 0x1_0000u : Math.Min(got, 0x1_0002u);
        if (got == uint.MaxValue) Assert.Equal(0x1_0003UL, sys.Call(Host, F(0x8400_0063, 0x1_0000)).Frame[0]);
        var layout = MemoryDescriptorLayouts.For(new Spmc.Abi.Ffa.FfaVersion(1, (ushort)negotiated));

        var map = sys.Call(Host, F(0xC400_0066, HostTx, HostRx, 1));
        Assert.Equal(Success, map.Frame[0]);
        var info = sys.Call(Host, F(0x8400_0068), reads: [new MemoryReadRequest(HostRx, 2)]);
        Assert.Equal(Success, info.Frame[0]);
        Assert.Equal(Success, sys.Call(Host, F(0x8400_0065)).Frame[0]); // the host releases "its" RX (the hyp's under pKVM)

        sys.System.WriteMemory(Host, PageB, "from the host"u8);
        var (share, handle) = ShareTwoPages(sys, layout);
        Assert.True(share.Frame[0] == Success, $"{profile} share: {share.Decoded.Reason}");
        var afterShare = Stage2(sys, PageA);
        SpRetrievesAndRelinquishes(sys, handle);
        var reclaim = sys.Call(Host, F(0x8400_0077, (uint)handle, handle >> 32, 0));
        Assert.True(reclaim.Frame[0] == Success, $"{profile} reclaim: {reclaim.Decoded.Reason}");
        var afterReclaim = Stage2(sys, PageA);

        // Round two: a second reclaim needs the hyp RX the first one filled.
        var (_, second) = ShareTwoPages(sys, layout);
        var again = sys.Call(Host, F(0x8400_0077, (uint)second, second >> 32, 0));
        var secondReclaim = again.Frame[0] == Success ? "SUCCESS" : $"{again.Decoded.Error} ({Hops(again)})";
        if (again.Frame[0] != Success)
        {
            Assert.Equal(Success, sys.Call(Host, F(0x8400_0065)).Frame[0]); // FFA_RX_RELEASE passes through: frees the hyp RX
            Assert.Equal(Success, sys.Call(Host, F(0x8400_0077, (uint)second, second >> 32, 0)).Frame[0]);
            secondReclaim += ", then RX_RELEASE + retry: SUCCESS";
        }

        var unmapIn = F(0x8400_0067, 0);
        unmapIn[8] = 0xAAAA;
        var unmap = sys.Call(Host, unmapIn);
        Assert.Equal(Success, unmap.Frame[0]);

        return new Row(profile, version.Frame[0], version.Frame[1], Hops(version), $"{negotiated >> 16}.{negotiated & 0xFFFF}",
            $"0x{map.Decoded.Hops![0].Request[1]:X}", info.Reads[0].Data![0] != 0, share.Frame[0], handle,
            $"{Name(share.Decoded.Hops![0])}(x1=x2={share.Decoded.Hops[0].Request[1]})", afterShare,
            reclaim.Frame[0], Hops(reclaim), afterReclaim, secondReclaim, unmap.Frame[8]);
    }

    public static TheoryData<string> Every => [.. AllProfiles];

    [Theory]
    [MemberData(nameof(Every))]
    public void ShareRetrieveRelinquishReclaim_CompletesUnderEveryProfile(string profile)
    {
        var row = Run(profile);
        Assert.Equal(Success, row.ShareX0);
        Assert.Equal(Success, row.ReclaimX0);
    }

    [Fact]
    public void ShareRetrieveRelinquishReclaim_AnswersPerProfile_TableAndDocumentedDifferences()
    {
        var rows = AllProfiles.Select(Run).ToDictionary(r => r.Profile);
        var sb = new StringBuilder();
        sb.AppendLine("| profile | VERSION(1.2) x0 | x1 | version hops | layout | RXTX_MAP hop x1 | host RX filled by PART_INFO | SHARE_32 hop | stage 2 after share | RECLAIM hops | stage 2 after reclaim | second reclaim | UNMAP x8 (host set 0xAAAA) |");
        sb.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var r in rows.Values)
            sb.AppendLine($"| {r.Profile} | 0x{r.VersionX0:X} | 0x{r.VersionX1:X} | {(r.VersionHops.Length == 0 ? "-" : r.VersionHops)} | v{r.Negotiated} | {r.MapHopTx} | {r.HostRxFilled} | " +
                          $"{r.ShareHop} | {r.Stage2AfterShare} | {r.ReclaimHops} | {r.Stage2AfterReclaim} | {r.SecondReclaim} | 0x{r.UnmapX8:X} |");
        output.WriteLine(sb.ToString());

        // FFA_VERSION(1.2): the SPMC's own answer without a hypervisor; pkvm-6.3 forwards it to an SPMC that boot locked at 1.0.
        Assert.Equal(0x1_0003UL, rows["passthrough"].VersionX0);
        Assert.Equal(0xFFFF_FFFFUL, rows["pkvm-6.3"].VersionX0);
        Assert.Equal(0x1_0001UL, rows["pkvm-6.10"].VersionX0);
        Assert.All(["pkvm-6.18", "pkvm-7.2", "pkvm-7.4"], p => Assert.Equal(0x1_0002UL, rows[p].VersionX0));
        // x1 of the version answer: the uninitialised-stack bug of 6.10 (x1..x3) and 6.18 (x1..x17), zero elsewhere.
        Assert.All(["pkvm-6.10", "pkvm-6.18"], p => Assert.Equal(0xDEAD_BEEF_0000_0001UL, rows[p].VersionX1));
        Assert.All(["passthrough", "pkvm-6.3", "pkvm-7.2", "pkvm-7.4"], p => Assert.Equal(0UL, rows[p].VersionX1));
        // Post-init hops exist only where the host negotiates with the hypervisor.
        Assert.All(["pkvm-6.10", "pkvm-6.18", "pkvm-7.2", "pkvm-7.4"], p => Assert.Equal("FFA_ID_GET + FFA_FEATURES", rows[p].VersionHops));
        Assert.Equal("FFA_VERSION", rows["passthrough"].VersionHops);
        Assert.Equal("FFA_VERSION", rows["pkvm-6.3"].VersionHops);
        Assert.Equal(["1.2", "1.0", "1.1", "1.2", "1.2", "1.2"], rows.Values.Select(r => r.Negotiated));
        // The SPMC gets the hypervisor's buffers, never the host's, under pKVM.
        Assert.Equal("0x80001000", rows["passthrough"].MapHopTx);
        Assert.All(Profiles.AllNames, p => Assert.Equal("0x8FFFE000", rows[p].MapHopTx));
        // PARTITION_INFO_GET reaches the host's RX except in 6.3 (it writes the hyp RX there).
        Assert.False(rows["pkvm-6.3"].HostRxFilled);
        Assert.All(AllProfiles.Where(p => p != "pkvm-6.3"), p => Assert.True(rows[p].HostRxFilled));
        // SHARE_32 is re-issued as SHARE_64 by pKVM, with x1 = x2 = len of the layout negotiated.
        Assert.Equal("FFA_MEM_SHARE(x1=x2=128)", rows["passthrough"].ShareHop); // SMC32, as the host made it
        Assert.Equal("FFA_MEM_SHARE_64(x1=x2=96)", rows["pkvm-6.3"].ShareHop);
        Assert.Equal("FFA_MEM_SHARE_64(x1=x2=112)", rows["pkvm-6.10"].ShareHop);
        Assert.All(["pkvm-6.18", "pkvm-7.2", "pkvm-7.4"], p => Assert.Equal("FFA_MEM_SHARE_64(x1=x2=128)", rows[p].ShareHop));
        Assert.All(Profiles.AllNames, p => Assert.Equal(Shared, rows[p].Stage2AfterShare));
        Assert.All(Profiles.AllNames, p => Assert.Equal("owned", rows[p].Stage2AfterReclaim));
        // Reclaim: pKVM asks the SPMC what it shared; 6.3 never releases the hyp RX, so its second reclaim is BUSY.
        Assert.Equal("FFA_MEM_RECLAIM", rows["passthrough"].ReclaimHops);
        Assert.Equal("FFA_MEM_RETRIEVE_REQ_64 + FFA_MEM_RECLAIM", rows["pkvm-6.3"].ReclaimHops);
        Assert.All(["pkvm-6.10", "pkvm-6.18", "pkvm-7.2", "pkvm-7.4"], p => Assert.Equal("FFA_MEM_RETRIEVE_REQ_64 + FFA_RX_RELEASE + FFA_MEM_RECLAIM", rows[p].ReclaimHops));
        Assert.StartsWith("BUSY (FFA_MEM_RETRIEVE_REQ_64)", rows["pkvm-6.3"].SecondReclaim);
        Assert.All(AllProfiles.Where(p => p != "pkvm-6.3"), p => Assert.Equal("SUCCESS", rows[p].SecondReclaim));
        // x8 after an SMC32 call: SMCCC preserves it (passthrough), 6.3/6.10 leave x4..x17 alone, 6.18+ write zeros.
        Assert.All(["passthrough", "pkvm-6.3", "pkvm-6.10"], p => Assert.Equal(0xAAAAUL, rows[p].UnmapX8));
        Assert.All(["pkvm-6.18", "pkvm-7.2", "pkvm-7.4"], p => Assert.Equal(0UL, rows[p].UnmapX8));
    }
}
