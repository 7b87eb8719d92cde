using Spmc.Abi.Smccc;
using Spmc.Core.Calls;
using Spmc.Core.Spm.Behaviours;
using Spmc.Core.Spm.Runtime;
using Spmc.Core.Systems;
using Spmc.Core.Tests.Support;
using static Spmc.Core.Tests.Messaging.Dm;

namespace Spmc.Core.Tests.Messaging;

/// <summary>
/// The FF-A 1.3 run-time model (docs/ffa-1.3.md): the SMC64 CPU-cycle IDs, S0188, the direct-messaging
/// width rules (tables 15.11 and 8.2), FFA_ABORT and the lifecycle — each at 1.3 and unchanged for 1.2 callers.
/// </summary>
public sealed class Runtime13Tests
{
    private const ushort Host = 0, Echo = 0x8001, Remote = 0x8004;

    /// <summary>A host, the echo SP, and a remote SP (at <paramref name="spVersion"/>, default: the SPMC's).</summary>
    private static TestSystem Sys(string version = "1.3", string? spVersion = null, int contexts = 1, uint timeoutMs = 60_000)
    {
        var sp = spVersion is null ? "" : $"\"version\": \"{spVersion}\", ";
        return TestSystem.FromJson($$"""
            {
              "spmc": { "remoteTimeoutMs": {{timeoutMs}}, "version": "{{version}}" },
              "proxy": "passthrough",
              "vms": [ { "id": 0, "name": "host", "vcpus": 2, "memory": [ { "base": "0x80000000", "size": "0x100000" } ] } ],
              "partitions": [
                { "id": "0x8001", "name": "echo", "behaviour": "echo", "uuids": [ "7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4a01" ],
                  "properties": { "directRequestReceive": true, "directRequest2Receive": true },
                  "memory": [ { "base": "0x60000000", "size": "0x100000" } ] },
                { "id": "0x8004", "name": "remote", "behaviour": "remote", {{sp}}"executionContexts": {{contexts}},
                  "uuids": [ "7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4a44" ],
                  "properties": { "directRequestReceive": true, "directRequest2Receive": true, "directRequestSend": true },
                  "memory": [ { "base": "0x60400000", "size": "0x100000" } ] }
              ]
            }
            """);
    }

    private static ContextView Ctx(TestSystem sys, int index = 0) => sys.State.Partitions.Single(p => p.Config.Id == Remote).Contexts[index];

    private static async Task<T> Done<T>(Task<T> task) => await task.WaitAsync(Limit);

    private static (PartitionAttachment Client, Task<SmcOutcome> Wait) Boot(TestSystem sys, bool wait64 = false, uint vcpu = 0)
    {
        var client = sys.System.Attach(Remote);
        var wait = client.CallAsync(vcpu, SmcFrame.From(wait64 ? MsgWait64 : MsgWait));
        Assert.False(wait.IsCompleted);
        return (client, wait);
    }

    private static readonly ulong[] Full = [.. Enumerable.Range(3, 15).Select(i => 0xA5A5_0000_0000_0000ul | (uint)i)];

    private static ulong[] Regs(SmcFrame f, int from, int count) => [.. Enumerable.Range(from, count).Select(i => f[i])];

    private static bool HasNote(SmcOutcome o, string text) => o.Decoded.Notes?.Any(n => n.Contains(text)) == true;

    // ---- SMC64 CPU-cycle IDs ------------------------------------------------------------------------------

    [Fact]
    public async Task Smc64MsgWaitAndRun_At13_AreAnsweredInSmc64()
    {
        var sys = Sys();
        var (client, wait) = Boot(sys, wait64: true);
        using var attached = client;
        var run = sys.System.CallAsync(Host, RunFrame(Remote, smc64: true));
        var delivered = await Done(wait);
        Assert.Equal(Run64, delivered.Frame[0]); // it waited with FFA_MSG_WAIT_64: resumed with FFA_RUN_64
        Assert.Equal(W1(Remote, 0), delivered.Frame[1]);
        _ = client.CallAsync(0, SmcFrame.From(MsgWait64));
        Answer(await Done(run), MsgWait64); // the scheduler used FFA_RUN_64: it keeps SMC64 (S0188)
        Assert.Equal(ContextState.Waiting, Ctx(sys).State);
    }

    [Fact]
    public async Task Smc32Run_OfAContextThatWaitedWithSmc32_IsAnsweredAsToday()
    {
        var sys = Sys();
        var (client, wait) = Boot(sys);
        using var attached = client;
        var run = sys.System.CallAsync(Host, RunFrame(Remote));
        Assert.Equal(Run, (await Done(wait)).Frame[0]);
        _ = client.CallAsync(0, Wait());
        Answer(await Done(run), MsgWait);
    }

    [Fact]
    public async Task Smc64Yield_IsResumedWithSuccess64()
    {
        var sys = Sys();
        var (client, wait) = Boot(sys);
        using var attached = client;
        var run = sys.System.CallAsync(Host, RunFrame(Remote, smc64: true));
        await Done(wait);
        var yield = client.CallAsync(0, SmcFrame.From(Yield64, 0, 5));
        var yielded = Answer(await Done(run), Yield64);
        Assert.Equal(W1(Remote, 0), yielded.Frame[1]);
        Assert.Equal(5ul, yielded.Frame[2]);
        var again = sys.System.CallAsync(Host, RunFrame(Remote, smc64: true));
        Answer(await Done(yield), 0xC400_0061); // FFA_SUCCESS_64
        _ = client.CallAsync(0, Wait());
        Answer(await Done(again), MsgWait64);
    }

    [Theory]
    [InlineData(MsgWait64)]
    [InlineData(Yield64)]
    [InlineData(Run64)]
    public async Task Smc64Ids_At12_AreNotSupported_AsToday(ulong fid)
    {
        var sys = Sys(version: "1.2");
        using var client = sys.System.Attach(Remote);
        var o = fid == Run64 ? sys.Call(Host, SmcFrame.From(fid, W1(Remote, 0))) : await Done(client.CallAsync(0, SmcFrame.From(fid)));
        Expect.Error(o, Err.NotSupported, "dispatch.newer-than-spmc");
        var at13 = Sys();
        at13.Negotiate(Host, 0x1_0002);
        if (fid == Run64) Expect.Error(at13.Call(Host, SmcFrame.From(fid, W1(Remote, 0))), Err.NotSupported, "dispatch.newer-than-caller");
    }

    [Theory]
    [InlineData(0xC400_0062ul)] // FFA_INTERRUPT_64
    [InlineData(0xC400_0060ul)] // FFA_ERROR_64
    [InlineData(0x8400_0062ul)] // FFA_INTERRUPT_32, as before
    public void Smc64InterruptAndError_AreReturnValues(ulong fid)
    {
        Expect.Error(Sys().Call(Host, SmcFrame.From(fid)), Err.NotSupported, "dispatch.return-value");
        Expect.Error(Sys().Call(Echo, SmcFrame.From(fid)), Err.NotSupported, "dispatch.return-value");
        if (fid >> 30 == 3) Expect.Error(Sys(version: "1.2").Call(Host, SmcFrame.From(fid)), Err.NotSupported, "dispatch.newer-than-spmc");
    }

    // ---- S0188 --------------------------------------------------------------------------------------------

    [Fact]
    public async Task S0188_Req64ResumedWithRun32_IsDenied_AndRun64Works()
    {
        var sys = Sys();
        var (client, wait) = Boot(sys);
        using var attached = client;
        var host = sys.System.CallAsync(Host, Req(Host, Remote, smc64: true, payload: 1));
        await Done(wait);
        var yield = client.CallAsync(0, YieldFrame());
        Answer(await Done(host), Yield64);
        sys.Fails(Host, RunFrame(Remote), Err.Denied, "run.smc64-required");
        Assert.Equal(ContextState.Blocked, Ctx(sys).State);
        var run = sys.System.CallAsync(Host, RunFrame(Remote, smc64: true));
        Expect.Success(await Done(yield));
        // Table 15.11: RESP_32 completes an SMC64 request.
        _ = client.CallAsync(0, Resp(Remote, Host, payload: 9));
        Assert.Equal(9ul, Answer(await Done(run), Resp32).Frame[3]);
    }

    [Fact]
    public async Task S0188_ASchedulerThatUsedRun64_KeepsItUntilTheContextWaits()
    {
        var sys = Sys();
        var (client, wait) = Boot(sys);
        using var attached = client;
        var run = sys.System.CallAsync(Host, RunFrame(Remote, smc64: true));
        await Done(wait);
        var yield = client.CallAsync(0, YieldFrame());
        Answer(await Done(run), Yield64);
        sys.Fails(Host, RunFrame(Remote), Err.Denied, "run.smc64-required");
        var run2 = sys.System.CallAsync(Host, RunFrame(Remote, smc64: true));
        Expect.Success(await Done(yield));
        var wait2 = client.CallAsync(0, Wait());
        Answer(await Done(run2), MsgWait64);
        // It waited: FFA_RUN_32 is fine again.
        var run3 = sys.System.CallAsync(Host, RunFrame(Remote));
        Assert.Equal(Run, (await Done(wait2)).Frame[0]);
        _ = client.CallAsync(0, Wait());
        Answer(await Done(run3), MsgWait);
    }

    [Fact]
    public async Task S0188_A12Scheduler_Run32StillWorks_WithANote()
    {
        var sys = Sys();
        sys.Negotiate(Host, 0x1_0002);
        var (client, wait) = Boot(sys);
        using var attached = client;
        var host = sys.System.CallAsync(Host, Req(Host, Remote, smc64: true, payload: 1));
        await Done(wait);
        var yield = client.CallAsync(0, YieldFrame());
        Answer(await Done(host), Yield); // a 1.2 lender: FFA_YIELD_32 as today
        var run = sys.System.CallAsync(Host, RunFrame(Remote));
        Expect.Success(await Done(yield));
        _ = client.CallAsync(0, Resp(Remote, Host, smc64: true, payload: 2));
        var answer = Answer(await Done(run), Resp64);
        Assert.Equal(2ul, answer.Frame[3]);
        Assert.True(HasNote(answer, "S0188"), answer.Decoded.ToString());
    }

    // ---- DIRECT_RESP widths (table 15.11) -----------------------------------------------------------------

    [Fact]
    public async Task Resp64ForAReq32_At13_IsDenied_AndChangesNothing()
    {
        var sys = Sys();
        var (client, wait) = Boot(sys);
        using var attached = client;
        var host = sys.System.CallAsync(Host, Req(Host, Remote, payload: 3));
        await Done(wait);
        var before = sys.Contexts();
        Expect.Error(await Done(client.CallAsync(0, Resp(Remote, Host, smc64: true, payload: 4))), Err.Denied, "direct-resp.smc64-for-smc32");
        Assert.Equal(before, sys.Contexts());
        Assert.False(host.IsCompleted);
        _ = client.CallAsync(0, Resp(Remote, Host, payload: 4));
        Assert.Equal(4ul, Answer(await Done(host), Resp32).Frame[3]);
    }

    [Fact]
    public async Task Resp64ForAReq32_At12_IsCutTo32Bits_AsToday()
    {
        var sys = Sys(version: "1.2");
        var (client, wait) = Boot(sys);
        using var attached = client;
        var host = sys.System.CallAsync(Host, Req(Host, Remote, payload: 3));
        await Done(wait);
        _ = client.CallAsync(0, Resp(Remote, Host, smc64: true, payload: 0x1_0000_0004));
        var answer = Answer(await Done(host), Resp64);
        Assert.Equal(4ul, answer.Frame[3]);
        Assert.True(HasNote(answer, "table 15.11"), answer.Decoded.ToString());
    }

    // ---- x8..x17 (table 8.2) ------------------------------------------------------------------------------

    /// <summary>The end-to-end of the issue: a 1.3 host, SMC64 REQ with x3..x17, an attached remote partition answering with RESP_64.</summary>
    [Fact]
    public async Task Req64AndResp64_At13_CarryX3ToX17()
    {
        var sys = Sys();
        var (client, wait) = Boot(sys);
        using var attached = client;
        var host = sys.System.CallAsync(Host, Req64Full(Host, Remote, Full));
        var delivered = await Done(wait);
        Assert.Equal(Req64, delivered.Frame[0]);
        Assert.Equal(Full, Regs(delivered.Frame, 3, 15));
        var back = Full.Select(v => ~v).ToArray();
        _ = client.CallAsync(0, Resp64Full(Remote, Host, back));
        var answer = Answer(await Done(host), Resp64);
        Assert.Equal(back, Regs(answer.Frame, 3, 15));
        Assert.Null(answer.Decoded.Notes);
    }

    [Fact]
    public async Task Req64_FromA12Host_ReceiverSeesZeroX8ToX17_AndTheHostGetsANote()
    {
        var sys = Sys();
        sys.Negotiate(Host, 0x1_0002);
        var (client, wait) = Boot(sys);
        using var attached = client;
        var host = sys.System.CallAsync(Host, Req64Full(Host, Remote, Full));
        var delivered = await Done(wait);
        Assert.Equal(Full[..5], Regs(delivered.Frame, 3, 5));
        Assert.All(Regs(delivered.Frame, 8, 10), v => Assert.Equal(0ul, v));
        // The 1.3 responder fills x8..x17: the 1.2 host does not get them.
        _ = client.CallAsync(0, Resp64Full(Remote, Host, Full));
        var answer = Answer(await Done(host), Resp64);
        Assert.Equal(Full[..5], Regs(answer.Frame, 3, 5));
        Assert.All(Regs(answer.Frame, 8, 10), v => Assert.Equal(0ul, v));
        Assert.True(HasNote(answer, "x8..x17 are not payload from an FF-A 1.2 sender"), answer.Decoded.ToString());
        Assert.True(HasNote(answer, "x8..x17 of the response are not forwarded"), answer.Decoded.ToString());
    }

    [Fact]
    public async Task Req64_ToA12Receiver_X8ToX17AreZero_AndItsNonZeroResp64IsRefused()
    {
        var sys = Sys(spVersion: "1.2");
        var (client, wait) = Boot(sys);
        using var attached = client;
        var host = sys.System.CallAsync(Host, Req64Full(Host, Remote, Full));
        var delivered = await Done(wait);
        Assert.All(Regs(delivered.Frame, 8, 10), v => Assert.Equal(0ul, v));
        var before = sys.Contexts();
        Expect.Error(await Done(client.CallAsync(0, Resp64Full(Remote, Host, Full))), Err.InvalidParameters, "direct-resp.x8-x17-mbz");
        Assert.Equal(before, sys.Contexts());
        _ = client.CallAsync(0, Resp(Remote, Host, smc64: true, payload: [.. Full[..5]]));
        var answer = Answer(await Done(host), Resp64);
        Assert.Equal(Full[..5], Regs(answer.Frame, 3, 5));
        Assert.True(HasNote(answer, "it ignores x8..x17"), answer.Decoded.ToString());
    }

    [Fact]
    public async Task Req64_At12Spmc_X8ToX17AreZero_AsToday()
    {
        var sys = Sys(version: "1.2");
        var (client, wait) = Boot(sys);
        using var attached = client;
        var host = sys.System.CallAsync(Host, Req64Full(Host, Remote, Full));
        var delivered = await Done(wait);
        Assert.All(Regs(delivered.Frame, 8, 10), v => Assert.Equal(0ul, v));
        Expect.Error(await Done(client.CallAsync(0, Resp64Full(Remote, Host, Full))), Err.InvalidParameters, "direct-resp.x8-x17-mbz");
        _ = client.CallAsync(0, Resp(Remote, Host, smc64: true, payload: 1));
        Answer(await Done(host), Resp64);
    }

    [Fact]
    public void EchoBuiltin_Req64_EchoesX3ToX17_At13_AndX3ToX7_At12()
    {
        var at13 = TestSystem.Default().Call(Host, Req64Full(Host, Echo, Full));
        Assert.Equal(Full, Regs(Answer(at13, Resp64).Frame, 3, 15));
        var at12 = TestSystem.DefaultAt("1.2").Call(Host, Req64Full(Host, Echo, Full));
        Assert.Equal(Full[..5], Regs(Answer(at12, Resp64).Frame, 3, 5));
        Assert.All(Regs(at12.Frame, 8, 10), v => Assert.Equal(0ul, v));
    }

    // ---- FFA_ABORT and the lifecycle ----------------------------------------------------------------------

    [Fact]
    public void EchoAbortCommand_At13_AbortsTheEcho_AndEveryLaterCallIsAborted()
    {
        var sys = TestSystem.Default();
        var o = sys.Call(Host, Req(Host, Echo, payload: [EchoBehaviour.AbortCommand, 0x42]));
        Expect.Error(o, Err.Aborted, "abort.lender-aborted");
        Assert.Contains("code 0x42", o.Decoded.Reason);
        Assert.All(sys.State.Partitions.Single(p => p.Config.Id == Echo).Contexts, c => Assert.Equal(ContextState.Aborted, c.State));
        sys.Fails(Host, Req(Host, Echo), Err.Aborted, "direct-req.receiver-aborted");
        sys.Fails(Host, Req(Host, Echo, smc64: true), Err.Aborted, "direct-req.receiver-aborted");
        sys.Fails(Host, Req2(Host, Echo), Err.Aborted, "direct-req.receiver-aborted");
        sys.Fails(Host, RunFrame(Echo), Err.Aborted, "run.aborted");
        sys.Fails(Host, RunFrame(Echo, smc64: true), Err.Aborted, "run.aborted");
    }

    [Fact]
    public void AbortedPartition_IsAbortedFor12CallersToo_AsInHafnium()
    {
        var sys = TestSystem.Default();
        sys.Negotiate(Host, 0x1_0002);
        Expect.Error(sys.Call(Host, Req(Host, Echo, payload: EchoBehaviour.AbortCommand)), Err.Aborted, "abort.lender-aborted");
        sys.Fails(Host, Req(Host, Echo), Err.Aborted, "direct-req.receiver-aborted");
        sys.Fails(Host, RunFrame(Echo), Err.Aborted, "run.aborted");
    }

    [Fact]
    public void EchoAbortCommand_At12_IsEchoed_AsToday()
    {
        var sys = TestSystem.DefaultAt("1.2");
        var o = Answer(sys.Call(Host, Req(Host, Echo, payload: [EchoBehaviour.AbortCommand, 1])), Resp32);
        Assert.Equal(EchoBehaviour.AbortCommand, o.Frame[3]);
        Answer(sys.Call(Host, Req(Host, Echo)), Resp32);
    }

    [Fact]
    public async Task RemoteAbort_WhileHandlingARequest_HostGetsAborted_AbortNeverCompletes_AndNoRestart()
    {
        var sys = Sys(contexts: 2);
        var client = sys.System.Attach(Remote);
        var wait0 = client.CallAsync(0, Wait());
        var wait1 = client.CallAsync(1, Wait());
        var host = sys.System.CallAsync(Host, Req(Host, Remote, smc64: true));
        await Done(wait0);
        var abort = client.CallAsync(0, AbortFrame(0x7, smc64: true));
        Expect.Error(await Done(host), Err.Aborted, "abort.lender-aborted");
        Expect.Error(await Done(wait1), Err.Aborted, "abort.partition-aborted"); // its other context is never resumed
        Assert.False(abort.IsCompleted);
        Assert.Equal(ContextState.Aborted, Ctx(sys, 0).State);
        Assert.Equal(ContextState.Aborted, Ctx(sys, 1).State);
        sys.Fails(Host, Req(Host, Remote), Err.Aborted, "direct-req.receiver-aborted");
        sys.Fails(Host, RunFrame(Remote, 1), Err.Aborted, "run.aborted");

        // The client goes: the FFA_ABORT call ends; the partition stays aborted and cannot be attached again.
        client.Dispose();
        Expect.Error(await Done(abort), Err.Aborted, "runtime.detached");
        Assert.Equal(ContextState.Aborted, Ctx(sys).State);
        Assert.Throws<ConflictException>(() => sys.System.Attach(Remote));
        sys.Fails(Host, Req(Host, Remote), Err.Aborted, "direct-req.receiver-aborted");
    }

    [Fact]
    public async Task RemoteAbort_OnAContextWhoseMsgWaitIsParked_EndsThatCall()
    {
        var sys = Sys();
        var (client, wait) = Boot(sys);
        using var attached = client;
        // The client aborts on the vCPU whose FFA_MSG_WAIT is still parked: that call is never resumed either.
        var abort = client.CallAsync(0, AbortFrame(0x3));
        Expect.Error(await Done(wait), Err.Aborted, "abort.partition-aborted");
        Assert.False(abort.IsCompleted);
        Assert.Equal(ContextState.Aborted, Ctx(sys).State);
    }

    [Fact]
    public async Task AnAbortedPartition_AnswersEveryCallMadeAsIt_WithAborted()
    {
        var sys = Sys();
        var (client, wait) = Boot(sys);
        using var attached = client;
        _ = client.CallAsync(0, AbortFrame(0x3));
        await Done(wait);
        var before = sys.Contexts();
        // Its client on another call, and a frame sent as it by anyone: it never runs again (Hafnium VCPU_STATE_ABORTED).
        Expect.Error(await Done(client.CallAsync(0, SmcFrame.From(0x8400_0069))), Err.Aborted, "dispatch.caller-aborted");
        Expect.Error(sys.Call(Remote, SmcFrame.From(0xC400_0066, 0x6040_0000, 0x6040_1000, 1)), Err.Aborted, "dispatch.caller-aborted");
        Assert.Equal(before, sys.Contexts());
        Assert.Null(sys.Endpoint(Remote).Mailbox);
    }

    /// <summary>Remote 0x8004 (2 contexts, sends direct requests) and remote 0x8005, both at 1.3.</summary>
    private static TestSystem TwoRemotes() => TestSystem.FromJson("""
        {
          "spmc": { "remoteTimeoutMs": 60000, "version": "1.3" },
          "proxy": "passthrough",
          "vms": [ { "id": 0, "name": "host", "vcpus": 2, "memory": [ { "base": "0x80000000", "size": "0x100000" } ] } ],
          "partitions": [
            { "id": "0x8004", "name": "a", "behaviour": "remote", "executionContexts": 2, "uuids": [ "7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4a44" ],
              "properties": { "directRequestReceive": true, "directRequestSend": true },
              "memory": [ { "base": "0x60400000", "size": "0x100000" } ] },
            { "id": "0x8005", "name": "b", "behaviour": "remote", "uuids": [ "7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4a45" ],
              "properties": { "directRequestReceive": true },
              "memory": [ { "base": "0x60800000", "size": "0x100000" } ] }
          ]
        }
        """);

    [Fact]
    public async Task RemoteAbort_WhileItsOwnRequestIsOutstanding_EndsThatRequest_AndItsReceiverAnswersNoOne()
    {
        const ushort A = Remote, B = 0x8005;
        var sys = TwoRemotes();
        using var a = sys.System.Attach(A);
        using var b = sys.System.Attach(B);
        var waitA = a.CallAsync(0, Wait());
        var waitB = b.CallAsync(0, Wait());
        var host = sys.System.CallAsync(Host, Req(Host, A));
        await Done(waitA);
        // Host → A → B: A's context 0 is blocked in the call chain, waiting for B.
        var aToB = a.CallAsync(0, Req(A, B, payload: 1));
        Assert.Equal(1ul, (await Done(waitB)).Frame[3]);

        // A aborts on its other context: its request to B ends now, it will never run to take the answer.
        var abort = a.CallAsync(1, AbortFrame(0x9));
        Expect.Error(await Done(host), Err.Aborted, "abort.lender-aborted");
        Expect.Error(await Done(aToB), Err.Aborted, "abort.partition-aborted");
        Assert.False(abort.IsCompleted);

        // B's late answer goes to no one; B waits again and serves the next request.
        var bWait = b.CallAsync(0, Resp(B, A, payload: 2));
        Assert.Equal(ContextState.Waiting, sys.State.Partitions.Single(p => p.Config.Id == B).Contexts[0].State);
        var hostToB = sys.System.CallAsync(Host, Req(Host, B, payload: 5));
        Assert.Equal(5ul, (await Done(bWait)).Frame[3]);
        _ = b.CallAsync(0, Resp(B, Host, payload: 6));
        Assert.Equal(6ul, Answer(await Done(hostToB), Resp32).Frame[3]);
    }

    [Fact]
    public async Task AnswerHeldWhilePreempted_KeepsItsNote_ForTheRunThatCollectsIt()
    {
        var sys = Sys(timeoutMs: 50);
        sys.Negotiate(Host, 0x1_0002);
        var (client, wait) = Boot(sys);
        using var attached = client;
        var host = sys.System.CallAsync(Host, Req(Host, Remote, smc64: true, payload: 1));
        await Done(wait);
        Answer(await Done(host), Interrupt);
        // The 1.3 responder fills x8..x17 the 1.2 host will not get; its answer is held until the next FFA_RUN.
        _ = client.CallAsync(0, Resp64Full(Remote, Host, Full));
        Assert.True(Ctx(sys).AnswerHeld);
        var run = Answer(await Done(sys.System.CallAsync(Host, RunFrame(Remote))), Resp64);
        Assert.All(Regs(run.Frame, 8, 10), v => Assert.Equal(0ul, v));
        Assert.True(HasNote(run, "had answered while preempted"), run.Decoded.ToString());
        Assert.True(HasNote(run, "x8..x17 of the response are not forwarded"), run.Decoded.ToString());
    }

    [Fact]
    public async Task RunTimeState_Serialises_WithTheLifecycleAndSmc64Tracking()
    {
        var sys = Sys();
        var (client, wait) = Boot(sys);
        using var attached = client;
        var host = sys.System.CallAsync(Host, Req(Host, Remote, smc64: true, payload: 1));
        await Done(wait);
        Expect.Error(sys.Call(Host, Req(Host, Echo, payload: EchoBehaviour.AbortCommand)), Err.Aborted, "abort.lender-aborted");

        using var doc = System.Text.Json.JsonDocument.Parse(System.Text.Json.JsonSerializer.Serialize(sys.System.SpmcState));
        var endpoints = doc.RootElement.GetProperty("Endpoints");
        Assert.Equal((int)PartitionLifecycle.Aborted, endpoints.GetProperty(Echo.ToString()).GetProperty("Runtime").GetProperty("Lifecycle").GetInt32());
        var remote = endpoints.GetProperty(Remote.ToString()).GetProperty("Runtime");
        Assert.Equal((int)PartitionLifecycle.Started, remote.GetProperty("Lifecycle").GetInt32());
        var ctx = remote.GetProperty("Contexts")[0];
        Assert.True(ctx.GetProperty("LenderIs64").GetBoolean());
        Assert.False(ctx.GetProperty("Smc64Run").GetBoolean());
        Assert.True(ctx.GetProperty("Request").GetProperty("Is64").GetBoolean());
        Assert.True(ctx.GetProperty("Request").GetProperty("SenderAbove12").GetBoolean());
        Assert.False(host.IsCompleted);
    }

    [Fact]
    public async Task RemoteAbort_DuringAnFfaRun_TheSchedulerGetsAborted()
    {
        var sys = Sys();
        var (client, wait) = Boot(sys);
        using var attached = client;
        var run = sys.System.CallAsync(Host, RunFrame(Remote));
        await Done(wait);
        _ = client.CallAsync(0, AbortFrame());
        Expect.Error(await Done(run), Err.Aborted, "abort.lender-aborted");
    }

    [Fact]
    public async Task Abort_ReservedRegisters_AreInvalid_AndChangeNothing()
    {
        var sys = Sys();
        var (client, _) = Boot(sys);
        using var attached = client;
        var before = sys.Contexts();
        Expect.Error(await Done(client.CallAsync(0, SmcFrame.From(Abort32, 1))), Err.InvalidParameters, "abort.reserved-mbz");
        Expect.Error(await Done(client.CallAsync(0, SmcFrame.From(Abort64, 0, 0, 0, 0, 0, 0, 1))), Err.InvalidParameters, "abort.reserved-mbz");
        Assert.Equal(before, sys.Contexts());
        Answer(sys.Call(Host, Req(Host, Echo)), Resp32);
    }

    [Fact]
    public async Task Abort_FromAVm_A12Partition_OrAPlainCaller_IsRefused()
    {
        var sys = Sys();
        sys.Fails(Host, AbortFrame(), Err.NotSupported, "dispatch.secure-only");
        sys.Fails(Remote, AbortFrame(), Err.Denied, "runtime.driver-only");
        var at12 = Sys(spVersion: "1.2");
        using var client = at12.System.Attach(Remote);
        var before = at12.Contexts();
        Expect.Error(await Done(client.CallAsync(0, AbortFrame())), Err.NotSupported, "dispatch.newer-than-caller");
        Assert.Equal(before, at12.Contexts());
        var spmc12 = Sys(version: "1.2");
        using var client12 = spmc12.System.Attach(Remote);
        Expect.Error(await Done(client12.CallAsync(0, AbortFrame(smc64: true))), Err.NotSupported, "dispatch.newer-than-spmc");
    }

    [Fact]
    public void Abort_IsReportedByFeatures_ToA13PartitionOnly()
    {
        var sys = TestSystem.Default();
        Expect.Success(sys.Call(Echo, Ffa.Features(Abort32)));
        Expect.Success(sys.Call(Echo, Ffa.Features(Abort64)));
        Expect.Error(sys.Call(Host, Ffa.Features(Abort32)), Err.NotSupported, "dispatch.secure-only");
        Expect.Error(TestSystem.DefaultAt("1.2").Call(Echo, Ffa.Features(Abort32)), Err.NotSupported, "dispatch.newer-than-spmc");
    }

    // ---- NOT_READY (R0069) --------------------------------------------------------------------------------

    [Fact]
    public async Task MpPartition_WithOneBootedContext_IsAvailable_TheOtherContextIsBusy()
    {
        var sys = Sys(contexts: 2);
        var (client, wait) = Boot(sys);
        using var attached = client;
        sys.Fails(Host, Req(Host, Remote), Err.Busy, "direct-req.receiver-off", vcpu: 1);
        sys.Fails(Host, RunFrame(Remote, 1), Err.InvalidParameters, "run.not-booted");
        Assert.False(wait.IsCompleted);
    }
}
