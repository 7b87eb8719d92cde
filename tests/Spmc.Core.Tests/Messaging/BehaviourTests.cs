using Spmc.Core.Calls;
using Spmc.Core.Spm;
using Spmc.Core.Tests.Notifications;
using Spmc.Core.Tests.Support;
using static Spmc.Core.Tests.Messaging.Dm;
using static Spmc.Core.Tests.Support.Manifests;

namespace Spmc.Core.Tests.Messaging;

/// <summary>The 'memory' and 'notifier' built-in behaviours, driven by direct requests from the host.</summary>
public sealed class BehaviourTests
{
    private const ulong Pages = HostMemory + 0x10_0000;
    private const ulong InvalidCode = 0xFFFF_FFFE, DeniedCode = 0xFFFF_FFFA;

    private static ulong Check(byte b) => 0x100ul | b;
    private static ulong Fill(byte b) => 0x100ul | b;

    private static SharingSystem Shared(SendOp op, byte content, uint pages, out ulong handle, bool mapSps = false)
    {
        var s = mapSps ? SharingSystem.Default() : SharingSystem.Default(true, Host);
        s.Poke(Host, Pages, Enumerable.Repeat(content, (int)pages * 4096).ToArray());
        // The behaviour's retrieve request carries tag 0 (its payload has no room for one), so share with tag 0.
        handle = s.SendOk(Host, op, SharingDescriptors.Send(Host, [(MemorySp, op.ValidPermission())], [(Pages, pages)], op.ValidAttributes(), tag: 0));
        return s;
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)] // the memory SP already has its own RX/TX mapped
    public void Memory_Share_ChecksWritesAndRelinquishes(bool smc64, bool mapSps)
    {
        var s = Shared(SendOp.Share, 0xAA, 2, out var handle, mapSps);
        var o = Answer(s.Test.Call(Host, Req(Host, MemorySp, smc64, payload: [(uint)handle, handle >> 32, 1, Check(0xAA), Fill(0x5C)])),
            smc64 ? Resp64 : Resp32);
        Assert.Equal(W1(MemorySp, Host), o.Frame[1]);
        Assert.True(o.Frame[3] == 0, $"step 0x{o.Frame[4]:X}: {string.Join(" | ", o.Decoded.Notes ?? [])}"); // status
        Assert.Equal(0ul, o.Frame[4]); // failing step
        Assert.Equal(2ul, o.Frame[5]); // pages
        Assert.Equal(0ul, o.Frame[6]);
        Assert.Equal(0ul, o.Frame[7]);
        Assert.All(s.Peek(Pages, 2 * 4096), b => Assert.Equal(0x5C, b));
        // Relinquished: the host can reclaim, and the SP no longer reaches the pages.
        Expect.Success(s.Reclaim(Host, handle));
        Assert.False(s.CanRead(MemorySp, Pages));
        Assert.Empty(s.State.Shares);
    }

    [Fact]
    public void Memory_Req2_ReportsTheSameWay()
    {
        var s = Shared(SendOp.Share, 0x11, 1, out var handle);
        var o = Answer(s.Test.Call(Host, Req2(Host, MemorySp, MemorySpUuid, (uint)handle, handle >> 32, 0, Check(0x11), Fill(0x22))), Resp2Id);
        Assert.Equal(0ul, o.Frame[4]);
        Assert.Equal(1ul, o.Frame[6]);
        Assert.All(s.Peek(Pages, 4096), b => Assert.Equal(0x22, b));
        Expect.Success(s.Reclaim(Host, handle));
    }

    [Fact]
    public void Memory_Mismatch_ReportsStatus1AndTheAddress()
    {
        var s = Shared(SendOp.Share, 0xAA, 2, out var handle);
        // Change one byte of the second page before the SP looks (the host still has access to shared pages).
        s.Poke(Host, Pages + 4096 + 0x123, [0x00]);
        var o = Answer(s.Test.Call(Host, Req(Host, MemorySp, smc64: true, payload: [(uint)handle, handle >> 32, 1, Check(0xAA)])), Resp64);
        Assert.Equal(1ul, o.Frame[3]);
        Assert.Equal(0x8400_0074ul, o.Frame[4]); // FFA_MEM_RETRIEVE_REQ
        Assert.Equal(2ul, o.Frame[5]);
        var address = Pages + 4096 + 0x123;
        Assert.Equal((ulong)(uint)address, o.Frame[6]);
        Assert.Equal(address >> 32, o.Frame[7]);
        Expect.Success(s.Reclaim(Host, handle)); // relinquished even after a mismatch
    }

    [Fact]
    public void Memory_Lend_Works()
    {
        var s = Shared(SendOp.Lend, 0x33, 1, out var handle);
        Assert.False(s.CanRead(Host, Pages)); // lent away
        var o = Answer(s.Test.Call(Host, Req(Host, MemorySp, payload: [(uint)handle, handle >> 32, 2, Check(0x33), Fill(0x44)])), Resp32);
        Assert.Equal(0ul, o.Frame[3]);
        Assert.Equal(1ul, o.Frame[5]);
        Expect.Success(s.Reclaim(Host, handle));
        Assert.True(s.CanRead(Host, Pages));
        Assert.All(s.System.ReadMemory(Host, Pages, 4096), b => Assert.Equal(0x44, b));
    }

    [Fact]
    public void Memory_UnknownHandle_ReportsInvalidParameters()
    {
        var s = SharingSystem.Default(true, Host);
        var before = s.Test.Contexts();
        var o = Answer(s.Test.Call(Host, Req(Host, MemorySp, smc64: true, payload: [0x1234, 0x5678, 1, 0, 0])), Resp64);
        Assert.Equal(InvalidCode, o.Frame[3]);
        Assert.Equal(0x8400_0074ul, o.Frame[4]);
        Assert.Equal(before, s.Test.Contexts());
    }

    [Fact]
    public void Memory_ShareWithATag_ReportsTheRetrieveError()
    {
        var s = SharingSystem.Default(true, Host);
        var handle = s.SendSimple(SendOp.Share, Host, MemorySp, Pages); // tag 0x5AFE
        var o = Answer(s.Test.Call(Host, Req(Host, MemorySp, smc64: true, payload: [(uint)handle, handle >> 32, 1, 0, 0])), Resp64);
        Assert.Equal(InvalidCode, o.Frame[3]);
        Assert.Equal(0x8400_0074ul, o.Frame[4]);
        Assert.Contains(o.Decoded.Notes!, n => n.Contains("tag", StringComparison.Ordinal));
    }

    [Fact]
    public void Memory_WrongType_ReportsTheRetrieveError()
    {
        // A SHARE retrieved as LEND is refused by the retrieve checks; the SP reports that step.
        var s = Shared(SendOp.Share, 0x01, 1, out var handle);
        var o = Answer(s.Test.Call(Host, Req(Host, MemorySp, smc64: true, payload: [(uint)handle, handle >> 32, 2, 0, 0])), Resp64);
        Assert.NotEqual(0ul, o.Frame[3]);
        Assert.Equal(0x8400_0074ul, o.Frame[4]);
        Assert.Equal(0ul, o.Frame[5]);
    }

    // ---- notifier -----------------------------------------------------------------------------------------

    [Fact]
    public void Notifier_SetsBoundNotifications_ForTheHost()
    {
        var sys = TestSystem.Default();
        Expect.Success(sys.Call(Host, Nf.BitmapCreate(Host)));
        Expect.Success(sys.Call(Host, Nf.Bind(Notifier, Host, 0x1_0000_0005)));
        var o = Answer(sys.Call(Host, Req(Host, Notifier, smc64: true, payload: [Host, 0x5, 0x1, 0])), Resp64);
        Assert.Equal(W1(Notifier, Host), o.Frame[1]);
        Assert.Equal(0ul, o.Frame[3]);
        Assert.Equal((ulong)Host, o.Frame[4]);
        Assert.Equal(5ul, o.Frame[5]);
        Assert.Equal(1ul, o.Frame[6]);
        var sri = Assert.Single(o.Events!, e => e.Kind == SystemEventKind.ScheduleReceiverInterrupt);
        Assert.Equal(Host, sri.Endpoint);
        Expect.Success(sys.Call(Host, Nf.Get(Host, Nf.FromSps)), w2: 5, w3: 1);
        Expect.Success(sys.Call(Host, Nf.Get(Host, Nf.FromSps)), w2: 0, w3: 0);
    }

    [Fact]
    public void Notifier_OnSecondContext_AndByReq2()
    {
        var sys = TestSystem.Default();
        Expect.Success(sys.Call(Host, Nf.BitmapCreate(Host)));
        Expect.Success(sys.Call(Host, Nf.Bind(Notifier, Host, 0x80)));
        var o = Answer(sys.Call(Host, Req2(Host, Notifier, NotifierUuid1, Host, 0x80, 0, 0), vcpu: 1), Resp2Id);
        Assert.Equal(0ul, o.Frame[4]);
        Assert.Contains(o.Events!, e => e.Kind == SystemEventKind.ScheduleReceiverInterrupt && e.Endpoint == Host);
        Expect.Success(sys.Call(Host, Nf.Get(Host, Nf.FromSps)), w2: 0x80, w3: 0);
    }

    [Fact]
    public void Notifier_WithoutBind_ReportsDenied()
    {
        var sys = TestSystem.Default();
        Expect.Success(sys.Call(Host, Nf.BitmapCreate(Host)));
        var o = Answer(sys.Call(Host, Req(Host, Notifier, payload: [Host, 0x5, 0, 0])), Resp32);
        Assert.Equal(DeniedCode, o.Frame[3]);
        Assert.True(o.Events is null || !o.Events.Any(e => e.Kind == SystemEventKind.ScheduleReceiverInterrupt));
        Expect.Success(sys.Call(Host, Nf.Get(Host, Nf.FromSps)), w2: 0, w3: 0);
    }
}
