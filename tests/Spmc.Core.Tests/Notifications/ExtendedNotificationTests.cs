using Spmc.Abi.Smccc;
using Spmc.Core.Calls;
using Spmc.Core.Manifests;
using Spmc.Core.Memory;
using Spmc.Core.Spm;
using Spmc.Core.Spm.Runtime;
using Spmc.Core.Tests.Support;
using static Spmc.Core.Tests.Support.Manifests;

namespace Spmc.Core.Tests.Notifications;

/// <summary>
/// Frames of the FF-A 1.3 extended notification ABIs (DEN0077 v1.3 §16.7..§16.10), IDs spelled as numbers, and
/// bitmaps as six words built from notification numbers (bit i in word i / 64), independent of the product's types.
/// </summary>
public static class Nf13
{
    public const ulong Bind2Id = 0xC400_0094, Unbind2Id = 0xC400_0095, Set2Id = 0xC400_0096, Get2Id = 0xC400_0097;

    /// <summary>FFA_FEATURES feature ID 0x4 (notification features) and what a 1.3 SPMC answers: bits 0/1 set, 320 extra SP notifications, and 320 extra VM notifications to SPs only.</summary>
    public const ulong NotificationFeature = 4, FeaturesToNormalWorld = 0x3 | (320ul << 11), FeaturesToSps = 0x3 | (320ul << 2) | (320ul << 11);

    public static ulong[] Bits(params int[] notifications)
    {
        var words = new ulong[6];
        foreach (var n in notifications) words[n / 64] |= 1ul << (n % 64);
        return words;
    }

    private static ulong Pair(ushort sender, ushort receiver) => ((ulong)sender << 16) | receiver;

    public static SmcFrame Bind2(ushort sender, ushort receiver, ulong[] bits, ulong flags = 0) => Ffa.Frame([Bind2Id, Pair(sender, receiver), flags, .. bits]);
    public static SmcFrame Unbind2(ushort sender, ushort receiver, ulong[] bits, ulong x2 = 0) => Ffa.Frame([Unbind2Id, Pair(sender, receiver), x2, .. bits]);
    public static SmcFrame Set2(ushort sender, ushort receiver, ulong[] bits, ulong flags = 0) => Ffa.Frame([Set2Id, Pair(sender, receiver), flags, .. bits]);

    public static SmcFrame Get2(ushort receiver, ulong flags, ulong[]? keepSps = null, ulong[]? keepVms = null, ulong keepSpm = 0, ulong keepHyp = 0,
        ushort vcpu = 0) =>
        Ffa.Frame([Get2Id, ((ulong)vcpu << 16) | receiver, flags, .. keepSps ?? new ulong[6], .. keepVms ?? new ulong[6], keepSpm, keepHyp]);

    /// <summary>x3..x8 of an answer (the SP bitmap of GET2) or x9..x14 (the VM bitmap).</summary>
    public static ulong[] Words(SmcOutcome o, int first) => [.. Enumerable.Range(first, 6).Select(i => o.Frame[i])];
}

/// <summary>
/// FF-A 1.3 extended notifications: BITMAP_CREATE's notification count, FFA_FEATURES feature 0x4, BIND2/UNBIND2/
/// SET2/GET2, what GET does with notifications above 63, ABORTED, and the answers 1.2 callers keep.
/// </summary>
public class ExtendedNotificationTests
{
    private static void Refused(TestSystem sys, ushort caller, SmcFrame frame, Err error, string rule)
    {
        var before = sys.NotificationSnapshot();
        Expect.Error(sys.Call(caller, frame), error, rule);
        Assert.Equal(before, sys.NotificationSnapshot());
    }

    /// <summary>The default system (SPMC 1.3, host at 1.3 through a passthrough proxy, SPs at 1.3) where the notifier SP bound <paramref name="bits"/> to echo.</summary>
    private static TestSystem WithSpBinding(params int[] bits)
    {
        var sys = TestSystem.Default();
        Expect.Success(sys.Call(Notifier, Nf13.Bind2(Echo, Notifier, Nf13.Bits(bits))));
        return sys;
    }

    // ---- FFA_FEATURES feature 0x4 ---------------------------------------------------------------------------

    [Fact]
    public void Feature4_At13_ReportsNoPerVcpu_AndTheExtraCounts()
    {
        var sys = TestSystem.Default();
        Expect.Success(sys.Call(Host, Ffa.Features(Nf13.NotificationFeature)), w2: Nf13.FeaturesToNormalWorld, w3: 0);
        Expect.Success(sys.Call(Echo, Ffa.Features(Nf13.NotificationFeature)), w2: Nf13.FeaturesToSps, w3: 0);
    }

    [Fact]
    public void Feature4_ForA12Caller_OrA12Spmc_IsTodaysUnknownFeature()
    {
        var sys = TestSystem.Default();
        sys.Negotiate(Host, Ffa.V1_2);
        Expect.Error(sys.Call(Host, Ffa.Features(Nf13.NotificationFeature)), Err.NotSupported, "features.unknown-feature");
        var old = TestSystem.DefaultAt("1.2");
        Expect.Error(old.Call(Host, Ffa.Features(Nf13.NotificationFeature)), Err.NotSupported, "features.unknown-feature");
        Expect.Error(old.Call(Echo, Ffa.Features(Nf13.NotificationFeature)), Err.NotSupported, "features.unknown-feature");
    }

    [Theory]
    [InlineData(Nf13.Bind2Id)]
    [InlineData(Nf13.Unbind2Id)]
    [InlineData(Nf13.Set2Id)]
    [InlineData(Nf13.Get2Id)]
    public void TheSmc64Abis_AreDiscoverable_At13_AndNotBefore(ulong id)
    {
        Expect.Success(TestSystem.Default().Call(Host, Ffa.Features(id)));
        Expect.Success(TestSystem.Default().Call(Echo, Ffa.Features(id)));
        Expect.Error(TestSystem.DefaultAt("1.2").Call(Host, Ffa.Features(id)), Err.NotSupported, "dispatch.newer-than-spmc");
        var sys = TestSystem.Default();
        sys.Negotiate(Host, Ffa.V1_2);
        Expect.Error(sys.Call(Host, Ffa.Features(id)), Err.NotSupported, "dispatch.newer-than-caller");
    }

    // ---- BITMAP_CREATE's notification count ----------------------------------------------------------------

    [Fact]
    public void BitmapCreate_At13_AllocatesTheRequestedCount_AndAnswersItInW2()
    {
        var sys = TestSystem.Default();
        Expect.Success(sys.Call(Host, Ffa.Frame(Nf.BitmapCreateId, Host, 4, 64)), w2: 64);
        Assert.Equal(128, sys.Notifications(Host).Count);
        Assert.True(sys.Notifications(Host).Enabled);
    }

    [Fact]
    public void BitmapCreate_At13_IgnoresW3BitsAbove8_AndZeroMeans64()
    {
        var sys = TestSystem.Default();
        Expect.Success(sys.Call(Host, Ffa.Frame(Nf.BitmapCreateId, Host, 4, 0xFFFF_FE00 | 10)), w2: 10);
        Assert.Equal(74, sys.Notifications(Host).Count);
        var plain = TestSystem.Default();
        Expect.Success(plain.Call(Host, Nf.BitmapCreate(Host)), w2: 0);
        Assert.Equal(64, plain.Notifications(Host).Count);
    }

    [Fact]
    public void BitmapCreate_At13_MoreThan320Extra_IsNoMemory_AndCreatesNothing()
    {
        var sys = TestSystem.Default();
        Refused(sys, Host, Ffa.Frame(Nf.BitmapCreateId, Host, 4, 321), Err.NoMemory, "notification-bitmap-create.count-too-large");
        Assert.False(sys.Notifications(Host).Enabled);
        Expect.Success(sys.Call(Host, Ffa.Frame(Nf.BitmapCreateId, Host, 4, 320)), w2: 320);
        Assert.Equal(384, sys.Notifications(Host).Count);
    }

    [Fact]
    public void BitmapCreate_ForA12Caller_IgnoresW3_AsToday()
    {
        var old = TestSystem.DefaultAt("1.2");
        Expect.Success(old.Call(Host, Ffa.Frame(Nf.BitmapCreateId, Host, 4, 400)), w2: 0);
        Assert.Equal(64, old.Notifications(Host).Count);
        var sys = TestSystem.Default();
        sys.Negotiate(Host, Ffa.V1_2);
        Expect.Success(sys.Call(Host, Ffa.Frame(Nf.BitmapCreateId, Host, 4, 64)), w2: 0);
        Assert.Equal(64, sys.Notifications(Host).Count);
    }

    [Fact]
    public void BitmapDestroy_ForgetsTheCount()
    {
        var sys = TestSystem.Default();
        Expect.Success(sys.Call(Host, Ffa.Frame(Nf.BitmapCreateId, Host, 4, 64)), w2: 64);
        Expect.Success(sys.Call(Host, Nf.BitmapDestroy(Host)));
        Assert.Equal(64, sys.Notifications(Host).Count);
    }

    [Fact]
    public void PartitionsAt13_Have384Notifications_OlderOnes64()
    {
        Assert.Equal(384, TestSystem.Default().Notifications(Echo).Count);
        Assert.Equal(64, TestSystem.DefaultAt("1.2").Notifications(Echo).Count);
        Assert.Equal(64, TestSystem.Rich().Notifications(Sp12).Count);
    }

    // ---- BIND2 / UNBIND2 ------------------------------------------------------------------------------------

    [Fact]
    public void Bind2_BindsNotificationsAbove63()
    {
        var sys = WithSpBinding(0, 64, 300, 383);
        Assert.Equal([new(0, Echo), new(64, Echo), new(300, Echo), new(383, Echo)], sys.Notifications(Notifier).BoundToSps);
    }

    [Fact]
    public void Unbind2_UnbindsThem_AndIgnoresX2()
    {
        var sys = WithSpBinding(5, 300);
        Expect.Success(sys.Call(Notifier, Nf13.Unbind2(Echo, Notifier, Nf13.Bits(300), x2: 0xFFFF)));
        Assert.Equal([new(5, Echo)], sys.Notifications(Notifier).BoundToSps);
    }

    [Fact]
    public void Bind2_And_Unbind2_EmptyBitmap_AreInvalid()
    {
        Refused(TestSystem.Default(), Notifier, Nf13.Bind2(Echo, Notifier, Nf13.Bits()), Err.InvalidParameters, "notification-bind.empty-bitmap");
        Refused(WithSpBinding(1), Notifier, Nf13.Unbind2(Echo, Notifier, Nf13.Bits()), Err.InvalidParameters, "notification-bind.empty-bitmap");
    }

    [Fact]
    public void Bind2_SharesBindsRules_AlreadyBound_AndPending()
    {
        var sys = WithSpBinding(300);
        Refused(sys, Notifier, Nf13.Bind2(Echo, Notifier, Nf13.Bits(300)), Err.Denied, "notification-bind.already-bound");
        Refused(sys, Notifier, Nf13.Unbind2(MemorySp, Notifier, Nf13.Bits(300)), Err.Denied, "notification-unbind.not-bound-to-sender");
        Refused(sys, Echo, Nf13.Bind2(Echo, Notifier, Nf13.Bits(1)), Err.InvalidParameters, "notification-bind.sp-not-receiver");
        Expect.Success(sys.Call(Echo, Nf13.Set2(Echo, Notifier, Nf13.Bits(300))));
        Refused(sys, Notifier, Nf13.Unbind2(Echo, Notifier, Nf13.Bits(300)), Err.Denied, "notification-bind.pending");
    }

    [Theory]
    [InlineData(1ul, "notification-bind.per-vcpu")]
    [InlineData(1ul << 40, "notification-bind.flags-mbz")]
    public void Bind2_Flags_AsBind(ulong flags, string rule) =>
        Refused(TestSystem.Default(), Notifier, Nf13.Bind2(Echo, Notifier, Nf13.Bits(1), flags), Err.InvalidParameters, rule);

    [Fact]
    public void PerVcpuNotifications_At13_AreInvalidParameters_AsTheTextSaysWhenUnsupported()
    {
        // Table 16.13/16.21: the per-vCPU flag when per-vCPU notifications are not supported (feature 0x4 bits 0/1).
        var sys = TestSystem.Default();
        Refused(sys, Notifier, Nf.Bind(Echo, Notifier, 1, flags: 1), Err.InvalidParameters, "notification-bind.per-vcpu");
        Refused(sys, Echo, Nf.Set(Echo, Notifier, 1, flags: 1), Err.InvalidParameters, "notification-set.per-vcpu");
        Refused(sys, Echo, Nf13.Set2(Echo, Notifier, Nf13.Bits(1), flags: 1), Err.InvalidParameters, "notification-set.per-vcpu");
        Refused(sys, Echo, Nf13.Set2(Echo, Notifier, Nf13.Bits(1), flags: 1ul << 40), Err.InvalidParameters, "notification-set.vcpu-not-zero");
    }

    [Fact]
    public void Bind2_ForAVm_BeyondItsAllocatedCount_IsInvalid()
    {
        var sys = TestSystem.Default();
        Expect.Success(sys.Call(Host, Ffa.Frame(Nf.BitmapCreateId, Host, 4, 64)), w2: 64);
        Expect.Success(sys.Call(Host, Nf13.Bind2(Echo, Host, Nf13.Bits(127))));
        Refused(sys, Host, Nf13.Bind2(Echo, Host, Nf13.Bits(1, 128)), Err.InvalidParameters, "notification-bind.exceeds-count");
        Refused(sys, Host, Nf13.Unbind2(Echo, Host, Nf13.Bits(127, 200)), Err.InvalidParameters, "notification-bind.exceeds-count");
        Assert.Equal([new(127, Echo)], sys.Notifications(Host).BoundToSps);
    }

    [Fact]
    public void ASpRenegotiating_Has_TheNotificationCountOfItsNewVersion()
    {
        // The notifier SP (manifest 1.3) renegotiates 1.2: 64 notifications, as FFA_FEATURES(0x4) no longer tells it more.
        var sys = TestSystem.Default();
        Expect.Success(sys.Call(Notifier, Nf.Bind(Echo, Notifier, 1)));   // its record exists, sized at 1.3
        Assert.Equal(384, sys.Notifications(Notifier).Count);
        Expect.Success(sys.Call(Notifier, Nf.Unbind(Echo, Notifier, 1)));
        Assert.Equal(0x0001_0003ul, sys.Call(Notifier, Ffa.Version(0x0001_0002)).Frame[0]);
        Assert.Equal(64, sys.Notifications(Notifier).Count);
        Refused(sys, Echo, Nf13.Set2(Echo, Notifier, Nf13.Bits(300)), Err.InvalidParameters, "notification-set.exceeds-count");

        // SP 0x8002 (manifest 1.1) of a 1.3 SPMC negotiates 1.3: the 384 notifications FFA_FEATURES(0x4) promises.
        var rich = TestSystem.FromJson(WithSpmcVersion(Rich, "1.3"));
        Assert.Equal(0x0001_0003ul, rich.Call(0x8002, Ffa.Version(0x0001_0003)).Frame[0]);
        Expect.Success(rich.Call(0x8002, Ffa.Features(Nf13.NotificationFeature)), w2: Nf13.FeaturesToSps);
        Expect.Success(rich.Call(0x8002, Nf13.Bind2(0x8001, 0x8002, Nf13.Bits(300))));
        Assert.Equal(384, rich.Notifications(0x8002).Count);
    }

    [Fact]
    public void Bind2_From12Caller_IsNotSupported()
    {
        var sys = TestSystem.Default();
        sys.Negotiate(Host, Ffa.V1_2);
        Expect.Error(sys.Call(Host, Nf13.Bind2(Echo, Host, Nf13.Bits(1))), Err.NotSupported, "dispatch.newer-than-caller");
        Expect.Error(TestSystem.DefaultAt("1.2").Call(Notifier, Nf13.Bind2(Echo, Notifier, Nf13.Bits(1))), Err.NotSupported, "dispatch.newer-than-spmc");
    }

    // ---- SET2 / GET2 / GET ----------------------------------------------------------------------------------

    [Fact]
    public void Set2_ThenGet2_ReturnsTheWholeBitmap_InSuccess64()
    {
        var sys = WithSpBinding(1, 64, 300);
        Expect.Success(sys.Call(Echo, Nf13.Set2(Echo, Notifier, Nf13.Bits(1, 64, 300))));
        var view = sys.Notifications(Notifier);
        Assert.Equal(0b10ul, view.PendingFromSps);
        Assert.Equal("0x100000000000_0000000000000000_0000000000000000_0000000000000001_0000000000000002", view.AllPendingFromSps.ToString());

        var o = Expect.Success64(sys.Call(Notifier, Nf13.Get2(Notifier, Nf.FromSps)));
        Assert.Equal(0ul, o.Frame[2]);
        Assert.Equal(Nf13.Bits(1, 64, 300), Nf13.Words(o, 3));
        Assert.Equal(new ulong[6], Nf13.Words(o, 9));
        Assert.Equal(0ul, o.Frame[15] | o.Frame[16] | o.Frame[17]);
        Assert.True(sys.Notifications(Notifier).AllPendingFromSps.IsEmpty);
    }

    [Fact]
    public void Get2_Masks_LeaveNotificationsPending()
    {
        var sys = WithSpBinding(1, 300);
        Expect.Success(sys.Call(Echo, Nf13.Set2(Echo, Notifier, Nf13.Bits(1, 300))));
        var o = Expect.Success64(sys.Call(Notifier, Nf13.Get2(Notifier, Nf.FromSps, keepSps: Nf13.Bits(300))));
        Assert.Equal(Nf13.Bits(1), Nf13.Words(o, 3));
        Assert.Equal(Nf13.Bits(300), sys.Notifications(Notifier).AllPendingFromSps.Words());
        o = Expect.Success64(sys.Call(Notifier, Nf13.Get2(Notifier, Nf.FromSps)));
        Assert.Equal(Nf13.Bits(300), Nf13.Words(o, 3));
    }

    [Fact]
    public void Get_32_ReturnsNotifications0To63_AndLeavesTheExtendedOnesForGet2()
    {
        var sys = WithSpBinding(3, 100);
        Expect.Success(sys.Call(Echo, Nf13.Set2(Echo, Notifier, Nf13.Bits(3, 100))));
        Expect.Success(sys.Call(Notifier, Nf.Get(Notifier, Nf.FromSps)), w2: 0b1000, w3: 0);
        Assert.Equal(Nf13.Bits(100), sys.Notifications(Notifier).AllPendingFromSps.Words());
        var o = Expect.Success64(sys.Call(Notifier, Nf13.Get2(Notifier, Nf.FromSps)));
        Assert.Equal(Nf13.Bits(100), Nf13.Words(o, 3));
    }

    [Fact]
    public void Set_32_And_Get2_Interoperate()
    {
        var sys = WithSpBinding(2);
        Expect.Success(sys.Call(Echo, Nf.Set(Echo, Notifier, 0b100)));
        var o = Expect.Success64(sys.Call(Notifier, Nf13.Get2(Notifier, Nf.FromSps)));
        Assert.Equal(Nf13.Bits(2), Nf13.Words(o, 3));
    }

    [Fact]
    public void Get2_FromVms_ReturnsX9ToX14()
    {
        var sys = TestSystem.Default();
        Expect.Success(sys.Call(Notifier, Nf13.Bind2(Host, Notifier, Nf13.Bits(200))));
        Expect.Success(sys.Call(Host, Nf13.Set2(Host, Notifier, Nf13.Bits(200))));
        var o = Expect.Success64(sys.Call(Notifier, Nf13.Get2(Notifier, Nf.FromSps | Nf.FromVms)));
        Assert.Equal(new ulong[6], Nf13.Words(o, 3));
        Assert.Equal(Nf13.Bits(200), Nf13.Words(o, 9));
    }

    [Fact]
    public void Get2_SpmFrameworkFlag_ReturnsTheRxFullNotificationInX15()
    {
        // An indirect message from echo to the host pends the SPM's "RX buffer full" framework notification (bit 0).
        var sys = TestSystem.Default();
        Expect.Success(sys.Call(Host, Nf.BitmapCreate(Host)));
        sys.Map(Host, HostMemory, HostMemory + 0x1000);
        sys.Map(Echo, EchoMemory, EchoMemory + 0x1000);
        Expect.Success(sys.Call(Echo, Nf.MsgSend2(), writes: [new MemoryWrite(EchoMemory, Nf.Message(Echo, Host, [1, 2, 3]))]));
        Assert.Equal(1ul, sys.Notifications(Host).PendingFramework);
        var masked = Expect.Success64(sys.Call(Host, Nf13.Get2(Host, Nf.FromSpm, keepSpm: 1)));
        Assert.Equal(0ul, masked.Frame[15]);
        Assert.Equal(1ul, sys.Notifications(Host).PendingFramework);
        var o = Expect.Success64(sys.Call(Host, Nf13.Get2(Host, Nf.FromSps | Nf.FromSpm)));
        Assert.Equal(1ul, o.Frame[15]);
        Assert.Equal(0ul, o.Frame[16]);
        Assert.Equal(0ul, sys.Notifications(Host).PendingFramework);
    }

    [Fact]
    public void Set2_EmptyBitmap_And_Get2_NoBitmap_AreInvalid()
    {
        var sys = WithSpBinding(1);
        Refused(sys, Echo, Nf13.Set2(Echo, Notifier, Nf13.Bits()), Err.InvalidParameters, "notification-set.empty-bitmap");
        Refused(sys, Notifier, Nf13.Get2(Notifier, 0), Err.InvalidParameters, "notification-get.no-bitmap");
    }

    [Fact]
    public void Set2_And_Get2_Flags_AsSetAndGet()
    {
        var sys = WithSpBinding(1);
        Refused(sys, Echo, Nf13.Set2(Echo, Notifier, Nf13.Bits(1), flags: 1ul << 5), Err.InvalidParameters, "notification-set.flags-mbz");
        Refused(sys, Notifier, Nf13.Get2(Notifier, Nf.FromSps | (1ul << 40)), Err.InvalidParameters, "notification-get.flags-mbz");
        Refused(sys, Echo, Nf13.Set2(Echo, Notifier, Nf13.Bits(2)), Err.Denied, "notification-set.not-bound-to-sender");
        Refused(sys, Echo, Nf13.Get2(Notifier, Nf.FromSps), Err.InvalidParameters, "notification-get.not-the-receiver");
    }

    [Fact]
    public void Set2_And_Get2Masks_BeyondTheReceiversCount_AreInvalid()
    {
        var sys = TestSystem.Default();
        Expect.Success(sys.Call(Host, Nf.BitmapCreate(Host)), w2: 0); // 64 notifications
        Expect.Success(sys.Call(Host, Nf13.Bind2(Echo, Host, Nf13.Bits(63))));
        Refused(sys, Echo, Nf13.Set2(Echo, Host, Nf13.Bits(63, 64)), Err.InvalidParameters, "notification-set.exceeds-count");
        Refused(sys, Host, Nf13.Get2(Host, Nf.FromSps, keepSps: Nf13.Bits(64)), Err.InvalidParameters, "notification-get.exceeds-count");
        // A mask of a bitmap not selected is SBZ: ignored.
        Expect.Success64(sys.Call(Host, Nf13.Get2(Host, Nf.FromSpm, keepSps: Nf13.Bits(64))));
        Expect.Success(sys.Call(Echo, Nf13.Set2(Echo, Host, Nf13.Bits(63))));
        var o = Expect.Success64(sys.Call(Host, Nf13.Get2(Host, Nf.FromSps)));
        Assert.Equal(Nf13.Bits(63), Nf13.Words(o, 3));
    }

    [Fact]
    public void Get2_MaskOfNotification383_IsFineForA13Partition()
    {
        var sys = WithSpBinding(383);
        Expect.Success(sys.Call(Echo, Nf13.Set2(Echo, Notifier, Nf13.Bits(383))));
        var o = Expect.Success64(sys.Call(Notifier, Nf13.Get2(Notifier, Nf.FromSps, keepSps: Nf13.Bits(383))));
        Assert.Equal(new ulong[6], Nf13.Words(o, 3));
        Assert.Equal(Nf13.Bits(383), sys.Notifications(Notifier).AllPendingFromSps.Words());
    }

    [Fact]
    public void InfoGet_ReportsAReceiverWithOnlyExtendedNotificationsPending()
    {
        var sys = WithSpBinding(300);
        Expect.Success(sys.Call(Echo, Nf13.Set2(Echo, Notifier, Nf13.Bits(300))));
        var o = sys.Call(Host, Nf.InfoGet64());
        Assert.Equal(Ffa.Success64, o.Frame[0]);
        Assert.Equal((ulong)Notifier, o.Frame[3] & 0xFFFF);
        var again = sys.Call(Host, Nf.InfoGet64());
        Assert.Equal(Nf.NoData, again.Frame[2]);
        Assert.Equal("notification-info-get.no-data", again.Decoded.Rule);
    }

    [Fact]
    public void BitmapDestroy_IsDeniedWhileAnExtendedNotificationIsPending()
    {
        var sys = TestSystem.Default();
        Expect.Success(sys.Call(Host, Ffa.Frame(Nf.BitmapCreateId, Host, 4, 64)), w2: 64);
        Expect.Success(sys.Call(Host, Nf13.Bind2(Echo, Host, Nf13.Bits(100))));
        Expect.Success(sys.Call(Echo, Nf13.Set2(Echo, Host, Nf13.Bits(100))));
        Refused(sys, Host, Nf.BitmapDestroy(Host), Err.Denied, "notification-bitmap-destroy.pending");
    }

    [Fact]
    public void TheWiderState_SerialisesAsPlainJson()
    {
        var sys = WithSpBinding(300);
        Expect.Success(sys.Call(Echo, Nf13.Set2(Echo, Notifier, Nf13.Bits(300))));
        var json = System.Text.Json.JsonSerializer.Serialize(sys.System.SpmcState);
        using var doc = System.Text.Json.JsonDocument.Parse(json);
        var record = doc.RootElement.GetProperty("Notifications").GetProperty(Notifier.ToString());
        Assert.Equal(384, record.GetProperty("Count").GetInt32());
        Assert.Equal(384, record.GetProperty("FromSps").GetProperty("Senders").GetArrayLength());
        Assert.Equal(Echo, record.GetProperty("FromSps").GetProperty("Senders")[300].GetUInt16());
        var pending = record.GetProperty("FromSps").GetProperty("Pending");
        Assert.Equal(1ul << 44, pending.GetProperty("W4").GetUInt64());
        Assert.Equal(new Spmc.Abi.Calls.NotificationBits(0, 0, 0, 0, 1ul << 44, 0),
            System.Text.Json.JsonSerializer.Deserialize<Spmc.Abi.Calls.NotificationBits>(pending.GetRawText()));
    }

    // ---- ABORTED ----------------------------------------------------------------------------------------------

    private static PartitionManager Manager(string json)
    {
        var config = ManifestValidator.Validate(json);
        return new PartitionManager(config, new PhysicalMemory(), new MemoryMap(config));
    }

    private static FfaAnswer Run(PartitionManager spmc, ushort caller, SmcFrame frame) => spmc.Handle(new FfaRequest(caller, 0, frame));

    private static string Snapshot(PartitionManager spmc) => string.Join("\n", spmc.NotificationViews().Select(v =>
        $"{v with { BoundToSps = [], BoundToVms = [] }} sp[{string.Join(",", v.BoundToSps)}] vm[{string.Join(",", v.BoundToVms)}]"));

    private static void RefusedBy(PartitionManager spmc, ushort caller, SmcFrame frame, Err error, string rule)
    {
        var before = Snapshot(spmc);
        var answer = Run(spmc, caller, frame);
        Assert.True(answer.Rule == rule && answer.Frame[2] == error.Code, $"expected {error.Name} [{rule}], got {answer.Rejection?.ToString() ?? $"x0 = 0x{answer.Frame[0]:X}"}");
        Assert.Equal(before, Snapshot(spmc));
    }

    private static void Abort(PartitionManager spmc, ushort sp) => spmc.State.Endpoints[sp].Runtime!.Lifecycle = PartitionLifecycle.Aborted;

    [Fact]
    public void At13_BindAndUnbind_NamingAnAbortedSender_AreAborted()
    {
        var spmc = Manager(DefaultPassthroughJson);
        Assert.Null(Run(spmc, Notifier, Nf.Bind(Echo, Notifier, 1)).Rejection);
        Abort(spmc, Echo);
        RefusedBy(spmc, Notifier, Nf.Bind(Echo, Notifier, 2), Err.Aborted, "notification-bind.sender-aborted");
        RefusedBy(spmc, Notifier, Nf.Unbind(Echo, Notifier, 1), Err.Aborted, "notification-bind.sender-aborted");
        RefusedBy(spmc, Notifier, Nf13.Bind2(Echo, Notifier, Nf13.Bits(100)), Err.Aborted, "notification-bind.sender-aborted");
        RefusedBy(spmc, Notifier, Nf13.Unbind2(Echo, Notifier, Nf13.Bits(1)), Err.Aborted, "notification-bind.sender-aborted");
        Assert.Null(Run(spmc, Notifier, Nf.Bind(MemorySp, Notifier, 2)).Rejection); // other senders are fine
    }

    [Fact]
    public void At13_SetToAnAbortedReceiver_IsAborted()
    {
        var spmc = Manager(DefaultPassthroughJson);
        Assert.Null(Run(spmc, Notifier, Nf.Bind(Host, Notifier, 1)).Rejection);
        Abort(spmc, Notifier);
        RefusedBy(spmc, Host, Nf.Set(Host, Notifier, 1), Err.Aborted, "notification-set.receiver-aborted");
        RefusedBy(spmc, Echo, Nf13.Set2(Echo, Notifier, Nf13.Bits(1)), Err.Aborted, "notification-set.receiver-aborted");
    }

    [Fact]
    public void At12_AnAbortedPartition_GetsTodaysAnswers()
    {
        var spmc = Manager(WithSpmcVersion(DefaultPassthroughJson, "1.2"));
        Assert.Null(Run(spmc, Notifier, Nf.Bind(Host, Notifier, 1)).Rejection);
        Abort(spmc, Echo);
        Assert.Null(Run(spmc, Notifier, Nf.Bind(Echo, Notifier, 2)).Rejection); // naming an aborted sender
        Abort(spmc, Notifier);
        Assert.Null(Run(spmc, Host, Nf.Set(Host, Notifier, 1)).Rejection);     // to an aborted receiver

        // A 1.2 caller of a 1.3 SPMC too.
        var mixed = Manager(DefaultPassthroughJson);
        Assert.Equal(0x1_0003ul, Run(mixed, Host, Ffa.Version(Ffa.V1_2)).Frame[0]);
        Assert.Null(Run(mixed, Notifier, Nf.Bind(Host, Notifier, 1)).Rejection);
        Abort(mixed, Notifier);
        Assert.Null(Run(mixed, Host, Nf.Set(Host, Notifier, 1)).Rejection);
    }
}
