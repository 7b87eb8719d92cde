using Spmc.Abi.Smccc;
using static Spmc.Core.Tests.Proxy.PkvmAssert;
using static Spmc.Core.Tests.Proxy.ProxyHarness;

namespace Spmc.Core.Tests.Proxy;

/// <summary>
/// Cases 72–75 are Android Common Kernel behaviour (its guest FF-A proxy). Upstream pKVM — what every profile
/// models — gives guests no FF-A at all: KVM answers SMCCC NOT_SUPPORTED (x0 = -1, x1..x3 = 0, x4..x17 kept)
/// with no EL3 call. These tests pin that. ACK differs: 73 would be an FF-A NOT_SUPPORTED version answer, 74
/// ERR(INVALID_PARAMETERS) (fragmentation refused), 75 ERR(INVALID_PARAMETERS) (source ID is not the VM's).
/// </summary>
public sealed partial class PkvmCaseTests
{
    private static void GuestNotSupported(ProxyHarness h, SmcFrame input)
    {
        var a = h.Call(input, Guest);
        Assert.Equal(ulong.MaxValue, a.Frame[0]);
        Assert.Equal([0UL, 0, 0], a.Frame.ToArray()[1..4]);
        Assert.Equal(input.ToArray()[4..], a.Frame.ToArray()[4..]);
        Assert.Equal("pkvm.guest.no-ffa", a.Rule);
        Assert.Contains("guest", a.Reason);
        NoEl3(h);
    }

    [Theory]
    [MemberData(nameof(Profiles.All), MemberType = typeof(Profiles))]
    public void Case72_Guest_FfaCall_IsSmcccNotSupported(string profile) =>
        GuestNotSupported(ProxyHarness.Create(profile).Negotiated(), F(0x8400_0069, 0, 0, 0, 0x44, 0x55));

    [Theory]
    [MemberData(nameof(Profiles.All), MemberType = typeof(Profiles))]
    public void Case73_Guest_VersionBelowHyp_IsNotSupported(string profile) =>
        GuestNotSupported(ProxyHarness.Create(profile).Negotiated(), F(0x8400_0063, 0x1_0001));

    [Theory]
    [MemberData(nameof(Profiles.All), MemberType = typeof(Profiles))]
    public void Case74_Guest_MemShareWithLenNotFraglen_IsNotSupportedUpstream(string profile)
    {
        var h = ProxyHarness.Create(profile).Mapped();
        GuestNotSupported(h, F(0x8400_0073, 0x200, 0x100));
        Assert.Equal(Spmc.Core.Proxy.Pkvm.Stage2State.Guest, h.StateOf(GuestPage));
    }

    [Theory]
    [MemberData(nameof(Profiles.All), MemberType = typeof(Profiles))]
    public void Case75_Guest_DirectReqWithForeignSource_IsNotSupported_NoEl3(string profile) =>
        GuestNotSupported(ProxyHarness.Create(profile).Negotiated(), F(0x8400_006F, 0x0005_8001, 0, 1, 2, 3));

    [Theory]
    [MemberData(nameof(Profiles.All), MemberType = typeof(Profiles))]
    public void Guest_SmcccVersion_IsAnsweredByKvm(string profile)
    {
        var h = ProxyHarness.Create(profile);
        var a = h.Call(F(0x8000_0000), Guest);
        Assert.Equal(0x1_0001UL, a.Frame[0]);
        Assert.Null(a.Error);
        NoEl3(h);
    }
}
