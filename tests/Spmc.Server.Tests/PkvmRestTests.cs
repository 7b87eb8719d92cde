using System.Net.Http.Json;
using System.Text.Json;
using Spmc.Abi.Descriptors;
using Spmc.Abi.Descriptors.Memory;
using Spmc.V1;

namespace Spmc.Server.Tests;

/// <summary>
/// The real default system: the default manifest, whose proxy is pkvm-7.4. The worked examples of docs/pkvm.md:
/// the version gate, a share the proxy forwards (as FFA_MEM_SHARE_64 with x1 = x2 = len) and one it refuses
/// itself (a page already shared: DENIED, no EL3 call, so no hops).
/// </summary>
public sealed class PkvmRestTests(SpmcFactory factory) : IClassFixture<SpmcFactory>
{
    private const ulong HostRx = 0x8000_0000, HostTx = 0x8000_1000, Page = 0x8020_0000;
    private readonly HttpClient _client = factory.CreateClient();

    private Task<string> PkvmSystemAsync() => factory.NewSystemAsync(SpmcFactory.DefaultManifest);

    private static string[] Hops(JsonElement answer) =>
        [.. answer.GetProperty("decoded").GetProperty("hops").EnumerateArray().Select(h => h.GetProperty("decoded").GetProperty("function").GetString()!)];

    /// <summary>FFA_MEM_SHARE_32 of one page with SP 0x8002, the v1.2 descriptor written into the host's TX by the same request.</summary>
    private async Task<JsonElement> ShareAsync(string system, ushort receiver = 0x8002)
    {
        var d = new MemoryTransactionDescriptor(0, MemoryRegionAttributes.NormalWriteBackInner, new MemoryTransactionFlags(0), 0, 0,
            [new EndpointMemoryAccess(MemoryAccessPermissions.Of(receiver, DataAccess.ReadWrite), 0)],
            CompositeMemoryRegion.Of(new MemoryRegionConstituent(Page, 1))).ToBytes(MemoryDescriptorLayout.V1_2);
        return await _client.SmcAsync(system, new
        {
            caller = "0x0",
            x = new[] { "0x84000073", $"0x{d.Length:X}", $"0x{d.Length:X}" },
            writes = new[] { new { address = $"0x{HostTx:X}", data = Convert.ToBase64String(d) } },
        });
    }

    private async Task NegotiateAndMapAsync(string system)
    {
        Assert.Equal(0x10002UL, (await _client.SmcAsync(system, new { caller = "0x0", x = new[] { "0x84000063", "0x10002" } })).X(0));
        var map = await _client.SmcAsync(system, new { caller = "0x0", x = new[] { "0xC4000066", $"0x{HostTx:X}", $"0x{HostRx:X}", "1" } });
        Assert.Equal(0x84000061UL, map.X(0));
        Assert.Equal("0x8FFFE000", map.GetProperty("decoded").GetProperty("hops")[0].GetProperty("request")[1].GetString());
    }

    [Fact]
    public async Task DefaultSystem_RunsPkvm74_InspectorShowsTheProxy()
    {
        var system = await _client.GetFromJsonAsync<JsonElement>("/api/v1/systems/default");
        Assert.Equal("pkvm-7.4", system.GetProperty("proxyProfile").GetString());
        var proxy = (await _client.GetFromJsonAsync<JsonElement>("/api/v1/systems/default/state")).GetProperty("proxy");
        Assert.Equal("pkvm-7.4", proxy.GetProperty("profile").GetString());
        Assert.Equal("0x8FFFE000", proxy.GetProperty("hypTx").GetString());
        Assert.Equal("0x8FFFF000", proxy.GetProperty("hypRx").GetString());
        Assert.Contains(proxy.GetProperty("stage2").EnumerateArray(), r => r.GetProperty("state").GetString() == "hyp (proxy RX)");
        Assert.Contains(proxy.GetProperty("notes").EnumerateArray(), n => n.GetString()!.StartsWith("boot: ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task VersionGate_IdGetBeforeFfaVersion_IsRefusedByTheProxy_ThenNegotiationRunsPostInit()
    {
        var system = await PkvmSystemAsync();
        var gated = await _client.SmcAsync(system, new { caller = "0x0", x = new[] { "0x84000069" } });
        Assert.Equal(0x84000060UL, gated.X(0));
        Assert.Equal(0xFFFFFFFFFFFFFFFEUL, gated.X(2)); // proxy-made: the code sign-extended to 64 bits
        Assert.Equal("INVALID_PARAMETERS", gated.Decoded("error"));
        Assert.Equal("pkvm.version.not-negotiated", gated.Decoded("rule"));
        Assert.Equal("pKVM: FFA_ID_GET before the host negotiated a version: only FFA_VERSION (0x84000063) is allowed until then", gated.Decoded("reason"));
        Assert.Empty(Hops(gated));

        var version = await _client.SmcAsync(system, new { caller = "0x0", x = new[] { "0x84000063", "0x10002" } });
        Assert.Equal(0x10002UL, version.X(0));
        Assert.Equal(["FFA_ID_GET", "FFA_FEATURES"], Hops(version));
        Assert.Equal(0x84000061UL, (await _client.SmcAsync(system, new { caller = "0x0", x = new[] { "0x84000069" } })).X(0));
    }

    [Fact]
    public async Task Share_ForwardedByTheProxy_HopIsShare64WithX1AndX2TheLength_PageSharedOwned()
    {
        var system = await PkvmSystemAsync();
        await NegotiateAndMapAsync(system);
        var answer = await ShareAsync(system);
        Assert.Equal(0x84000061UL, answer.X(0));
        var hop = Assert.Single(answer.GetProperty("decoded").GetProperty("hops").EnumerateArray());
        Assert.Equal(["0xC4000073", "0x70", "0x70", "0x0"], hop.GetProperty("request").EnumerateArray().Take(4).Select(r => r.GetString()));
        Assert.Equal("SMC64", hop.GetProperty("decoded").GetProperty("width").GetString());
        Assert.Equal(answer.GetProperty("x").EnumerateArray().Select(r => r.GetString()), hop.GetProperty("answer").EnumerateArray().Select(r => r.GetString()));

        var proxy = (await _client.GetFromJsonAsync<JsonElement>($"/api/v1/systems/{system}/state")).GetProperty("proxy");
        Assert.Equal("1.2", proxy.GetProperty("ffaVersion").GetString());
        Assert.True(proxy.GetProperty("negotiated").GetBoolean());
        Assert.Contains(proxy.GetProperty("stage2").EnumerateArray(), r =>
            r.GetProperty("base").GetString() == "0x80200000" && r.GetProperty("size").GetString() == "0x1000" && r.GetProperty("state").GetString() == "shared-owned (FF-A)");
        Assert.Equal("0x80001000", proxy.GetProperty("hostTx").GetString());
    }

    [Fact]
    public async Task Share_OfAPageAlreadyShared_IsDeniedByTheProxy_WithNoEl3Call()
    {
        var system = await PkvmSystemAsync();
        await NegotiateAndMapAsync(system);
        Assert.Equal(0x84000061UL, (await ShareAsync(system)).X(0));
        var refused = await ShareAsync(system);
        Assert.Equal(0x84000060UL, refused.X(0));
        Assert.Equal(0xFFFFFFFFFFFFFFFAUL, refused.X(2));
        Assert.Equal("DENIED", refused.Decoded("error"));
        Assert.Equal("pkvm.mem-share.range-not-owned", refused.Decoded("rule"));
        Assert.Equal("pKVM: FFA_MEM_SHARE: constituent 0 (0x80200000, 1 page) cannot be shared with FF-A: 0x80200000..0x80200FFF is shared-owned (FF-A), " +
                     "not owned by the host; the ranges shared before it were unshared, nothing was sent to the SPMC", refused.Decoded("reason"));
        Assert.Empty(Hops(refused));
        Assert.Single((await _client.GetFromJsonAsync<JsonElement>($"/api/v1/systems/{system}/state")).GetProperty("shares").EnumerateArray());
    }

    [Fact]
    public async Task HypervisorPages_AreForbiddenToTheHost_OverRest()
    {
        var system = await PkvmSystemAsync();
        var (status, detail) = await (await _client.GetAsync($"/api/v1/systems/{system}/memory/0x8FFFF000?length=16&as=0x0")).ProblemAsync();
        Assert.Equal(403, status);
        Assert.Contains("pKVM hypervisor's own page (hyp (proxy RX))", detail);
    }

    [Fact]
    public async Task Grpc_InspectorShowsTheProxyState()
    {
        var system = await PkvmSystemAsync();
        var state = await new Inspector.InspectorClient(factory.Channel).GetStateAsync(new GetStateRequest { SystemId = system });
        Assert.Equal("pkvm-7.4", state.Proxy.Profile);
        Assert.Equal("", state.Proxy.FfaVersion); // "" until the host negotiates
        Assert.False(state.Proxy.Negotiated);
        Assert.Equal(0x8FFF_E000UL, state.Proxy.HypTx);
        Assert.Contains(state.Proxy.Stage2, r => r.Base == 0x8FFF_F000 && r.State == "hyp (proxy RX)");
    }

    [Fact]
    public async Task Share_RefusedByTheSpmc_NamesTheSpmcRuleInTheHopAndInTheAnswer()
    {
        var system = await PkvmSystemAsync();
        await NegotiateAndMapAsync(system);
        var refused = await ShareAsync(system, receiver: 0x8009); // no such partition
        Assert.Equal(0x84000060UL, refused.X(0));
        Assert.Equal("INVALID_PARAMETERS", refused.Decoded("error"));
        var hop = refused.GetProperty("decoded").GetProperty("hops")[0].GetProperty("decoded");
        Assert.Equal("FFA_MEM_SHARE", hop.GetProperty("function").GetString());
        Assert.Equal("mem-send.receiver-unknown", hop.GetProperty("rule").GetString());
        Assert.Equal("mem-send.receiver-unknown", refused.Decoded("rule"));
    }
}
