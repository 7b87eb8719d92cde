using Spmc.Core.Calls;
using Spmc.Core.Spm.Runtime;
using Spmc.Core.Systems;
using Spmc.Core.Tests.Support;
using static Spmc.Core.Tests.Messaging.Dm;

namespace Spmc.Core.Tests.Messaging;

/// <summary>A partition with behaviour 'remote' played by an attached client (SimulatedSystem.Attach).</summary>
public sealed class RemotePartitionTests
{
    private const ushort Host = 0, Echo = 0x8001, Remote = 0x8004;
    private const string RemoteUuid = "7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4a44";

    private static string Json(uint timeoutMs, int contexts = 1, string version = "1.3") => $$"""
        {
          "spmc": { "remoteTimeoutMs": {{timeoutMs}}, "version": "{{version}}" },
          "proxy": "passthrough",
          "vms": [ { "id": 0, "name": "host", "vcpus": 2, "memory": [ { "base": "0x80000000", "size": "0x100000" } ] } ],
          "partitions": [
            { "id": "0x8001", "name": "echo", "behaviour": "echo", "uuids": [ "7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4a01" ],
              "properties": { "directRequestReceive": true, "directRequest2Receive": true },
              "memory": [ { "base": "0x60000000", "size": "0x100000" } ] },
            { "id": "0x8004", "name": "remote", "behaviour": "remote", "executionContexts": {{contexts}}, "uuids": [ "{{RemoteUuid}}" ],
              "properties": { "directRequestReceive": true, "directRequest2Receive": true, "directRequestSend": true },
              "memory": [ { "base": "0x60400000", "size": "0x100000" } ] }
          ]
        }
        """;

    /// <summary>Long enough that no test but the timeout ones ever hits it.</summary>
    private static TestSystem Sys(uint timeoutMs = 60_000, int contexts = 1, string version = "1.3") => TestSystem.FromJson(Json(timeoutMs, contexts, version));

    private static ContextView Ctx(TestSystem sys, int index = 0) =>
        sys.State.Partitions.Single(p => p.Config.Id == Remote).Contexts[index];

    private static async Task<T> Done<T>(Task<T> task) => await task.WaitAsync(Limit);

    /// <summary>Attaches and boots context 0: its FFA_MSG_WAIT is parked until the first message.</summary>
    private static (PartitionAttachment Client, Task<SmcOutcome> Wait) Boot(TestSystem sys)
    {
        var client = sys.System.Attach(Remote);
        var wait = client.CallAsync(0, Wait());
        Assert.False(wait.IsCompleted);
        Assert.Equal(ContextState.Waiting, Ctx(sys).State);
        return (client, wait);
    }

    [Theory]
    [InlineData("1.2", false)] // a 1.2 SPMC
    [InlineData("1.3", true)]  // a 1.3 SPMC, the host negotiated 1.2
    public void NotAttached_RequestIsBusy_AndRunIsInvalid(string version, bool negotiate12)
    {
        var sys = Sys(version: version);
        if (negotiate12) sys.Negotiate(Host, 0x1_0002);
        sys.Fails(Host, Req(Host, Remote), Err.Busy, "direct-req.receiver-off");
        sys.Fails(Host, Req2(Host, Remote), Err.Busy, "direct-req.receiver-off");
        sys.Fails(Host, RunFrame(Remote), Err.InvalidParameters, "run.not-booted");
        Assert.Equal("remote", sys.State.Partitions.Single(p => p.Config.Id == Remote).Driver);
        Assert.False(sys.State.Partitions.Single(p => p.Config.Id == Remote).Attached);
    }

    [Fact]
    public void NotAttached_IsNotReady_ForA13Caller()
    {
        var sys = Sys();
        sys.Fails(Host, Req(Host, Remote), Err.NotReady, "direct-req.not-ready");
        sys.Fails(Host, Req(Host, Remote, smc64: true), Err.NotReady, "direct-req.not-ready");
        sys.Fails(Host, Req2(Host, Remote), Err.NotReady, "direct-req.not-ready");
        sys.Fails(Host, RunFrame(Remote), Err.NotReady, "run.not-ready");
        sys.Fails(Host, RunFrame(Remote, smc64: true), Err.NotReady, "run.not-ready");
        using var client = sys.System.Attach(Remote); // attached, not booted: still starting
        sys.Fails(Host, Req(Host, Remote), Err.NotReady, "direct-req.not-ready");
        sys.Fails(Host, RunFrame(Remote), Err.NotReady, "run.not-ready");
    }

    [Fact]
    public void AttachedButNotBooted_IsBusy()
    {
        var sys = Sys(version: "1.2");
        using var client = sys.System.Attach(Remote);
        Assert.True(sys.State.Partitions.Single(p => p.Config.Id == Remote).Attached);
        sys.Fails(Host, Req(Host, Remote), Err.Busy, "direct-req.receiver-off");
    }

    [Fact]
    public void AttachTwice_OrToABuiltin_OrUnknown_Throws()
    {
        var sys = Sys();
        using var client = sys.System.Attach(Remote);
        Assert.Throws<ConflictException>(() => sys.System.Attach(Remote));
        Assert.Throws<ConflictException>(() => sys.System.Attach(Echo));
        Assert.Throws<NotFoundException>(() => sys.System.Attach(0x8009));
        Assert.Throws<NotFoundException>(() => sys.System.Attach(Host));
    }

    [Fact]
    public void PlainCallerAsRemotePartition_IsDenied()
    {
        var sys = Sys();
        sys.Fails(Remote, Wait(), Err.Denied, "runtime.driver-only");
        using var client = sys.System.Attach(Remote);
        sys.Fails(Remote, Wait(), Err.Denied, "runtime.driver-only"); // only the client's frames drive it
    }

    [Fact]
    public async Task Req_DeliveredToClient_ResponseAnswersHost()
    {
        var sys = Sys();
        var (client, wait) = Boot(sys);
        using var attached = client;
        var host = sys.System.CallAsync(Host, Req(Host, Remote, payload: [1, 2, 3, 4, 5]));

        var delivered = await Done(wait);
        Assert.Equal(Req32, delivered.Frame[0]);
        Assert.Equal(W1(Host, Remote), delivered.Frame[1]);
        Assert.Equal([1ul, 2, 3, 4, 5], Enumerable.Range(3, 5).Select(i => delivered.Frame[i]));
        Assert.False(host.IsCompleted);
        var ctx = Ctx(sys);
        Assert.Equal(ContextState.Running, ctx.State);
        Assert.Equal(RunReason.DirectRequest, ctx.Reason);
        Assert.Equal(Host, ctx.RequestFrom);

        var resp = client.CallAsync(0, Resp(Remote, Host, payload: [0xA, 0xB]));
        var answer = Answer(await Done(host), Resp32);
        Assert.Equal(W1(Remote, Host), answer.Frame[1]);
        Assert.Equal(0xAul, answer.Frame[3]);
        Assert.Equal(0xBul, answer.Frame[4]);
        Assert.False(resp.IsCompleted); // parked until the next message
        Assert.Equal(ContextState.Waiting, Ctx(sys).State);

        // The next request is the return of that response.
        var host2 = sys.System.CallAsync(Host, Req(Host, Remote, smc64: true, payload: 0x1_0000_0007));
        var second = await Done(resp);
        Assert.Equal(Req64, second.Frame[0]);
        Assert.Equal(0x1_0000_0007ul, second.Frame[3]);
        var resp2 = client.CallAsync(0, Resp(Remote, Host, smc64: true, payload: 0x2_0000_0008));
        Assert.Equal(0x2_0000_0008ul, Answer(await Done(host2), Resp64).Frame[3]);
        Assert.False(resp2.IsCompleted);
    }

    [Fact]
    public async Task Req2_DeliveredWithFullPayload_Resp2AnswersHost()
    {
        var sys = Sys();
        var (client, wait) = Boot(sys);
        using var attached = client;
        var payload = Enumerable.Range(0, 14).Select(i => 0x1000_0000_0000_0000ul | (uint)i).ToArray();
        var host = sys.System.CallAsync(Host, Req2(Host, Remote, RemoteUuid, payload));

        var delivered = await Done(wait);
        Assert.Equal(Req2Id, delivered.Frame[0]);
        Assert.Equal(W1(Host, Remote), delivered.Frame[1]);
        var (lo, hi) = Uuid.Words64(RemoteUuid);
        Assert.Equal(lo, delivered.Frame[2]);
        Assert.Equal(hi, delivered.Frame[3]);
        Assert.Equal(payload, Enumerable.Range(4, 14).Select(i => delivered.Frame[i]));
        Assert.Equal(RunReason.DirectRequest2, Ctx(sys).Reason);
        Assert.True(Ctx(sys).Req2);

        var back = payload.Select(p => ~p).ToArray();
        _ = client.CallAsync(0, Resp2(Remote, Host, back));
        var answer = Answer(await Done(host), Resp2Id);
        Assert.Equal(W1(Remote, Host), answer.Frame[1]);
        Assert.Equal(0ul, answer.Frame[2]);
        Assert.Equal(0ul, answer.Frame[3]);
        Assert.Equal(back, Enumerable.Range(4, 14).Select(i => answer.Frame[i]));
    }

    [Fact]
    public async Task WrongResponses_AreDenied_AndChangeNothing()
    {
        var sys = Sys();
        var (client, wait) = Boot(sys);
        using var attached = client;
        var host = sys.System.CallAsync(Host, Req2(Host, Remote));
        await Done(wait);
        var before = sys.Contexts();

        async Task Denied(Spmc.Abi.Smccc.SmcFrame frame, string rule)
        {
            Expect.Error(await Done(client.CallAsync(0, frame)), Err.Denied, rule);
            Assert.Equal(before, sys.Contexts());
        }

        await Denied(Resp2(Remote, Echo), "direct-resp.wrong-receiver");  // not the request's sender
        await Denied(Resp2(Remote, 5), "direct-resp.wrong-receiver");     // nor a VM that did not send it
        await Denied(Resp(Remote, Host), "direct-resp.wrong-abi");        // RESP for a REQ2
        await Denied(Resp(Remote, Host, smc64: true), "direct-resp.wrong-abi");
        await Denied(Wait(), "msg-wait.handling-request");                // must answer, not wait
        Expect.Error(await Done(client.CallAsync(0, Resp2(Remote, Remote))), Err.InvalidParameters, "direct-resp.sender-is-receiver");
        Expect.Error(await Done(client.CallAsync(0, Resp2(Echo, Host))), Err.InvalidParameters, "direct-resp.sender-not-caller");
        Assert.False(host.IsCompleted);

        _ = client.CallAsync(0, Resp2(Remote, Host, 1));
        Assert.Equal(1ul, Answer(await Done(host), Resp2Id).Frame[4]);
        Assert.Equal(ContextState.Waiting, Ctx(sys).State);
    }

    [Fact]
    public async Task RespForReq2_AndResp2ForReq_AreDenied()
    {
        var sys = Sys();
        var (client, wait) = Boot(sys);
        using var attached = client;
        var host = sys.System.CallAsync(Host, Req(Host, Remote, smc64: true));
        await Done(wait);
        var before = sys.Contexts();
        Expect.Error(await Done(client.CallAsync(0, Resp2(Remote, Host))), Err.Denied, "direct-resp.wrong-abi");
        Assert.Equal(before, sys.Contexts());
        _ = client.CallAsync(0, Resp(Remote, Host, smc64: true, payload: 9));
        Assert.Equal(9ul, Answer(await Done(host), Resp64).Frame[3]);
    }

    [Fact]
    public async Task BusyWhileHandling_AndResponseWithoutRequestIsDenied()
    {
        var sys = Sys();
        var (client, wait) = Boot(sys);
        using var attached = client;
        var host = sys.System.CallAsync(Host, Req(Host, Remote));
        await Done(wait);
        sys.Fails(Host, Req(Host, Remote), Err.Busy, "direct-req.receiver-busy", vcpu: 1); // already handling one
        sys.Fails(Host, RunFrame(Remote), Err.Busy, "run.already-running");                // running
        _ = client.CallAsync(0, Resp(Remote, Host));
        await Done(host);
    }

    [Fact]
    public async Task ResponseWithoutARequest_IsDenied()
    {
        var sys = Sys();
        var (client, wait) = Boot(sys);
        using var attached = client;
        var before = sys.Contexts();
        Expect.Error(await Done(client.CallAsync(0, Resp(Remote, Host))), Err.Denied, "direct-resp.no-request");
        Expect.Error(await Done(client.CallAsync(0, Resp2(Remote, Host))), Err.Denied, "direct-resp.no-request");
        Assert.Equal(before, sys.Contexts());
        Assert.False(wait.IsCompleted);
    }

    [Fact]
    public async Task Yield_GivesHostFfaYield_RunResumes_ThenResponseAnswersTheRun()
    {
        var sys = Sys();
        var (client, wait) = Boot(sys);
        using var attached = client;
        var host = sys.System.CallAsync(Host, Req(Host, Remote, payload: 1));
        await Done(wait);

        var yield = client.CallAsync(0, YieldFrame(0x10, 0x20));
        var yielded = Answer(await Done(host), Yield);
        Assert.Equal(W1(Remote, 0), yielded.Frame[1]);
        Assert.Equal(0x10ul, yielded.Frame[2]);
        Assert.Equal(0x20ul, yielded.Frame[3]);
        Assert.False(yield.IsCompleted);
        Assert.Equal(ContextState.Blocked, Ctx(sys).State);
        sys.Fails(Host, Req(Host, Remote), Err.Busy, "direct-req.receiver-busy"); // blocked

        var run = sys.System.CallAsync(Host, RunFrame(Remote));
        Expect.Success(await Done(yield));
        Assert.Equal(ContextState.Running, Ctx(sys).State);
        Assert.False(run.IsCompleted);

        _ = client.CallAsync(0, Resp(Remote, Host, payload: 0x77));
        var answer = Answer(await Done(run), Resp32);
        Assert.Equal(W1(Remote, Host), answer.Frame[1]);
        Assert.Equal(0x77ul, answer.Frame[3]);
        Assert.Equal(ContextState.Waiting, Ctx(sys).State);
    }

    [Fact]
    public async Task Yield_DuringReq2_RunGetsTheFullResp2()
    {
        var sys = Sys();
        var (client, wait) = Boot(sys);
        using var attached = client;
        var host = sys.System.CallAsync(Host, Req2(Host, Remote));
        await Done(wait);
        var yield = client.CallAsync(0, YieldFrame());
        Answer(await Done(host), Yield64); // the 1.3 host sent an SMC64 request: the SMC64 FFA_YIELD (S0188)
        // S0188: the REQ2 is resumed with FFA_RUN_64 only.
        sys.Fails(Host, RunFrame(Remote), Err.Denied, "run.smc64-required");
        var run = sys.System.CallAsync(Host, RunFrame(Remote, smc64: true));
        Expect.Success(await Done(yield));
        var payload = Enumerable.Range(0, 14).Select(i => 0xF000_0000_0000_0000ul | (uint)i).ToArray();
        _ = client.CallAsync(0, Resp2(Remote, Host, payload));
        var answer = Answer(await Done(run), Resp2Id);
        Assert.Equal(payload, Enumerable.Range(4, 14).Select(i => answer.Frame[i]));
    }

    [Fact]
    public async Task Yield_DuringReq2_At12_Run32StillResumesIt_WithANote()
    {
        var sys = Sys();
        sys.Negotiate(Host, 0x1_0002);
        var (client, wait) = Boot(sys);
        using var attached = client;
        var host = sys.System.CallAsync(Host, Req2(Host, Remote));
        await Done(wait);
        var yield = client.CallAsync(0, YieldFrame());
        Answer(await Done(host), Yield); // a 1.2 host: FFA_YIELD_32 as before
        var run = sys.System.CallAsync(Host, RunFrame(Remote));
        Expect.Success(await Done(yield));
        _ = client.CallAsync(0, Resp2(Remote, Host, 7));
        var answer = Answer(await Done(run), Resp2Id);
        Assert.Equal(7ul, answer.Frame[4]);
        Assert.Contains(answer.Decoded.Notes!, n => n.Contains("S0188"));
    }

    [Fact]
    public async Task YieldWhenNotRunning_IsDenied()
    {
        var sys = Sys();
        var (client, _) = Boot(sys);
        using var c = client;
        var before = sys.Contexts();
        Expect.Error(await Done(client.CallAsync(0, YieldFrame())), Err.Denied, "yield.not-running");
        Assert.Equal(before, sys.Contexts());
    }

    [Fact]
    public async Task Run_OfWaitingRemote_DeliversFfaRun_AndMsgWaitAnswersIt()
    {
        var sys = Sys();
        var (client, wait) = Boot(sys);
        using var attached = client;
        var run = sys.System.CallAsync(Host, RunFrame(Remote));
        var delivered = await Done(wait);
        Assert.Equal(Run, delivered.Frame[0]);
        Assert.Equal(W1(Remote, 0), delivered.Frame[1]);
        Assert.Equal(RunReason.Run, Ctx(sys).Reason);
        var wait2 = client.CallAsync(0, Wait());
        Answer(await Done(run), MsgWait);
        Assert.False(wait2.IsCompleted);
        Assert.Equal(ContextState.Waiting, Ctx(sys).State);
    }

    [Fact]
    public async Task Timeout_GivesHostInterrupt_LateResponseIsHeldForTheNextRun()
    {
        var sys = Sys(timeoutMs: 50);
        var (client, wait) = Boot(sys);
        using var attached = client;
        var host = sys.System.CallAsync(Host, Req(Host, Remote, payload: 1));
        await Done(wait);

        var interrupted = Answer(await Done(host), Interrupt);
        Assert.Equal(0ul, interrupted.Frame[1]);
        Assert.Equal(ContextState.Preempted, Ctx(sys).State);
        sys.Fails(Host, Req(Host, Remote), Err.Busy, "direct-req.receiver-busy");

        var late = client.CallAsync(0, Resp(Remote, Host, payload: 0x55));
        Assert.False(late.IsCompleted);
        Assert.True(Ctx(sys).AnswerHeld);

        var run = Answer(await Done(sys.System.CallAsync(Host, RunFrame(Remote))), Resp32);
        Assert.Equal(W1(Remote, Host), run.Frame[1]);
        Assert.Equal(0x55ul, run.Frame[3]);
        Assert.Equal(ContextState.Waiting, Ctx(sys).State);
        Assert.False(Ctx(sys).AnswerHeld);
        Assert.False(late.IsCompleted);
    }

    [Fact]
    public async Task Timeout_ThenRun_ResumesTheContext_WhichAnswersTheRun()
    {
        var sys = Sys(timeoutMs: 50);
        var (client, wait) = Boot(sys);
        using var attached = client;
        var host = sys.System.CallAsync(Host, Req(Host, Remote));
        await Done(wait);
        Answer(await Done(host), Interrupt);

        // RUN with nothing held: the context runs again; with the long wait ahead, it answers in time.
        var run = sys.System.CallAsync(Host, RunFrame(Remote));
        Assert.Equal(ContextState.Running, Ctx(sys).State);
        _ = client.CallAsync(0, Resp(Remote, Host, payload: 3));
        var done = await Done(run);
        // Either the response or, if the 50 ms passed first, another FFA_INTERRUPT with the answer held.
        if (done.Frame[0] == Interrupt)
            done = await Done(sys.System.CallAsync(Host, RunFrame(Remote)));
        Assert.Equal(3ul, Answer(done, Resp32).Frame[3]);
    }

    [Fact]
    public async Task Detach_WhileHandling_AbortsTheHost_AndThePartitionIsOff()
    {
        var sys = Sys();
        var (client, wait) = Boot(sys);
        var host = sys.System.CallAsync(Host, Req(Host, Remote));
        await Done(wait);
        client.Dispose();
        Expect.Error(await Done(host), Err.Aborted, "runtime.detached");
        Assert.Equal(ContextState.Off, Ctx(sys).State);
        Assert.False(sys.State.Partitions.Single(p => p.Config.Id == Remote).Attached);
        sys.Fails(Host, Req(Host, Remote), Err.NotReady, "direct-req.not-ready"); // starting again (1.3 host)
        Assert.Throws<ConflictException>(() => { _ = client.CallAsync(0, Wait()); });

        // A new client can attach and run it.
        var (again, wait2) = Boot(sys);
        using var __ = again;
        var host2 = sys.System.CallAsync(Host, Req(Host, Remote, payload: 4));
        Assert.Equal(4ul, (await Done(wait2)).Frame[3]);
        _ = again.CallAsync(0, Resp(Remote, Host, payload: 5));
        Assert.Equal(5ul, Answer(await Done(host2), Resp32).Frame[3]);
    }

    [Fact]
    public async Task Detach_WhileWaiting_AbortsTheParkedCall()
    {
        var sys = Sys();
        var (client, wait) = Boot(sys);
        client.Dispose();
        Expect.Error(await Done(wait), Err.Aborted, "runtime.detached");
        Assert.Equal(ContextState.Off, Ctx(sys).State);
    }

    [Fact]
    public async Task DeletingTheSystem_AnswersWaitingCalls()
    {
        var registry = new SystemRegistry();
        var system = registry.Create("remote", Json(60_000));
        var sys = new TestSystem(system);
        var (client, wait) = Boot(sys);
        var host = system.CallAsync(Host, Req(Host, Remote));
        await Done(wait);
        var parked = client.CallAsync(0, YieldFrame());
        Answer(await Done(host), Yield);
        var run = system.CallAsync(Host, RunFrame(Remote));
        await Done(parked);
        var respond = client.CallAsync(0, Ffa.Frame(Yield)); // yields again: host's RUN answered with FFA_YIELD
        Answer(await Done(run), Yield);

        registry.Delete("remote");
        Expect.Error(await Done(respond), Err.Aborted, "runtime.detached"); // deleting a system detaches its clients first
        await Assert.ThrowsAsync<NotFoundException>(() => system.CallAsync(Host, Req(Host, Echo)));
        Assert.Throws<NotFoundException>(() => system.Attach(Remote));
    }

    [Fact]
    public async Task Shutdown_AnswersAHostWaitingOnTheClient()
    {
        var sys = Sys();
        var (client, wait) = Boot(sys);
        var host = sys.System.CallAsync(Host, Req(Host, Remote));
        await Done(wait);
        sys.System.Shutdown();
        Expect.Error(await Done(host), Err.Aborted, "runtime.detached");
        Assert.Throws<ConflictException>(() => { _ = client.CallAsync(0, Wait()); });
    }

    [Fact]
    public async Task MpRemote_ContextsAreIndependent()
    {
        var sys = Sys(contexts: 2);
        var client = sys.System.Attach(Remote);
        using var attached = client;
        var w0 = client.CallAsync(0, Wait());
        var w1 = client.CallAsync(1, Wait());
        var h0 = sys.System.CallAsync(Host, Req(Host, Remote, payload: 10), vcpu: 0);
        var h1 = sys.System.CallAsync(Host, Req(Host, Remote, payload: 11), vcpu: 1);
        Assert.Equal(10ul, (await Done(w0)).Frame[3]);
        Assert.Equal(11ul, (await Done(w1)).Frame[3]);
        _ = client.CallAsync(1, Resp(Remote, Host, payload: 21));
        Assert.Equal(21ul, Answer(await Done(h1), Resp32).Frame[3]);
        Assert.False(h0.IsCompleted);
        _ = client.CallAsync(0, Resp(Remote, Host, payload: 20));
        Assert.Equal(20ul, Answer(await Done(h0), Resp32).Frame[3]);
    }

    [Fact]
    public async Task RemoteSp_SendsToEcho_AsItsClient()
    {
        var sys = Sys();
        var (client, _) = Boot(sys);
        using var c = client;
        // The remote SP declares direct request send: its request to echo is answered at once.
        var o = Answer(await Done(client.CallAsync(0, Req(Remote, Echo, payload: 0x99))), Resp32);
        Assert.Equal(W1(Echo, Remote), o.Frame[1]);
        Assert.Equal(0x99ul, o.Frame[3]);
    }
}
