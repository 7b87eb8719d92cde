using Spmc.Core.Manifests;
using Spmc.Core.Spm;
using Spmc.Core.Systems;
using Spmc.Core.Tests.Support;
using static Spmc.Core.Tests.Support.Manifests;

namespace Spmc.Core.Tests.Systems;

/// <summary>Systems are isolated from each other, and one system applies concurrent calls one whole call at a time.</summary>
public class ConcurrencyTests
{
    private const int Systems = 24;
    private const int ThreadsPerSystem = 4;
    private const int CallsPerThread = 50;

    [Fact]
    public async Task ManySystemsCalledInParallel_StayIsolated()
    {
        var config = ManifestValidator.Validate(DefaultPassthroughJson); // the SPMC's per-endpoint state, not the proxy's
        var systems = Enumerable.Range(0, Systems).Select(i => new TestSystem(new SimulatedSystem($"s{i}", config))).ToArray();

        // Each system gets its own version, buffers and console line, then a burst of calls from several threads.
        await Task.WhenAll(Enumerable.Range(0, Systems).Select(i => Task.Run(() =>
        {
            var sys = systems[i];
            sys.Negotiate(Host, i % 3 == 0 ? Ffa.V1_0 : i % 3 == 1 ? Ffa.V1_1 : Ffa.V1_2);
            if (i % 2 == 0) sys.Map(Host, HostMemory + (ulong)i * 0x2000, HostMemory + (ulong)i * 0x2000 + 0x1000);
            Expect.Success(sys.Call(Echo, Ffa.ConsoleLog32($"system {i}\n")));
        })));

        await Task.WhenAll(Enumerable.Range(0, Systems * ThreadsPerSystem).Select(t => Task.Run(() =>
        {
            var sys = systems[t % Systems];
            for (var k = 0; k < CallsPerThread; k++)
            {
                var caller = (k % 4) switch { 0 => Host, 1 => Echo, 2 => MemorySp, _ => Notifier };
                Expect.Success(sys.Call(caller, Ffa.IdGet(), vcpu: (uint)(k % 2 == 0 ? 0 : caller == Notifier ? 1 : 0)), w2: caller);
            }
        })));

        for (var i = 0; i < Systems; i++)
        {
            var state = systems[i].State;
            Assert.Equal($"s{i}", state.Id);
            var setupCalls = 2 + (i % 2 == 0 ? 1 : 0);
            Assert.Equal(setupCalls + ThreadsPerSystem * CallsPerThread, state.Calls);
            var host = state.Endpoints.Single(e => e.Id == Host);
            Assert.Equal(i % 3 == 0 ? "1.0" : i % 3 == 1 ? "1.1" : "1.2", host.Version.ToString());
            if (i % 2 == 0)
            {
                Assert.Equal(HostMemory + (ulong)i * 0x2000, host.Mailbox!.Tx);
                Assert.Equal(RxState.Empty, host.Mailbox.State);
            }
            else
            {
                Assert.Null(host.Mailbox);
            }
            var line = Assert.Single(state.Console);
            Assert.Equal($"system {i}", line.Text);
            Assert.Equal(Echo, line.Endpoint);
        }
    }

    [Fact]
    public async Task ConcurrentCallsOnOneSystem_AreAppliedWhole()
    {
        var sys = TestSystem.Default();
        sys.Map(Host, HostMemory, HostMemory + 0x1000);
        var busy = 0;
        var ok = 0;
        // Many threads race to fill the host's RX: exactly one may win until someone releases it.
        await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(() =>
        {
            var o = sys.Call(Host, Ffa.PartitionInfoGet(Uuid.Nil));
            if (o.Frame[0] == Ffa.Success32) Interlocked.Increment(ref ok);
            else if (o.Frame[2] == Err.Busy.Code) Interlocked.Increment(ref busy);
        })));
        Assert.Equal(1, ok);
        Assert.Equal(15, busy);
        Assert.Equal(17, sys.State.Calls);
    }

    [Fact]
    public async Task ConsoleLinesFromConcurrentCalls_AreNeverInterleavedWithinACall()
    {
        var sys = TestSystem.Default();
        await Task.WhenAll(Enumerable.Range(0, 8).Select(t => Task.Run(() =>
        {
            var caller = t % 2 == 0 ? Echo : MemorySp;
            for (var k = 0; k < 20; k++) Expect.Success(sys.Call(caller, Ffa.ConsoleLog32($"t{t}-{k}\n")));
        })));
        var lines = sys.State.Console.ToArray();
        Assert.Equal(160, lines.Length);
        Assert.All(lines, l => Assert.Matches(@"^t\d-\d+$", l.Text));
        Assert.Equal(lines.Select(l => l.Sequence).Order(), lines.Select(l => l.Sequence));
    }
}
