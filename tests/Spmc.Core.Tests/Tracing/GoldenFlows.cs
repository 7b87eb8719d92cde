using Spmc.Abi.Smccc;
using Spmc.Core.Calls;
using Spmc.Core.Manifests;
using Spmc.Core.Systems;
using Spmc.Core.Tests.Messaging;
using Spmc.Core.Tests.Notifications;
using Spmc.Core.Tests.Sharing;
using Spmc.Core.Tests.Support;
using Spmc.Core.Tracing;
using static Spmc.Core.Tests.Support.Manifests;

namespace Spmc.Core.Tests.Tracing;

/// <summary>
/// The flows behind the golden traces (Tracing/Golden/*.jsonl). Each runs on a fresh system with a recorder and
/// asserts what it needs to be a meaningful flow; its trace is the golden file. Regenerate with
/// <c>scripts/golden.sh</c> after an intended behaviour change, and review the diff.
/// </summary>
public static class GoldenFlows
{
    private const ulong HostTx = 0x8000_0000, HostRx = 0x8000_1000, Success32 = 0x8400_0061, Version = 0x8400_0063;

    public sealed record Flow(string Name, string Manifest, Action<TestSystem> Run);

    public static IReadOnlyList<Flow> All { get; } =
    [
        new("readme-default", DefaultJson, Readme),
        new("pkvm-share-reclaim", DefaultJson, PkvmShareReclaim),
        new("fragmented-share", DefaultPassthroughJson, FragmentedShare),
        new("notification-round", DefaultPassthroughJson, NotificationRound),
    ];

    public static string GoldenDirectory => Path.Combine(RepositoryRoot(), "tests", "Spmc.Core.Tests", "Tracing", "Golden");

    public static string PathOf(string name) => Path.Combine(GoldenDirectory, name + ".jsonl");

    /// <summary>Runs <paramref name="flow"/> on a fresh system and returns its whole trace.</summary>
    public static string Generate(Flow flow)
    {
        var recorder = new TraceRecorder(new TraceRecorderOptions { Capacity = 100_000, MaxBytes = long.MaxValue });
        var system = new SimulatedSystem(flow.Name, ManifestValidator.Validate(flow.Manifest), [recorder]);
        flow.Run(new TestSystem(system));
        var snapshot = recorder.Snapshot(system);
        Assert.Equal(0, snapshot.Dropped);
        return TraceWriter.ToText(snapshot.Header, snapshot.Entries);
    }

    /// <summary>The README's first steps on the default system (pKVM 7.4): version, buffers, discovery, echo, memory through the API.</summary>
    private static void Readme(TestSystem sys)
    {
        Assert.Equal(0x1_0002ul, sys.Call(Host, Ffa.Version(0x1_0002)).Frame[0]);
        Assert.Equal(Success32, sys.Call(Host, Ffa.RxTxMap(HostTx, HostRx, 1)).Frame[0]);
        var info = sys.Call(Host, Ffa.PartitionInfoGet(Uuid.Nil), reads: [new MemoryReadRequest(HostRx, 3 * 24)]);
        Assert.Equal(Success32, info.Frame[0]);
        Assert.Equal(Success32, sys.Call(Host, Ffa.RxRelease()).Frame[0]);
        var echo = sys.Call(Host, SmcFrame.From(Dm.Req32, Dm.W1(Host, Echo), 0, 0x11, 0x22));
        Assert.Equal(Dm.Resp32, echo.Frame[0]);
        Assert.Equal(0x22ul, echo.Frame[4]);
        sys.System.WriteMemory(Host, 0x8020_0000, "hello"u8);
        Assert.Equal("hello"u8.ToArray(), sys.System.ReadMemory(Host, 0x8020_0000, 5));
    }

    /// <summary>The host shares a page with the memory partition through pKVM, the partition fills it, the host reclaims it.</summary>
    private static void PkvmShareReclaim(TestSystem sys)
    {
        Assert.Equal(0x1_0002ul, sys.Call(Host, Ffa.Version(0x1_0002)).Frame[0]);
        Assert.Equal(Success32, sys.Call(Host, Ffa.RxTxMap(HostTx, HostRx, 1)).Frame[0]);
        var page = Pages.HostPage(0);
        var d = SharingDescriptors.Send(Host, [(MemorySp, SendOp.Share.ValidPermission())], [(page, 1u)], SendOp.Share.ValidAttributes(), tag: 0);
        var share = sys.Call(Host, SmcFrame.From(MemIds.Share32, (ulong)d.Length, (ulong)d.Length), writes: [new MemoryWrite(HostTx, d)]);
        Assert.Equal(Success32, share.Frame[0]);
        var handle = SharingSystem.Handle(share);
        // memory: retrieve the handle (share), fill it with 0xAB, relinquish; status 0 in w3.
        var run = sys.Call(Host, SmcFrame.From(Dm.Req32, Dm.W1(Host, MemorySp), 0, (uint)handle, handle >> 32, 1, 0, 0x1AB));
        Assert.Equal(Dm.Resp32, run.Frame[0]);
        Assert.Equal(0ul, run.Frame[3]);
        Assert.Equal(Success32, sys.Call(Host, SmcFrame.From(MemIds.Reclaim, (uint)handle, handle >> 32, 0)).Frame[0]);
        Assert.Equal(0xAB, sys.System.ReadMemory(Host, page, 16)[15]);
    }

    /// <summary>A share of ten scattered pages sent in four fragments (FFA_MEM_FRAG_RX/FRAG_TX), then reclaimed.</summary>
    private static void FragmentedShare(TestSystem sys)
    {
        var s = new SharingSystem(sys);
        s.MapDefault(Host);
        var d = SharingDescriptors.Send(Host, [(Pages.Sp1, SendOp.Share.ValidPermission())],
            Enumerable.Range(0, 10).Select(i => (Pages.HostPage(2 * i), 1u)), SendOp.Share.ValidAttributes());
        var answers = s.SendFragments(Host, MemIds.Share32, d, 112, 48, 64, 32);
        Assert.Equal(4, answers.Count);
        var handle = SharingSystem.Handle(Expect.Success(answers[3]));
        Assert.Equal(Success32, s.Reclaim(Host, handle).Frame[0]);
    }

    /// <summary>The host creates its bitmap, binds notifier's bits, asks notifier to set them, and gets them (with the SRI event).</summary>
    private static void NotificationRound(TestSystem sys)
    {
        Expect.Success(sys.Call(Host, Nf.BitmapCreate(Host)));
        Expect.Success(sys.Call(Host, Nf.Bind(Notifier, Host, 0x1_0000_0005)));
        var set = sys.Call(Host, Dm.Req(Host, Notifier, smc64: true, payload: [Host, 0x5, 0x1, 0]));
        Assert.Equal(Dm.Resp64, set.Frame[0]);
        Assert.Contains(set.Events!, e => e.Kind == SystemEventKind.ScheduleReceiverInterrupt);
        Expect.Success64(sys.Call(Host, Nf.InfoGet64()));
        Expect.Success(sys.Call(Host, Nf.Get(Host, Nf.FromSps)), w2: 5, w3: 1);
        Expect.Success(sys.Call(Host, Nf.Get(Host, Nf.FromSps)), w2: 0, w3: 0);
    }
}
