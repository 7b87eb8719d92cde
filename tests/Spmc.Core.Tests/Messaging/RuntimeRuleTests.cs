using Spmc.Abi.Smccc;
using Spmc.Core.Calls;
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

    private static async Task Fails(TestSystem sys, PartitionAttachment client, SmcFrame frame, Err error)
    {
        var before = sys.Contexts();
        Expect.Error(await client.CallAsync(0, frame).WaitAsync(Limit), error);
        Assert.Equal(before, sys.Contexts());
    }

    [Fact]
    public async Task Response_RegisterRules()
    {
        var sys = Sys();
        var (client, host) = await Handling(sys, A);
        using var attached = client;

        await Fails(sys, client, Resp(B, Host), Err.InvalidParameters);                   // sender is not the caller
        await Fails(sys, client, Resp(A, A), Err.InvalidParameters);                      // to itself
        var w2 = Resp(A, Host);
        w2[2] = 1;
        await Fails(sys, client, w2, Err.InvalidParameters);                              // w2 of a partition message
        var framework = Resp(A, Host);
        framework[2] = 0x8000_0005;
        await Fails(sys, client, framework, Err.Denied);                                  // framework answer to a partition request
        var extended = Resp(A, Host, smc64: true);
        extended[8] = 1;
        await Fails(sys, client, extended, Err.InvalidParameters);                        // v1.2 RESP_64 with x8..x17
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
            await Fails(sys, client, frame, Err.InvalidParameters);
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
        await Fails(sys, client, Wait(), Err.Denied);                                     // already waiting
        await Fails(sys, client, SmcFrame.From(MsgWait, 0, 1), Err.InvalidParameters);    // no retain flag before 1.2
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
        await Fails(sys, b, Req(B, A), Err.Denied);

        _ = b.CallAsync(0, Resp(B, A));
        Answer(await aToB.WaitAsync(Limit), Resp32);
        _ = a.CallAsync(0, Resp(A, Host));
        Answer(await host.WaitAsync(Limit), Resp32);
    }
}
