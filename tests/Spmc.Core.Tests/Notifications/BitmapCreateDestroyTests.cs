using Spmc.Core.Tests.Support;
using static Spmc.Core.Tests.Support.Manifests;

namespace Spmc.Core.Tests.Notifications;

/// <summary>FFA_NOTIFICATION_BITMAP_CREATE / DESTROY (spmc-behaviour.md §11; Hafnium ffa_notifications_bitmap_*).</summary>
public class BitmapCreateDestroyTests
{
    [Fact]
    public void Create_ForAVm_EnablesItsNotifications_WithTheGivenVcpuCount()
    {
        var sys = Nf.Rich();
        Assert.False(sys.Notifications(Vm1).Enabled);
        var o = Expect.Success(sys.Call(Host, Nf.BitmapCreate(Vm1, 3)));
        Assert.Equal("FFA_NOTIFICATION_BITMAP_CREATE", o.Decoded.Function);
        var view = sys.Notifications(Vm1);
        Assert.True(view.Enabled);
        Assert.Equal(3, view.Vcpus);
    }

    [Fact]
    public void Create_ForId0_EnablesTheHypervisorsOwn_KeepingItsVcpuCount()
    {
        var sys = Nf.Rich();
        Expect.Success(sys.Call(Host, Nf.BitmapCreate(Host, 7)));
        Assert.True(sys.Notifications(Host).Enabled);
        Assert.Equal(2, sys.Notifications(Host).Vcpus); // the manifest's 2 vCPUs: Hafnium ignores w2 for the other-world VM
    }

    [Theory]
    [InlineData(Host)]
    [InlineData(Vm1)]
    public void Create_Twice_IsDenied(ushort vm)
    {
        var sys = Nf.Rich();
        Expect.Success(sys.Call(Host, Nf.BitmapCreate(vm, 2)));
        var before = sys.NotificationSnapshot();
        Expect.Error(sys.Call(Host, Nf.BitmapCreate(vm, 5)), Err.Denied, "notification-bitmap-create.already-created");
        Assert.Equal(before, sys.NotificationSnapshot());
    }

    [Theory]
    [InlineData(0x8001)]
    [InlineData(0x8000)]
    [InlineData(0xFFFF)]
    public void Create_ForASecureId_IsInvalid(ushort id)
    {
        var sys = Nf.Rich();
        var before = sys.NotificationSnapshot();
        Expect.Error(sys.Call(Host, Nf.BitmapCreate(id)), Err.InvalidParameters, "notification-bitmap-create.not-a-vm");
        Assert.Equal(before, sys.NotificationSnapshot());
    }

    [Fact]
    public void Create_ForAVmNotInTheSystem_CreatesItsRecord()
    {
        // Hafnium ffa_notifications_bitmap_create → ffa_vm_nwd_alloc: any VM ID gets a slot (more in UndeclaredVmTests).
        var sys = Nf.Rich();
        Expect.Success(sys.Call(Host, Nf.BitmapCreate(0x0005)));
        Assert.True(sys.Notifications(0x0005).Enabled);
    }

    [Fact]
    public void Create_ReadsOnlyW1Bits15To0_AndW2Bits15To0()
    {
        // Hafnium casts w1 to a 16-bit ID and w2 to a 16-bit vCPU count.
        var sys = Nf.Rich();
        Expect.Success(sys.Call(Host, Nf.BitmapCreate(0xABCD_0000 | Vm1, 0x1_0004)));
        Assert.Equal(4, sys.Notifications(Vm1).Vcpus);
    }

    [Theory]
    [InlineData(Vm1)]
    [InlineData(Sp12)]
    [InlineData(Sp11)]
    public void CreateAndDestroy_FromAnyoneButId0_AreNotSupported(ushort caller)
    {
        var sys = Nf.Rich();
        Expect.Error(sys.Call(caller, Nf.BitmapCreate(Vm1)), Err.NotSupported, "dispatch.hypervisor-only");
        Expect.Error(sys.Call(caller, Nf.BitmapCreate(Vm2)), Err.NotSupported, "dispatch.hypervisor-only");
        Assert.False(sys.Notifications(Vm1).Enabled);
        Expect.Success(sys.Call(Host, Nf.BitmapCreate(Vm1)));
        Expect.Error(sys.Call(caller, Nf.BitmapDestroy(Vm1)), Err.NotSupported, "dispatch.hypervisor-only");
        Assert.True(sys.Notifications(Vm1).Enabled);
    }

    [Fact]
    public void Destroy_AfterCreate_Succeeds_ThenIsDenied()
    {
        var sys = Nf.Rich();
        Expect.Success(sys.Call(Host, Nf.BitmapCreate(Vm1)));
        Expect.Success(sys.Call(Host, Nf.BitmapDestroy(Vm1)));
        Assert.False(sys.Notifications(Vm1).Enabled);
        Expect.Error(sys.Call(Host, Nf.BitmapDestroy(Vm1)), Err.Denied, "notification-bitmap-destroy.no-record");
        Expect.Success(sys.Call(Host, Nf.BitmapCreate(Vm1))); // and it can be created again
    }

    [Theory]
    [InlineData(Host)]
    [InlineData(Vm1)]
    [InlineData(Vm2)]
    public void Destroy_NeverCreated_IsDenied(ushort vm) =>
        Expect.Error(Nf.Rich().Call(Host, Nf.BitmapDestroy(vm)), Err.Denied,
            vm == Host ? "notification-bitmap-destroy.not-created" : "notification-bitmap-destroy.no-record"); // the SPMC always knows ID 0

    [Fact]
    public void Destroy_OfAVmWithAForwardedMailboxButNoBitmap_IsDenied()
    {
        var sys = Nf.Rich();
        sys.Map(Host, HostMemory, HostMemory + 0x1000);
        Expect.Success(sys.Call(Host, Ffa.RxTxMap(0, 0, 0),
            writes: [new Spmc.Core.Calls.MemoryWrite(HostMemory, Descriptors.EndpointRxTx(Vm1, tx: Vm1Memory, rx: Vm1Memory + 0x1000))]));
        Expect.Error(sys.Call(Host, Nf.BitmapDestroy(Vm1)), Err.Denied, "notification-bitmap-destroy.not-created");
    }

    [Theory]
    [InlineData(0x8001)]
    [InlineData(0xFFC0)]
    public void Destroy_ForASecureId_IsInvalid(ushort id) =>
        Expect.Error(Nf.Rich().Call(Host, Nf.BitmapDestroy(id)), Err.InvalidParameters, "notification-bitmap-destroy.not-a-vm");

    [Fact]
    public void Destroy_WithNotificationsFromAnSpPending_IsDenied_AndKeepsEverything()
    {
        var sys = Nf.RichWithBinding(Vm1, Sp12, 0b1010);
        Expect.Success(sys.Call(Sp12, Nf.Set(Sp12, Vm1, 0b10)));
        var before = sys.NotificationSnapshot();
        Expect.Error(sys.Call(Host, Nf.BitmapDestroy(Vm1)), Err.Denied, "notification-bitmap-destroy.pending");
        Assert.Equal(before, sys.NotificationSnapshot());
        Assert.True(sys.Notifications(Vm1).Enabled);

        // Once retrieved, destroy succeeds and the bindings go with the bitmap.
        Expect.Success(sys.Call(Host, Nf.Get(Vm1, Nf.FromSps)), w2: 0b10);
        Expect.Success(sys.Call(Host, Nf.BitmapDestroy(Vm1)));
        Assert.Empty(sys.Notifications(Vm1).BoundToSps);
        Expect.Success(sys.Call(Host, Nf.BitmapCreate(Vm1)));
        Expect.Error(sys.Call(Sp12, Nf.Set(Sp12, Vm1, 0b10)), Err.Denied, "notification-set.not-bound-to-sender"); // not bound any more
    }

    [Fact]
    public void Destroy_WithOnlyAnRxFullFrameworkNotificationPending_Succeeds_AsInHafnium()
    {
        // Hafnium's destroy checks only notifications from SPs; the framework bit stays pending.
        var sys = Nf.Rich();
        Expect.Success(sys.Call(Host, Nf.BitmapCreate(Host)));
        sys.Map(Host, HostMemory, HostMemory + 0x1000);
        sys.Map(Sp12, Sp12Memory, Sp12Memory + 0x1000);
        Expect.Success(sys.Call(Sp12, Nf.MsgSend2(), writes: [new Spmc.Core.Calls.MemoryWrite(Sp12Memory, Nf.Message(Sp12, Host, [1, 2, 3]))]));
        Assert.Equal(1ul, sys.Notifications(Host).PendingFramework);
        Expect.Success(sys.Call(Host, Nf.BitmapDestroy(Host)));
        Assert.Equal(1ul, sys.Notifications(Host).PendingFramework);
        Assert.Equal(1ul, Expect.Success(sys.Call(Host, Nf.Get(Host, Nf.FromSpm)), w2: 0, w3: 0).Frame[6]);
    }
}
