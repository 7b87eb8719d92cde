using Spmc.Core.Spm.Notifications;
using Spmc.Core.Tests.Support;
using static Spmc.Core.Tests.Support.Manifests;

namespace Spmc.Core.Tests.Notifications;

/// <summary>FFA_NOTIFICATION_BIND / UNBIND (spmc-behaviour.md §11; Hafnium api_ffa_notification_update_bindings).</summary>
public class BindUnbindTests
{
    /// <summary>A frame that fails with <paramref name="error"/> by <paramref name="rule"/> and leaves every endpoint's notification state as it was.</summary>
    private static void Refused(TestSystem sys, ushort caller, Spmc.Abi.Smccc.SmcFrame frame, Err error, string rule)
    {
        var before = sys.NotificationSnapshot();
        Expect.Error(sys.Call(caller, frame), error, rule);
        Assert.Equal(before, sys.NotificationSnapshot());
    }

    [Fact]
    public void Bind_ByAnSpForItself_RecordsTheSender_PerBit()
    {
        var sys = Nf.Rich();
        var o = Expect.Success(sys.Call(Sp12, Nf.Bind(Sp11, Sp12, 0x8000_0000_0000_0005)));
        Assert.Equal("FFA_NOTIFICATION_BIND", o.Decoded.Function);
        Expect.Success(sys.Call(Sp12, Nf.Bind(Vm1, Sp12, 0x2)));
        var view = sys.Notifications(Sp12);
        Assert.Equal([new NotificationBindingView(0, Sp11), new(2, Sp11), new(63, Sp11)], view.BoundToSps);
        Assert.Equal([new NotificationBindingView(1, Vm1)], view.BoundToVms);
    }

    [Fact]
    public void Bind_ById0ForAVm_ToAnSp_Succeeds()
    {
        var sys = Nf.Rich();
        Expect.Success(sys.Call(Host, Nf.BitmapCreate(Vm1)));
        Expect.Success(sys.Call(Host, Nf.Bind(Sp12, Vm1, 1)));
        Expect.Success(sys.Call(Host, Nf.BitmapCreate(Host)));
        Expect.Success(sys.Call(Host, Nf.Bind(Sp11, Host, 1)));
        Assert.Equal([new NotificationBindingView(0, Sp12)], sys.Notifications(Vm1).BoundToSps);
        Assert.Equal([new NotificationBindingView(0, Sp11)], sys.Notifications(Host).BoundToSps);
    }

    [Fact]
    public void Bind_SameBitForAnSpAndAVm_IsAllowed_TheKindsAreSeparate()
    {
        var sys = Nf.Rich();
        Expect.Success(sys.Call(Sp12, Nf.Bind(Sp11, Sp12, 1)));
        Expect.Success(sys.Call(Sp12, Nf.Bind(Vm2, Sp12, 1)));
    }

    [Fact]
    public void Bind_PerVcpuFlag_IsInvalid_AtHafniumHead()
    {
        // Hafnium HEAD removed per-vCPU notifications and refuses the flag.
        Refused(Nf.Rich(), Sp12, Nf.Bind(Sp11, Sp12, 1, flags: 1), Err.InvalidParameters, "notification-bind.per-vcpu");
    }

    [Theory]
    [InlineData(2ul)]
    [InlineData(0x8000_0000ul)]
    [InlineData(0x1_0000ul)]
    public void Bind_OtherFlagBits_AreInvalid(ulong flags) =>
        Refused(Nf.Rich(), Sp12, Nf.Bind(Sp11, Sp12, 1, flags), Err.InvalidParameters, "notification-bind.flags-mbz");

    [Fact]
    public void Unbind_IgnoresW2_AsHafniumDoes()
    {
        var sys = Nf.RichWithBinding(Sp12, Sp11, 1);
        Expect.Success(sys.Call(Sp12, Nf.Unbind(Sp11, Sp12, 1, w2: 0xFFFF_FFFF)));
        Assert.Empty(sys.Notifications(Sp12).BoundToSps);
    }

    [Fact]
    public void Bind_SenderEqualsReceiver_IsInvalid() =>
        Refused(Nf.Rich(), Sp12, Nf.Bind(Sp12, Sp12, 1), Err.InvalidParameters, "notification-bind.sender-is-receiver");

    [Theory]
    [InlineData(0xFFC0)]
    [InlineData(0xFFFE)]
    public void Bind_SpmdLogicalPartitionSender_IsInvalid(ushort lp) =>
        Refused(Nf.Rich(), Sp12, Nf.Bind(lp, Sp12, 1), Err.InvalidParameters, "notification-bind.spmd-logical-partition");

    [Fact]
    public void Bind_InvalidIdSentinelAsSender_IsInvalid() =>
        Refused(Nf.Rich(), Sp12, Nf.Bind(0x7FFF, Sp12, 1), Err.InvalidParameters, "notification-bind.invalid-id");

    [Fact]
    public void Bind_BySpForAnotherReceiver_IsInvalid()
    {
        Refused(Nf.Rich(), Sp12, Nf.Bind(Sp11, 0x8003, 1), Err.InvalidParameters, "notification-bind.sp-not-receiver");
        Refused(Nf.Rich(), Sp12, Nf.Bind(Sp11, Vm1, 1), Err.InvalidParameters, "notification-bind.sp-not-receiver");
    }

    [Fact]
    public void Bind_FromTheNormalWorld_NeedsAnSpSenderAndAVmReceiver()
    {
        var sys = Nf.Rich();
        Expect.Success(sys.Call(Host, Nf.BitmapCreate(Vm1)));
        Refused(sys, Host, Nf.Bind(Vm2, Vm1, 1), Err.InvalidParameters, "notification-bind.normal-world-pair"); // VM sender
        Refused(sys, Host, Nf.Bind(Sp12, Sp11, 1), Err.InvalidParameters, "notification-bind.normal-world-pair"); // SP receiver
        Refused(sys, Host, Nf.Bind(Vm1, Sp11, 1), Err.InvalidParameters, "notification-bind.normal-world-pair");
    }

    [Fact]
    public void Bind_ByAVmOtherThanId0_OnlyForItself()
    {
        var sys = Nf.Rich();
        Expect.Success(sys.Call(Host, Nf.BitmapCreate(Vm1)));
        Expect.Success(sys.Call(Host, Nf.BitmapCreate(Vm2)));
        Refused(sys, Vm2, Nf.Bind(Sp12, Vm1, 1), Err.InvalidParameters, "notification-bind.vm-not-receiver");
        Expect.Success(sys.Call(Vm1, Nf.Bind(Sp12, Vm1, 1)));
    }

    [Fact]
    public void Bind_EmptyBitmap_IsInvalid()
    {
        Refused(Nf.Rich(), Sp12, Nf.Bind(Sp11, Sp12, 0), Err.InvalidParameters, "notification-bind.empty-bitmap");
        Refused(Nf.RichWithBinding(Sp12, Sp11, 1), Sp12, Nf.Unbind(Sp11, Sp12, 0), Err.InvalidParameters, "notification-bind.empty-bitmap");
    }

    [Fact]
    public void Bind_ForAVmWithoutBitmap_IsInvalid() =>
        Refused(Nf.Rich(), Host, Nf.Bind(Sp12, Vm1, 1), Err.InvalidParameters, "notification-bind.unknown-receiver");

    [Fact]
    public void Bind_ForAVmNotInTheSystem_IsInvalid() =>
        Refused(Nf.Rich(), Host, Nf.Bind(Sp12, 0x0009, 1), Err.InvalidParameters, "notification-bind.unknown-receiver");

    [Fact]
    public void Bind_ForId0WithoutBitmap_IsNotSupported()
    {
        // The hypervisor's record always exists in Hafnium, so the missing bitmap is "notifications not enabled".
        Refused(Nf.Rich(), Host, Nf.Bind(Sp12, Host, 1), Err.NotSupported, "notification-bind.not-enabled");
    }

    [Fact]
    public void Bind_ForAVmWithAForwardedMailboxButNoBitmap_IsNotSupported()
    {
        var sys = Nf.Rich();
        sys.Map(Host, HostMemory, HostMemory + 0x1000);
        Expect.Success(sys.Call(Host, Ffa.RxTxMap(0, 0, 0),
            writes: [new Spmc.Core.Calls.MemoryWrite(HostMemory, Descriptors.EndpointRxTx(Vm1, tx: Vm1Memory, rx: Vm1Memory + 0x1000))]));
        Refused(sys, Host, Nf.Bind(Sp12, Vm1, 1), Err.NotSupported, "notification-bind.not-enabled");
    }

    [Fact]
    public void Bind_ForAVmThatNegotiatedV1_0_IsNotSupported()
    {
        var sys = Nf.Rich();
        sys.Negotiate(Vm1, Ffa.V1_0);
        Expect.Success(sys.Call(Host, Nf.BitmapCreate(Vm1)));
        Refused(sys, Host, Nf.Bind(Sp12, Vm1, 1), Err.NotSupported, "notification-bind.receiver-version");
    }

    /// <summary>
    /// Hafnium api_ffa_notification_update_bindings: a v1.0 partition binding for itself reaches the handler and is
    /// refused by the receiver's version (NOT_SUPPORTED), after the pair and bitmap checks; UNBIND the same.
    /// </summary>
    [Fact]
    public void Bind_ByAV1_0Partition_IsNotSupported_ByTheReceiversVersion()
    {
        Refused(Nf.Rich(), 0x8003, Nf.Bind(Sp12, Sp11, 1), Err.InvalidParameters, "notification-bind.sp-not-receiver");
        Refused(Nf.Rich(), 0x8003, Nf.Bind(Sp12, 0x8003, 0), Err.InvalidParameters, "notification-bind.empty-bitmap");
        Refused(Nf.Rich(), 0x8003, Nf.Bind(Sp12, 0x8003, 1), Err.NotSupported, "notification-bind.receiver-version");
        Refused(Nf.Rich(), 0x8003, Nf.Unbind(Sp12, 0x8003, 1), Err.NotSupported, "notification-bind.receiver-version");
    }

    [Fact]
    public void Bind_ByAPartitionWithoutNotificationSupport_IsNotSupported()
    {
        var sys = TestSystem.FromJson(NoNotificationsJson);
        var before = sys.NotificationSnapshot();
        Expect.Error(sys.Call(0x8002, Nf.Bind(0x8001, 0x8002, 1)), Err.NotSupported, "notification-bind.not-enabled");
        Assert.Equal(before, sys.NotificationSnapshot());
    }

    [Fact]
    public void Bind_ToAnSpSenderNotInTheSystem_IsInvalid() =>
        Refused(Nf.Rich(), Sp12, Nf.Bind(0x8009, Sp12, 1), Err.InvalidParameters, "notification-bind.unknown-sender");

    [Fact]
    public void Bind_ToAVmSenderNotInTheSystem_Succeeds_TheSpmcDoesNotKnowVms()
    {
        var sys = Nf.Rich();
        Expect.Success(sys.Call(Sp12, Nf.Bind(0x0009, Sp12, 1)));
        Assert.Equal([new NotificationBindingView(0, 0x0009)], sys.Notifications(Sp12).BoundToVms);
    }

    [Fact]
    public void Bind_AnAlreadyBoundBit_IsDenied_EvenForTheSameSender()
    {
        var sys = Nf.RichWithBinding(Sp12, Sp11, 0b100);
        Refused(sys, Sp12, Nf.Bind(Sp11, Sp12, 0b100), Err.Denied, "notification-bind.already-bound");
        Refused(sys, Sp12, Nf.Bind(Sp11, Sp12, 0b110), Err.Denied, "notification-bind.already-bound"); // one bound bit spoils the lot: nothing is bound
        Refused(sys, Sp12, Nf.Bind(0x8003, Sp12, 0b100), Err.Denied, "notification-bind.already-bound");
        Assert.Equal([new NotificationBindingView(2, Sp11)], sys.Notifications(Sp12).BoundToSps);
    }

    [Fact]
    public void Unbind_Succeeds_AndTheBitCanBeBoundAgain()
    {
        var sys = Nf.RichWithBinding(Sp12, Sp11, 0b11);
        var o = Expect.Success(sys.Call(Sp12, Nf.Unbind(Sp11, Sp12, 0b01)));
        Assert.Equal("FFA_NOTIFICATION_UNBIND", o.Decoded.Function);
        Assert.Equal([new NotificationBindingView(1, Sp11)], sys.Notifications(Sp12).BoundToSps);
        Expect.Success(sys.Call(Sp12, Nf.Bind(0x8003, Sp12, 0b01)));
    }

    [Fact]
    public void Unbind_ABitBoundToAnotherSender_IsDenied()
    {
        var sys = Nf.RichWithBinding(Sp12, Sp11, 0b1);
        Refused(sys, Sp12, Nf.Unbind(0x8003, Sp12, 0b1), Err.Denied, "notification-unbind.not-bound-to-sender");
    }

    [Fact]
    public void Unbind_AnUnboundBit_IsDenied()
    {
        var sys = Nf.RichWithBinding(Sp12, Sp11, 0b1);
        Refused(sys, Sp12, Nf.Unbind(Sp11, Sp12, 0b11), Err.Denied, "notification-unbind.not-bound-to-sender");
    }

    [Fact]
    public void Unbind_ABitBoundToAVm_NamingAnSp_IsDenied()
    {
        var sys = Nf.RichWithBinding(Sp12, Vm1, 0b1);
        Refused(sys, Sp12, Nf.Unbind(Sp11, Sp12, 0b1), Err.Denied, "notification-unbind.not-bound-to-sender");
        Expect.Success(sys.Call(Sp12, Nf.Unbind(Vm1, Sp12, 0b1)));
    }

    [Fact]
    public void BindAndUnbind_WithAPendingBit_AreDenied()
    {
        var sys = Nf.RichWithBinding(Sp12, Sp11, 0b1);
        Expect.Success(sys.Call(Sp11, Nf.Set(Sp11, Sp12, 0b1)));
        Refused(sys, Sp12, Nf.Unbind(Sp11, Sp12, 0b1), Err.Denied, "notification-bind.pending");
        Expect.Success(sys.Call(Sp12, Nf.Get(Sp12, Nf.FromSps)), w2: 1);
        Expect.Success(sys.Call(Sp12, Nf.Unbind(Sp11, Sp12, 0b1)));
    }

    [Fact]
    public void Bind_ChecksBoundBeforePending()
    {
        // A bit both bound and pending: the binding check (DENIED) comes first, pending only matters for unbind.
        var sys = Nf.RichWithBinding(Sp12, Sp11, 0b1);
        Expect.Success(sys.Call(Sp11, Nf.Set(Sp11, Sp12, 0b1)));
        Expect.Error(sys.Call(Sp12, Nf.Bind(Sp11, Sp12, 0b1)), Err.Denied, "notification-bind.already-bound");
    }

    [Fact]
    public void Bind_OrderOfChecks_FlagsBeforePairBeforeBitmapBeforeReceiver()
    {
        var sys = Nf.Rich();
        Expect.Error(sys.Call(Host, Nf.Bind(Sp12, Sp12, 0, flags: 1)), Err.InvalidParameters, "notification-bind.per-vcpu");
        Expect.Error(sys.Call(Host, Nf.Bind(Sp12, Sp12, 0)), Err.InvalidParameters, "notification-bind.sender-is-receiver");
        Expect.Error(sys.Call(Host, Nf.Bind(Sp12, Vm1, 0)), Err.InvalidParameters, "notification-bind.empty-bitmap");
        Expect.Error(sys.Call(Host, Nf.Bind(Sp12, Vm1, 1)), Err.InvalidParameters, "notification-bind.unknown-receiver");
    }

    [Fact]
    public void Bind_ReadsOnlyW3AndW4Low32Bits()
    {
        var sys = Nf.Rich();
        var frame = Nf.Bind(Sp11, Sp12, 0);
        frame[3] = 0xFFFF_FFFF_0000_0001;
        frame[4] = 0xFFFF_FFFF_8000_0000;
        Expect.Success(sys.Call(Sp12, frame));
        Assert.Equal([new NotificationBindingView(0, Sp11), new(63, Sp11)], sys.Notifications(Sp12).BoundToSps);
    }

    /// <summary>SP 0x8002 takes indirect messages but not notifications; SP 0x8001 takes both.</summary>
    public const string NoNotificationsJson = """
        {
          "vms": [ { "id": 0, "name": "host", "memory": [ { "base": "0x80000000", "size": "0x100000" } ] } ],
          "partitions": [
            { "id": "0x8001", "name": "both", "uuids": [ "11111111-2222-3333-4444-000000008001" ],
              "properties": { "directRequestReceive": true, "indirectMessaging": true, "notifications": true },
              "memory": [ { "base": "0x60000000", "size": "0x100000" } ] },
            { "id": "0x8002", "name": "indirect-only", "uuids": [ "11111111-2222-3333-4444-000000008002" ],
              "properties": { "directRequestReceive": true, "indirectMessaging": true },
              "memory": [ { "base": "0x60100000", "size": "0x100000" } ] },
            { "id": "0x8003", "name": "direct-only", "uuids": [ "11111111-2222-3333-4444-000000008003" ],
              "properties": { "directRequestReceive": true, "notifications": true },
              "memory": [ { "base": "0x60200000", "size": "0x100000" } ] }
          ]
        }
        """;
}
