using System.Text.Json;
using Spmc.Core.Calls;
using Spmc.Core.Memory;
using Spmc.Core.Tests.Notifications;
using Spmc.Core.Tests.Support;
using static Spmc.Core.Tests.Support.Manifests;

namespace Spmc.Core.Tests.Vms;

/// <summary>
/// Normal-world VMs the manifest does not declare, known on demand as Hafnium's SPMC knows them
/// (src/ffa/spmc/vm.c: ffa_vm_find_locked_create, ffa_vm_nwd_alloc, ffa_vm_nwd_free; max_vms = 16 on its SPMC test
/// platforms, hafnium-project-reference BUILD.gn). Rich system: host (ID 0) with 1 MiB at 0x80000000, declared VMs 1
/// and 2, SPs 0x8001 (v1.2), 0x8002, 0x8003.
/// </summary>
public class UndeclaredVmTests
{
    private const ushort Vm5 = 0x0005, Vm6 = 0x0006;

    /// <summary>Host page <paramref name="n"/>, well away from the host's own pair at 0x80000000..0x80003FFF.</summary>
    private static ulong HostPage(int n) => HostMemory + 0x1_0000 + (ulong)n * 0x1000;

    private static TestSystem RichWithHostBuffers()
    {
        var sys = TestSystem.Rich();
        sys.Map(Host, HostMemory, HostMemory + 0x2000, 2);
        return sys;
    }

    /// <summary>The hypervisor forwards <paramref name="vm"/>'s pair (FFA_RXTX_MAP with x1 = x2 = w3 = 0, descriptor in its TX).</summary>
    private static SmcOutcome Forward(TestSystem sys, ushort vm, ulong tx, ulong rx) =>
        sys.Call(Host, Ffa.RxTxMap(0, 0, 0), writes: [new MemoryWrite(HostMemory, Descriptors.EndpointRxTx(vm, tx: tx, rx: rx))]);

    /// <summary>Forwards a pair for <paramref name="vm"/> at host pages 2n and 2n+1 and checks it succeeded.</summary>
    private static void ForwardOk(TestSystem sys, ushort vm, int n) => Expect.Success(Forward(sys, vm, HostPage(2 * n), HostPage(2 * n + 1)));

    /// <summary>What "state unchanged" compares: endpoints, memory map, transactions, notification records.</summary>
    private static string Snapshot(TestSystem sys)
    {
        var s = sys.State;
        // VersionLocked is set by any call, failed or not (Hafnium handler.c), so it is not part of "unchanged".
        return JsonSerializer.Serialize(new { Endpoints = s.Endpoints.Select(e => e with { VersionLocked = false }), s.Memory, s.Shares }) + sys.NotificationSnapshot();
    }

    private static bool Has(TestSystem sys, ushort id) => sys.State.Endpoints.Any(e => e.Id == id);

    // ---- created on a forwarded RXTX_MAP (api_ffa_rxtx_map → ffa_vm_find_locked_create) -------------------------

    [Fact]
    public void ForwardedMap_ForAnUndeclaredVm_CreatesItsRecord()
    {
        var sys = RichWithHostBuffers();
        Assert.False(Has(sys, Vm5));
        ForwardOk(sys, Vm5, 0);
        var vm = sys.Endpoint(Vm5);
        Assert.True(vm.Learned);
        Assert.False(vm.Secure);
        Assert.Equal(HostPage(0), vm.Mailbox!.Tx);
        Assert.Equal(HostPage(1), vm.Mailbox.Rx);
        // Hafnium's slot carries the other world's boot-time (compiled) version: here the SPMC's.
        Assert.Equal(sys.System.Config.Version, vm.Version);
        // The pages stay in the host's region; they are now RX/TX buffers, so they cannot be sent or mapped again.
        Assert.Contains(sys.State.Memory, r => r.Base == HostPage(0) && r.Use == PageUse.TxBuffer);
        Assert.Contains(sys.State.Memory, r => r.Base == HostPage(1) && r.Use == PageUse.RxBuffer);
        // Declared endpoints stay declared.
        Assert.All(sys.State.Endpoints.Where(e => e.Id != Vm5), e => Assert.False(e.Learned));
    }

    [Fact]
    public void ForwardedMap_UndeclaredVmBuffers_MayBeAnyFreeNormalWorldMemory()
    {
        // Hafnium checks a VM's buffers against the one normal-world table (arch_other_world_vm_configure_rxtx_map),
        // whichever VM's region holds them.
        var sys = RichWithHostBuffers();
        Expect.Success(Forward(sys, Vm5, Vm1Memory + 0x8000, Vm2Memory + 0x8000));
        Assert.Equal(Vm1Memory + 0x8000, sys.Endpoint(Vm5).Mailbox!.Tx);
    }

    [Theory]
    [InlineData(0x6000_8000UL, "secure memory")]    // an SP's region
    [InlineData(0x1000_0000UL, "not memory of this system")] // no region covers it
    [InlineData(0x8000_0000UL, "RX/TX buffer")]     // the host's own TX
    public void ForwardedMap_UndeclaredVmBuffersOutsideFreeNormalWorldMemory_AreDenied(ulong tx, string why)
    {
        // arch_other_world_vm_configure_rxtx_map: not mapped R|W|X|NS in the normal-world table → DENIED.
        var sys = RichWithHostBuffers();
        var before = Snapshot(sys);
        var o = Expect.Error(Forward(sys, Vm5, tx, HostPage(1)), Err.Denied, "rxtx-map.vm-buffer-not-owned");
        Assert.Contains(why, o.Decoded.Reason ?? "", StringComparison.Ordinal);
        Assert.False(Has(sys, Vm5));
        Assert.Equal(before, Snapshot(sys));
    }

    [Fact]
    public void ForwardedMap_UndeclaredVmBuffersAlreadyUsedByAnotherLearnedVm_AreDenied()
    {
        var sys = RichWithHostBuffers();
        ForwardOk(sys, Vm5, 0);
        var before = Snapshot(sys);
        Expect.Error(Forward(sys, Vm6, HostPage(1), HostPage(3)), Err.Denied, "rxtx-map.vm-buffer-not-owned");
        Assert.False(Has(sys, Vm6));
        Assert.Equal(before, Snapshot(sys));
    }

    [Fact]
    public void ForwardedMap_FailingChecks_LeaveNoRecord()
    {
        // Hafnium keeps a slot it took when api_vm_configure_pages then fails; Spmc adds the record only on success.
        var sys = RichWithHostBuffers();
        var before = Snapshot(sys);
        Expect.Error(Forward(sys, Vm5, HostPage(0) + 0x10, HostPage(1)), Err.InvalidParameters, "rxtx-map.unaligned");
        Expect.Error(Forward(sys, Vm5, HostPage(0), HostPage(0)), Err.InvalidParameters, "rxtx-map.overlap");
        Assert.Equal(before, Snapshot(sys));
    }

    [Fact]
    public void ForwardedMap_Twice_IsDeniedAsAlreadyMapped()
    {
        var sys = RichWithHostBuffers();
        ForwardOk(sys, Vm5, 0);
        var before = Snapshot(sys);
        Expect.Error(Forward(sys, Vm5, HostPage(2), HostPage(3)), Err.Denied, "rxtx-map.already-mapped");
        Assert.Equal(before, Snapshot(sys));
    }

    // ---- which IDs (ffa_is_vm_id; Spmc stricter on the forwarded descriptor's ID) ------------------------------

    [Theory]
    [InlineData(0x0000)] // the hypervisor itself
    [InlineData(0x7FFF)] // the invalid ID (Hafnium's free-slot sentinel)
    [InlineData(0x8001)] // a partition
    [InlineData(0x8009)] // a secure ID of no partition
    public void ForwardedMap_ForAnIdThatIsNotAVm_IsInvalid(ushort id)
    {
        var sys = RichWithHostBuffers();
        var before = Snapshot(sys);
        Expect.Error(Forward(sys, id, HostPage(0), HostPage(1)), Err.InvalidParameters, "rxtx-map.forward-not-a-vm");
        Assert.Equal(before, Snapshot(sys));
    }

    [Theory]
    [InlineData(0x7FFF)]
    [InlineData(0x8005)]
    public void BitmapCreate_ForAnIdThatIsNotAVm_IsInvalid(ushort id)
    {
        // ffa_notifications_is_bitmap_access_valid: not a VM ID → INVALID_PARAMETERS (0x7FFF: refused, not "found").
        var sys = TestSystem.Rich();
        var before = Snapshot(sys);
        Expect.Error(sys.Call(Host, Nf.BitmapCreate(id)), Err.InvalidParameters, "notification-bitmap-create.not-a-vm");
        Assert.Equal(before, Snapshot(sys));
    }

    // ---- created on NOTIFICATION_BITMAP_CREATE (ffa_notifications_bitmap_create → ffa_vm_nwd_alloc) -------------

    [Fact]
    public void BitmapCreate_ForAnUndeclaredVm_CreatesItsRecord()
    {
        var sys = TestSystem.Rich();
        Expect.Success(sys.Call(Host, Nf.BitmapCreate(Vm5, vcpus: 3)));
        var vm = sys.Endpoint(Vm5);
        Assert.True(vm.Learned);
        Assert.Null(vm.Mailbox);
        var notifications = sys.Notifications(Vm5);
        Assert.True(notifications.Enabled);
        Assert.Equal(3, notifications.Vcpus);
        // Created once: a second create is DENIED, state unchanged.
        var before = Snapshot(sys);
        Expect.Error(sys.Call(Host, Nf.BitmapCreate(Vm5)), Err.Denied, "notification-bitmap-create.already-created");
        Assert.Equal(before, Snapshot(sys));
    }

    [Fact]
    public void BitmapCreate_ThenForwardedMap_UseOneRecord()
    {
        var sys = RichWithHostBuffers();
        Expect.Success(sys.Call(Host, Nf.BitmapCreate(Vm5)));
        ForwardOk(sys, Vm5, 0);
        Assert.Single(sys.State.Endpoints, e => e.Id == Vm5);
        Assert.True(sys.Notifications(Vm5).Enabled);
    }

    [Fact]
    public void BitmapCreate_FailingCountCheck_LeavesNoRecord()
    {
        // A 1.3 SPMC: w3[8:0] above 320 → NO_MEMORY (count-too-large), and no record for the VM.
        var sys = TestSystem.Default();
        var before = Snapshot(sys);
        Expect.Error(sys.Call(Host, Ffa.Frame(0x8400_007D, Vm5, 1, 321)), Err.NoMemory, "notification-bitmap-create.count-too-large");
        Assert.Equal(before, Snapshot(sys));
    }

    // ---- the limit: max_vms records ----------------------------------------------------------------------------

    [Fact]
    public void ForwardedMap_WhenEveryVmRecordIsTaken_IsDenied_AndBitmapCreateIsNoMemory()
    {
        var sys = RichWithHostBuffers();
        for (var i = 0; i < 16; i++) ForwardOk(sys, (ushort)(0x10 + i), i);
        Assert.Equal(16, sys.State.Endpoints.Count(e => e.Learned));
        var before = Snapshot(sys);
        // ffa_vm_find_locked_create returns NULL → api_ffa_rxtx_map DENIED; ffa_vm_nwd_alloc NULL → BITMAP_CREATE NO_MEMORY.
        Expect.Error(Forward(sys, 0x20, HostPage(40), HostPage(41)), Err.Denied, "rxtx-map.forward-no-vm-slot");
        Expect.Error(sys.Call(Host, Nf.BitmapCreate(0x21)), Err.NoMemory, "notification-bitmap-create.no-vm-slot");
        // A declared VM without a record needs a slot too (Hafnium would hold one for it).
        Expect.Error(Forward(sys, Vm1, Vm1Memory, Vm1Memory + 0x1000), Err.Denied, "rxtx-map.forward-no-vm-slot");
        Expect.Error(sys.Call(Host, Nf.BitmapCreate(Vm2)), Err.NoMemory, "notification-bitmap-create.no-vm-slot");
        Assert.Equal(before, Snapshot(sys));
        // A VM that has a record needs no new slot; the hypervisor's own bitmap is not in the table.
        Expect.Success(sys.Call(Host, Nf.BitmapCreate(0x10)));
        Expect.Success(sys.Call(Host, Nf.BitmapCreate(Host)));
        // Freeing one record makes room.
        Expect.Success(sys.Call(Host, Ffa.RxTxUnmap(0x11)));
        Assert.False(Has(sys, 0x11));
        Expect.Success(Forward(sys, 0x20, HostPage(40), HostPage(41)));
    }

    [Fact]
    public void DeclaredVmsWithARecord_CountTowardsTheLimit()
    {
        var sys = RichWithHostBuffers();
        Expect.Success(sys.Call(Host, Nf.BitmapCreate(Vm1)));
        Expect.Success(Forward(sys, Vm2, Vm2Memory, Vm2Memory + 0x1000));
        for (var i = 0; i < 14; i++) Expect.Success(sys.Call(Host, Nf.BitmapCreate((ushort)(0x10 + i))));
        Expect.Error(sys.Call(Host, Nf.BitmapCreate(0x30)), Err.NoMemory, "notification-bitmap-create.no-vm-slot");
        // Destroying the declared VM's bitmap frees its slot (the VM stays declared).
        Expect.Success(sys.Call(Host, Nf.BitmapDestroy(Vm1)));
        Assert.True(Has(sys, Vm1));
        Expect.Success(sys.Call(Host, Nf.BitmapCreate(0x30)));
    }

    // ---- freed only when both the pair and the bitmap are gone (ffa_vm_nwd_free) ------------------------------

    [Fact]
    public void Record_IsFreedOnlyWhenPairUnmappedAndBitmapDestroyed_UnmapFirst()
    {
        var sys = RichWithHostBuffers();
        ForwardOk(sys, Vm5, 0);
        Expect.Success(sys.Call(Host, Nf.BitmapCreate(Vm5)));
        Expect.Success(sys.Call(Host, Ffa.RxTxUnmap(Vm5)));
        Assert.True(Has(sys, Vm5)); // the bitmap keeps the record
        Assert.Null(sys.Endpoint(Vm5).Mailbox);
        Assert.All(sys.State.Memory.Where(r => r.Base >= HostPage(0)), r => Assert.Equal(PageUse.Owned, r.Use));
        Expect.Success(sys.Call(Host, Nf.BitmapDestroy(Vm5)));
        Assert.False(Has(sys, Vm5));
        Assert.DoesNotContain(sys.State.Notifications, n => n.Receiver == Vm5);
        // Gone: calls naming it find no record.
        Expect.Error(sys.Call(Host, Ffa.RxTxUnmap(Vm5)), Err.InvalidParameters, "rxtx-unmap.unknown-vm");
        Expect.Error(sys.Call(Host, Nf.BitmapDestroy(Vm5)), Err.Denied, "notification-bitmap-destroy.no-record");
        Expect.Error(sys.Call(Host, Ffa.RxRelease(Vm5)), Err.InvalidParameters, "rx-release.unknown-vm");
    }

    [Fact]
    public void Record_IsFreedOnlyWhenPairUnmappedAndBitmapDestroyed_DestroyFirst()
    {
        var sys = RichWithHostBuffers();
        Expect.Success(sys.Call(Host, Nf.BitmapCreate(Vm5)));
        ForwardOk(sys, Vm5, 0);
        Expect.Success(sys.Call(Host, Nf.BitmapDestroy(Vm5)));
        Assert.True(Has(sys, Vm5)); // the pair keeps the record
        Assert.False(sys.Notifications(Vm5).Enabled);
        Expect.Success(sys.Call(Host, Ffa.RxTxUnmap(Vm5)));
        Assert.False(Has(sys, Vm5));
        // The pages are free normal-world memory again.
        Expect.Success(Forward(sys, Vm6, HostPage(0), HostPage(1)));
    }

    [Fact]
    public void DeclaredVm_StaysAnEndpointWhenItsRecordGoes()
    {
        var sys = RichWithHostBuffers();
        Expect.Success(Forward(sys, Vm1, Vm1Memory, Vm1Memory + 0x1000));
        Expect.Success(sys.Call(Host, Ffa.RxTxUnmap(Vm1)));
        Assert.True(Has(sys, Vm1));
        Assert.False(sys.Endpoint(Vm1).Learned);
    }

    // ---- calls as an undeclared VM (Hafnium only ever sees ID 0 from the normal world) ------------------------

    [Fact]
    public void CallsAsALearnedVm_AreRefused()
    {
        var sys = RichWithHostBuffers();
        ForwardOk(sys, Vm5, 0);
        var before = Snapshot(sys);
        var o = Expect.Error(sys.Call(Vm5, Ffa.IdGet()), Err.InvalidParameters, "dispatch.unknown-caller");
        Assert.Contains("hypervisor", o.Decoded.Reason ?? "", StringComparison.Ordinal);
        Expect.Error(sys.Call(Vm5, Ffa.RxTxUnmap()), Err.InvalidParameters, "dispatch.unknown-caller");
        Assert.Equal(before, Snapshot(sys));
    }

    // ---- MSG_SEND2 naming an undeclared VM (api_ffa_msg_send2: sender record → else DENIED) --------------------

    [Fact]
    public void MsgSend2_FromAnUndeclaredVmWithoutRecord_IsDenied_AndWithARecord_IsDelivered()
    {
        var sys = RichWithHostBuffers();
        sys.Map(Sp12, 0x6000_0000, 0x6000_1000);
        var message = Nf.Message(Vm5, Sp12, [1, 2, 3, 4]);
        var before = Snapshot(sys);
        Expect.Error(sys.Call(Host, Nf.MsgSend2(senderVm: Vm5)), Err.Denied, "msg-send2.unknown-sender");
        Assert.Equal(before, Snapshot(sys));
        ForwardOk(sys, Vm5, 0);
        Expect.Success(sys.Call(Host, Nf.MsgSend2(senderVm: Vm5), writes: [new MemoryWrite(HostPage(0), message)]));
        Assert.Equal([1, 2, 3, 4], sys.Peek(0x6000_1000 + 40, 4));
    }

    [Fact]
    public void DocExample_BitmapForAnUndeclaredVm_OnTheDefaultPassthroughSystem()
    {
        // docs/api.md "Normal-world VMs known on demand".
        var sys = TestSystem.Default();
        Expect.Success(sys.Call(Host, Ffa.Frame(0x8400_007D, 5, 2)));
        Assert.True(sys.Endpoint(Vm5).Learned);
        Assert.True(sys.Notifications(Vm5).Enabled);
        Expect.Success(sys.Call(Host, Ffa.Frame(0x8400_007E, 5)));
        Assert.False(Has(sys, Vm5));
    }

    // ---- the state view ------------------------------------------------------------------------------------------

    [Fact]
    public void StateView_MarksLearnedEndpoints()
    {
        var sys = RichWithHostBuffers();
        Expect.Success(sys.Call(Host, Nf.BitmapCreate(Vm6)));
        ForwardOk(sys, Vm5, 0);
        var learned = sys.State.Endpoints.Where(e => e.Learned).Select(e => e.Id).ToArray();
        Assert.Equal([Vm5, Vm6], learned);
        Assert.Equal("vm-0005", sys.Endpoint(Vm5).Name);
    }
}
