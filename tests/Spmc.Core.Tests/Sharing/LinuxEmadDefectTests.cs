using System.Text.Json.Nodes;
using Spmc.Abi.Descriptors.Memory;
using Spmc.Core.Tests.Support;
using static Spmc.Core.Tests.Sharing.Pages;

namespace Spmc.Core.Tests.Sharing;

/// <summary>
/// The Linux arm_ffa defect (11fb1a82, fixed by 3383ffb7, CVE-2026-68401): at FF-A 1.0/1.1 ffa_setup_and_transmit
/// leaves EMAD bytes 8..15 as the TX page held them. Hafnium refuses the send (ffa_memory_region_sanity_check,
/// INVALID_PARAMETERS) and so does Spmc, naming the defect; the system switch spmc.compat "arm-ffa-emad-reserved"
/// accepts it for users testing those kernels.
/// </summary>
public class LinuxEmadDefectTests
{
    private static SharingSystem System(uint version, bool compat)
    {
        var node = JsonNode.Parse(Support.Manifests.DefaultPassthroughJson)!.AsObject();
        if (compat) node["spmc"]!["compat"] = new JsonArray("arm-ffa-emad-reserved");
        var s = SharingSystem.FromJson(node.ToJsonString());
        s.Test.Negotiate(Host, version);
        s.MapDefault(Host);
        return s;
    }

    /// <summary>A one-receiver SHARE in the caller's layout with stale bytes in EMAD bytes 8..15.</summary>
    private static byte[] StaleShare(uint version)
    {
        var layout = version == Ffa.V1_0 ? MemoryDescriptorLayout.V1_0 : MemoryDescriptorLayout.V1_1;
        var bytes = SharingDescriptors.Simple(SendOp.Share, Host, Sp1, HostPage(0), layout: layout);
        var emad = version == Ffa.V1_0 ? 32 : 48;
        bytes[emad + 8] = 0xDE;
        bytes[emad + 15] = 0xAD;
        return bytes;
    }

    [Theory]
    [InlineData(Ffa.V1_0)]
    [InlineData(Ffa.V1_1)]
    public void StaleEmadBytes_AreRefusedAsHafniumDoes_NamingTheDriverDefect(uint version)
    {
        var s = System(version, compat: false);
        var o = Expect.Error(s.Send(Host, MemIds.Share32, StaleShare(version)), Err.InvalidParameters, "mem-desc.emad-reserved-mbz");
        Assert.Contains("3383ffb7", o.Decoded.Reason, StringComparison.Ordinal);
        Assert.Contains("CVE-2026-68401", o.Decoded.Reason, StringComparison.Ordinal);
        Assert.Empty(s.State.Shares);
    }

    [Theory]
    [InlineData(Ffa.V1_0)]
    [InlineData(Ffa.V1_1)]
    public void WithTheCompatSwitch_TheShareGoesThrough(uint version)
    {
        var s = System(version, compat: true);
        var handle = SharingSystem.Handle(Expect.Success(s.Send(Host, MemIds.Share32, StaleShare(version))));
        var share = Assert.Single(s.State.Shares);
        Assert.Equal(handle, share.Handle);
        Assert.Equal(Sp1, Assert.Single(share.Receivers).Id);
    }
}
