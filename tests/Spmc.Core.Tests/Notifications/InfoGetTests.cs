using System.Text;
using Spmc.Core.Calls;
using Spmc.Core.Tests.Support;
using static Spmc.Core.Tests.Support.Manifests;

namespace Spmc.Core.Tests.Notifications;

/// <summary>FFA_NOTIFICATION_INFO_GET_32/64 (spmc-behaviour.md §11, ffa-abi.md §1.8; Hafnium api_ffa_notification_info_get).</summary>
public class InfoGetTests
{
    /// <summary>x2 of a success: bit 0 more pending, bits[11:7] list count; every list holds just an ID (global notifications).</summary>
    private static ulong Flags(int lists, bool more) => (more ? 1ul : 0) | ((ulong)lists << 7);

    /// <summary>The IDs of an SMC64 answer: four per register in x3..x7, first in the low 16 bits.</summary>
    private static ushort[] Ids64(SmcOutcome o, int count) =>
        [.. Enumerable.Range(0, count).Select(i => (ushort)(o.Frame[3 + i / 4] >> (16 * (i % 4))))];

    private static ushort[] Ids32(SmcOutcome o, int count) =>
        [.. Enumerable.Range(0, count).Select(i => (ushort)(o.Frame[3 + i / 2] >> (16 * (i % 2))))];

    private static SmcOutcome Info64(TestSystem sys, int lists, bool more)
    {
        var o = Expect.Success64(sys.Call(Host, Nf.InfoGet64()));
        Assert.Equal("FFA_NOTIFICATION_INFO_GET", o.Decoded.Function);
        Assert.Equal(Flags(lists, more), o.Frame[2]);
        return o;
    }

    private static void NoData(TestSystem sys, Spmc.Abi.Smccc.SmcFrame frame)
    {
        var o = sys.Call(Host, frame);
        Assert.Equal(Ffa.Error32, o.Frame[0]);
        Assert.Equal(Nf.NoData, o.Frame[2]);
        Assert.Equal("NO_DATA", o.Decoded.Error);
        Assert.False(string.IsNullOrWhiteSpace(o.Decoded.Reason));
        Assert.Equal("notification-info-get.no-data", o.Decoded.Rule);
    }

    [Fact]
    public void NothingPending_IsNoData()
    {
        NoData(Nf.Rich(), Nf.InfoGet64());
        NoData(Nf.Rich(), Nf.InfoGet32());
    }

    [Theory]
    [InlineData(Vm1)]
    [InlineData(Sp12)]
    [InlineData(Sp11)]
    public void FromAnyoneButId0_IsNotSupported(ushort caller)
    {
        var sys = Nf.RichWithBinding(Sp12, Sp11, 1);
        Expect.Success(sys.Call(Sp11, Nf.Set(Sp11, Sp12, 1)));
        Expect.Error(sys.Call(caller, Nf.InfoGet64()), Err.NotSupported, "dispatch.hypervisor-only");
        Expect.Error(sys.Call(caller, Nf.InfoGet32()), Err.NotSupported, "dispatch.hypervisor-only");
        Assert.Equal(0ul, sys.Notifications(Sp12).ReportedFromSps); // nothing was reported
        Assert.Equal([Sp12], Ids64(Info64(sys, 1, more: false), 1));
    }

    /// <summary>
    /// Pending: VM 1 from SP 0x8001, SP 0x8002 from VM 1, the host's RX-full framework notification, SP 0x8001 from
    /// SP 0x8002 and from VM 2.
    /// </summary>
    private static TestSystem SeveralReceivers()
    {
        var sys = Nf.Rich();
        Expect.Success(sys.Call(Host, Nf.BitmapCreate(Vm1)));
        Expect.Success(sys.Call(Host, Nf.Bind(Sp12, Vm1, 1)));
        Expect.Success(sys.Call(Sp11, Nf.Bind(Vm1, Sp11, 2)));
        Expect.Success(sys.Call(Sp12, Nf.Bind(Sp11, Sp12, 4)));
        Expect.Success(sys.Call(Sp12, Nf.Bind(Vm2, Sp12, 8)));
        Expect.Success(sys.Call(Sp12, Nf.Set(Sp12, Vm1, 1)));
        Expect.Success(sys.Call(Host, Nf.Set(Vm1, Sp11, 2)));
        sys.Map(Host, HostMemory, HostMemory + 0x1000);
        sys.Map(Sp11, Sp11Memory, Sp11Memory + 0x1000);
        Expect.Success(sys.Call(Sp11, Nf.MsgSend2(), writes: [new MemoryWrite(Sp11Memory, Nf.Message(Sp11, Host, [9], header: 20))]));
        Expect.Success(sys.Call(Sp11, Nf.Set(Sp11, Sp12, 4)));
        Expect.Success(sys.Call(Host, Nf.Set(Vm2, Sp12, 8)));
        return sys;
    }

    [Fact]
    public void ListsPartitionsInManifestOrder_ThenId0_ThenVms_EachOnce()
    {
        var sys = SeveralReceivers();
        var o = Info64(sys, 4, more: false);
        Assert.Equal([Sp12, Sp11, Host, Vm1], Ids64(o, 4));
        Assert.Equal(0ul, o.Frame[4]); // nothing beyond the four IDs
        Assert.Equal(0x0000_8002_8001ul, o.Frame[3] & 0xFFFF_FFFF_FFFF);
        Assert.Equal(0x0001ul, o.Frame[3] >> 48);
    }

    [Fact]
    public void EachNotificationIsReportedOnce_ThenNoData_ButStaysPendingForGet()
    {
        var sys = SeveralReceivers();
        Info64(sys, 4, more: false);
        NoData(sys, Nf.InfoGet64());
        NoData(sys, Nf.InfoGet32());
        Assert.Equal(0b1100ul, sys.Notifications(Sp12).ReportedFromSps | sys.Notifications(Sp12).ReportedFromVms);
        var get = Expect.Success(sys.Call(Sp12, Nf.Get(Sp12, Nf.FromSps | Nf.FromVms)), w2: 4);
        Assert.Equal(8ul, get.Frame[4]);
        Assert.Equal(0ul, sys.Notifications(Sp12).ReportedFromSps);
    }

    [Fact]
    public void ANewNotification_IsReportedAgain_EvenForAnEndpointAlreadyReported()
    {
        var sys = SeveralReceivers();
        Info64(sys, 4, more: false);
        Expect.Success(sys.Call(Sp12, Nf.Bind(Sp11, Sp12, 0x10)));
        Expect.Success(sys.Call(Sp11, Nf.Set(Sp11, Sp12, 0x10)));
        Assert.Equal([Sp12], Ids64(Info64(sys, 1, more: false), 1));
        NoData(sys, Nf.InfoGet64());
    }

    [Fact]
    public void SettingAPendingReportedBitAgain_IsNotReportedAgain()
    {
        var sys = Nf.RichWithBinding(Sp12, Sp11, 1);
        Expect.Success(sys.Call(Sp11, Nf.Set(Sp11, Sp12, 1)));
        Info64(sys, 1, more: false);
        Expect.Success(sys.Call(Sp11, Nf.Set(Sp11, Sp12, 1)));
        NoData(sys, Nf.InfoGet64());
        Expect.Success(sys.Call(Sp12, Nf.Get(Sp12, Nf.FromSps)), w2: 1);
        Expect.Success(sys.Call(Sp11, Nf.Set(Sp11, Sp12, 1)));
        Info64(sys, 1, more: false);
    }

    [Fact]
    public void Smc32_PacksTwoIdsPerRegister()
    {
        var sys = SeveralReceivers();
        var o = Expect.Success(sys.Call(Host, Nf.InfoGet32()));
        Assert.Equal(Flags(4, more: false), o.Frame[2]);
        Assert.Equal([Sp12, Sp11, Host, Vm1], Ids32(o, 4));
        Assert.Equal(0x8002_8001ul, o.Frame[3]);
        Assert.Equal(0x0001_0000ul, o.Frame[4]);
        Assert.Equal(0ul, o.Frame[5]);
    }

    /// <summary>ID 0 and <paramref name="count"/> SPs with notifications, each with bit 0 bound to the host (VM 0) as sender.</summary>
    private static TestSystem ManyReceivers(int count)
    {
        var sb = new StringBuilder("""{ "vms": [ { "id": 0, "name": "host", "memory": [ { "base": "0x80000000", "size": "0x100000" } ] } ], "partitions": [""");
        for (var i = 0; i < count; i++)
        {
            if (i > 0) sb.Append(',');
            sb.Append($$"""{ "id": "0x{{0x8001 + i:X4}}", "name": "sp{{i}}", "uuids": [ "{{ManyUuid(i, 0)}}" ], "properties": { "directRequestReceive": true, "notifications": true, "indirectMessaging": true } }""");
        }
        sb.Append("] }");
        var sys = TestSystem.FromJson(sb.ToString());
        for (var i = 0; i < count; i++) Expect.Success(sys.Call((ushort)(0x8001 + i), Nf.Bind(Host, (ushort)(0x8001 + i), 1 | 2)));
        return sys;
    }

    private static void SetAll(TestSystem sys, int count, ulong bits = 1)
    {
        for (var i = 0; i < count; i++) Expect.Success(sys.Call(Host, Nf.Set(Host, (ushort)(0x8001 + i), bits)));
    }

    private static ushort[] Sps(int from, int count) => [.. Enumerable.Range(from, count).Select(i => (ushort)(0x8001 + i))];

    [Fact]
    public void Smc64_AtMost20Ids_ThenMorePending_UntilAllAreReported()
    {
        var sys = ManyReceivers(24);
        SetAll(sys, 24);
        var first = Info64(sys, 20, more: true);
        Assert.Equal(Sps(0, 20), Ids64(first, 20));
        var second = Info64(sys, 4, more: false);
        Assert.Equal(Sps(20, 4), Ids64(second, 4));
        Assert.Equal(0ul, second.Frame[4]);
        NoData(sys, Nf.InfoGet64());
    }

    [Fact]
    public void Smc64_Exactly20_IsNotMorePending()
    {
        var sys = ManyReceivers(20);
        SetAll(sys, 20);
        Assert.Equal(Sps(0, 20), Ids64(Info64(sys, 20, more: false), 20));
        NoData(sys, Nf.InfoGet64());
    }

    [Fact]
    public void Smc32_AtMost10Ids_ThenMorePending()
    {
        var sys = ManyReceivers(13);
        SetAll(sys, 13);
        var first = Expect.Success(sys.Call(Host, Nf.InfoGet32()));
        Assert.Equal(Flags(10, more: true), first.Frame[2]);
        Assert.Equal(Sps(0, 10), Ids32(first, 10));
        var second = Expect.Success(sys.Call(Host, Nf.InfoGet32()));
        Assert.Equal(Flags(3, more: false), second.Frame[2]);
        Assert.Equal(Sps(10, 3), Ids32(second, 3));
        NoData(sys, Nf.InfoGet32());
    }

    [Fact]
    public void MorePending_CountsEveryEndpoint_NotJustTheListed()
    {
        // 10 SPs fill an SMC32 answer; a VM's pending notification is what remains.
        var sys = ManyReceivers(10);
        Expect.Success(sys.Call(Host, Nf.BitmapCreate(Host)));
        Expect.Success(sys.Call(Host, Nf.Bind(0x8001, Host, 1)));
        SetAll(sys, 10);
        Expect.Success(sys.Call(0x8001, Nf.Set(0x8001, Host, 1)));
        var first = Expect.Success(sys.Call(Host, Nf.InfoGet32()));
        Assert.Equal(Flags(10, more: true), first.Frame[2]);
        var second = Expect.Success(sys.Call(Host, Nf.InfoGet32()));
        Assert.Equal(Flags(1, more: false), second.Frame[2]);
        Assert.Equal([Host], Ids32(second, 1));
    }

    [Fact]
    public void AFullList_LeavesTheLastEndpointsOtherBitmapUnreported_AndListsItAgain()
    {
        // Hafnium quirk (vm_insert_notification_info_list): the 10th ID fills an SMC32 list; the same SP's
        // notifications from VMs meet the full list and stay unreported, so the next call lists it again.
        var sys = ManyReceivers(10);
        Expect.Success(sys.Call(0x800A, Nf.Bind(0x8001, 0x800A, 4)));
        SetAll(sys, 10);
        Expect.Success(sys.Call(0x8001, Nf.Set(0x8001, 0x800A, 4)));
        var first = Expect.Success(sys.Call(Host, Nf.InfoGet32()));
        Assert.Equal(Flags(10, more: true), first.Frame[2]);
        Assert.Equal(Sps(0, 10), Ids32(first, 10));
        Assert.Equal(4ul, sys.Notifications(0x800A).ReportedFromSps);
        Assert.Equal(0ul, sys.Notifications(0x800A).ReportedFromVms);
        var second = Expect.Success(sys.Call(Host, Nf.InfoGet32()));
        Assert.Equal(Flags(1, more: false), second.Frame[2]);
        Assert.Equal([(ushort)0x800A], Ids32(second, 1));
        NoData(sys, Nf.InfoGet32());
    }
}
