using Spmc.Core.Proxy.Pkvm;
using static Spmc.Core.Tests.Proxy.PkvmAssert;
using static Spmc.Core.Tests.Proxy.ProxyHarness;

namespace Spmc.Core.Tests.Proxy;

/// <summary>
/// ffa.c reads registers with DECLARE_REG (a C type, whatever the call's width) and compares the SPMC's whole
/// 64-bit a0..a3, where an FF-A decoder would read the width's view and check MBZ bits. These pin the kernel's reads.
/// </summary>
public sealed partial class PkvmCaseTests
{
    [Theory]
    [MemberData(nameof(Profiles.All), MemberType = typeof(Profiles))]
    public void MemShare32_X3IsReadWhole_UpperHalfAloneIsRefused(string profile)
    {
        var h = ProxyHarness.Create(profile).Mapped();
        var d = h.D((P, 1));
        var len = (ulong)d.Length;
        h.Memory.Write(T, d.Bytes);
        Err(h, h.Call(Share32, len, len, 1UL << 32), -2, "pkvm.mem-share.dynamic-buffer", Share32, len, len, 1UL << 32);
        NoEl3(h);
    }

    [Theory]
    [MemberData(nameof(Profiles.All), MemberType = typeof(Profiles))]
    public void MemShare64_LengthsAreReadAsW1W2_UpperHalvesIgnored(string profile)
    {
        var h = ProxyHarness.Create(profile).Mapped();
        var d = h.D((P, 1));
        var len = (ulong)d.Length;
        h.Memory.Write(T, d.Bytes);
        var a = h.Call(Share64, 0xAB_0000_0000 | len, 0xCD_0000_0000 | len);
        Assert.Equal(SpmcMock.Success, a.Frame[0]);
        Assert.Equal([Share64, len, len, 0], Assert.Single(h.Spmc.Frames).ToArray()[..4]);
    }

    [Theory]
    [MemberData(nameof(Profiles.All), MemberType = typeof(Profiles))]
    public void RxTxMap_PageCountIsW3_X3UpperHalfIsNotChecked(string profile)
    {
        var h = ProxyHarness.Create(profile).Negotiated();
        Ok(h, h.Call(RxTxMap, T, R, 0xF_0000_0001), 0, RxTxMap, T, R, 0xF_0000_0001);
        Assert.Equal([RxTxMap, HypTx, HypRx, 1], Assert.Single(h.Spmc.Frames).ToArray()[..4]);
    }

    [Theory]
    [MemberData(nameof(Profiles.All), MemberType = typeof(Profiles))]
    public void RxTxUnmap_AllOfW1IsTheId_LowBitsAreNotHostId(string profile)
    {
        var h = ProxyHarness.Create(profile).Mapped();
        Err(h, h.Call(RxTxUnmap, 1), -2, "pkvm.rxtx-unmap.not-host-id", RxTxUnmap, 1);
        NoEl3(h);
    }

    [Theory]
    [MemberData(nameof(Profiles.All), MemberType = typeof(Profiles))]
    public void MemFragTx_W4IsForwardedWhole_ReservedLowBitsIncluded(string profile)
    {
        var h = ProxyHarness.Create(profile).Mapped();
        var fragment = new byte[16];
        BitConverter.GetBytes(Q).CopyTo(fragment, 0);
        BitConverter.GetBytes(1u).CopyTo(fragment, 8);
        h.Spmc.On(FragTx, SpmcMock.Success);
        h.WithTx(fragment, FragTx, 0xFFFF_FFFF_0000_1234, 7, 16, 0x0005_0005);
        Assert.Equal([FragTx, 0x1234, 7, 16, 0x0005_0005], Assert.Single(h.Spmc.Frames).ToArray()[..5]);
    }

    [Theory]
    [MemberData(nameof(Profiles.All), MemberType = typeof(Profiles))]
    public void MemShare_SuccessWithUpperBitsInX0_IsNotFfaSuccess_PagesUnshared(string profile)
    {
        var h = ProxyHarness.Create(profile).Mapped();
        var el3 = F(0x1_0000_0000 | SpmcMock.Success, 0, SpmcMock.HandleLo, SpmcMock.HandleHi);
        h.Spmc.On(Share64, el3.ToArray());
        var d = h.D((P, 1));
        Verbatim(h, h.Share(d), el3, F(Share32, (ulong)d.Length, (ulong)d.Length));
        Assert.Equal(Stage2State.Owned, h.StateOf(P));
    }
}
