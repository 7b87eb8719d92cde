using Spmc.Core.Calls;
using Spmc.Core.Spm;
using Spmc.Core.Tests.Notifications;
using Spmc.Core.Tests.Support;
using static Spmc.Core.Tests.Support.Manifests;

namespace Spmc.Core.Tests.Messaging;

/// <summary>FFA_MSG_SEND2 and the RX-full framework notification (spmc-behaviour.md §10; Hafnium api_ffa_msg_send2).</summary>
public class IndirectMessagingTests
{
    private static readonly byte[] Payload = [0x11, 0x22, 0x33, 0x44, 0x55];
    private const string ProtocolUuid = "a1a2a3a4-b1b2-c1c2-d1d2-d3d4d5d6d7d8";

    private static ulong Tx(ushort id) => id switch
    {
        Host => HostMemory,
        Vm1 => Vm1Memory,
        Vm2 => Vm2Memory,
        Sp12 => Sp12Memory,
        Sp11 => Sp11Memory,
        0x8003 => Sp10Memory,
        _ => throw new ArgumentOutOfRangeException(nameof(id)),
    };

    private static ulong Rx(ushort id) => Tx(id) + 0x1000;

    /// <summary>Rich system with RX/TX pairs for the host, SP 0x8001 and SP 0x8002 (TX at the region's base, RX after it).</summary>
    private static TestSystem Mapped()
    {
        var sys = TestSystem.Rich();
        foreach (var id in new[] { Host, Sp12, Sp11 }) sys.Map(id, Tx(id), Rx(id));
        return sys;
    }

    /// <summary>The host forwards VM <paramref name="vm"/>'s RX/TX pair (needs the host's own pair mapped).</summary>
    private static void Forward(TestSystem sys, ushort vm) =>
        Expect.Success(sys.Call(Host, Ffa.RxTxMap(0, 0, 0), writes: [new MemoryWrite(HostMemory, Descriptors.EndpointRxTx(vm, tx: Tx(vm), rx: Rx(vm)))]));

    /// <summary>The caller sends <paramref name="message"/> from its own TX buffer.</summary>
    private static SmcOutcome Send(TestSystem sys, ushort caller, byte[] message, ushort namedVm = 0, ulong flags = 0, ushort? txOf = null) =>
        sys.Call(caller, Nf.MsgSend2(namedVm, flags), writes: [new MemoryWrite(Tx(txOf ?? caller), message)]);

    /// <summary>An error by <paramref name="rule"/>, and nothing changed: receiver's RX state and bytes, notifications, events.</summary>
    private static void Refused(TestSystem sys, ushort caller, byte[] message, Err error, string rule, ushort receiver, ushort namedVm = 0,
        ulong flags = 0)
    {
        sys.Events();
        var mailbox = sys.Endpoint(receiver).Mailbox;
        var rxBefore = mailbox is null ? null : sys.Peek(mailbox.Rx, 4096);
        var notifications = sys.NotificationSnapshot();
        var o = Expect.Error(Send(sys, caller, message, namedVm, flags), error, rule);
        Assert.Equal("FFA_MSG_SEND2", o.Decoded.Function);
        Assert.Equal(mailbox?.State, sys.Endpoint(receiver).Mailbox?.State);
        if (mailbox is not null) Assert.Equal(rxBefore, sys.Peek(mailbox.Rx, 4096));
        Assert.Equal(notifications, sys.NotificationSnapshot());
        Assert.Empty(sys.Events());
    }

    [Fact]
    public void VmToSp_Delivers_SetsTheHypervisorRxFullBit_ThenGetAndRelease()
    {
        var sys = Mapped();
        sys.System.WriteMemory(0x8000, Rx(Sp12), Enumerable.Repeat((byte)0xEE, 4096).ToArray()); // stale bytes to be zeroed
        sys.Events();
        var message = Nf.Message(Host, Sp12, Payload, uuid: ProtocolUuid);
        var o = Expect.Success(Send(sys, Host, message));
        Assert.Equal("FFA_MSG_SEND2", o.Decoded.Function);

        // The header and payload, byte for byte, then zeros; the receiver now holds its RX.
        var rx = sys.Peek(Rx(Sp12), 4096);
        Assert.Equal(message[..45], rx[..45]);
        Assert.All(rx[45..], b => Assert.Equal(0, b));
        Assert.Equal(RxState.Full, sys.Endpoint(Sp12).Mailbox!.State);
        Assert.Equal(1ul << 32, sys.Notifications(Sp12).PendingFramework);

        var events = sys.Events();
        Assert.Equal([SystemEventKind.IndirectMessage, SystemEventKind.ScheduleReceiverInterrupt, SystemEventKind.NotificationPendingInterrupt],
            events.Select(e => e.Kind));
        Assert.All(events, e => Assert.Equal(Sp12, e.Endpoint));
        Assert.False(events[1].Delayed);

        // The receiver may not release before consuming the notification.
        Expect.Error(sys.Call(Sp12, Ffa.RxRelease()), Err.Denied, "rx-release.rx-full-notification-pending");
        Assert.Equal(RxState.Full, sys.Endpoint(Sp12).Mailbox!.State);
        Expect.Error(Send(sys, Host, message), Err.Busy, "msg-send2.receiver-rx-busy");
        // The SPM flag alone returns the whole framework bitmap: bit 32 is bit 0 of w7.
        var get = Expect.Success(sys.Call(Sp12, Nf.Get(Sp12, Nf.FromSpm)), w2: 0, w3: 0);
        Assert.Equal((0ul, 0ul, 0ul, 1ul), (get.Frame[4], get.Frame[5], get.Frame[6], get.Frame[7]));
        Expect.Success(sys.Call(Sp12, Ffa.RxRelease()));
        Assert.Equal(RxState.Empty, sys.Endpoint(Sp12).Mailbox!.State);
        Expect.Success(Send(sys, Host, message));
    }

    [Fact]
    public void ForwardedVm_ToSp_TheHypervisorNamesTheVm()
    {
        var sys = Mapped();
        Forward(sys, Vm1);
        var message = Nf.Message(Vm1, Sp11, Payload);
        sys.System.WriteMemory(Vm1, Tx(Vm1), message);
        Expect.Success(sys.Call(Host, Nf.MsgSend2(senderVm: Vm1)));
        Assert.Equal(message[..45], sys.Peek(Rx(Sp11), 45));
        Assert.Equal(1ul << 32, sys.Notifications(Sp11).PendingFramework);
    }

    [Fact]
    public void SpToVm_ViaTheHypervisor_FrameworkBitForTheSpm_HypervisorGetsAndReleases()
    {
        var sys = Mapped();
        Forward(sys, Vm1);
        sys.Events();
        var message = Nf.Message(Sp12, Vm1, Payload);
        Expect.Success(Send(sys, Sp12, message));
        Assert.Equal(message[..45], sys.Peek(Rx(Vm1), 45));
        Assert.Equal(RxState.Full, sys.Endpoint(Vm1).Mailbox!.State);
        Assert.Equal(1ul, sys.Notifications(Vm1).PendingFramework);
        Assert.False(sys.Notifications(Vm1).Enabled); // a VM's RX implies framework notifications, bitmap or not
        Assert.Equal([SystemEventKind.IndirectMessage, SystemEventKind.ScheduleReceiverInterrupt], sys.Events().Select(e => e.Kind));

        // The scheduler learns whom to run, gets the notification on the VM's behalf and releases its RX.
        var info = Expect.Success64(sys.Call(Host, Nf.InfoGet64()));
        Assert.Equal((1ul << 7, (ulong)Vm1), (info.Frame[2], info.Frame[3]));
        Expect.Error(sys.Call(Host, Ffa.RxRelease(Vm1)), Err.Denied, "rx-release.rx-full-notification-pending");
        var get = Expect.Success(sys.Call(Host, Nf.Get(Vm1, Nf.FromSpm)));
        Assert.Equal((1ul, 0ul), (get.Frame[6], get.Frame[7]));
        Expect.Success(sys.Call(Host, Ffa.RxRelease(Vm1)));
        Assert.Equal(RxState.Empty, sys.Endpoint(Vm1).Mailbox!.State);
    }

    [Fact]
    public void SpToSp_V1_1SenderUsesThe20ByteHeader()
    {
        var sys = Mapped();
        var message = Nf.Message(Sp11, Sp12, Payload, header: 20);
        Expect.Success(Send(sys, Sp11, message));
        Assert.Equal(message[..25], sys.Peek(Rx(Sp12), 25));
        Assert.All(sys.Peek(Rx(Sp12) + 25, 4096 - 25), b => Assert.Equal(0, b));
        Assert.Equal(1ul, sys.Notifications(Sp12).PendingFramework);
        var get = Expect.Success(sys.Call(Sp12, Nf.Get(Sp12, Nf.FromSpm)));
        Assert.Equal((1ul, 0ul), (get.Frame[6], get.Frame[7]));
        Expect.Success(sys.Call(Sp12, Ffa.RxRelease()));
    }

    [Fact]
    public void SpToSp_DelaySri_RaisesADelayedSri()
    {
        var sys = Mapped();
        sys.Events();
        Expect.Success(Send(sys, Sp12, Nf.Message(Sp12, Sp11, Payload), flags: Nf.DelaySri));
        var sri = Assert.Single(sys.Events(), e => e.Kind == SystemEventKind.ScheduleReceiverInterrupt);
        Assert.True(sri.Delayed);
        Assert.Equal(Sp11, sri.Endpoint);
    }

    [Fact]
    public void SpSender_OtherFlagBits_AreIgnored_AsInHafnium()
    {
        var sys = Mapped();
        sys.Events();
        Expect.Success(Send(sys, Sp12, Nf.Message(Sp12, Sp11, Payload), flags: 0xFFFF_FFFD));
        Assert.False(Assert.Single(sys.Events(), e => e.Kind == SystemEventKind.ScheduleReceiverInterrupt).Delayed);
    }

    [Fact]
    public void ToAnSpWithoutNotifications_Delivers_WithNoFrameworkNotification_AndReleaseWorks()
    {
        var sys = TestSystem.FromJson(BindUnbindTests.NoNotificationsJson);
        sys.Map(0x8001, 0x6000_0000, 0x6000_1000);
        sys.Map(0x8002, 0x6010_0000, 0x6010_1000);
        sys.Events();
        Expect.Success(sys.Call(0x8001, Nf.MsgSend2(), writes: [new MemoryWrite(0x6000_0000, Nf.Message(0x8001, 0x8002, Payload))]));
        Assert.Equal(RxState.Full, sys.Endpoint(0x8002).Mailbox!.State);
        Assert.Equal(0ul, sys.Notifications(0x8002).PendingFramework);
        Assert.Equal([SystemEventKind.IndirectMessage], sys.Events().Select(e => e.Kind));
        Expect.Success(sys.Call(0x8002, Ffa.RxRelease()));
    }

    [Fact]
    public void VmToVm_ThroughTheSpmc_IsDelivered_AsInHafnium()
    {
        // Hafnium's SPMC has no rule against it: the hypervisor RX-full bit is set for the receiving VM.
        var sys = Mapped();
        Forward(sys, Vm1);
        Expect.Success(Send(sys, Host, Nf.Message(Host, Vm1, Payload)));
        Assert.Equal(1ul << 32, sys.Notifications(Vm1).PendingFramework);
        var get = Expect.Success(sys.Call(Host, Nf.Get(Vm1, Nf.FromSpm)));
        Assert.Equal((0ul, 1ul), (get.Frame[6], get.Frame[7]));
        Expect.Success(sys.Call(Host, Ffa.RxRelease(Vm1)));
    }

    [Fact]
    public void RxRelease_AfterGettingOnlyOtherBitmaps_IsStillDenied()
    {
        var sys = Mapped();
        Expect.Success(Send(sys, Host, Nf.Message(Host, Sp12, Payload)));
        Expect.Success(sys.Call(Sp12, Nf.Get(Sp12, Nf.FromSps | Nf.FromVms)));
        Expect.Error(sys.Call(Sp12, Ffa.RxRelease()), Err.Denied, "rx-release.rx-full-notification-pending");
        Expect.Success(sys.Call(Sp12, Nf.Get(Sp12, Nf.FromHyp)));
        Expect.Success(sys.Call(Sp12, Ffa.RxRelease()));
    }

    [Fact]
    public void Message_OfExactlyOnePage_IsDelivered()
    {
        var sys = Mapped();
        var payload = Enumerable.Range(0, 4096 - 40).Select(i => (byte)i).ToArray();
        var message = Nf.Message(Host, Sp12, payload);
        Expect.Success(Send(sys, Host, message));
        Assert.Equal(message, sys.Peek(Rx(Sp12), 4096));
    }

    [Fact]
    public void Payload_MayStartAfterTheHeader()
    {
        var sys = Mapped();
        var message = Nf.Message(Host, Sp12, Payload, offset: 100);
        Expect.Success(Send(sys, Host, message));
        Assert.Equal(message[..105], sys.Peek(Rx(Sp12), 105));
    }

    // ---- Rules, in Hafnium's order ----

    [Fact]
    public void SenderNamedByAPartition_IsInvalid() =>
        Refused(Mapped(), Sp12, Nf.Message(Sp12, Sp11, Payload), Err.InvalidParameters, "msg-send2.sender-named-not-hypervisor", Sp11, namedVm: Vm1);

    [Fact]
    public void SenderNamedByAVmOtherThanId0_IsInvalid()
    {
        var sys = Mapped();
        Forward(sys, Vm1);
        Refused(sys, Vm1, Nf.Message(Vm2, Sp11, Payload), Err.InvalidParameters, "msg-send2.sender-named-not-hypervisor", Sp11, namedVm: Vm2);
    }

    [Fact]
    public void Id0NamingAPartitionAsSender_IsInvalid()
    {
        // Our choice: the field is the VM the hypervisor forwards for (Hafnium HEAD would read the SP's TX buffer).
        var sys = Mapped();
        sys.System.WriteMemory(Sp12, Tx(Sp12), Nf.Message(Sp12, Sp11, Payload));
        sys.Events();
        Expect.Error(sys.Call(Host, Nf.MsgSend2(senderVm: Sp12)), Err.InvalidParameters, "msg-send2.sender-named-not-vm");
        Assert.Equal(RxState.Empty, sys.Endpoint(Sp11).Mailbox!.State);
        Assert.Empty(sys.Events());
    }

    [Fact]
    public void SenderTheSpmcHasNoRecordOf_IsDenied()
    {
        var sys = Mapped();
        sys.Events();
        Expect.Error(sys.Call(Host, Nf.MsgSend2(senderVm: Vm1)), Err.Denied, "msg-send2.unknown-sender"); // in the manifest, no pair forwarded
        Expect.Error(sys.Call(Host, Nf.MsgSend2(senderVm: 0x0007)), Err.Denied, "msg-send2.unknown-sender"); // not in the system
        Assert.Empty(sys.Events());
    }

    [Fact]
    public void SenderWithoutTxBuffer_IsDenied()
    {
        var sys = Mapped();
        Expect.Success(sys.Call(Host, Nf.BitmapCreate(Vm1))); // known to the SPMC, but no buffers
        Expect.Error(sys.Call(Host, Nf.MsgSend2(senderVm: Vm1)), Err.Denied, "msg-send2.no-tx-buffer");
        // A v1.0 partition reaches the handler (Hafnium has no dispatch gate): no TX buffer comes before its version.
        Expect.Error(sys.Call(0x8003, Nf.MsgSend2()), Err.Denied, "msg-send2.no-tx-buffer");
        var noBuffers = TestSystem.Rich();
        noBuffers.Map(Sp11, Tx(Sp11), Rx(Sp11));
        Expect.Error(noBuffers.Call(Sp12, Nf.MsgSend2()), Err.Denied, "msg-send2.no-tx-buffer");
        Expect.Error(noBuffers.Call(Host, Nf.MsgSend2()), Err.Denied, "msg-send2.no-tx-buffer");
    }

    [Fact]
    public void HeaderSenderNotTheSender_IsInvalid()
    {
        Refused(Mapped(), Sp12, Nf.Message(Sp11, Sp12, Payload), Err.InvalidParameters, "msg-send2.header-sender", Sp12);
        Refused(Mapped(), Host, Nf.Message(Vm1, Sp12, Payload), Err.InvalidParameters, "msg-send2.header-sender", Sp12);
    }

    [Fact]
    public void ReceiverIsTheSender_IsInvalid() =>
        Refused(Mapped(), Sp12, Nf.Message(Sp12, Sp12, Payload), Err.InvalidParameters, "msg-send2.sender-is-receiver", Sp12);

    [Theory]
    [InlineData(2ul)]
    [InlineData(1ul)]
    public void FlagsFromAVmSender_AreInvalid(ulong flags) =>
        Refused(Mapped(), Host, Nf.Message(Host, Sp12, Payload), Err.InvalidParameters, "msg-send2.vm-sender-flags", Sp12, flags: flags);

    [Fact]
    public void FlagsFromAForwardedVmSender_AreInvalid()
    {
        var sys = Mapped();
        Forward(sys, Vm1);
        sys.System.WriteMemory(Vm1, Tx(Vm1), Nf.Message(Vm1, Sp12, Payload));
        Expect.Error(sys.Call(Host, Nf.MsgSend2(senderVm: Vm1, flags: Nf.DelaySri)), Err.InvalidParameters, "msg-send2.vm-sender-flags");
        Assert.Equal(RxState.Empty, sys.Endpoint(Sp12).Mailbox!.State);
    }

    [Fact]
    public void ReceiverUnknown_IsInvalid()
    {
        Refused(Mapped(), Sp12, Nf.Message(Sp12, 0x8009, Payload), Err.InvalidParameters, "msg-send2.unknown-receiver", Sp12);
        Refused(Mapped(), Sp12, Nf.Message(Sp12, Vm2, Payload), Err.InvalidParameters, "msg-send2.unknown-receiver", Vm2); // no record of VM 2
        Refused(Mapped(), Sp12, Nf.Message(Sp12, 0x0009, Payload), Err.InvalidParameters, "msg-send2.unknown-receiver", Sp12);
    }

    [Fact]
    public void ReceiverAtV1_0_IsDenied()
    {
        var sys = Mapped();
        sys.Map(0x8003, Tx(0x8003), Rx(0x8003));
        Refused(sys, Sp12, Nf.Message(Sp12, 0x8003, Payload), Err.Denied, "msg-send2.receiver-version", 0x8003);
    }

    /// <summary>
    /// Hafnium api_ffa_msg_send2: a v1.0 sender is refused by ffa_indirect_msg_is_supported (DENIED), after the
    /// header and receiver checks; there is no NOT_SUPPORTED for the caller's version before the handler.
    /// </summary>
    [Fact]
    public void SenderPartitionAtV1_0_IsDenied_AfterTheHeaderChecks()
    {
        var sys = Mapped();
        sys.Map(0x8003, Tx(0x8003), Rx(0x8003));
        Refused(sys, 0x8003, Nf.Message(Sp12, Sp11, Payload), Err.InvalidParameters, "msg-send2.header-sender", Sp11);
        Refused(sys, 0x8003, Nf.Message(0x8003, 0x8009, Payload), Err.InvalidParameters, "msg-send2.unknown-receiver", Sp12);
        Refused(sys, 0x8003, Nf.Message(0x8003, Sp12, Payload), Err.Denied, "msg-send2.sender-version", Sp12);
    }

    [Fact]
    public void ForwardedSenderAtV1_0_IsDenied()
    {
        var sys = Mapped();
        sys.Negotiate(Vm1, Ffa.V1_0);
        Forward(sys, Vm1);
        sys.System.WriteMemory(Vm1, Tx(Vm1), Nf.Message(Vm1, Sp12, Payload));
        Expect.Error(sys.Call(Host, Nf.MsgSend2(senderVm: Vm1)), Err.Denied, "msg-send2.sender-version");
        Assert.Equal(RxState.Empty, sys.Endpoint(Sp12).Mailbox!.State);
    }

    [Fact]
    public void VmReceiverAtV1_0_IsDenied()
    {
        var sys = Mapped();
        sys.Negotiate(Vm1, Ffa.V1_0);
        Forward(sys, Vm1);
        Refused(sys, Sp12, Nf.Message(Sp12, Vm1, Payload), Err.Denied, "msg-send2.receiver-version", Vm1);
    }

    [Fact]
    public void PartitionsWithoutIndirectMessaging_AreDenied()
    {
        var sys = TestSystem.FromJson(BindUnbindTests.NoNotificationsJson);
        sys.Map(0x8001, 0x6000_0000, 0x6000_1000);
        sys.Map(0x8003, 0x6020_0000, 0x6020_1000);
        sys.Events();
        // Receiver without the indirect messaging method.
        Expect.Error(sys.Call(0x8001, Nf.MsgSend2(), writes: [new MemoryWrite(0x6000_0000, Nf.Message(0x8001, 0x8003, Payload))]), Err.Denied,
            "msg-send2.receiver-not-capable");
        Assert.Equal(RxState.Empty, sys.Endpoint(0x8003).Mailbox!.State);
        // Sender without it.
        Expect.Error(sys.Call(0x8003, Nf.MsgSend2(), writes: [new MemoryWrite(0x6020_0000, Nf.Message(0x8003, 0x8001, Payload))]), Err.Denied,
            "msg-send2.sender-not-capable");
        Assert.Equal(RxState.Empty, sys.Endpoint(0x8001).Mailbox!.State);
        Assert.Empty(sys.Events());
    }

    [Fact]
    public void ReceiverWithoutRxBuffer_IsBusy()
    {
        var sys = TestSystem.Rich();
        sys.Map(Sp12, Tx(Sp12), Rx(Sp12));
        Refused(sys, Sp12, Nf.Message(Sp12, Sp11, Payload), Err.Busy, "msg-send2.receiver-rx-busy", Sp11);
        Refused(sys, Sp12, Nf.Message(Sp12, Host, Payload), Err.Busy, "msg-send2.receiver-rx-busy", Host); // the hypervisor is always known
    }

    [Fact]
    public void ReceiverRxFull_IsBusy()
    {
        var sys = Mapped();
        Expect.Success(sys.Call(Sp11, Ffa.PartitionInfoGet(Uuid.Nil)));
        Refused(sys, Sp12, Nf.Message(Sp12, Sp11, Payload), Err.Busy, "msg-send2.receiver-rx-busy", Sp11);
    }

    [Fact]
    public void ReceiverRxAcquiredByTheHypervisor_IsBusy()
    {
        var sys = Mapped();
        Forward(sys, Vm1);
        Expect.Success(sys.Call(Host, Ffa.RxAcquire(Vm1)));
        Refused(sys, Sp12, Nf.Message(Sp12, Vm1, Payload), Err.Busy, "msg-send2.receiver-rx-busy", Vm1);
    }

    [Fact]
    public void CapabilityIsCheckedBeforeBusy_AndBusyBeforeTheOffset()
    {
        var sys = TestSystem.Rich();
        sys.Map(Sp12, Tx(Sp12), Rx(Sp12));
        Refused(sys, Sp12, Nf.Message(Sp12, 0x8003, Payload), Err.Denied, "msg-send2.receiver-version", 0x8003); // v1.0 receiver, no RX either
        Refused(sys, Sp12, Nf.Message(Sp12, Sp11, Payload, offset: 0), Err.Busy, "msg-send2.receiver-rx-busy", Sp11);
    }

    [Theory]
    [InlineData(0u)]
    [InlineData(20u)]
    [InlineData(39u)]
    public void PayloadOverlappingTheV1_2Header_IsInvalid(uint offset) =>
        Refused(Mapped(), Sp12, Nf.Message(Sp12, Sp11, Payload, offset: offset), Err.InvalidParameters, "msg-send2.payload-overlaps-header", Sp11);

    [Fact]
    public void PayloadOverlappingTheV1_1Header_IsInvalid_At20ItIsFine()
    {
        Refused(Mapped(), Sp11, Nf.Message(Sp11, Sp12, Payload, header: 20, offset: 19), Err.InvalidParameters, "msg-send2.payload-overlaps-header", Sp12);
        Expect.Success(Send(Mapped(), Sp11, Nf.Message(Sp11, Sp12, Payload, header: 20, offset: 20)));
    }

    [Fact]
    public void TheHeaderLayoutFollowsTheSendersNegotiatedVersion()
    {
        // A v1.2 partition that negotiated 1.1 sends 20-byte headers.
        var sys = TestSystem.Rich();
        sys.Negotiate(Sp12, Ffa.V1_1);
        foreach (var id in new[] { Sp12, Sp11 }) sys.Map(id, Tx(id), Rx(id));
        Expect.Success(Send(sys, Sp12, Nf.Message(Sp12, Sp11, Payload, header: 20)));
        Expect.Success(sys.Call(Sp11, Nf.Get(Sp11, Nf.FromSpm)));
        Expect.Success(sys.Call(Sp11, Ffa.RxRelease()));
        Refused(sys, Sp12, Nf.Message(Sp12, Sp11, Payload, header: 20, offset: 19), Err.InvalidParameters, "msg-send2.payload-overlaps-header", Sp11);
    }

    [Fact]
    public void OffsetPlusSizeOverflowing32Bits_IsInvalid() =>
        Refused(Mapped(), Sp12, Nf.Message(Sp12, Sp11, [], offset: 0xFFFF_FFF0, size: 0x20), Err.InvalidParameters, "msg-send2.size-overflow", Sp11);

    [Theory]
    [InlineData(40u, 4057u)]
    [InlineData(4096u, 1u)]
    [InlineData(40u, 0x1000_0000u)]
    public void MessageLargerThanOnePage_IsInvalid(uint offset, uint size) =>
        Refused(Mapped(), Sp12, Nf.Message(Sp12, Sp11, [], offset: offset, size: size), Err.InvalidParameters, "msg-send2.too-large", Sp11);

    [Fact]
    public void MessageLargerThanOnePage_IsInvalid_EvenWithTwoPageBuffers()
    {
        var sys = TestSystem.Rich();
        sys.Map(Sp12, Tx(Sp12), Tx(Sp12) + 0x2000, pages: 2);
        sys.Map(Sp11, Tx(Sp11), Tx(Sp11) + 0x2000, pages: 2);
        Expect.Error(Send(sys, Sp12, Nf.Message(Sp12, Sp11, new byte[4057])), Err.InvalidParameters, "msg-send2.too-large");
        Expect.Success(Send(sys, Sp12, Nf.Message(Sp12, Sp11, new byte[4056])));
    }

    [Fact]
    public void Features_MsgSend2_IsReportedByAV1_1Spmc_ToEveryCaller()
    {
        var sys = TestSystem.Rich();
        Expect.Success(sys.Call(Host, Ffa.Features(0x8400_0086)), w2: 0);
        Expect.Success(sys.Call(Sp11, Ffa.Features(0x8400_0086)), w2: 0);
        // Hafnium ffa_features_function: FFA_VERSION_COMPILED >= 1.1 only, so a v1.0 partition is told it exists too.
        Expect.Success(sys.Call(0x8003, Ffa.Features(0x8400_0086)), w2: 0);
        var old = TestSystem.FromJson("""{ "spmc": { "version": "1.0" }, "vms": [ { "id": 0, "name": "host" } ] }""");
        Expect.Error(old.Call(Host, Ffa.Features(0x8400_0086)), Err.NotSupported, "dispatch.newer-than-spmc");
        Expect.Error(sys.Call(Host, Ffa.Features(0xC400_0086)), Err.NotSupported, "features.not-ffa-function");
    }
}
