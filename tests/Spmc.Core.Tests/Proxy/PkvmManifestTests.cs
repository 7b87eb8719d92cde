using Spmc.Core.Manifests;
using Spmc.Core.Proxy.Pkvm;
using Spmc.Core.Tests.Support;

namespace Spmc.Core.Tests.Proxy;

/// <summary>A pKVM profile takes the hypervisor's RX/TX from the host's memory: the manifest must give it some.</summary>
public sealed class PkvmManifestTests
{
    private static string Json(string proxy, string vms) => $$"""{ "proxy": "{{proxy}}", "vms": [ {{vms}} ] }""";

    [Theory]
    [MemberData(nameof(Profiles.All), MemberType = typeof(Profiles))]
    public void PkvmProfile_WithoutAHostVm_IsRejected_NamingProxy(string profile)
    {
        var e = Assert.Throws<InvalidRequestException>(() => ManifestValidator.Validate(Json(profile,
            """{ "id": 1, "name": "guest", "memory": [ { "base": "0x90000000", "size": "0x100000" } ] }""")));
        Assert.Contains($"proxy: profile '{profile}' needs a host VM (ID 0) with at least 64 KiB", e.Message);
        Assert.Contains("there is no VM 0", e.Message);
    }

    [Fact]
    public void PkvmProfile_HostBelow64KiB_IsRejected()
    {
        var e = Assert.Throws<InvalidRequestException>(() => ManifestValidator.Validate(Json("pkvm-7.4",
            """{ "id": 0, "name": "host", "memory": [ { "base": "0x80000000", "size": "0x8000" } ] }""")));
        Assert.Contains("VM 0 has 32 KiB", e.Message);
    }

    [Fact]
    public void PkvmProfile_HostHighestRegionOfOnePage_IsRejected()
    {
        var e = Assert.Throws<InvalidRequestException>(() => ManifestValidator.Validate(Json("pkvm-7.4",
            """{ "id": 0, "name": "host", "memory": [ { "base": "0x80000000", "size": "0x100000" }, { "base": "0xA0000000", "size": "0x1000" } ] }""")));
        Assert.Contains("highest region at least 8 KiB", e.Message);
    }

    [Fact]
    public void PkvmProfile_Host64KiB_IsAccepted_BuffersAreItsTopTwoPages()
    {
        var json = Json("pkvm-7.4", """
            { "id": 0, "name": "host", "memory": [ { "base": "0xA0000000", "size": "0x8000" }, { "base": "0x80000000", "size": "0x8000" } ] }
            """);
        Assert.Equal("pkvm-7.4", ManifestValidator.Validate(json).ProxyProfile);
        var proxy = TestSystem.FromJson(json).State.Proxy!;
        Assert.Equal((ulong?)0xA000_6000, proxy.HypTx);
        Assert.Equal((ulong?)0xA000_7000, proxy.HypRx);
    }

    [Fact]
    public void Passthrough_NeedsNoHost_AndIsStillTheDefaultWithoutAProxyField()
    {
        Assert.Equal("passthrough", ManifestValidator.Validate("""{ "vms": [] }""").ProxyProfile);
        Assert.Equal("passthrough", ManifestValidator.Validate(Json("passthrough", "")).ProxyProfile);
    }

    [Fact]
    public void HostStage2_SharingTwiceFails_GuestMemoryIsNotTheHosts_OverflowIsRefused()
    {
        var config = ManifestValidator.Validate(ProxyHarness.Manifest("pkvm-7.4"));
        var s2 = new HostStage2(config, ProxyHarness.HypTx, ProxyHarness.HypRx);
        Assert.Null(s2.ShareFfa(ProxyHarness.P, 2));
        Assert.Contains("shared-owned (FF-A), not owned by the host", s2.ShareFfa(ProxyHarness.P + 0x1000, 1));
        Assert.Contains("guest 0x0001", s2.ShareFfa(ProxyHarness.GuestPage, 1));
        Assert.Contains("not host memory", s2.ShareFfa(ProxyHarness.SpPage, 1));
        Assert.Contains("overflows", s2.ShareFfa(ulong.MaxValue - 0xFFF, 2));
        Assert.Null(s2.UnshareFfa(ProxyHarness.P, 2));
        Assert.Contains("hyp (proxy TX)", s2.ShareHyp(ProxyHarness.HypTx, "host TX"));
        Assert.Equal(["owned", "hyp (proxy TX)", "hyp (proxy RX)", "guest 0x0001"], s2.View().Select(r => r.State));
    }
}
