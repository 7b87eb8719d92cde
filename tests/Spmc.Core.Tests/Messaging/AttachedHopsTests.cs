using Spmc.Core.Calls;
using Spmc.Core.Tests.Examples;
using Spmc.Core.Tests.Support;
using static Spmc.Core.Tests.Messaging.Dm;

namespace Spmc.Core.Tests.Messaging;

/// <summary>
/// The hops of a call answered by an attached partition: the hop the proxy made to the SPMC was recorded while its
/// answer was pending (all zero); it shows the SPMC's real answer once the partition gives the cycles back, in its
/// place among the other hops.
/// </summary>
public sealed class AttachedHopsTests
{
    private const ushort Host = 0, Relay = 0x8001, Companion = 0x8002;

    public static TheoryData<string> Profiles => ["passthrough", "pkvm-7.4"];

    /// <summary>The example with <paramref name="profile"/>; the host negotiates FF-A 1.2 first (pKVM wants FFA_VERSION before anything).</summary>
    private static TestSystem Sys(string profile)
    {
        var sys = TestSystem.FromJson(Support.Manifests.WithProxy(ExampleManifests.Json("blocked-relay.json"), profile), profile);
        Assert.Null(sys.Call(Host, Ffa.Version(0x1_0002)).Decoded.Error);
        return sys;
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public async Task DirectRequestToAnAttachedPartition_HopShowsTheResponse(string profile)
    {
        var sys = Sys(profile);
        using var client = sys.System.Attach(Companion);
        var boot = client.CallAsync(0, Wait());
        var host = sys.System.CallAsync(Host, Req(Host, Companion, payload: [1, 2]));
        await boot.WaitAsync(Limit);
        _ = client.CallAsync(0, Resp(Companion, Host, payload: [0xA, 0xB]));
        var answer = await host.WaitAsync(Limit);

        Assert.Equal(Resp32, answer.Frame[0]);
        var hop = Assert.Single(answer.Decoded.Hops!, h => h.Decoded.Function == "FFA_MSG_SEND_DIRECT_REQ");
        Assert.Equal(Req32, hop.Request[0]);
        Assert.Equal(Enumerable.Range(0, 18).Select(i => answer.Frame[i]), Enumerable.Range(0, 18).Select(i => hop.Answer[i]));
        Assert.Equal("FFA_MSG_SEND_DIRECT_RESP_32", hop.Decoded.Result);
        Assert.Null(hop.Decoded.Error);
        Assert.Equal(0xAul, hop.Answer[3]);
        Assert.Equal(0xBul, hop.Answer[4]);
        Assert.DoesNotContain(answer.Decoded.Hops!, h => h.Answer[0] == 0);
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public async Task ThroughTheRelay_TheHopShowsTheRelaysAnswer(string profile)
    {
        var sys = Sys(profile);
        using var client = sys.System.Attach(Companion);
        var boot = client.CallAsync(0, Wait());
        var host = sys.System.CallAsync(Host, Req(Host, Relay, payload: [Companion, 5]));
        await boot.WaitAsync(Limit);
        _ = client.CallAsync(0, Resp(Companion, Relay, payload: [6]));
        var answer = await host.WaitAsync(Limit);

        var hops = answer.Decoded.Hops!;
        var hop = Assert.Single(hops, h => h.Decoded.Function == "FFA_MSG_SEND_DIRECT_REQ");
        Assert.Equal("FFA_MSG_SEND_DIRECT_RESP_32", hop.Decoded.Result);
        Assert.Equal(W1(Relay, Host), hop.Answer[1]);
        Assert.Equal(6ul, hop.Answer[3]);
    }

    [Fact]
    public void AnsweredAtOnce_HopsAreUnchanged()
    {
        var sys = Sys("pkvm-7.4");
        var o = sys.Call(Host, Req(Host, 0x8003, payload: [9]));
        var hop = Assert.Single(o.Decoded.Hops!, h => h.Decoded.Function == "FFA_MSG_SEND_DIRECT_REQ");
        Assert.Equal(9ul, hop.Answer[3]);
    }
}
