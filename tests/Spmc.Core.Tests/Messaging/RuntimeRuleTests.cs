using Spmc.Abi.Ffa;
using Spmc.Abi.Smccc;
using Spmc.Core.Calls;
using Spmc.Core.Manifests;
using Spmc.Core.Memory;
using Spmc.Core.Spm;
using Spmc.Core.Spm.Behaviours;
using Spmc.Core.Spm.Runtime;
using Spmc.Core.Systems;
using Spmc.Core.Tests.Support;
using static Spmc.Core.Tests.Messaging.Dm;

namespace Spmc.Core.Tests.Messaging;

/// <summary>
/// Register and run-time rules of the driver's own ABIs (direct responses, FFA_YIELD, FFA_MSG_WAIT) and the
/// call-chain check, with two remote partitions that can send requests to each other.
/// </summary>
public sealed class RuntimeRuleTests
{
    private const ushort Host = 0, A = 0x8004, B = 0x8005;

    private static TestSystem Sys(string version = "1.2") => TestSystem.FromJson($$"""
        {
          "spmc": { "remoteTimeoutMs": 60000 }, "proxy": "passthrough",
          "vms": [ { "id": 0, "name": "host", "memory": [ { "base": "0x80000000", "size": "0x100000" } ] } ],
          "partitions": [
            { "id": "0x8004", "name": "a", "behaviour": "remote", "version": "{{version}}", "uuids": [ "7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4a44" ],
              "properties": { "directRequestReceive": true, "directRequestSend": true } },
            { "id": "0x8005", "name": "b", "behaviour": "remote", "version": "{{version}}", "uuids": [ "7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4a55" ],
              "properties": { "directRequestReceive": true, "directRequestSend": true } }
          ]
        }
        """);

    /// <summary>Attaches <paramref name="id"/>, boots it, and has the host's request delivered to it.</summary>
    private static async Task<(PartitionAttachment Client, Task<SmcOutcome> Host)> Handling(TestSystem sys, ushort id)
    {
        var client = sys.System.Attach(id);
        var wait = client.CallAsync(0, Wait());
        var host = sys.System.CallAsync(Host, Req(Host, id));
        await wait.WaitAsync(Limit);
        return (client, host);
    }

    private static async Task Fails(TestSystem sys, PartitionAttachment client, SmcFrame frame, Err error, string rule)
    {
        var before = sys.Contexts();
        Expect.Error(await client.CallAsync(0, frame).WaitAsync(Limit), error, rule);
        Assert.Equal(before, sys.Contexts());
    }

    [Fact]
    public async Task Response_RegisterRules()
    {
        var sys = Sys();
        var (client, host) = await Handling(sys, A);
        using var attached = client;

        await Fails(sys, client, Resp(B, Host), Err.InvalidParameters, "direct-resp.sender-not-caller");
        await Fails(sys, client, Resp(A, A), Err.InvalidParameters, "direct-resp.sender-is-receiver");
        var w2 = Resp(A, Host);
        w2[2] = 1;
        await Fails(sys, client, w2, Err.InvalidParameters, "direct-resp.w2-mbz");
        var framework = Resp(A, Host);
        framework[2] = 0x8000_0005;
        await Fails(sys, client, framework, Err.Denied, "direct-resp.framework-mismatch"); // framework answer to a partition request
        var extended = Resp(A, Host, smc64: true);
        extended[8] = 1;
        await Fails(sys, client, extended, Err.InvalidParameters, "direct-resp.x8-x17-mbz"); // v1.2 RESP_64 with x8..x17
        Assert.False(host.IsCompleted);

        _ = client.CallAsync(0, Resp(A, Host));
        Answer(await host.WaitAsync(Limit), Resp32);
    }

    [Fact]
    public async Task Yield_NonZeroW4ToW7_IsInvalid()
    {
        var sys = Sys();
        var (client, host) = await Handling(sys, A);
        using var attached = client;
        for (var i = 4; i < 8; i++)
        {
            var frame = YieldFrame();
            frame[i] = 1;
            await Fails(sys, client, frame, Err.InvalidParameters, "yield.reserved-mbz");
        }
        Assert.False(host.IsCompleted);
        _ = client.CallAsync(0, Resp(A, Host));
        await host.WaitAsync(Limit);
    }

    [Fact]
    public async Task MsgWait_WhileWaiting_IsDenied_AndW2IsMbzBefore12()
    {
        var sys = Sys(version: "1.1");
        using var client = sys.System.Attach(A);
        var wait = client.CallAsync(0, Wait());
        Assert.Equal(ContextState.Waiting, sys.State.Partitions.Single(p => p.Config.Id == A).Contexts[0].State);
        await Fails(sys, client, Wait(), Err.Denied, "msg-wait.not-running");                                     // already waiting
        await Fails(sys, client, SmcFrame.From(MsgWait, 0, 1), Err.InvalidParameters, "msg-wait.flags-before-1-2"); // no retain flag before 1.2
        Assert.False(wait.IsCompleted);
    }

    [Fact]
    public async Task RequestBackAlongTheCallChain_IsDenied()
    {
        var sys = Sys();
        var (a, host) = await Handling(sys, A);
        using var attachedA = a;
        using var b = sys.System.Attach(B);
        var bWait = b.CallAsync(0, Wait());

        // A, handling the host's request, asks B; B, handling it, asks A back: A waits on B, so DENIED.
        var aToB = a.CallAsync(0, Req(A, B));
        Answer(await bWait.WaitAsync(Limit), Req32);
        Assert.Equal(B, sys.State.Partitions.Single(p => p.Config.Id == A).Contexts[0].WaitingFor);
        await Fails(sys, b, Req(B, A), Err.Denied, "direct-req.call-chain");

        _ = b.CallAsync(0, Resp(B, A));
        Answer(await aToB.WaitAsync(Limit), Resp32);
        _ = a.CallAsync(0, Resp(A, Host));
        Answer(await host.WaitAsync(Limit), Resp32);
    }

    [Fact]
    public async Task Run_OfAContextAwaitingItsOwnRequest_IsBusy()
    {
        var sys = Sys();
        var (a, host) = await Handling(sys, A);
        using var attachedA = a;
        using var b = sys.System.Attach(B);
        var bWait = b.CallAsync(0, Wait());

        // A, handling the host's request, asks B: A is blocked until B answers, and FFA_RUN cannot resume it.
        var aToB = a.CallAsync(0, Req(A, B));
        Answer(await bWait.WaitAsync(Limit), Req32);
        sys.Fails(Host, RunFrame(A), Err.Busy, "run.awaiting-response");

        _ = b.CallAsync(0, Resp(B, A));
        Answer(await aToB.WaitAsync(Limit), Resp32);
        _ = a.CallAsync(0, Resp(A, Host));
        Answer(await host.WaitAsync(Limit), Resp32);
    }

    // ---- on the PartitionManager itself: states and calls the system API cannot reach ----------------------

    private const ushort Echo = Support.Manifests.Echo;

    private static PartitionManager Manager(string json)
    {
        var config = ManifestValidator.Validate(json);
        return new PartitionManager(config, new PhysicalMemory(), new MemoryMap(config));
    }

    private static FfaAnswer Driver(PartitionManager spmc, ushort partition, uint vcpu, SmcFrame frame) =>
        spmc.Handle(new FfaRequest(partition, vcpu, frame) { FromDriver = true });

    private static void Refused(FfaAnswer answer, Err error, string rule)
    {
        Assert.True(answer.Error?.Name() == error.Name && answer.Rule == rule, $"expected {error} [{rule}], got {answer.Rejection?.ToString() ?? $"x0 = 0x{answer.Frame[0]:X}"}");
        Assert.Equal(error.Code, answer.Frame[2]);
    }

    [Fact]
    public void DriverCall_FromAVcpuWithoutContext_IsInvalid()
    {
        var spmc = Manager(Support.Manifests.DefaultPassthroughJson); // echo has one context
        Refused(Driver(spmc, Echo, 3, Wait()), Err.InvalidParameters, "runtime.vcpu-not-a-context");
        Refused(Driver(spmc, Echo, 3, YieldFrame()), Err.InvalidParameters, "runtime.vcpu-not-a-context");
        Refused(Driver(spmc, Echo, 3, Resp(Echo, Host)), Err.InvalidParameters, "runtime.vcpu-not-a-context");
    }

    [Fact]
    public void AbortedContext_RequestIsAborted_AndRunIsAborted()
    {
        var spmc = Manager(Support.Manifests.DefaultPassthroughJson);
        var runtime = spmc.State.Endpoints[Echo].Runtime!;
        var ctx = runtime.Contexts[0];
        ctx.State = ContextState.Aborted;
        runtime.Lifecycle = PartitionLifecycle.Aborted;
        Refused(spmc.Handle(new FfaRequest(Host, 0, Req(Host, Echo))), Err.Aborted, "direct-req.receiver-aborted");
        Refused(spmc.Handle(new FfaRequest(Host, 0, RunFrame(Echo))), Err.Aborted, "run.aborted");
        Assert.Equal(ContextState.Aborted, ctx.State);
    }

    /// <summary>A behaviour that takes the cycles and never gives them back.</summary>
    private sealed class Silent : IPartitionBehaviour
    {
        public string Name => "silent";
        public void Run(IPartitionCpu sp, SmcFrame delivered) { }
    }

    [Fact]
    public void BehaviourThatDoesNotAnswer_LenderIsAborted_AndTheContextWaitsAgain()
    {
        var spmc = Manager(Support.Manifests.DefaultPassthroughJson);
        var echo = spmc.State.Endpoints[Echo];
        spmc.State.Endpoints[Echo] = new Endpoint
        {
            Id = echo.Id,
            Name = echo.Name,
            Vcpus = echo.Vcpus,
            Version = echo.Version,
            Partition = echo.Partition,
            Runtime = new PartitionRuntime(echo.Partition!, new Silent()),
        };
        var answer = spmc.Handle(new FfaRequest(Host, 0, Req(Host, Echo)));
        Refused(answer, Err.Aborted, "runtime.behaviour-no-answer");
        Assert.Equal("'silent' did not answer", answer.Reason);
        var ctx = spmc.State.Endpoints[Echo].Runtime!.Contexts[0];
        Assert.Equal((ContextState.Waiting, (ActiveRequest?)null), (ctx.State, ctx.Request));
    }

    [Fact]
    public void Preempt_OfACallNoContextHolds_IsAborted()
    {
        var spmc = Manager(Support.Manifests.DefaultPassthroughJson);
        var waiter = new Waiter(Host, 0, "FFA_RUN of nothing");
        Refused(spmc.Preempt(waiter, TimeSpan.FromMilliseconds(1)), Err.Aborted, "runtime.waiter-orphaned");
        Assert.True(waiter.Completed);
    }

    [Fact]
    public void AbortAll_AnswersLendersAndParkedCalls()
    {
        var spmc = Manager($$"""
            {
              "proxy": "passthrough",
              "vms": [ { "id": 0, "name": "host", "vcpus": 2, "memory": [ { "base": "0x80000000", "size": "0x100000" } ] } ],
              "partitions": [
                { "id": "0x8004", "name": "a", "behaviour": "remote", "executionContexts": 2, "uuids": [ "7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4a44" ],
                  "properties": { "directRequestReceive": true } }
              ]
            }
            """);
        spmc.Attach(A);
        var wait0 = Driver(spmc, A, 0, Wait());
        var wait1 = Driver(spmc, A, 1, Wait());
        Assert.True(wait0.IsPending && wait1.IsPending);
        var host = spmc.Handle(new FfaRequest(Host, 0, Req(Host, A)));
        Assert.True(host.IsPending);
        Assert.Equal(Req32, wait0.Wait!.Result!.Value.Frame[0]); // delivered to context 0

        spmc.AbortAll("system 't' was deleted");
        Refused(host.Wait!.Result!.Value, Err.Aborted, "runtime.system-deleted");
        Refused(wait1.Wait!.Result!.Value, Err.Aborted, "runtime.system-deleted");
        Assert.Equal("system 't' was deleted", host.Wait.Result.Value.Reason);
        Assert.All(spmc.State.Endpoints[A].Runtime!.Contexts, c => Assert.Equal(ContextState.Off, c.State));
    }
}
