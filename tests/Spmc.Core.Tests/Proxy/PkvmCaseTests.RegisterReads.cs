using Spmc.Abi.Smccc;
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

    [Theory]
    [MemberData(nameof(Profiles.All), MemberType = typeof(Profiles))]
    public void Features_FeatureIdWithReservedBitsOrInput_IsNotCheckedAtEl2_GoesToEl3Unchanged(string profile)
    {
        var h = ProxyHarness.Create(profile).Negotiated();
        // do_ffa_features reads w1 as a u32 and looks at nothing else: the MBZ bits of a feature ID are the SPMC's business.
        foreach (var input in new[] { F(Features, 0x0000_0101), F(Features, 0x7FFF_FF01), F(Features, 0x1, 0x5) })
        {
            h.Spmc.Mark();
            var a = h.Call(input);
            Assert.Equal(input.ToArray(), Assert.Single(h.Spmc.Frames).ToArray());
            Passed(a, SpmcMock.Echo());
        }
    }

    [Theory]
    [MemberData(nameof(Profiles.All), MemberType = typeof(Profiles))]
    public void MemReclaim_FlagsAreW3AsAU32_ReservedBitsGoToEl3(string profile)
    {
        var (h, d) = SharedP(profile);
        RetrieveAnswers(h, d.Bytes);
        var el3 = SpmcMock.FfaError(-2);
        h.Spmc.On(Reclaim, el3.ToArray());
        var input = F(Reclaim, SpmcMock.HandleLo, SpmcMock.HandleHi, 0xFFFF_FFFF_8000_0006);
        Verbatim(h, h.Call(input), el3, input);
        Assert.Equal((uint)Reclaim, h.Spmc.Ids[^1]);
        Assert.Equal([Reclaim, SpmcMock.HandleLo, SpmcMock.HandleHi, 0x8000_0006], h.Spmc.Frames[^1].ToArray()[..4]);
        Assert.Equal(Stage2State.SharedWithFfa, h.StateOf(P));
    }

    [Theory]
    [MemberData(nameof(Profiles.Gated), MemberType = typeof(Profiles))]
    public void PartitionInfoGet_UuidAndFlagsAreW1ToW5_ReservedFlagBitsAreForwardedUnchecked(string profile)
    {
        var h = ProxyHarness.Create(profile).Mapped();
        var el3 = F(SpmcMock.Success, 0, 1, 24);
        h.Spmc.On(PartInfo, el3.ToArray());
        var input = F(PartInfo, 0xAAAA_0000_1111_2222, 0x3333_4444, 0x5555_6666, 0x7777_8888, 0xFFFF_0000_FFFF_FFFE);
        Verbatim(h, h.Call(input), el3, input);
        Assert.Equal([PartInfo, 0x1111_2222, 0x3333_4444, 0x5555_6666, 0x7777_8888, 0xFFFF_FFFE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            Assert.Single(h.Spmc.Frames).ToArray());
    }

    /// <summary>
    /// A host frame never makes the model throw: every FF-A function ID (both widths) with x1..x17 all ones, the upper
    /// or lower halves alone, or alternating bits, before and after the host mapped its buffers. The decoders the proxy
    /// takes a call through refuse nothing pKVM accepts; a refusal names its rule and says why.
    /// </summary>
    [Theory]
    [MemberData(nameof(Profiles.All), MemberType = typeof(Profiles))]
    public void AnyHostFrame_ToAnyFfaFunction_IsAnsweredWithoutAnException(string profile)
    {
        ulong[] patterns = [ulong.MaxValue, 0xFFFF_FFFF_0000_0000, 0x0000_0000_FFFF_FFFF, 0xAAAA_AAAA_AAAA_AAAA, 0x5555_5555_5555_5555];
        foreach (var h in new[] { ProxyHarness.Create(profile).Negotiated(), ProxyHarness.Create(profile).Mapped() })
            foreach (var fid in Enumerable.Range(0x60, 0xA0).SelectMany(n => new[] { 0x8400_0000u | (uint)n, 0xC400_0000u | (uint)n }))
                foreach (var pattern in patterns)
                {
                    var frame = SmcFrame.From(fid);
                    for (var i = 1; i < Registers.Count; i++) frame[i] = pattern;
                    var a = h.Call(frame);
                    if (a.Rejection is { } r)
                    {
                        Assert.False(string.IsNullOrWhiteSpace(r.Rule), $"0x{fid:X8}: {r}");
                        Assert.False(string.IsNullOrWhiteSpace(r.Reason), $"0x{fid:X8}: {r}");
                    }
                }
    }
}
