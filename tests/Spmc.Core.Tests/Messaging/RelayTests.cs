using Spmc.Abi.Smccc;
using Spmc.Core.Calls;
using Spmc.Core.Manifests;
using Spmc.Core.Spm.Runtime;
using Spmc.Core.Systems;
using Spmc.Core.Tests.Examples;
using Spmc.Core.Tests.Support;
using static Spmc.Core.Tests.Messaging.Dm;

namespace Spmc.Core.Tests.Messaging;

/// <summary>
/// The `relay` behaviour on examples/manifests/blocked-relay.json: a partition blocked in a call chain, as the receiver
/// SP of Hafnium's secure_interrupts.sp_blocked (test/vmapi/ffa_secure_partitions/secure_interrupts.c) forwards a
/// direct request to a companion and waits. Around it, Hafnium api_ffa_msg_send_direct_req answers BUSY for a
/// context that is not waiting, and the run-time model refuses a request that would close the call chain (DENIED).
/// </summary>
public sealed class RelayTests
{
    private const ushort Host = 0, Relay = 0x8001, Companion = 0x8002, Echo = 0x8003;
    private const ulong ErrorId = 0x8400_0060, InvalidParameters = 0xFFFF_FFFE;

    private static TestSystem Sys() => ExampleManifests.Load("blocked-relay.json");

    private static ContextView Ctx(TestSystem sys, ushort id) => sys.State.Partitions.Single(p => p.Config.Id == id).Contexts[0];

    [Fact]
    public void ForwardToABuiltin_AnswersAtOnce_WithTheTargetsPayload()
    {
        var sys = Sys();
        var o = sys.Call(Host, Req(Host, Relay, payload: [Echo, 1, 2, 3, 4]));
        Assert.Equal(Resp32, o.Frame[0]);
        Assert.Equal(W1(Relay, Host), o.Frame[1]);
        Assert.Equal([1ul, 2, 3, 4, 0], Enumerable.Range(3, 5).Select(i => o.Frame[i]));
        Assert.Equal(ContextState.Waiting, Ctx(sys, Relay).State);
        Assert.Null(Ctx(sys, Relay).WaitingFor);
    }

    [Fact]
    public void ForwardReq2_UsesReq2_AndAnswersResp2()
    {
        var sys = Sys();
        var o = sys.Call(Host, Req2(Host, Relay, payload: [Echo, 5, 6]));
        Assert.Equal(Resp2Id, o.Frame[0]);
        Assert.Equal([5ul, 6, 0], Enumerable.Range(4, 3).Select(i => o.Frame[i]));
    }

    [Fact]
    public void ForwardFails_TheRelayReportsTheError()
    {
        var sys = Sys();
        // 0x8009 is no partition: the forward gets FFA_ERROR INVALID_PARAMETERS, reported in w3..w5.
        var o = sys.Call(Host, Req(Host, Relay, payload: [0x8009]));
        Assert.Equal(Resp32, o.Frame[0]);
        Assert.Equal(ErrorId, o.Frame[3]);
        Assert.Equal(InvalidParameters, o.Frame[5]);
        Assert.Contains("FFA_MSG_SEND_DIRECT_REQ_32 → INVALID_PARAMETERS", string.Join("\n", o.Decoded.Notes ?? []));
    }

    [Fact]
    public async Task ForwardToAnAttachedPartition_BlocksTheRelay_UntilItAnswers()
    {
        var sys = Sys();
        using var client = sys.System.Attach(Companion);
        var boot = client.CallAsync(0, Wait());
        var host = sys.System.CallAsync(Host, Req(Host, Relay, payload: [Companion, 0xA, 0xB]));

        var delivered = await boot.WaitAsync(Limit);
        Assert.Equal(Req32, delivered.Frame[0]);
        Assert.Equal(W1(Relay, Companion), delivered.Frame[1]);
        Assert.Equal([0xAul, 0xB], Enumerable.Range(3, 2).Select(i => delivered.Frame[i]));
        Assert.False(host.IsCompleted);
        var relay = Ctx(sys, Relay);
        Assert.Equal(ContextState.Blocked, relay.State);
        Assert.Equal(Companion, relay.WaitingFor);
        Assert.Equal(Host, relay.RequestFrom);

        // Another request to the blocked relay: BUSY (Hafnium api_ffa_msg_send_direct_req, vCPU not waiting).
        sys.Fails(Host, Req(Host, Relay, payload: [Echo]), Err.Busy, "direct-req.receiver-busy", vcpu: 1);
        // The companion calling back into the relay would close the loop: DENIED (call chain).
        var before = sys.Contexts();
        Expect.Error(await client.CallAsync(0, Req(Companion, Relay, payload: [Echo])).WaitAsync(Limit), Err.Denied, "direct-req.call-chain");
        Assert.Equal(before, sys.Contexts());

        // The companion answers: the relay resumes and answers the host with that payload.
        var parked = client.CallAsync(0, Resp(Companion, Relay, payload: [7, 8]));
        var answer = await host.WaitAsync(Limit);
        Assert.Equal(Resp32, answer.Frame[0]);
        Assert.Equal(W1(Relay, Host), answer.Frame[1]);
        Assert.Equal([7ul, 8], Enumerable.Range(3, 2).Select(i => answer.Frame[i]));
        Assert.False(parked.IsCompleted);
        Assert.Equal(ContextState.Waiting, Ctx(sys, Relay).State);
        Assert.Null(Ctx(sys, Relay).WaitingFor);

        // And it relays again.
        Assert.Equal(1ul, sys.Call(Host, Req(Host, Relay, payload: [Echo, 1])).Frame[3]);
    }

    /// <summary>
    /// The companion's client goes away (or the companion calls FFA_ABORT) while the relay is blocked on it: the
    /// relay's forward ends ABORTED, so it must continue and answer the host with that error, and take requests
    /// again — not stay blocked with the host's call hanging until its timeout.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task TargetDetachesOrAborts_TheRelayAnswersTheError_AndIsNotStuck(bool abort)
    {
        var sys = Sys();
        var client = sys.System.Attach(Companion);
        var boot = client.CallAsync(0, Wait());
        var host = sys.System.CallAsync(Host, Req(Host, Relay, payload: [Companion, 0xA]));
        await boot.WaitAsync(Limit);
        Assert.Equal(ContextState.Blocked, Ctx(sys, Relay).State);

        if (abort) _ = client.CallAsync(0, AbortFrame());
        else client.Dispose();

        var answer = await host.WaitAsync(Limit);
        Assert.Equal(Resp32, answer.Frame[0]);
        Assert.Equal(W1(Relay, Host), answer.Frame[1]);
        Assert.Equal(ErrorId, answer.Frame[3]);
        Assert.Equal(0xFFFF_FFF8ul, answer.Frame[5]); // ABORTED
        Assert.Equal(ContextState.Waiting, Ctx(sys, Relay).State);
        Assert.Null(Ctx(sys, Relay).WaitingFor);
        Assert.Equal(1ul, sys.Call(Host, Req(Host, Relay, payload: [Echo, 1])).Frame[3]);
        if (abort) client.Dispose();
    }

    /// <summary>
    /// The host gives up waiting (remote timeout) while the relay is blocked: the relay is preempted, the host gets
    /// FFA_INTERRUPT; the companion's later answer is held for the relay, and the host's FFA_RUN collects it.
    /// </summary>
    [Fact]
    public async Task HostTimesOut_TheRelayIsPreempted_AndFfaRunCollectsTheAnswer()
    {
        var sys = TestSystem.FromJson(ExampleManifests.Json("blocked-relay.json").Replace("\"remoteTimeoutMs\": 60000", "\"remoteTimeoutMs\": 200"));
        using var client = sys.System.Attach(Companion);
        var boot = client.CallAsync(0, Wait());
        var host = sys.System.CallAsync(Host, Req(Host, Relay, payload: [Companion, 0xA]));
        await boot.WaitAsync(Limit);
        Assert.Equal(Interrupt, (await host.WaitAsync(Limit)).Frame[0]);
        Assert.Equal(ContextState.Preempted, Ctx(sys, Relay).State);

        _ = client.CallAsync(0, Resp(Companion, Relay, payload: [7, 8]));
        var run = await sys.System.CallAsync(Host, RunFrame(Relay)).WaitAsync(Limit);
        Assert.Equal(Resp32, run.Frame[0]);
        Assert.Equal([7ul, 8], Enumerable.Range(3, 2).Select(i => run.Frame[i]));
        Assert.Equal(ContextState.Waiting, Ctx(sys, Relay).State);
        Assert.Equal(1ul, sys.Call(Host, Req(Host, Relay, payload: [Echo, 1])).Frame[3]);
    }

    [Fact]
    public void Manifest_RelayNeedsDirectRequestSend()
    {
        var json = ExampleManifests.Json("blocked-relay.json").Replace(
            "\"directRequestReceive\": true, \"directRequestSend\": true, \"directRequest2Receive\": true, \"directRequest2Send\": true",
            "\"directRequestReceive\": true");
        var e = Assert.Throws<InvalidRequestException>(() => ManifestValidator.Validate(json));
        Assert.Contains("partitions[0].behaviour: 'relay' forwards direct requests", e.Message);
    }
}
