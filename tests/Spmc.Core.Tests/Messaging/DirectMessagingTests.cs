using Spmc.Abi.Smccc;
using Spmc.Core.Spm.Runtime;
using Spmc.Core.Systems;
using Spmc.Core.Tests.Support;
using static Spmc.Core.Tests.Messaging.Dm;
using static Spmc.Core.Tests.Support.Manifests;

namespace Spmc.Core.Tests.Messaging;

/// <summary>
/// FFA_MSG_SEND_DIRECT_REQ/REQ2 checks in Hafnium's order (spmc-behaviour.md §9), each with the exact error and every
/// context unchanged, and the echo behaviour's answers.
/// </summary>
public sealed class DirectMessagingTests
{
    private const string OtherUuid = "7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4aff";

    /// <summary>
    /// Host (4 vCPUs) and VM 1; 0x8001 echo receiving REQ and REQ2; 0x8002 echo receiving nothing; 0x8003 echo that may
    /// send REQ; 0x8004 with no behaviour and two contexts; 0x8005 echo at v1.1.
    /// </summary>
    private const string PropsJson = """
        {
          "proxy": "passthrough",
          "vms": [
            { "id": 0, "name": "host", "vcpus": 4, "memory": [ { "base": "0x80000000", "size": "0x100000" } ] },
            { "id": 1, "name": "vm1", "memory": [ { "base": "0x90000000", "size": "0x100000" } ] }
          ],
          "partitions": [
            { "id": "0x8001", "name": "echo", "behaviour": "echo", "uuids": [ "7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4a01" ],
              "properties": { "directRequestReceive": true, "directRequest2Receive": true },
              "memory": [ { "base": "0x60000000", "size": "0x100000" } ] },
            { "id": "0x8002", "name": "deaf", "behaviour": "echo", "uuids": [ "7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4a02" ],
              "properties": { "indirectMessaging": true },
              "memory": [ { "base": "0x60100000", "size": "0x100000" } ] },
            { "id": "0x8003", "name": "sender", "behaviour": "echo", "uuids": [ "7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4a03" ],
              "properties": { "directRequestReceive": true, "directRequestSend": true },
              "memory": [ { "base": "0x60200000", "size": "0x100000" } ] },
            { "id": "0x8004", "name": "off", "executionContexts": 2, "uuids": [ "7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4a04" ],
              "properties": { "directRequestReceive": true, "directRequest2Receive": true },
              "memory": [ { "base": "0x60300000", "size": "0x100000" } ] },
            { "id": "0x8005", "name": "old", "behaviour": "echo", "version": "1.1", "uuids": [ "7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4a05" ],
              "properties": { "directRequestReceive": true },
              "memory": [ { "base": "0x60400000", "size": "0x100000" } ] }
          ]
        }
        """;

    private static TestSystem Props() => TestSystem.FromJson(PropsJson);

    // ---- 1. w2 --------------------------------------------------------------------------------------------

    [Theory]
    [InlineData(1ul)]
    [InlineData(0x7FFF_FFFFul)]
    public void NonZeroW2_OnPartitionMessage_IsInvalid(ulong w2)
    {
        var sys = TestSystem.Default();
        sys.Fails(Host, Req(Host, Echo, w2: w2), Err.InvalidParameters, "direct-req.w2-mbz");
        sys.Fails(Host, Req(Host, Echo, smc64: true, w2: w2), Err.InvalidParameters, "direct-req.w2-mbz");
    }

    [Fact]
    public void W2Check_ComesBeforeReceiverChecks()
    {
        // 0x8004 is off (BUSY) and 0x8002 does not receive (DENIED): w2 is checked first.
        var sys = Props();
        sys.Fails(Host, Req(Host, 0x8002, w2: 1), Err.InvalidParameters, "direct-req.w2-mbz");
        sys.Fails(Host, Req(Host, 0x8004, w2: 1), Err.InvalidParameters, "direct-req.w2-mbz");
    }

    // ---- 2. framework messages -----------------------------------------------------------------------------

    [Theory]
    [InlineData(0x8000_0004ul, "direct-req.framework-not-subscribed")] // VM created
    [InlineData(0x8000_0006ul, "direct-req.framework-not-subscribed")] // VM destroyed
    [InlineData(0x8000_0008ul, "direct-req.framework-spmd-only")]       // SPMD-only type
    public void FrameworkMessages_FromHost_AreInvalid(ulong w2, string rule)
    {
        var sys = TestSystem.Default();
        sys.Fails(Host, Req(Host, Echo, w2: w2, payload: [0, 0, 5]), Err.InvalidParameters, rule);
    }

    [Fact]
    public void FrameworkMessage_FromSp_IsInvalid()
    {
        var sys = Props();
        sys.Fails(0x8003, Req(0x8003, Echo, w2: 0x8000_0004), Err.InvalidParameters, "direct-req.framework-from-sp");
    }

    // ---- 3. valid pairs ------------------------------------------------------------------------------------

    [Fact]
    public void ReceiverNotSp_IsInvalid()
    {
        var sys = Props();
        sys.Fails(Host, Req(Host, 1), Err.InvalidParameters, "direct-req.receiver-not-sp");
        sys.Fails(0x8003, Req(0x8003, Host), Err.InvalidParameters, "direct-req.receiver-not-sp"); // SPs cannot send direct requests to the NWd
    }

    [Fact]
    public void SenderIsReceiver_IsInvalid()
    {
        var sys = Props();
        sys.Fails(0x8003, Req(0x8003, 0x8003), Err.InvalidParameters, "direct-req.sender-is-receiver");
        sys.Fails(Echo, Req2(Echo, Echo), Err.InvalidParameters, "direct-req.sender-is-receiver");
    }

    [Fact]
    public void Hypervisor_NamingAnSpSender_IsInvalid()
    {
        var sys = Props();
        sys.Fails(Host, Req(0x8003, Echo), Err.InvalidParameters, "direct-req.hypervisor-names-sp");
        sys.Fails(Host, Req2(0x8003, Echo), Err.InvalidParameters, "direct-req.hypervisor-names-sp");
    }

    [Fact]
    public void VmCaller_NamingAnotherSender_IsInvalid()
    {
        var sys = Props();
        sys.Fails(1, Req(2, Echo), Err.InvalidParameters, "direct-req.sender-not-caller");
        sys.Fails(1, Req(Host, Echo), Err.InvalidParameters, "direct-req.sender-not-caller");
        sys.Fails(0x8003, Req(0x8001, 0x8005), Err.InvalidParameters, "direct-req.sender-not-caller"); // an SP naming another SP
    }

    // ---- 4. receiver exists --------------------------------------------------------------------------------

    [Fact]
    public void UnknownReceiver_IsInvalid()
    {
        var sys = Props();
        sys.Fails(Host, Req(Host, 0x8009), Err.InvalidParameters, "direct-req.receiver-unknown");
        sys.Fails(Host, Req2(Host, 0x8009), Err.InvalidParameters, "direct-req.receiver-unknown");
    }

    // ---- 5. REQ2 UUID ------------------------------------------------------------------------------------

    [Fact]
    public void Req2_UnknownUuid_IsInvalid_NilAndOwnUuidAreServed()
    {
        var sys = TestSystem.Default();
        sys.Fails(Host, Req2(Host, Echo, OtherUuid), Err.InvalidParameters, "direct-req2.uuid-unknown");
        sys.Fails(Host, Req2(Host, Echo, MemorySpUuid), Err.InvalidParameters, "direct-req2.uuid-unknown"); // another partition's service
        Answer(sys.Call(Host, Req2(Host, Echo, Uuid.Nil, 1)), Resp2Id);
        Answer(sys.Call(Host, Req2(Host, Echo, EchoUuid, 2)), Resp2Id);
        Answer(sys.Call(Host, Req2(Host, Notifier, NotifierUuid2, 0, 0, 0, 0)), Resp2Id);
    }

    [Fact]
    public void Req2_UuidCheck_ComesBeforeVersionCheck()
    {
        var sys = TestSystem.Default();
        sys.Negotiate(Host, Ffa.V1_1);
        sys.Fails(Host, Req2(Host, Echo, OtherUuid), Err.InvalidParameters, "direct-req2.uuid-unknown");
    }

    // ---- 6. capabilities ---------------------------------------------------------------------------------

    [Fact]
    public void Req2_FromV11Caller_IsDenied()
    {
        var sys = TestSystem.Default();
        sys.Negotiate(Host, Ffa.V1_1);
        sys.Fails(Host, Req2(Host, Echo), Err.Denied, "direct-req2.sender-version");
        sys.Fails(Host, Req2(Host, Echo, EchoUuid), Err.Denied, "direct-req2.sender-version");
        // REQ still works for that caller.
        Answer(sys.Call(Host, Req(Host, Echo, payload: 7)), Resp32);
    }

    [Fact]
    public void Req2_ToV11Receiver_IsDenied()
    {
        var sys = Props();
        sys.Fails(Host, Req2(Host, 0x8005), Err.Denied, "direct-req2.receiver-version");
    }

    [Fact]
    public void ReceiverWithoutReceiveProperty_IsDenied()
    {
        var sys = Props();
        sys.Fails(Host, Req(Host, 0x8002), Err.Denied, "direct-req.receive-not-declared");
        sys.Fails(Host, Req(Host, 0x8002, smc64: true), Err.Denied, "direct-req.receive-not-declared");
        sys.Fails(Host, Req2(Host, 0x8002), Err.Denied, "direct-req.receive-not-declared");
        sys.Fails(Host, Req2(Host, 0x8003), Err.Denied, "direct-req.receive-not-declared"); // REQ receive only
    }

    [Fact]
    public void SpSenderWithoutSendProperty_IsDenied()
    {
        var sys = TestSystem.Default(); // no default SP declares direct request send
        sys.Fails(Echo, Req(Echo, MemorySp), Err.Denied, "direct-req.send-not-declared");
        sys.Fails(Echo, Req2(Echo, MemorySp), Err.Denied, "direct-req.send-not-declared");
        var props = Props();
        props.Fails(0x8003, Req2(0x8003, Echo), Err.Denied, "direct-req.send-not-declared"); // REQ send but not REQ2 send
    }

    [Fact]
    public void SpSenderWithSendProperty_GetsEchoAnswer()
    {
        var sys = Props();
        var o = Answer(sys.Call(0x8003, Req(0x8003, Echo, payload: [0x11, 0x22])), Resp32);
        Assert.Equal(W1(Echo, 0x8003), o.Frame[1]);
        Assert.Equal(0x11ul, o.Frame[3]);
        Assert.Equal(0x22ul, o.Frame[4]);
        Assert.All(sys.State.Partitions.SelectMany(p => p.Contexts).Where(c => c.State != ContextState.Off),
            c => Assert.Equal(ContextState.Waiting, c.State));
    }

    [Fact]
    public void CapabilityCheck_ComesBeforeContextAndState()
    {
        // A v1.1 caller's REQ2 to the off MP partition 0x8004 on a vCPU it has no context for: DENIED first.
        var sys = Props();
        sys.Negotiate(Host, Ffa.V1_1);
        sys.Fails(Host, Req2(Host, 0x8004), Err.Denied, "direct-req2.sender-version", vcpu: 3);
    }

    // ---- 7. receiver context ---------------------------------------------------------------------------

    [Fact]
    public void VcpuBeyondContexts_OfMpPartition_IsInvalid()
    {
        var sys = TestSystem.Default(); // notifier has two contexts; the host four vCPUs
        sys.Fails(Host, Req(Host, Notifier), Err.InvalidParameters, "direct-req.no-context", vcpu: 2);
        sys.Fails(Host, Req2(Host, Notifier), Err.InvalidParameters, "direct-req.no-context", vcpu: 3);
        // vCPU 1 is served by context 1; a UP partition takes any vCPU on its only context.
        Answer(sys.Call(Host, Req(Host, Notifier, payload: [0, 0, 0, 0]), vcpu: 1), Resp32);
        Answer(sys.Call(Host, Req(Host, Echo, payload: 1), vcpu: 3), Resp32);
    }

    [Fact]
    public void VcpuCheck_ComesBeforeStateCheck()
    {
        var sys = Props();
        sys.Fails(Host, Req(Host, 0x8004), Err.InvalidParameters, "direct-req.no-context", vcpu: 2); // Off, but the vCPU is checked first
    }

    // ---- 8. state ------------------------------------------------------------------------------------------

    [Fact]
    public void PartitionWithoutBehaviour_IsBusy()
    {
        var sys = Props();
        sys.Negotiate(Host, 0x1_0002); // 1.0-1.2 callers: BUSY as before FF-A 1.3
        sys.Negotiate(1, 0x1_0002);
        sys.Fails(Host, Req(Host, 0x8004), Err.Busy, "direct-req.receiver-off");
        sys.Fails(Host, Req(Host, 0x8004), Err.Busy, "direct-req.receiver-off", vcpu: 1);
        sys.Fails(Host, Req2(Host, 0x8004), Err.Busy, "direct-req.receiver-off");
        sys.Fails(1, Req(1, 0x8004), Err.Busy, "direct-req.receiver-off");
        Assert.All(sys.State.Partitions.Single(p => p.Config.Id == 0x8004).Contexts, c => Assert.Equal(ContextState.Off, c.State));
    }

    [Fact]
    public void PartitionWithoutBehaviour_IsNotReady_ForA13Caller()
    {
        // FF-A 1.3 R0069: no context of the receiver has booted (its lifecycle is "starting").
        var sys = Props();
        sys.Fails(Host, Req(Host, 0x8004), Err.NotReady, "direct-req.not-ready");
        sys.Fails(Host, Req(Host, 0x8004, smc64: true), Err.NotReady, "direct-req.not-ready", vcpu: 1);
        sys.Fails(Host, Req2(Host, 0x8004), Err.NotReady, "direct-req.not-ready");
        sys.Fails(Host, RunFrame(0x8004), Err.NotReady, "run.not-ready");
        sys.Fails(Host, SmcFrame.From(Run64, W1(0x8004, 0)), Err.NotReady, "run.not-ready");
    }

    [Fact]
    public void RichSystem_PartitionsWithoutBehaviour_AreBusy()
    {
        var sys = TestSystem.FromJson(WithProxy(Rich, "passthrough"));
        sys.Fails(Vm1, Req(Vm1, Sp12), Err.Busy, "direct-req.receiver-off");
        sys.Fails(Host, Req(7, Sp11), Err.Busy, "direct-req.receiver-off");
        sys.Fails(Vm1, Req(2, Sp12), Err.InvalidParameters, "direct-req.sender-not-caller");
    }

    // ---- echo ----------------------------------------------------------------------------------------------

    [Fact]
    public void Echo_Req32_EchoesPayloadTruncatedTo32Bits()
    {
        var sys = TestSystem.Default();
        var o = Answer(sys.Call(Host, Req(Host, Echo, payload: [0xAAAA_BBBB_1111_0001, 0x2222_0002, 0xFFFF_FFFF_FFFF_FFFF, 4, 0x1_0000_0005])), Resp32);
        Assert.Equal(W1(Echo, Host), o.Frame[1]);
        Assert.Equal(0ul, o.Frame[2]);
        Assert.Equal([0x1111_0001ul, 0x2222_0002, 0xFFFF_FFFF, 4, 5], Enumerable.Range(3, 5).Select(i => o.Frame[i]));
        Assert.Equal("FFA_MSG_SEND_DIRECT_RESP_32", o.Decoded.Result);
        Assert.Equal(ContextState.Waiting, sys.State.Partitions.Single(p => p.Config.Id == Echo).Contexts[0].State);
    }

    [Fact]
    public void Echo_Req64_EchoesFullPayload()
    {
        var sys = TestSystem.Default();
        ulong[] payload = [0xAAAA_BBBB_1111_0001, 0x2222_0002, 0xFFFF_FFFF_FFFF_FFFF, 4, 0x1_0000_0005];
        var o = Answer(sys.Call(Host, Req(Host, Echo, smc64: true, payload: payload)), Resp64);
        Assert.Equal(W1(Echo, Host), o.Frame[1]);
        Assert.Equal(0ul, o.Frame[2]);
        Assert.Equal(payload, Enumerable.Range(3, 5).Select(i => o.Frame[i]));
        Assert.All(Enumerable.Range(8, 10), i => Assert.Equal(0ul, o.Frame[i]));
    }

    [Fact]
    public void Echo_Req2_EchoesX4ToX17_AndZeroesX2X3()
    {
        var sys = TestSystem.Default();
        var payload = Enumerable.Range(0, 14).Select(i => 0x0101_0101_0101_0101ul * (ulong)(i + 1)).ToArray();
        var o = Answer(sys.Call(Host, Req2(Host, Echo, EchoUuid, payload)), Resp2Id);
        Assert.Equal(W1(Echo, Host), o.Frame[1]);
        Assert.Equal(0ul, o.Frame[2]);
        Assert.Equal(0ul, o.Frame[3]);
        Assert.Equal(payload, Enumerable.Range(4, 14).Select(i => o.Frame[i]));
        Assert.Equal("FFA_MSG_SEND_DIRECT_RESP2", o.Decoded.Result);
    }

    [Fact]
    public void Echo_HypervisorRelaysForVm5()
    {
        var sys = TestSystem.Default();
        var o = Answer(sys.Call(Host, Req(5, Echo, payload: [9, 8])), Resp32);
        Assert.Equal(W1(Echo, 5), o.Frame[1]);
        Assert.Equal(9ul, o.Frame[3]);
        var o2 = Answer(sys.Call(Host, Req2(5, Echo, Uuid.Nil, 3)), Resp2Id);
        Assert.Equal(W1(Echo, 5), o2.Frame[1]);
        Assert.Equal(3ul, o2.Frame[4]);
    }

    [Fact]
    public void Echo_ManyRequestsInARow_LeaveItWaiting()
    {
        var sys = TestSystem.Default();
        for (ulong i = 0; i < 5; i++)
            Assert.Equal(i, Answer(sys.Call(Host, Req(Host, Echo, payload: i)), Resp32).Frame[3]);
        var ctx = sys.State.Partitions.Single(p => p.Config.Id == Echo).Contexts.Single();
        Assert.Equal(new ContextView(0, ContextState.Waiting, null, null, false, false, null), ctx);
    }

    // ---- responses from the normal world / non-drivers ----------------------------------------------------

    [Fact]
    public void Host_CannotSendResponses()
    {
        var sys = TestSystem.Default();
        sys.Fails(Host, Resp(Host, Echo), Err.InvalidParameters, "direct-resp.from-normal-world");
        sys.Fails(Host, Resp2(Host, Echo), Err.InvalidParameters, "direct-resp.from-normal-world");
    }

    [Fact]
    public void SpFramesFromPlainCaller_ResponseIsDenied()
    {
        var sys = TestSystem.Default();
        sys.Fails(Echo, Resp(Echo, Host), Err.Denied, "runtime.driver-only");
        sys.Fails(Echo, Resp2(Echo, Host), Err.Denied, "runtime.driver-only");
        sys.Fails(Echo, Resp(MemorySp, Host), Err.InvalidParameters, "direct-resp.sender-not-caller"); // sender is not the caller
    }
}
