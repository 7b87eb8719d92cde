using Spmc.Abi.Descriptors;
using Spmc.Abi.Descriptors.Memory;
using Spmc.Abi.Smccc;
using Spmc.Core.Calls;
using Spmc.Core.Manifests;
using Spmc.Core.Memory;
using Spmc.Core.Proxy;
using Spmc.Core.Proxy.Pkvm;
using Spmc.Core.Spm;
using Spmc.Core.Tests.Support;
using static Spmc.Core.Tests.Support.Manifests;

namespace Spmc.Core.Tests.Proxy;

/// <summary>
/// The pKVM proxy through <see cref="Systems.SimulatedSystem"/> with the real SPMC and the default manifest
/// (host 256 MiB at 0x80000000: the proxy's TX/RX are 0x8FFFE000/0x8FFFF000), under each profile.
/// </summary>
public sealed class PkvmSystemTests
{
    private const ulong HostRx = 0x8000_0000, HostTx = 0x8000_1000, HypTx = 0x8FFF_E000, HypRx = 0x8FFF_F000;
    private const ulong Success = 0x8400_0061, Error = 0x8400_0060;

    public static TestSystem System(string profile) => TestSystem.FromJson(WithProxy(DefaultJson, profile), profile);

    private static SmcFrame F(params ulong[] x) => SmcFrame.From(x);

    private static string[] HopNames(SmcOutcome o) => [.. (o.Decoded.Hops ?? []).Select(h => h.Decoded.Function)];

    [Fact]
    public void DefaultSystem_UsesPkvm74_WithItsOwnBuffersAtTheTopOfHostMemory()
    {
        var sys = TestSystem.FromJson(DefaultJson);
        var proxy = sys.State.Proxy!;
        Assert.Equal("pkvm-7.4", sys.State.ProxyProfile);
        Assert.Equal("pkvm-7.4", proxy.Profile);
        Assert.Null(proxy.Version); // nothing negotiated with the host yet
        Assert.False(proxy.Negotiated);
        Assert.Contains("hyp_ffa_version 1.2; the host has not negotiated yet (only FFA_VERSION passes the gate)", proxy.Notes);
        Assert.Equal((ulong?)HypTx, proxy.HypTx);
        Assert.Equal((ulong?)HypRx, proxy.HypRx);
        Assert.Contains(proxy.Stage2, r => r.Base == HypTx && r.Size == 0x1000 && r.State == "hyp (proxy TX)");
        Assert.Contains(proxy.Stage2, r => r.Base == HypRx && r.Size == 0x1000 && r.State == "hyp (proxy RX)");
        Assert.Contains(proxy.Notes, n => n.StartsWith("boot: FFA_VERSION(1.2) → 1.3", StringComparison.Ordinal));
        // Boot spoke FFA_VERSION as ID 0: the SPMC knows endpoint 0 at 1.2, not negotiated further.
        Assert.Equal("1.2", sys.Endpoint(Host).Version.ToString());
    }

    [Theory]
    [MemberData(nameof(Profiles.All), MemberType = typeof(Profiles))]
    public void HypervisorPages_AreRefusedToTheHost_ButStayEndpoint0sAtTheSpmc(string profile)
    {
        var sys = System(profile);
        var e = Assert.Throws<AccessDeniedException>(() => sys.System.ReadMemory(Host, HypRx, 16));
        Assert.Contains("pKVM hypervisor's own page", e.Message);
        Assert.Throws<AccessDeniedException>(() => sys.System.WriteMemory(Host, HypTx, [1]));
        Assert.Contains(sys.State.Memory, r => r.Base <= HypTx && HypRx < r.Base + r.Size && r.Owner == Host);
        var o = sys.Call(Host, F(0x8400_0069), reads: [new MemoryReadRequest(HypRx + 8, 16)]);
        Assert.Contains("hyp (proxy RX)", o.Reads[0].Error);
    }

    [Theory]
    [MemberData(nameof(Profiles.Gated), MemberType = typeof(Profiles))]
    public void VersionGate_BeforeNegotiation_InvalidParameters_NoHops(string profile)
    {
        var o = System(profile).Call(Host, F(0x8400_0069));
        Assert.Equal(Error, o.Frame[0]);
        Assert.Equal(0xFFFF_FFFF_FFFF_FFFEUL, o.Frame[2]);
        Assert.Equal("INVALID_PARAMETERS", o.Decoded.Error);
        Assert.Equal("pkvm.version.not-negotiated", o.Decoded.Rule);
        Assert.StartsWith("pKVM: FFA_ID_GET before the host negotiated a version", o.Decoded.Reason);
        Assert.Empty(o.Decoded.Hops!);
    }

    /// <summary>
    /// Hafnium (and our SPMC) put the maximum RX/TX page count in w2[31:16] of FEATURES(RXTX_MAP_64) for v1.2
    /// callers only. 6.18+ negotiate 1.2 and mask w2 &amp; 3, so post-init passes; 6.10 and 6.3 use the whole w2 but
    /// speak 1.1 / 1.0 to the SPMC, which then reports w2 = 0, so they pass too.
    /// </summary>
    [Theory]
    [InlineData("pkvm-6.10", 0x1_0001UL, 0UL)]
    [InlineData("pkvm-6.18", 0x1_0002UL, 0x1_0000UL)]
    [InlineData("pkvm-7.2", 0x1_0002UL, 0x1_0000UL)]
    [InlineData("pkvm-7.4", 0x1_0002UL, 0x1_0000UL)]
    public void PostInit_AgainstTheRealSpmc_FeaturesW2IsMaxPagesForV12Callers_AndTheMaskAcceptsIt(string profile, ulong version, ulong w2)
    {
        var sys = System(profile);
        var o = sys.Call(Host, F(0x8400_0063, 0x1_0002));
        Assert.Equal(version, o.Frame[0]);
        Assert.Equal(["FFA_ID_GET", "FFA_FEATURES"], HopNames(o));
        Assert.Equal(w2, o.Decoded.Hops![1].Answer[2]);
        Assert.True(sys.State.Proxy!.Negotiated);
    }

    /// <summary>A 6.18-like release without 3f595291's mask fails post-init against a v1.2 SPMC exactly as predicted.</summary>
    [Fact]
    public void PostInit_WholeW2SwitchAtV12_FailsAgainstTheRealSpmc()
    {
        var config = ManifestValidator.Validate(WithProxy(DefaultJson, "pkvm-6.18"));
        var memory = new PhysicalMemory();
        var map = new MemoryMap(config);
        var port = new SpmcPort(new PartitionManager(config, memory, map));
        var proxy = new PkvmProxy(PkvmProfile.Pkvm6_18 with { Name = "pkvm-6.18-unmasked", MasksMinBufferSize = false },
            new ProxyContext(config, memory, map, port));
        var a = proxy.Forward(new FfaRequest(Host, 0, F(0x8400_0063, 0x1_0002)), port);
        Assert.Equal(ulong.MaxValue, a.Frame[0]);
        Assert.Equal("pkvm.version.post-init.min-buffer-size-unknown", a.Rule);
        Assert.Contains("w2 = 0x10000", a.Reason);
        Assert.False(proxy.Negotiated);
    }

    [Fact]
    public void Pkvm63_AgainstTheRealSpmc_EndpointZeroIsLockedAt10ByBoot_HostMustAskFor10()
    {
        var sys = System("pkvm-6.3");
        Assert.Equal("1.0", sys.Endpoint(Host).Version.ToString());
        var refused = sys.Call(Host, F(0x8400_0063, 0x1_0002));
        Assert.Equal(0xFFFF_FFFFUL, refused.Frame[0]);
        Assert.Equal("version.locked", refused.Decoded.Rule);
        Assert.Contains("locked at 1.0", refused.Decoded.Reason);
        Assert.Equal(0x1_0003UL, sys.Call(Host, F(0x8400_0063, 0x1_0000)).Frame[0]); // the SPMC answers its own version
    }

    [Fact]
    public void Pkvm63_PartitionInfoGet_FillsTheHypRx_TheHostsRxStaysEmpty_RxReleaseFreesTheHypRx()
    {
        var sys = System("pkvm-6.3");
        Assert.Equal(Success, sys.Call(Host, F(0xC400_0066, HostTx, HostRx, 1)).Frame[0]);
        var o = sys.Call(Host, F(0x8400_0068), reads: [new MemoryReadRequest(HostRx, 32)]);
        Assert.Equal(Success, o.Frame[0]);
        Assert.Equal(3UL, o.Frame[2]); // a v1.0 caller gets one entry per partition
        Assert.All(o.Reads[0].Data!, b => Assert.Equal(0, b));
        Assert.Equal(0x8001, BitConverter.ToUInt16(sys.Peek(HypRx, 2)));
        Assert.Equal(RxState.Full, sys.Endpoint(Host).Mailbox!.State);
        Assert.Equal(Success, sys.Call(Host, F(0x8400_0065)).Frame[0]);
        Assert.Equal(RxState.Empty, sys.Endpoint(Host).Mailbox!.State);
    }

    [Theory]
    [MemberData(nameof(Profiles.Gated), MemberType = typeof(Profiles))]
    public void PartitionInfoGet_CopiesFromTheHypRxIntoTheHostRx_HostReleasesTheHypRx(string profile)
    {
        var sys = System(profile);
        sys.Call(Host, F(0x8400_0063, 0x1_0002));
        var map = sys.Call(Host, F(0xC400_0066, HostTx, HostRx, 1));
        Assert.Equal(Success, map.Frame[0]);
        Assert.Equal([0xC400_0066, HypTx, HypRx, 1], map.Decoded.Hops![0].Request.ToArray()[..4]);
        Assert.Equal(HypTx, sys.Endpoint(Host).Mailbox!.Tx); // the SPMC knows only the hypervisor's pair
        var state = sys.State.Proxy!;
        Assert.Equal((ulong?)HostTx, state.HostTx);
        Assert.Contains(state.Stage2, r => r.Base == HostTx && r.State == "shared-owned (hyp: host TX)");

        var o = sys.Call(Host, F(0x8400_0068), reads: [new MemoryReadRequest(HostRx, 96)]);
        Assert.Equal(profile == "pkvm-6.10" ? 3UL : 4UL, o.Frame[2]); // the SPMC answers ID 0 at 1.1 with one entry per partition
        Assert.Equal(0x8001, BitConverter.ToUInt16(o.Reads[0].Data!, 0));
        Assert.Equal(sys.Peek(HypRx, 96), o.Reads[0].Data);
        Assert.Equal(["FFA_PARTITION_INFO_GET"], HopNames(o));
        Assert.Equal(RxState.Full, sys.Endpoint(Host).Mailbox!.State);
        var release = sys.Call(Host, F(0x8400_0065));
        Assert.Equal(["FFA_RX_RELEASE"], HopNames(release));
        Assert.Equal(RxState.Empty, sys.Endpoint(Host).Mailbox!.State);
    }

    [Fact]
    public void Pkvm74_Notifications_AreCheckedThenForwarded_HostGetsTheSpmcsAnswer()
    {
        var sys = System("pkvm-7.4");
        sys.Call(Host, F(0x8400_0063, 0x1_0002));
        var refused = sys.Call(Host, F(0x8400_007D, 1));
        Assert.Equal(0xFFFF_FFFF_FFFF_FFFEUL, refused.Frame[2]);
        Assert.Empty(refused.Decoded.Hops!);

        var o = sys.Call(Host, F(0x8400_007D, 0, 8));
        var hop = Assert.Single(o.Decoded.Hops!);
        Assert.Equal([0x8400_007DUL, 0, 8], hop.Request.ToArray()[..3]);
        Assert.Equal(hop.Answer.ToArray(), o.Frame.ToArray());
        Assert.Equal(Success, o.Frame[0]);
        var again = sys.Call(Host, F(0x8400_007D, 0, 8));
        Assert.Equal(0xFFFF_FFFAUL, again.Frame[2]); // the SPMC's DENIED (bitmap exists; zero-extended u32), not a proxy-made error
        Assert.Equal("DENIED", again.Decoded.Error);
        Assert.NotNull(again.Decoded.Rule);
        Assert.DoesNotMatch("^pkvm\\.", again.Decoded.Rule); // the SPMC's own rule, not one of the proxy's
        Assert.DoesNotContain("pKVM", again.Decoded.Reason);
    }

    [Fact]
    public void Guests_GetNoFfa_UnderPkvm()
    {
        var sys = TestSystem.FromJson(WithProxy(Rich, "pkvm-7.4"));
        var o = sys.Call(Vm1, F(0x8400_0063, 0x1_0002));
        Assert.Equal(ulong.MaxValue, o.Frame[0]);
        Assert.Empty(o.Decoded.Hops!);
        Assert.False(sys.Endpoint(Vm1).VersionNegotiated);
    }

    [Fact]
    public void SharingTheHypervisorsPage_IsDenied_WithNoEl3Call()
    {
        var sys = System("pkvm-7.4");
        sys.Call(Host, F(0x8400_0063, 0x1_0002));
        sys.Call(Host, F(0xC400_0066, HostTx, HostRx, 1));
        var d = PkvmEndToEndTests.ShareDescriptor(MemoryDescriptorLayout.V1_2, HypRx);
        var o = sys.Call(Host, F(0x8400_0073, (ulong)d.Length, (ulong)d.Length), writes: [new MemoryWrite(HostTx, d)]);
        Assert.Equal(0xFFFF_FFFF_FFFF_FFFAUL, o.Frame[2]);
        Assert.Equal("pkvm.mem-share.range-not-owned", o.Decoded.Rule);
        Assert.Contains("hyp (proxy RX)", o.Decoded.Reason);
        Assert.Empty(o.Decoded.Hops!);
    }

    [Theory]
    [InlineData("pkvm-6.18", false)]
    [InlineData("pkvm-7.2", true)]
    public void SpmcAt11_RefusesTheBootVersion_ZeroExtended_618FailsToBoot_72TreatsFfaAsAbsent(string profile, bool comesUp)
    {
        var sys = TestSystem.FromJson(ProxyHarness.Manifest(profile, spmcVersion: "1.1"));
        Assert.Equal("1.1", sys.System.Config.Version.ToString());
        var proxy = sys.State.Proxy!;
        Assert.Equal(comesUp, proxy.HypTx is not null);
        var o = sys.Call(Host, F(0x8400_0063, 0x1_0001));
        if (comesUp)
        {
            Assert.Equal(0UL, o.Frame[0]); // digest §6: negotiated version 0
            Assert.Equal("0.0", sys.State.Proxy!.Version);
        }
        else
        {
            Assert.Contains("pKVM is not running", Assert.Single(o.Decoded.Notes!));
            Assert.Equal(["FFA_VERSION"], HopNames(o)); // straight to the SPMC
        }
    }
}
