using Spmc.Abi.Smccc;
using Spmc.Core.Calls;
using Spmc.Core.Manifests;
using Spmc.Core.Spm;
using Spmc.Core.Systems;

namespace Spmc.Core.Tests.Support;

/// <summary>A simulated system with short call helpers for tests.</summary>
public sealed class TestSystem(SimulatedSystem system)
{
    public SimulatedSystem System { get; } = system;

    public static TestSystem FromJson(string json, string id = "t") => new(new SimulatedSystem(id, ManifestValidator.Validate(json)));

    /// <summary>The repository's default manifest (src/Spmc.Server/manifests/default.json) with a passthrough proxy, so VM calls test the SPMC.</summary>
    public static TestSystem Default() => FromJson(Manifests.DefaultPassthroughJson, "default");

    /// <summary>The default system (passthrough) with an SPMC at <paramref name="version"/>, e.g. "1.2": behaviour older SPMCs keep.</summary>
    public static TestSystem DefaultAt(string version) =>
        FromJson(Manifests.WithSpmcVersion(Manifests.DefaultPassthroughJson, version), $"default-{version}");

    /// <summary>A richer system: three VMs and SPs at v1.2, v1.1 and v1.0 (see <see cref="Manifests.Rich"/>).</summary>
    public static TestSystem Rich() => FromJson(Manifests.Rich, "rich");

    private readonly List<SystemEvent> _events = [];

    public SmcOutcome Call(ushort caller, SmcFrame frame, uint vcpu = 0, IReadOnlyList<MemoryWrite>? writes = null,
        IReadOnlyList<MemoryReadRequest>? reads = null, Conduit conduit = Conduit.Smc)
    {
        var outcome = System.Call(new SmcCall(caller, vcpu, conduit, frame, writes, reads));
        if (outcome.Events is { } raised) _events.AddRange(raised);
        return outcome;
    }

    /// <summary>The events the calls made through this helper raised since the last time they were taken.</summary>
    public IReadOnlyList<SystemEvent> TakeEvents()
    {
        var taken = _events.ToList();
        _events.Clear();
        return taken;
    }

    public SystemState State => System.GetState();

    public EndpointView Endpoint(ushort id) => State.Endpoints.Single(e => e.Id == id);

    /// <summary>Reads memory as the SPMC, which may read everything.</summary>
    public byte[] Peek(ulong address, int length) => System.ReadMemory(System.Config.SpmcId, address, length);

    /// <summary>Maps an RX/TX pair and checks it succeeded.</summary>
    public void Map(ushort caller, ulong tx, ulong rx, uint pages = 1) => Expect.Success(Call(caller, Ffa.RxTxMap(tx, rx, pages)));

    /// <summary>Negotiates a version and checks it succeeded.</summary>
    public void Negotiate(ushort caller, uint version)
    {
        var o = Call(caller, Ffa.Version(version));
        Assert.Equal((ulong)System.Config.Version.Encoded, o.Frame[0]);
    }

    /// <summary>Reads the caller's RX buffer (as the caller) within the call itself.</summary>
    public static MemoryReadRequest[] ReadBack(ulong address, int length) => [new MemoryReadRequest(address, length)];
}
