using Spmc.Core.Calls;
using Spmc.Core.Spm;
using Spmc.Core.Tests.Support;
using static Spmc.Core.Tests.Support.Manifests;

namespace Spmc.Core.Tests.Notifications;

/// <summary>FFA_NOTIFICATION_SET and FFA_NOTIFICATION_GET (spmc-behaviour.md §11; Hafnium api_ffa_notification_set/get).</summary>
public class SetGetTests
{
    /// <summary>A frame that fails with <paramref name="error"/> by <paramref name="rule"/>, changing no notification state and raising no event.</summary>
    private static void Refused(TestSystem sys, ushort caller, Spmc.Abi.Smccc.SmcFrame frame, Err error, string rule)
    {
        sys.Events();
        var before = sys.NotificationSnapshot();
        Expect.Error(sys.Call(caller, frame), error, rule);
        Assert.Equal(before, sys.NotificationSnapshot());
        Assert.Empty(sys.Events());
    }

    [Fact]
    public void Set_SpToSp_MakesTheBitsPending_RaisesSriAndNpi_GetReturnsAndClearsThem()
    {
        var sys = Nf.RichWithBinding(Sp12, Sp11, 0x8000_0001_0000_0004);
        var o = Expect.Success(sys.Call(Sp11, Nf.Set(Sp11, Sp12, 0x8000_0001_0000_0004)));
        Assert.Equal("FFA_NOTIFICATION_SET", o.Decoded.Function);
        Assert.Equal(0x8000_0001_0000_0004ul, sys.Notifications(Sp12).PendingFromSps);

        var events = sys.Events();
        Assert.Equal([SystemEventKind.ScheduleReceiverInterrupt, SystemEventKind.NotificationPendingInterrupt], events.Select(e => e.Kind));
        Assert.All(events, e => Assert.Equal(Sp12, e.Endpoint));
        Assert.False(events[0].Delayed);

        var get = Expect.Success(sys.Call(Sp12, Nf.Get(Sp12, Nf.FromSps | Nf.FromVms | Nf.FromSpm | Nf.FromHyp)), w2: 4, w3: 0x8000_0001);
        Assert.Equal([0ul, 0, 0, 0], get.Frame.ToArray()[4..8]);
        Assert.Equal("FFA_NOTIFICATION_GET", get.Decoded.Function);
        Assert.Equal(0ul, sys.Notifications(Sp12).PendingFromSps);
        Expect.Success(sys.Call(Sp12, Nf.Get(Sp12, Nf.FromSps)), w2: 0, w3: 0);
    }

    [Fact]
    public void Set_DelaySri_RaisesADelayedSri()
    {
        var sys = Nf.RichWithBinding(Sp12, Sp11, 1);
        sys.Events();
        Expect.Success(sys.Call(Sp11, Nf.Set(Sp11, Sp12, 1, flags: Nf.DelaySri)));
        var sri = Assert.Single(sys.Events(), e => e.Kind == SystemEventKind.ScheduleReceiverInterrupt);
        Assert.True(sri.Delayed);
    }

    [Fact]
    public void Set_SpToVm_RaisesSriOnly_AndTheHypervisorGetsThemForTheVm()
    {
        var sys = Nf.RichWithBinding(Vm1, Sp12, 0b110);
        sys.Events();
        Expect.Success(sys.Call(Sp12, Nf.Set(Sp12, Vm1, 0b010)));
        var sri = Assert.Single(sys.Events());
        Assert.Equal((SystemEventKind.ScheduleReceiverInterrupt, Vm1), (sri.Kind, sri.Endpoint));
        Expect.Success(sys.Call(Host, Nf.Get(Vm1, Nf.FromSps)), w2: 0b010, w3: 0);
    }

    [Fact]
    public void Set_VmToSp_ById0_GoesToTheFromVmsBitmap()
    {
        var sys = Nf.RichWithBinding(Sp12, Vm1, 0x1_0000_0000);
        Expect.Success(sys.Call(Host, Nf.Set(Vm1, Sp12, 0x1_0000_0000)));
        Assert.Equal(0x1_0000_0000ul, sys.Notifications(Sp12).PendingFromVms);
        Expect.Success(sys.Call(Sp12, Nf.Get(Sp12, Nf.FromSps)), w2: 0); // another bitmap: untouched
        var get = Expect.Success(sys.Call(Sp12, Nf.Get(Sp12, Nf.FromVms)), w2: 0, w3: 0);
        Assert.Equal((0ul, 1ul), (get.Frame[4], get.Frame[5]));
    }

    [Fact]
    public void Set_ByAVmOtherThanId0_AsItself_Succeeds_ForAnotherVm_IsInvalid()
    {
        var sys = Nf.RichWithBinding(Sp12, Vm1, 1);
        Refused(sys, Vm2, Nf.Set(Vm1, Sp12, 1), Err.InvalidParameters, "notification-set.vm-not-sender");
        Expect.Success(sys.Call(Vm1, Nf.Set(Vm1, Sp12, 1)));
    }

    [Fact]
    public void Set_AgainWhilePending_StaysPending_AndSignalsAgain()
    {
        var sys = Nf.RichWithBinding(Sp12, Sp11, 1);
        Expect.Success(sys.Call(Sp11, Nf.Set(Sp11, Sp12, 1)));
        sys.Events();
        Expect.Success(sys.Call(Sp11, Nf.Set(Sp11, Sp12, 1)));
        Assert.Equal(2, sys.Events().Count);
        Expect.Success(sys.Call(Sp12, Nf.Get(Sp12, Nf.FromSps)), w2: 1);
    }

    [Fact]
    public void Set_PerVcpuFlag_IsInvalid_AtHafniumHead() =>
        Refused(Nf.RichWithBinding(Sp12, Sp11, 1), Sp11, Nf.Set(Sp11, Sp12, 1, flags: 1), Err.InvalidParameters, "notification-set.per-vcpu");

    [Fact]
    public void Set_NonZeroVcpuId_IsInvalid() =>
        Refused(Nf.RichWithBinding(Sp12, Sp11, 1), Sp11, Nf.Set(Sp11, Sp12, 1, flags: 1ul << 16), Err.InvalidParameters, "notification-set.vcpu-not-zero");

    [Theory]
    [InlineData(4ul)]
    [InlineData(0x8000ul)]
    public void Set_ReservedFlagBits_AreInvalid(ulong flags) =>
        Refused(Nf.RichWithBinding(Sp12, Sp11, 1), Sp11, Nf.Set(Sp11, Sp12, 1, flags), Err.InvalidParameters, "notification-set.flags-mbz");

    [Fact]
    public void Set_FlagChecks_ComeInHafniumsOrder()
    {
        var sys = Nf.Rich();
        Expect.Error(sys.Call(Sp11, Nf.Set(Sp11, Sp11, 0, flags: 0x1_0005)), Err.InvalidParameters, "notification-set.per-vcpu");
        Expect.Error(sys.Call(Sp11, Nf.Set(Sp11, Sp11, 0, flags: 0x1_0004)), Err.InvalidParameters, "notification-set.vcpu-not-zero");
        Expect.Error(sys.Call(Sp11, Nf.Set(Sp11, Sp11, 0, flags: 4)), Err.InvalidParameters, "notification-set.flags-mbz");
        Expect.Error(sys.Call(Sp11, Nf.Set(Sp11, Sp11, 0)), Err.InvalidParameters, "notification-set.sender-is-receiver");
        Expect.Error(sys.Call(Sp11, Nf.Set(Sp11, Sp12, 0)), Err.InvalidParameters, "notification-set.empty-bitmap");
    }

    [Fact]
    public void Set_SenderEqualsReceiver_IsInvalid() =>
        Refused(Nf.Rich(), Sp12, Nf.Set(Sp12, Sp12, 1), Err.InvalidParameters, "notification-set.sender-is-receiver");

    [Fact]
    public void Set_BySpAsAnotherSender_IsInvalid() =>
        Refused(Nf.RichWithBinding(Sp12, Sp11, 1), Sp12, Nf.Set(Sp11, Sp12, 1), Err.InvalidParameters, "notification-set.sp-not-sender");

    [Fact]
    public void Set_FromTheNormalWorld_NeedsAVmSenderAndAnSpReceiver()
    {
        var sys = Nf.RichWithBinding(Vm1, Sp12, 1);
        Refused(sys, Host, Nf.Set(Sp12, Vm1, 1), Err.InvalidParameters, "notification-set.normal-world-pair"); // SP sender
        Refused(sys, Host, Nf.Set(Vm2, Vm1, 1), Err.InvalidParameters, "notification-set.normal-world-pair");  // VM receiver
    }

    [Theory]
    [InlineData(0xFFC0)]
    [InlineData(0x7FFF)]
    public void Set_SpmdLogicalPartitionOrInvalidSender_IsInvalid(ushort sender) =>
        Refused(Nf.Rich(), Host, Nf.Set(sender, Sp12, 1), Err.InvalidParameters,
            sender == 0x7FFF ? "notification-set.invalid-id" : "notification-set.spmd-logical-partition");

    [Fact]
    public void Set_EmptyBitmap_IsInvalid() =>
        Refused(Nf.RichWithBinding(Sp12, Sp11, 1), Sp11, Nf.Set(Sp11, Sp12, 0), Err.InvalidParameters, "notification-set.empty-bitmap");

    [Fact]
    public void Set_DelaySriWithAVmSender_IsInvalid() =>
        Refused(Nf.RichWithBinding(Sp12, Vm1, 1), Host, Nf.Set(Vm1, Sp12, 1, flags: Nf.DelaySri), Err.InvalidParameters, "notification-set.delay-sri-vm-sender");

    [Fact]
    public void Set_ToAVmWithoutBitmap_IsInvalid() =>
        Refused(Nf.Rich(), Sp12, Nf.Set(Sp12, Vm1, 1), Err.InvalidParameters, "notification-set.unknown-receiver");

    [Fact]
    public void Set_ToAnUnknownPartition_IsInvalid() =>
        Refused(Nf.Rich(), Host, Nf.Set(Vm1, 0x8009, 1), Err.InvalidParameters, "notification-set.unknown-receiver");

    [Fact]
    public void Set_ToId0WithoutBitmap_IsDenied() => Refused(Nf.Rich(), Sp12, Nf.Set(Sp12, Host, 1), Err.Denied, "notification-set.not-enabled");

    [Fact]
    public void Set_ToAPartitionWithoutNotifications_IsDenied()
    {
        var sys = TestSystem.FromJson(BindUnbindTests.NoNotificationsJson);
        sys.Events();
        Expect.Error(sys.Call(0x8001, Nf.Set(0x8001, 0x8002, 1)), Err.Denied, "notification-set.not-enabled");
        Assert.Empty(sys.Events());
    }

    [Fact]
    public void Set_UnboundBits_AreDenied()
    {
        var sys = Nf.RichWithBinding(Sp12, Sp11, 0b01);
        Refused(sys, Sp11, Nf.Set(Sp11, Sp12, 0b10), Err.Denied, "notification-set.not-bound-to-sender");
        Refused(sys, Sp11, Nf.Set(Sp11, Sp12, 0b11), Err.Denied, "notification-set.not-bound-to-sender"); // one unbound bit: nothing is set
    }

    [Fact]
    public void Set_BitsBoundToAnotherSender_AreDenied()
    {
        var sys = Nf.RichWithBinding(Sp12, Sp11, 0b01);
        Expect.Success(sys.Call(Sp12, Nf.Bind(Vm1, Sp12, 0b10)));
        Refused(sys, Host, Nf.Set(Vm1, Sp12, 0b01), Err.Denied, "notification-set.not-bound-to-sender"); // bit 0 is bound to an SP, not to VM 1
        Refused(sys, Host, Nf.Set(Vm2, Sp12, 0b10), Err.Denied, "notification-set.not-bound-to-sender");
        Expect.Success(sys.Call(Host, Nf.Set(Vm1, Sp12, 0b10)));
    }

    [Fact]
    public void Get_ReservedFlagBits_AreInvalid() => Refused(Nf.Rich(), Sp12, Nf.Get(Sp12, 0x10), Err.InvalidParameters, "notification-get.flags-mbz");

    [Fact]
    public void Get_ForAnotherPartition_IsInvalid()
    {
        var sys = Nf.RichWithBinding(Sp12, Sp11, 1);
        Expect.Success(sys.Call(Sp11, Nf.Set(Sp11, Sp12, 1)));
        Refused(sys, Sp11, Nf.Get(Sp12, Nf.FromSps), Err.InvalidParameters, "notification-get.not-the-receiver");
        Refused(sys, Host, Nf.Get(Sp12, Nf.FromSps), Err.InvalidParameters, "notification-get.not-the-receiver");
        Refused(sys, Vm1, Nf.Get(Sp12, Nf.FromSps), Err.InvalidParameters, "notification-get.not-the-receiver");
    }

    [Fact]
    public void Get_ByAVmOtherThanId0_ForAnotherVm_IsInvalid()
    {
        var sys = Nf.RichWithBinding(Vm1, Sp12, 1);
        Expect.Success(sys.Call(Sp12, Nf.Set(Sp12, Vm1, 1)));
        Refused(sys, Vm2, Nf.Get(Vm1, Nf.FromSps), Err.InvalidParameters, "notification-get.not-the-receiver");
        Expect.Success(sys.Call(Vm1, Nf.Get(Vm1, Nf.FromSps)), w2: 1);
    }

    [Theory]
    [InlineData(Nf.FromVms)]
    [InlineData(Nf.FromHyp)]
    [InlineData(Nf.FromSps | Nf.FromHyp)]
    public void Get_ForAVm_WithVmOrHypervisorFlags_IsInvalid(ulong flags)
    {
        var sys = Nf.RichWithBinding(Vm1, Sp12, 1);
        Expect.Success(sys.Call(Sp12, Nf.Set(Sp12, Vm1, 1)));
        Refused(sys, Host, Nf.Get(Vm1, flags), Err.InvalidParameters, "notification-get.vm-receiver-flags");
        Refused(sys, Host, Nf.Get(Host, flags), Err.InvalidParameters, "notification-get.vm-receiver-flags");
    }

    [Fact]
    public void Get_ForAVmTheSpmcHasNoRecordOf_IsInvalid() =>
        Refused(Nf.Rich(), Host, Nf.Get(Vm1, Nf.FromSps), Err.InvalidParameters, "notification-get.unknown-receiver");

    [Fact]
    public void Get_VcpuAtOrAboveTheCount_IsInvalid()
    {
        var sys = Nf.RichWithBinding(Sp12, Sp11, 1);
        Expect.Success(sys.Call(Sp11, Nf.Set(Sp11, Sp12, 1)));
        Refused(sys, Sp12, Nf.Get(Sp12, Nf.FromSps, vcpu: 1), Err.InvalidParameters, "notification-get.vcpu"); // one execution context
        Expect.Success(sys.Call(Host, Nf.BitmapCreate(Vm1, 2)));
        Expect.Success(sys.Call(Host, Nf.Get(Vm1, Nf.FromSps, vcpu: 1)));
        Refused(sys, Host, Nf.Get(Vm1, Nf.FromSps, vcpu: 2), Err.InvalidParameters, "notification-get.vcpu");
        Expect.Success(sys.Call(Sp12, Nf.Get(Sp12, Nf.FromSps, vcpu: 0)), w2: 1);
    }

    [Fact]
    public void Get_ForAPartitionWithoutNotifications_SucceedsEmpty()
    {
        // Hafnium's GET does not check that notifications are enabled.
        var sys = TestSystem.FromJson(BindUnbindTests.NoNotificationsJson);
        Expect.Success(sys.Call(0x8002, Nf.Get(0x8002, 0xF)), w2: 0, w3: 0);
    }

    [Fact]
    public void Get_OnlyTheSelectedBitmapsAreCleared()
    {
        var sys = Nf.RichWithBinding(Sp12, Sp11, 1);
        Expect.Success(sys.Call(Sp12, Nf.Bind(Vm1, Sp12, 2)));
        Expect.Success(sys.Call(Sp11, Nf.Set(Sp11, Sp12, 1)));
        Expect.Success(sys.Call(Host, Nf.Set(Vm1, Sp12, 2)));
        var o = Expect.Success(sys.Call(Sp12, Nf.Get(Sp12, Nf.FromVms)), w2: 0);
        Assert.Equal(2ul, o.Frame[4]);
        Assert.Equal(1ul, sys.Notifications(Sp12).PendingFromSps);
        Assert.Equal(0ul, sys.Notifications(Sp12).PendingFromVms);
    }

    [Fact]
    public void Get_AnswersWithZeroExtended32BitRegisters()
    {
        var sys = Nf.RichWithBinding(Sp12, Sp11, ulong.MaxValue);
        Expect.Success(sys.Call(Sp11, Nf.Set(Sp11, Sp12, ulong.MaxValue)));
        var o = Expect.Success(sys.Call(Sp12, Nf.Get(Sp12, Nf.FromSps)), w2: 0xFFFF_FFFF, w3: 0xFFFF_FFFF);
        Assert.Equal(0x8400_0061ul, o.Frame[0]);
    }

    [Fact]
    public void Features_ReportsTheNotificationAbis_ToTheCallersThatMayUseThem()
    {
        var sys = Nf.Rich();
        foreach (var fid in new ulong[] { 0x8400_007F, 0x8400_0080, 0x8400_0081, 0x8400_0082, 0x8400_0086 })
        {
            Expect.Success(sys.Call(Host, Ffa.Features(fid)), w2: 0);
            Expect.Success(sys.Call(Sp12, Ffa.Features(fid)), w2: 0);
            // Hafnium ffa_features_function gates them on FFA_VERSION_COMPILED only: a v1.0 partition is told too.
            Expect.Success(sys.Call(0x8003, Ffa.Features(fid)), w2: 0);
        }
        // BITMAP_CREATE/DESTROY: the same v1.1 group, reported to everyone, though only ID 0 may call them.
        foreach (var fid in new ulong[] { 0x8400_007D, 0x8400_007E })
        {
            Expect.Success(sys.Call(Host, Ffa.Features(fid)), w2: 0);
            Expect.Success(sys.Call(Vm1, Ffa.Features(fid)), w2: 0);
            Expect.Success(sys.Call(Sp12, Ffa.Features(fid)), w2: 0);
        }
        // INFO_GET: reported to the primary scheduler only (vm_is_primary).
        foreach (var fid in new ulong[] { 0x8400_0083, 0xC400_0083 })
        {
            Expect.Success(sys.Call(Host, Ffa.Features(fid)), w2: 0);
            Expect.Error(sys.Call(Vm1, Ffa.Features(fid)), Err.NotSupported, "dispatch.hypervisor-only");
            Expect.Error(sys.Call(Sp12, Ffa.Features(fid)), Err.NotSupported, "dispatch.hypervisor-only");
        }
        Expect.Error(sys.Call(Host, Ffa.Features(0xC400_0081)), Err.NotSupported, "features.not-ffa-function"); // no SMC64 form
    }

    /// <summary>
    /// Hafnium api_ffa_notification_set / api_ffa_notification_get check no caller version (only BIND/UNBIND check
    /// the receiver's): a v1.0 partition signals a notification a v1.2 receiver bound to it, and gets its own bitmaps
    /// (empty: a v1.0 partition cannot declare notifications).
    /// </summary>
    [Fact]
    public void NotificationAbis_FromAV1_0Partition_WorkAsForAnyPartition()
    {
        var sys = Nf.Rich();
        Expect.Error(sys.Call(0x8003, Nf.Set(0x8003, Sp12, 1)), Err.Denied, "notification-set.not-bound-to-sender");
        Expect.Success(sys.Call(Sp12, Nf.Bind(0x8003, Sp12, 1)));
        Expect.Success(sys.Call(0x8003, Nf.Set(0x8003, Sp12, 1)));
        Expect.Success(sys.Call(Sp12, Nf.Get(Sp12, Nf.FromSps)), w2: 1, w3: 0);
        Expect.Success(sys.Call(0x8003, Nf.Get(0x8003, Nf.FromSps)), w2: 0, w3: 0);
    }
}
