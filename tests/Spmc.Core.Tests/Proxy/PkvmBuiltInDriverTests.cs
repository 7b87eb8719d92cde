using System.Buffers.Binary;
using System.Text.Json.Nodes;
using Spmc.Abi.Smccc;
using Spmc.Core.Manifests;
using Spmc.Core.Proxy.Pkvm;
using Spmc.Core.Tests.Support;
using static Spmc.Core.Tests.Support.Manifests;

namespace Spmc.Core.Tests.Proxy;

/// <summary>
/// proxyOptions.ffaDriverBuiltIn: a built-in arm_ffa (CONFIG_ARM_FFA_TRANSPORT=y) probes at rootfs_initcall, before
/// kvm_arm_init installs pKVM's SMC traps (Yeoreum Yun, "KVM: arm64: fix FF-A call failure when ff-a driver is
/// built-in", Oct 2025). Its FFA_VERSION, ID_GET, FEATURES, RXTX_MAP of its own pages and PARTITION_INFO_GET go to
/// the SPMC directly; pKVM's has_version_negotiated stays false, so every later host call but FFA_VERSION is
/// INVALID_PARAMETERS (kvm_host_ffa_handler), which users see as a failing TPM CRB or EFI-variable probe.
/// The default manifest's host: 256 MiB at 0x80000000, so hyp TX/RX 0x8FFFE000/0x8FFFF000, the driver's 0x8FFFC000/0x8FFFD000.
/// </summary>
public sealed class PkvmBuiltInDriverTests
{
    private const ulong DriverTx = 0x8FFF_C000, DriverRx = 0x8FFF_D000, HypTx = 0x8FFF_E000, HostTx = 0x8000_1000, HostRx = 0x8000_0000;
    private const ulong Error = 0x8400_0060;

    private static SmcFrame F(params ulong[] x) => SmcFrame.From(x);

    public static string Json(string profile = "pkvm-7.4", bool builtIn = true)
    {
        var node = JsonNode.Parse(WithProxy(DefaultJson, profile))!.AsObject();
        node["proxyOptions"] = new JsonObject { ["ffaDriverBuiltIn"] = builtIn };
        return node.ToJsonString();
    }

    private static TestSystem System(string profile = "pkvm-7.4") => TestSystem.FromJson(Json(profile), "builtin");

    [Fact]
    public void Boot_TheDriversProbeReachedTheSpmcDirectly_ItsOwnPagesAreEndpoint0sMailbox()
    {
        var sys = System();
        var proxy = sys.State.Proxy!;
        Assert.False(proxy.Negotiated);
        var probe = Assert.Single(proxy.Notes, n => n.StartsWith("boot (proxyOptions.ffaDriverBuiltIn)", StringComparison.Ordinal));
        Assert.Contains("FFA_VERSION → 0x10003, FFA_ID_GET → FFA_SUCCESS_32, FFA_FEATURES → FFA_SUCCESS_32, FFA_RXTX_MAP_64 → FFA_SUCCESS_32, " +
                        "FFA_PARTITION_INFO_GET → FFA_SUCCESS_32, FFA_RX_RELEASE → FFA_SUCCESS_32", probe);
        // The SPMC holds the driver's pages as ID 0's RX/TX (not the hypervisor's), negotiated at the driver's 1.2.
        var host = sys.Endpoint(0);
        Assert.Equal((DriverTx, DriverRx), (host.Mailbox!.Tx, host.Mailbox.Rx));
        Assert.Equal("1.2", host.Version.ToString());
        // The probe's partition info landed in the driver's RX, in host memory: the first entry is the echo partition.
        Assert.Equal(0x8001, BinaryPrimitives.ReadUInt16LittleEndian(sys.Peek(DriverRx, 2)));
        // pKVM's own pages are still taken, and the driver's are ordinary host pages.
        Assert.Equal((ulong?)HypTx, proxy.HypTx);
        Assert.Contains(proxy.Stage2, r => r.Base <= DriverTx && DriverRx < r.Base + r.Size && r.State == "owned");
    }

    /// <summary>What users hit: the TPM CRB driver's DIRECT_REQ (and anything else) fails with INVALID_PARAMETERS, with a note saying why.</summary>
    [Theory]
    [InlineData(0xC400_006FUL)] // FFA_MSG_SEND_DIRECT_REQ_64 (tpm_crb_ffa)
    [InlineData(0x8400_006FUL)]
    [InlineData(0x8400_0069UL)] // FFA_ID_GET
    [InlineData(0x8400_0068UL)] // FFA_PARTITION_INFO_GET
    public void LaterHostCalls_AreInvalidParameters_TheNoteNamesTheBootOrder(ulong id)
    {
        var sys = System();
        var before = sys.State;
        var o = sys.Call(0, F(id, 0x8001));
        Assert.Equal(Error, o.Frame[0]);
        Assert.Equal(0xFFFF_FFFF_FFFF_FFFEUL, o.Frame[2]);
        Assert.Equal("pkvm.version.not-negotiated", o.Decoded.Rule);
        Assert.Empty(o.Decoded.Hops!);
        var note = Assert.Single(o.Decoded.Notes!);
        Assert.Contains("pKVM never saw the host's FFA_VERSION: the built-in arm_ffa negotiated 1.2 with EL3 at rootfs_initcall", note);
        Assert.Contains("proxyOptions.ffaDriverBuiltIn", note);
        Assert.Equivalent(before.Endpoints, sys.State.Endpoints);
        Assert.False(sys.State.Proxy!.Negotiated);
    }

    /// <summary>
    /// A later FFA_VERSION does reach pKVM and negotiates, but the host's FFA_RXTX_MAP then makes pKVM map its own pages
    /// for ID 0, which the SPMC refuses: ID 0 already has the driver's pages (Hafnium api_vm_configure_pages: DENIED).
    /// </summary>
    [Fact]
    public void HostVersionAfterwards_Negotiates_ButRxTxMapIsDeniedByTheSpmc_HostPagesStayOwned()
    {
        var sys = System();
        Assert.Equal(0x1_0002UL, sys.Call(0, F(0x8400_0063, 0x1_0002)).Frame[0]);
        Assert.True(sys.State.Proxy!.Negotiated);
        var o = sys.Call(0, F(0xC400_0066, HostTx, HostRx, 1));
        Assert.Equal(Error, o.Frame[0]);
        Assert.Equal("DENIED", o.Decoded.Error);
        Assert.Equal("FFA_RXTX_MAP", Assert.Single(o.Decoded.Hops!).Decoded.Function);
        Assert.Null(sys.State.Proxy!.HostTx);
        Assert.Contains(sys.State.Proxy!.Stage2, r => r.Base <= HostTx && HostTx < r.Base + r.Size && r.State == "owned");
        Assert.Equal(DriverTx, sys.Endpoint(0).Mailbox!.Tx);
    }

    [Fact]
    public void WithoutTheOption_TheSameSystemWorks()
    {
        var sys = TestSystem.FromJson(Json(builtIn: false), "late");
        Assert.DoesNotContain(sys.State.Proxy!.Notes, n => n.Contains("ffaDriverBuiltIn"));
        Assert.Null(sys.Endpoint(0).Mailbox);
        Assert.Equal(0x1_0002UL, sys.Call(0, F(0x8400_0063, 0x1_0002)).Frame[0]);
        Assert.Equal(0x8400_0061UL, sys.Call(0, F(0xC400_0066, HostTx, HostRx, 1)).Frame[0]);
    }

    [Fact]
    public void Manifest_BuiltInDriverNeedsFourPagesAtTheTopOfTheHost()
    {
        var json = """
            { "proxy": "pkvm-7.4", "proxyOptions": { "ffaDriverBuiltIn": true },
              "vms": [ { "id": 0, "name": "host", "memory": [ { "base": "0x80000000", "size": "0x100000" }, { "base": "0xA0000000", "size": "0x2000" } ] } ] }
            """;
        var e = Assert.Throws<InvalidRequestException>(() => ManifestValidator.Validate(json));
        Assert.Contains("proxy: profile 'pkvm-7.4' needs VM 0's highest region at least 16 KiB", e.Message);
        Assert.Contains("the built-in arm_ffa driver's TX/RX", e.Message);
    }

    /// <summary>pkvm-6.3 has no version gate (and no negotiation): the probe's pages still block the proxy's own map.</summary>
    [Fact]
    public void Pkvm63_NoGate_ButTheProxysMapIsDeniedToo()
    {
        var sys = System("pkvm-6.3");
        var o = sys.Call(0, F(0xC400_0066, HostTx, HostRx, 1));
        Assert.Equal("DENIED", o.Decoded.Error);
        Assert.DoesNotContain(o.Decoded.Notes ?? [], n => n.Contains("never saw"));
    }
}
