using Spmc.Core.Calls;
using Spmc.Core.Spm.Runtime;
using Spmc.Core.Systems;
using Spmc.Core.Tests.Support;
using static Spmc.Core.Tests.Messaging.Dm;

namespace Spmc.Core.Tests.Messaging;

/// <summary>
/// An MP partition whose two contexts each wait for a direct response from the same partition: the response to one
/// context's request releases that context only (Hafnium keeps the call chain per vCPU).
/// </summary>
public sealed class MultiContextCallerTests
{
    private const ushort Host = 0, A = 0x8004, B = 0x8005;

    private static TestSystem Sys() => TestSystem.FromJson("""
        {
          "spmc": { "remoteTimeoutMs": 60000 },
          "proxy": "passthrough",
          "vms": [ { "id": 0, "name": "host", "vcpus": 2, "memory": [ { "base": "0x80000000", "size": "0x100000" } ] } ],
          "partitions": [
            { "id": "0x8004", "name": "a", "behaviour": "remote", "executionContexts": 2, "uuids": [ "7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4a44" ],
              "properties": { "directRequestReceive": true, "directRequestSend": true },
              "memory": [ { "base": "0x60400000", "size": "0x100000" } ] },
            { "id": "0x8005", "name": "b", "behaviour": "remote", "executionContexts": 2, "uuids": [ "7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4a45" ],
              "properties": { "directRequestReceive": true },
              "memory": [ { "base": "0x60800000", "size": "0x100000" } ] }
          ]
        }
        """);

    private static ContextView Ctx(TestSystem sys, ushort id, int index) =>
        sys.State.Partitions.Single(p => p.Config.Id == id).Contexts[index];

    [Fact]
    public async Task AResponse_ReleasesOnlyTheContextWhoseRequestItAnswers()
    {
        var sys = Sys();
        using var a = sys.System.Attach(A);
        using var b = sys.System.Attach(B);
        var aWaits = new[] { a.CallAsync(0, Wait()), a.CallAsync(1, Wait()) };
        var bWaits = new[] { b.CallAsync(0, Wait()), b.CallAsync(1, Wait()) };

        // The host lends both of A's contexts its cycles; each forwards a request to B on its own vCPU.
        var host0 = sys.System.CallAsync(Host, Req(Host, A, payload: 1), vcpu: 0);
        var host1 = sys.System.CallAsync(Host, Req(Host, A, payload: 2), vcpu: 1);
        await Task.WhenAll(aWaits).WaitAsync(Limit);
        var aToB0 = a.CallAsync(0, Req(A, B, payload: 10));
        var aToB1 = a.CallAsync(1, Req(A, B, payload: 11));
        await Task.WhenAll(bWaits).WaitAsync(Limit);
        Assert.All(new[] { 0, 1 }, i => Assert.Equal((ContextState.Blocked, (ushort?)B), (Ctx(sys, A, i).State, Ctx(sys, A, i).WaitingFor)));

        // B answers context 0's request: A's context 0 runs again with the answer, context 1 still waits for B.
        _ = b.CallAsync(0, Resp(B, A, payload: 20));
        Assert.Equal(20ul, Answer(await aToB0.WaitAsync(Limit), Resp32).Frame[3]);
        Assert.Equal(ContextState.Running, Ctx(sys, A, 0).State);
        Assert.Null(Ctx(sys, A, 0).WaitingFor);
        Assert.Equal((ContextState.Blocked, (ushort?)B), (Ctx(sys, A, 1).State, Ctx(sys, A, 1).WaitingFor));
        Assert.False(aToB1.IsCompleted);

        // Then B answers context 1's, and both host calls complete through A's responses.
        _ = b.CallAsync(1, Resp(B, A, payload: 21));
        Assert.Equal(21ul, Answer(await aToB1.WaitAsync(Limit), Resp32).Frame[3]);
        _ = a.CallAsync(0, Resp(A, Host, payload: 30));
        _ = a.CallAsync(1, Resp(A, Host, payload: 31));
        Assert.Equal(30ul, Answer(await host0.WaitAsync(Limit), Resp32).Frame[3]);
        Assert.Equal(31ul, Answer(await host1.WaitAsync(Limit), Resp32).Frame[3]);
    }
}
