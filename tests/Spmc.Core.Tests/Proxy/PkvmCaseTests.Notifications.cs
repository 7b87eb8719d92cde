using static Spmc.Core.Tests.Proxy.PkvmAssert;

namespace Spmc.Core.Tests.Proxy;

public sealed partial class PkvmCaseTests
{
    private const uint BitmapCreate = 0x8400_007D, BitmapDestroy = 0x8400_007E, Bind = 0x8400_007F, Unbind = 0x8400_0080, Set = 0x8400_0081, Get = 0x8400_0082;

    /// <summary>The host's x0..x17 reached EL3 unmodified and EL3's x0..x17 came back.</summary>
    private static void Forwarded(ProxyHarness h, params ulong[] x)
    {
        var input = F(x);
        for (var i = 8; i < 18; i++) input[i] = 0x5000 + (ulong)i;
        var a = h.Call(input);
        Assert.Equal(input.ToArray(), Assert.Single(h.Spmc.Frames).ToArray());
        Passed(a, SpmcMock.Echo());
        h.Spmc.Mark();
    }

    [Theory]
    [MemberData(nameof(Profiles.L74), MemberType = typeof(Profiles))]
    public void Case67_NotificationBitmapCreate_VmIdMustBeZero_ThenForwardedAsIs(string profile)
    {
        var h = ProxyHarness.Create(profile).Negotiated();
        Err(h, h.Call(BitmapCreate, 1), -2, "pkvm.notification-bitmap.vm-not-host", BitmapCreate, 1);
        NoEl3(h);
        Forwarded(h, BitmapCreate, 0, 8);
    }

    [Theory]
    [MemberData(nameof(Profiles.L74), MemberType = typeof(Profiles))]
    public void Case68_NotificationBind_FlagsAboveOneOrReceiverNotHost_IsInvalidParameters(string profile)
    {
        var h = ProxyHarness.Create(profile).Negotiated();
        Err(h, h.Call(Bind, 0x0005_0000, 2), -2, "pkvm.notification-bind.flags", Bind, 0x0005_0000, 2);
        Err(h, h.Call(Bind, 0x0005_0001, 0), -2, "pkvm.notification-bind.receiver-not-host", Bind, 0x0005_0001, 0);
        NoEl3(h);
        Forwarded(h, Bind, 0x0005_0000, 1, 0xF0, 0);
    }

    [Theory]
    [MemberData(nameof(Profiles.L74), MemberType = typeof(Profiles))]
    public void Case69_NotificationUnbind_ReservedW2_IsInvalidParameters(string profile)
    {
        var h = ProxyHarness.Create(profile).Negotiated();
        Err(h, h.Call(Unbind, 0x0005_0000, 1), -2, "pkvm.notification-unbind.w2-not-zero", Unbind, 0x0005_0000, 1);
        NoEl3(h);
        Forwarded(h, Unbind, 0x0005_0000, 0, 0xF0);
    }

    [Theory]
    [MemberData(nameof(Profiles.L74), MemberType = typeof(Profiles))]
    public void NotificationUnbind_ReceiverNotTheHost_IsInvalidParameters(string profile)
    {
        var h = ProxyHarness.Create(profile).Negotiated();
        Err(h, h.Call(Unbind, 0x0005_0001, 0), -2, "pkvm.notification-unbind.receiver-not-host", Unbind, 0x0005_0001, 0);
        NoEl3(h);
    }

    [Theory]
    [MemberData(nameof(Profiles.L74), MemberType = typeof(Profiles))]
    public void NotificationBitmapDestroy_VmIdMustBeZero_ReservedBitsIncluded(string profile)
    {
        var h = ProxyHarness.Create(profile).Negotiated();
        Err(h, h.Call(BitmapDestroy, 0x0001_0000), -2, "pkvm.notification-bitmap.vm-not-host", BitmapDestroy, 0x0001_0000);
        NoEl3(h);
        Forwarded(h, BitmapDestroy, 0);
    }

    [Theory]
    [MemberData(nameof(Profiles.L74), MemberType = typeof(Profiles))]
    public void Case70_NotificationSet_SenderMustBeHost_FlagBits15To2Clear(string profile)
    {
        var h = ProxyHarness.Create(profile).Negotiated();
        Err(h, h.Call(Set, 0x0005_0000), -2, "pkvm.notification-set.sender-not-host", Set, 0x0005_0000);
        Err(h, h.Call(Set, 0x0000_0005, 4), -2, "pkvm.notification-set.flags", Set, 0x0000_0005, 4);
        NoEl3(h);
        Forwarded(h, Set, 0x0000_0005, 3, 1);
    }

    [Theory]
    [MemberData(nameof(Profiles.L74), MemberType = typeof(Profiles))]
    public void Case71_NotificationGet_ReceiverMustBeHost_FlagBits31To4Clear(string profile)
    {
        var h = ProxyHarness.Create(profile).Negotiated();
        Err(h, h.Call(Get, 0, 0x10), -2, "pkvm.notification-get.flags", Get, 0, 0x10);
        NoEl3(h);
        Forwarded(h, Get, 0x0001_0000, 0xF);
    }

    [Theory]
    [MemberData(nameof(Profiles.L74), MemberType = typeof(Profiles))]
    public void NotificationGet_ReceiverNotTheHost_IsInvalidParameters(string profile)
    {
        var h = ProxyHarness.Create(profile).Negotiated();
        Err(h, h.Call(Get, 0x0001_0005, 0), -2, "pkvm.notification-get.receiver-not-host", Get, 0x0001_0005, 0);
        NoEl3(h);
    }
}
