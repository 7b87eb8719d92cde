using Spmc.V1;

namespace Spmc.Server.Tests;

public sealed class ConcurrencyTests(SpmcFactory factory) : IClassFixture<SpmcFactory>
{
    /// <summary>
    /// Many systems driven in parallel stay isolated: each one's state reflects only its own calls, and
    /// within a system the calls apply one at a time (the call counter matches exactly).
    /// </summary>
    [Fact]
    public async Task ParallelCallsAcrossSystems_StayIsolated()
    {
        const int systems = 8, callsPerClient = 50, clientsPerSystem = 3;
        var ids = await Task.WhenAll(Enumerable.Range(0, systems).Select(_ => factory.NewSystemAsync()));
        var smc = new SmcGateway.SmcGatewayClient(factory.Channel);

        await Task.WhenAll(ids.SelectMany((id, n) => Enumerable.Range(0, clientsPerSystem).Select(async c =>
        {
            // Each system negotiates its own version: 1.0, 1.1 or 1.2.
            var version = 0x10000UL | (ulong)(n % 3);
            for (var i = 0; i < callsPerClient; i++)
            {
                var request = new SmcRequest { SystemId = id, Caller = c == 0 ? 0u : 0x8001u };
                request.X.Add(i == 0 && c == 0 ? [0x84000063, version] : [0x84000069]);
                var response = await smc.CallAsync(request);
                Assert.Equal(i == 0 && c == 0 ? 0x10003UL : 0x84000061UL, response.X[0]);
            }
        })));

        var inspector = new Inspector.InspectorClient(factory.Channel);
        for (var n = 0; n < systems; n++)
        {
            var state = await inspector.GetStateAsync(new GetStateRequest { SystemId = ids[n] });
            Assert.Equal((ulong)(callsPerClient * clientsPerSystem), state.Calls);
            Assert.Equal($"1.{n % 3}", state.Endpoints.Single(e => e.Id == 0).FfaVersion);
        }
    }
}
