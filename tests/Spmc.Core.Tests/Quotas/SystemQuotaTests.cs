using Spmc.Core.Manifests;
using Spmc.Core.Systems;
using Spmc.Core.Tests.Support;
using static Spmc.Core.Tests.Support.SharingManifests;

namespace Spmc.Core.Tests.Quotas;

/// <summary>Streams and attachments per system, and constituents per memory transaction: each bound refused with its name, slots given back.</summary>
public class SystemQuotaTests
{
    private const string TwoRemotes = """
        { "spmc": { "version": "1.2" }, "proxy": "passthrough",
          "vms": [ { "id": 0, "name": "host", "vcpus": 1, "memory": [ { "base": "0x80000000", "size": "0x1000000" } ] } ],
          "partitions": [
            { "id": "0x8001", "name": "a", "behaviour": "remote", "uuids": [ "7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4a01" ], "properties": { "directRequestReceive": true } },
            { "id": "0x8002", "name": "b", "behaviour": "remote", "uuids": [ "7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4a02" ], "properties": { "directRequestReceive": true } } ] }
        """;

    private static SimulatedSystem NewSystem(string json, SystemQuotas quotas) => new("q", ManifestValidator.Validate(json), quotas: quotas);

    [Fact]
    public void OpenStream_BeyondTheQuota_IsRefusedNamingIt_AndAClosedStreamGivesItsSlotBack()
    {
        var system = NewSystem(TwoRemotes, new SystemQuotas { MaxStreamsPerSystem = 2 });
        var first = system.OpenStream("Watch");
        using var second = system.OpenStream("Watch");
        var e = Assert.Throws<QuotaExceededException>(() => system.OpenStream("SnapshotStream"));
        Assert.Contains("MaxStreamsPerSystem (2)", e.Message);
        Assert.Contains("SnapshotStream", e.Message);
        first.Dispose();
        first.Dispose(); // twice gives back one slot
        Assert.Equal(1, system.OpenStreams);
        using var third = system.OpenStream("Session");
        Assert.Throws<QuotaExceededException>(() => system.OpenStream("Watch"));
    }

    [Fact]
    public void OpenStream_ZeroMeansNoBound_AndADeletedSystemRefuses()
    {
        var system = NewSystem(TwoRemotes, SystemQuotas.Unlimited);
        var leases = Enumerable.Range(0, 100).Select(_ => system.OpenStream("Watch")).ToList();
        Assert.Equal(100, system.OpenStreams);
        leases.ForEach(l => l.Dispose());
        system.Shutdown();
        Assert.Throws<NotFoundException>(() => system.OpenStream("Watch"));
    }

    [Fact]
    public void Attach_BeyondTheQuota_IsRefusedNamingIt_AndADetachGivesItsSlotBack()
    {
        var system = NewSystem(TwoRemotes, new SystemQuotas { MaxAttachmentsPerSystem = 1 });
        var a = system.Attach(0x8001);
        var e = Assert.Throws<QuotaExceededException>(() => system.Attach(0x8002));
        Assert.Contains("MaxAttachmentsPerSystem (1)", e.Message);
        Assert.Contains("0x8002", e.Message);
        a.Dispose();
        Assert.Equal(0, system.Attachments);
        using var b = system.Attach(0x8002);
        Assert.Equal(1, system.Attachments);
    }

    [Fact]
    public void Quotas_NegativeBound_IsRefusedNamingIt()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new SystemQuotas { MaxAttachmentsPerSystem = -1 }.Validated());
        Assert.Equal("MaxAttachmentsPerSystem", e.ParamName);
    }

    [Fact]
    public void Registry_HandsItsQuotasToEverySystem()
    {
        var registry = new SystemRegistry(quotas: new SystemQuotas { MaxStreamsPerSystem = 3 });
        Assert.Equal(3, registry.Create(null, TwoRemotes).Quotas.MaxStreamsPerSystem);
        Assert.Equal(16, new SystemRegistry().Create(null, TwoRemotes).Quotas.MaxStreamsPerSystem);
    }

    // ---- constituents per transaction (mem-send.too-many-constituents) -------------------------------------------

    private static SharingSystem TwoPageHost(SystemQuotas quotas)
    {
        var s = new SharingSystem(new TestSystem(NewSystem(TwoVms, quotas)));
        s.Map(Host, HostBase, HostBase + 0x2000, 2);
        return s;
    }

    /// <summary>A v1.2 SHARE from the host to 0x8001 of <paramref name="n"/> one-page constituents (96 + 16 n bytes).</summary>
    private static byte[] Descriptor(int n) =>
        SharingDescriptors.Send(Host, [(Sp1, Perm.RW)], Enumerable.Range(0, n).Select(i => (HostBase + 0x1_0000UL + (ulong)i * 0x1000, 1u)), 0x2F);

    [Fact]
    public void Send_MoreConstituentsThanTheQuota_IsNoMemory_AndLeavesNoTransaction()
    {
        var s = TwoPageHost(new SystemQuotas { MaxConstituentsPerTransaction = 100 });
        var d = Descriptor(101);
        var o = Expect.Error(s.Send(Host, MemIds.Share32, d), Err.NoMemory, "mem-send.too-many-constituents");
        Assert.Contains("101 constituents", o.Decoded.Reason);
        Assert.Contains("MaxConstituentsPerTransaction", o.Decoded.Reason);
        Assert.Empty(s.State.Shares);
        s.SendOk(Host, MemIds.Share32, Descriptor(100));
    }

    /// <summary>A fragmented 320-page share passes the default; 5121 constituents are refused at the first fragment.</summary>
    [Fact]
    public void Default_Accepts320FragmentedPages_AndRefusesTheFirstFragmentBeyond5120()
    {
        var s = TwoPageHost(SystemQuotas.Default);
        var d = Descriptor(320);
        var answers = s.SendFragments(Host, MemIds.Share32, d, 4096, d.Length - 4096);
        Assert.Equal(MemIds.FragRx, answers[0].Frame[0]);
        Expect.Success(answers[^1]);
        Assert.Equal(320, s.State.Shares.Single().ConstituentCount);

        var big = Descriptor(5121);
        Expect.Error(s.Send(Host, MemIds.Share32, big, (ulong)big.Length, 8192), Err.NoMemory, "mem-send.too-many-constituents");
        Assert.Single(s.State.Shares);
    }
}
