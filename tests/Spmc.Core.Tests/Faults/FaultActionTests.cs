using Spmc.Abi.Descriptors.Memory;
using Spmc.Abi.Smccc;
using Spmc.Core.Calls;
using Spmc.Core.Faults;
using Spmc.Core.Spm.Runtime;
using Spmc.Core.Systems;
using Spmc.Core.Tests.Proxy;
using Spmc.Core.Tests.Support;
using static Spmc.Core.Tests.Messaging.Dm;

namespace Spmc.Core.Tests.Faults;

/// <summary>The actions besides <c>error</c> (docs/faults.md): delay, fragment, abort, stage2; and retrieves matched by handle.</summary>
public sealed class FaultActionTests
{
    private const ushort Host = 0, Echo = 0x8001, MemorySp = 0x8002, Remote = 0x8004;

    private static FaultRuleSpec Rule(string function, ushort? receiver = null, long? nth = null, bool? delay = null, long? fragment = null,
        bool? abort = null, bool? stage2 = null, ulong? handle = null, string? error = null) =>
        new(function, error, Receiver: receiver, Handle: handle, Nth: nth, Delay: delay, Fragment: fragment, Abort: abort, Stage2: stage2);

    private static ContextView Ctx(TestSystem sys, ushort partition) => sys.State.Partitions.Single(p => p.Config.Id == partition).Contexts[0];

    // ---- delay ----

    [Fact]
    public void Delay_BuiltIn_AnswersInterrupt_HoldsTheAnswer_AndRunHandsItOut()
    {
        var sys = TestSystem.Default();
        sys.System.AddFault(Rule("FFA_MSG_SEND_DIRECT_REQ", Echo, nth: 1, delay: true));

        var interrupted = Answer(sys.Call(Host, Req(Host, Echo, payload: 0x42)), Interrupt);
        Assert.Equal(0ul, interrupted.Frame[1]);
        Assert.Contains("injected: rule 1", interrupted.Decoded.Notes!);
        Assert.Contains(interrupted.Decoded.Notes!, n => n.Contains("fault rule 1 (delay, nth 1)") && n.Contains("preempted as if"));
        Assert.Equal(ContextState.Preempted, Ctx(sys, Echo).State);
        Assert.True(Ctx(sys, Echo).AnswerHeld);

        // Preempted: a new request is refused as after a real timeout; FFA_RUN returns the held answer.
        sys.Fails(Host, Req(Host, Echo), Err.Busy, "direct-req.receiver-busy");
        var run = Answer(sys.Call(Host, RunFrame(Echo)), Resp32);
        Assert.Equal(W1(Echo, Host), run.Frame[1]);
        Assert.Equal(0x42ul, run.Frame[3]);
        Assert.Equal(ContextState.Waiting, Ctx(sys, Echo).State);
        Answer(sys.Call(Host, Req(Host, Echo)), Resp32); // nth 1: the rule is spent
        Assert.Equal((3L, 1L), (sys.State.Faults[0].Matched, sys.State.Faults[0].Hits));
    }

    private static string RemoteJson => """
        {
          "spmc": { "remoteTimeoutMs": 600000, "version": "1.3" },
          "proxy": "passthrough",
          "vms": [ { "id": 0, "name": "host", "vcpus": 1, "memory": [ { "base": "0x80000000", "size": "0x100000" } ] } ],
          "partitions": [
            { "id": "0x8004", "name": "remote", "behaviour": "remote", "uuids": [ "7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4a44" ],
              "properties": { "directRequestReceive": true, "directRequest2Receive": true },
              "memory": [ { "base": "0x60400000", "size": "0x100000" } ] }
          ]
        }
        """;

    [Fact]
    public async Task Delay_Remote_InterruptsAtOnce_WithoutWaitingForTheTimeout_AndTheLateResponseIsHeld()
    {
        var sys = TestSystem.FromJson(RemoteJson);
        sys.System.AddFault(Rule("FFA_MSG_SEND_DIRECT_REQ", Remote, delay: true));
        using var client = sys.System.Attach(Remote);
        var wait = client.CallAsync(0, Wait());

        // The remote timeout is 10 minutes: the answer can only come from the rule.
        var host = sys.System.CallAsync(Host, Req(Host, Remote, payload: 7));
        Assert.True(host.IsCompleted);
        var interrupted = Answer(await host, Interrupt);
        Assert.Contains("injected: rule 1", interrupted.Decoded.Notes!);
        Assert.Equal(Req32, (await wait.WaitAsync(Limit)).Frame[0]); // the partition got the request
        Assert.Equal(ContextState.Preempted, Ctx(sys, Remote).State);

        var late = client.CallAsync(0, Resp(Remote, Host, payload: 0x55));
        Assert.True(Ctx(sys, Remote).AnswerHeld);
        sys.System.RemoveFault(1);
        var run = Answer(await sys.System.CallAsync(Host, RunFrame(Remote)).WaitAsync(Limit), Resp32);
        Assert.Equal(0x55ul, run.Frame[3]);
        Assert.False(late.IsCompleted); // parked until the partition runs again
    }

    [Fact]
    public async Task Delay_OfFfaRun_PreemptsTheResumedRemoteContext()
    {
        var sys = TestSystem.FromJson(RemoteJson);
        using var client = sys.System.Attach(Remote);
        var wait = client.CallAsync(0, Wait());
        sys.System.AddFault(Rule("FFA_RUN", Remote, delay: true));

        var run = sys.System.CallAsync(Host, RunFrame(Remote));
        Assert.True(run.IsCompleted);
        Answer(await run, Interrupt);
        Assert.Equal(Run, (await wait.WaitAsync(Limit)).Frame[0]);
        Assert.Equal(ContextState.Preempted, Ctx(sys, Remote).State);
    }

    [Fact]
    public void Delay_OfACallThatLendsNoCycles_IsAnsweredAsUsual_WithANote()
    {
        var sys = TestSystem.FromJson(RemoteJson); // no client attached: the request is refused
        sys.System.AddFault(Rule("FFA_MSG_SEND_DIRECT_REQ", delay: true));
        var o = Expect.Error(sys.Call(Host, Req(Host, Remote)), Err.NotReady);
        Assert.Contains(o.Decoded.Notes!, n => n.Contains("lent no cycles"));
        Assert.Equal(1L, sys.State.Faults[0].Hits);
    }

    // ---- abort ----

    [Fact]
    public void Abort_AbortsTheReceiver_AndTheCallerGetsAborted()
    {
        var sys = TestSystem.Default();
        sys.System.AddFault(Rule("FFA_MSG_SEND_DIRECT_REQ", Echo, nth: 2, abort: true));
        Answer(sys.Call(Host, Req(Host, Echo)), Resp32);

        var o = Expect.Error(sys.Call(Host, Req(Host, Echo)), Err.Aborted, "direct-req.receiver-aborted");
        Assert.Contains("injected: rule 1", o.Decoded.Notes!);
        Assert.Contains(o.Decoded.Notes!, n => n.Contains("aborted (FF-A 1.3"));
        var echo = sys.State.Partitions.Single(p => p.Config.Id == Echo);
        Assert.Equal(PartitionLifecycle.Aborted, echo.Lifecycle);
        Assert.All(echo.Contexts, c => Assert.Equal(ContextState.Aborted, c.State));

        // It stays aborted: later calls get ABORTED without the rule (nth 2 is spent).
        Expect.Error(sys.Call(Host, Req(Host, Echo)), Err.Aborted, "direct-req.receiver-aborted");
        Expect.Error(sys.Call(Host, RunFrame(Echo)), Err.Aborted, "run.aborted");
        Assert.Equal(1L, sys.State.Faults[0].Hits);
    }

    [Fact]
    public void Abort_NeverAbortsTheCaller_WhenAPartitionNamesItself()
    {
        var sys = TestSystem.Default();
        sys.System.AddFault(Rule("FFA_MSG_SEND_DIRECT_REQ", abort: true));
        var o = sys.Call(Echo, Req(Echo, Echo));
        Assert.Contains(o.Decoded.Notes!, n => n.Contains("the caller itself"));
        Assert.NotEqual(PartitionLifecycle.Aborted, sys.State.Partitions.Single(p => p.Config.Id == Echo).Lifecycle);
    }

    [Fact]
    public async Task Abort_OfAnAttachedRemote_EndsItsParkedCall()
    {
        var sys = TestSystem.FromJson(RemoteJson);
        using var client = sys.System.Attach(Remote);
        var wait = client.CallAsync(0, Wait());
        sys.System.AddFault(Rule("FFA_RUN", Remote, abort: true));
        Expect.Error(sys.Call(Host, RunFrame(Remote)), Err.Aborted, "run.aborted");
        Expect.Error(await wait.WaitAsync(Limit), Err.Aborted, "abort.partition-aborted");
    }

    // ---- fragment ----

    [Theory]
    [InlineData(128)]
    [InlineData(16)] // below the header, EMAD and composite: the first fragment still holds them
    public void Fragment_CutsTheFirstFragment_AndFragRxDeliversTheRest(int size)
    {
        var s = SharingSystem.Default();
        var pages = Enumerable.Range(0, 10).Select(i => (Sharing.Pages.HostPage(2 * i), 1u)).ToList();
        var handle = s.SendOk(Host, SendOp.Share, SharingDescriptors.Send(Host, [(Sharing.Pages.Sp1, Perm.RW)], pages, 0x2F));
        s.System.AddFault(Rule("FFA_MEM_RETRIEVE_REQ", fragment: size));

        var first = s.RetrieveRaw(Sharing.Pages.Sp1, SharingDescriptors.Retrieve(Host, handle, [(Sharing.Pages.Sp1, Perm.RW)]));
        SharingExpect.Answer(first, MemIds.RetrieveResp);
        var total = (int)first.Frame[1];
        var header = total - 10 * 16;
        Assert.Equal((ulong)Math.Max(size, header), first.Frame[2]);
        Assert.Contains("injected: rule 1", first.Decoded.Notes!);
        Assert.NotNull(s.State.Shares[0].Receivers[0].ResponseDelivered); // not complete yet

        var response = SharingDescriptors.ParseResponse(s.Pull(Sharing.Pages.Sp1, first, handle, 0));
        Assert.Equal(pages.Select(p => p.Item1), response.Composite!.Constituents.Select(c => c.Address));
        Assert.Null(s.State.Shares[0].Receivers[0].ResponseDelivered);
    }

    [Fact]
    public void Fragment_LargerThanTheResponse_LeavesItWhole()
    {
        var s = SharingSystem.Default();
        var handle = s.SendSimple(SendOp.Share, Host, Sharing.Pages.Sp1, Sharing.Pages.HostPage(0));
        s.System.AddFault(Rule("FFA_MEM_RETRIEVE_REQ", fragment: 4096));
        var first = s.RetrieveRaw(Sharing.Pages.Sp1, SharingDescriptors.Retrieve(Host, handle, [(Sharing.Pages.Sp1, Perm.RW)]));
        Assert.Equal(first.Frame[1], first.Frame[2]);
        Assert.Contains(first.Decoded.Notes!, n => n.Contains("no retrieve response was cut"));
    }

    // ---- retrieve matched by handle ----

    [Fact]
    public void RetrieveRequests_AreMatchedByTheHandleInTheirDescriptor()
    {
        var s = SharingSystem.Default();
        var first = s.SendSimple(SendOp.Share, Host, Sharing.Pages.Sp1, Sharing.Pages.HostPage(0));
        var second = s.SendSimple(SendOp.Share, Host, Sharing.Pages.Sp1, Sharing.Pages.HostPage(2));
        s.System.AddFault(Rule("FFA_MEM_RETRIEVE_REQ", handle: second, error: "RETRY"));

        SharingExpect.Answer(s.RetrieveRaw(Sharing.Pages.Sp1, SharingDescriptors.Retrieve(Host, first, [(Sharing.Pages.Sp1, Perm.RW)])), MemIds.RetrieveResp);
        Expect.Success(s.Call(Sharing.Pages.Sp1, MemIds.RxRelease));
        Expect.Error(s.RetrieveRaw(Sharing.Pages.Sp1, SharingDescriptors.Retrieve(Host, second, [(Sharing.Pages.Sp1, Perm.RW)])), Err.Retry, "fault.injected");
        Assert.Equal((1L, 1L), (s.State.Faults[0].Matched, s.State.Faults[0].Hits));
    }

    // ---- stage2 (pKVM) ----

    private const ulong HostRx = 0x8000_0000, HostTx = 0x8000_1000, PageA = 0x8020_0000, PageB = 0x8040_0000;

    private static TestSystem PkvmMapped()
    {
        var sys = TestSystem.FromJson(Support.Manifests.DefaultJson, "pkvm");
        Assert.Equal(0x1_0002UL, sys.Call(Host, Ffa.Version(0x1_0002)).Frame[0]);
        Expect.Success(sys.Call(Host, Ffa.RxTxMap(HostTx, HostRx, 1)));
        return sys;
    }

    private static SmcOutcome Share(TestSystem sys)
    {
        var d = PkvmEndToEndTests.ShareDescriptor(MemoryDescriptorLayout.V1_2, PageA, PageB);
        return sys.Call(Host, SmcFrame.From(0x8400_0073, (ulong)d.Length, (ulong)d.Length), writes: [new MemoryWrite(HostTx, d)]);
    }

    private static string Stage2(TestSystem sys, ulong page) => sys.State.Proxy!.Stage2.Single(r => r.Base <= page && page < r.Base + r.Size).State;

    [Fact]
    public void Stage2_FailedShare_RollsBack_AndNeitherStage2NorTheSpmcChange()
    {
        var sys = PkvmMapped();
        sys.System.AddFault(Rule("FFA_MEM_SHARE", nth: 1, stage2: true));
        var before = (Stage2(sys, PageA), Stage2(sys, PageB));

        var o = Share(sys);
        // pKVM's own error: w2 sign-extended to x2 (ffa_set_retval), as for a real ownership failure.
        Assert.Equal(("DENIED", "pkvm.mem-share.range-not-owned"), (o.Decoded.Error, o.Decoded.Rule));
        Assert.Contains("constituent 1 (0x80400000, 1 page) cannot be shared with FF-A: __pkvm_host_share_ffa failed (FFA_MEM_SHARE_32: fault rule 1 (stage2, nth 1))", o.Decoded.Reason);
        Assert.Contains("injected: rule 1", o.Decoded.Notes!);
        Assert.Contains(o.Decoded.Notes!, n => n.Contains("rollback path ran"));
        Assert.Empty(o.Decoded.Hops ?? []); // nothing reached the SPMC
        Assert.Equal(before, (Stage2(sys, PageA), Stage2(sys, PageB))); // PageA was shared, then rolled back
        Assert.Empty(sys.State.Shares);

        Assert.Equal(0x8400_0061UL, Share(sys).Frame[0]); // the rule is spent: the share goes through
        Assert.Equal("shared-owned (FF-A)", Stage2(sys, PageA));
    }

    [Fact]
    public void Stage2_FailedFragTx_TriesToAbortTheTransaction_AndTheFirstFragmentStaysShared()
    {
        var sys = PkvmMapped();
        var d = PkvmEndToEndTests.ShareDescriptor(MemoryDescriptorLayout.V1_2, PageA, PageB);
        var first = sys.Call(Host, SmcFrame.From(0x8400_0073, (ulong)d.Length, (ulong)d.Length - 16), writes: [new MemoryWrite(HostTx, d[..^16])]);
        Assert.True(first.Frame[0] == 0x8400_007A, first.Decoded.ToString()); // FFA_MEM_FRAG_RX: send the rest
        var handle = (first.Frame[1] & 0xFFFF_FFFF) | (first.Frame[2] << 32);
        sys.System.AddFault(Rule("FFA_MEM_FRAG_TX", stage2: true));

        var o = sys.Call(Host, SmcFrame.From(0x8400_007B, (uint)handle, handle >> 32, 16), writes: [new MemoryWrite(HostTx, d[^16..])]);
        Assert.Equal(("DENIED", "pkvm.mem-frag-tx.range-not-owned"), (o.Decoded.Error, o.Decoded.Rule));
        Assert.Contains("injected: rule 1", o.Decoded.Notes!);
        // pKVM tries to abort the transaction; the SPMC (as Hafnium) refuses to reclaim one not completely sent.
        Assert.Equal("FFA_MEM_RECLAIM", Assert.Single(o.Decoded.Hops!).Decoded.Function);
        Assert.Contains(o.Decoded.Notes!, n => n.StartsWith("WARN: the aborting FFA_MEM_RECLAIM"));
        Assert.False(Assert.Single(sys.State.Shares).SendingComplete);
        Assert.Equal("shared-owned (FF-A)", Stage2(sys, PageA)); // the first fragment's page stays shared for good
        Assert.Equal("owned", Stage2(sys, PageB));
    }

    [Fact]
    public void Stage2_FailedReclaimUnshare_LeavesThePagesShared_AsPkvmDoes()
    {
        var sys = PkvmMapped();
        var share = Share(sys);
        var handle = share.Frame[2] | (share.Frame[3] << 32);
        sys.System.AddFault(Rule("FFA_MEM_RECLAIM", stage2: true));

        // The SPMC reclaims; pKVM's unshare fails (WARN) and the host still gets the SPMC's FFA_SUCCESS.
        var o = Expect.Success(sys.Call(Host, SmcFrame.From(0x8400_0077, (uint)handle, handle >> 32, 0)));
        Assert.Contains(o.Decoded.Notes!, n => n.Contains("WARN: unsharing constituent 0"));
        Assert.Empty(sys.State.Shares);
        Assert.Equal("shared-owned (FF-A)", Stage2(sys, PageA));
        Assert.Equal("shared-owned (FF-A)", Stage2(sys, PageB));
    }

    [Fact]
    public void Stage2_OnPassthrough_IsRefused_NamingTheField()
    {
        var sys = TestSystem.Default();
        var e = Assert.Throws<InvalidRequestException>(() => sys.System.AddFault(Rule("FFA_MEM_SHARE", stage2: true)));
        Assert.StartsWith("stage2: ", e.Message);
        Assert.Contains("passthrough", e.Message);
    }

    // ---- validation ----

    [Theory]
    [InlineData("FFA_ID_GET", null, null, null, null, null, "error: required")]
    [InlineData("FFA_MSG_SEND_DIRECT_REQ", "BUSY", true, null, null, null, "delay: a rule has one action (this one has error, delay)")]
    [InlineData("FFA_MEM_SHARE", null, true, null, null, null, "delay: FFA_MEM_SHARE lends no cycles")]
    [InlineData("FFA_MEM_SHARE", null, null, null, true, null, "abort: FFA_MEM_SHARE has no receiving partition")]
    [InlineData("FFA_RUN", null, null, 256L, null, null, "fragment: only FFA_MEM_RETRIEVE_REQ")]
    [InlineData("FFA_MEM_RETRIEVE_REQ", null, null, 100L, null, null, "fragment: 100 is not a multiple of 16")]
    [InlineData("FFA_MEM_RETRIEVE_REQ", null, null, 0L, null, null, "fragment: 0 is not a multiple of 16")]
    [InlineData("FFA_MEM_RETRIEVE_REQ", null, null, 65552L, null, null, "fragment: 65552 is not")]
    [InlineData("FFA_MEM_DONATE", null, null, null, null, true, "stage2: pKVM answers FFA_MEM_DONATE NOT_SUPPORTED")]
    [InlineData("FFA_RUN", null, null, null, null, true, "stage2: pKVM changes its stage 2 only for")]
    public void InvalidActions_AreRefused_NamingTheField(string function, string? error, bool? delay, long? fragment, bool? abort, bool? stage2, string message)
    {
        var sys = TestSystem.FromJson(Support.Manifests.DefaultJson, "pkvm");
        var e = Assert.Throws<InvalidRequestException>(() => sys.System.AddFault(
            new FaultRuleSpec(function, error, Delay: delay, Fragment: fragment, Abort: abort, Stage2: stage2)));
        Assert.StartsWith(message, e.Message);
        Assert.Empty(sys.State.Faults);
    }

    [Fact]
    public void Abort_OnAnSpmcBelow13_IsRefused()
    {
        var sys = TestSystem.DefaultAt("1.2");
        var e = Assert.Throws<InvalidRequestException>(() => sys.System.AddFault(Rule("FFA_MSG_SEND_DIRECT_REQ", abort: true)));
        Assert.StartsWith("abort: ", e.Message);
        Assert.Contains("FF-A 1.3", e.Message);
    }

    [Fact]
    public void Stage2_ForAPartitionCaller_IsRefused()
    {
        var sys = TestSystem.FromJson(Support.Manifests.DefaultJson, "pkvm");
        var e = Assert.Throws<InvalidRequestException>(() => sys.System.AddFault(new FaultRuleSpec("FFA_MEM_SHARE", null, Caller: MemorySp, Stage2: true)));
        Assert.StartsWith("caller: ", e.Message);
    }

    [Fact]
    public void Views_ShowTheAction()
    {
        var sys = TestSystem.FromJson(Support.Manifests.DefaultJson, "pkvm");
        var fragment = sys.System.AddFault(Rule("FFA_MEM_RETRIEVE_REQ", fragment: 64));
        var delay = sys.System.AddFault(Rule("FFA_RUN", Echo, delay: true));
        Assert.Equal((FaultAction.Fragment, (int?)64, (Spmc.Abi.Ffa.FfaError?)null), (fragment.Action, fragment.Fragment, fragment.Error));
        Assert.Equal((FaultAction.Delay, (ushort?)Echo), (delay.Action, delay.Receiver));
    }
}
