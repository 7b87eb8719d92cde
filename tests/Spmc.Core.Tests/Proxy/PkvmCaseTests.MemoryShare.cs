using Spmc.Abi.Smccc;
using Spmc.Core.Proxy.Pkvm;
using static Spmc.Core.Tests.Proxy.PkvmAssert;
using static Spmc.Core.Tests.Proxy.ProxyHarness;

namespace Spmc.Core.Tests.Proxy;

public sealed partial class PkvmCaseTests
{
    private const uint Share32 = 0x8400_0073, Share64 = 0xC400_0073, Lend32 = 0x8400_0072, Lend64 = 0xC400_0072,
        FragRx = 0x8400_007A, FragTx = 0x8400_007B, Reclaim = 0x8400_0077, RetrieveReq64 = 0xC400_0074, RetrieveResp = 0x8400_0075;
    private const ulong Pages = 0x8010_0000; // a run of host pages for the fragmented cases

    /// <summary>FFA_MEM_FRAG_RX from the SPMC: handle in w1/w2, w3 = bytes received.</summary>
    private static SmcFrame FragRxFrame(ulong w3) => F(FragRx, SpmcMock.HandleLo, SpmcMock.HandleHi, w3, 0);

    [Theory]
    [MemberData(nameof(Profiles.All), MemberType = typeof(Profiles))]
    public void Case34_MemShare_NoHostTx_IsInvalidParameters(string profile)
    {
        var h = ProxyHarness.Create(profile).Negotiated();
        Err(h, h.Call(Share32, 112, 112), -2, "pkvm.mem-share.no-host-tx", Share32, 112, 112);
        NoEl3(h);
    }

    [Theory]
    [MemberData(nameof(Profiles.All), MemberType = typeof(Profiles))]
    public void Case35_MemShare_AddressOrPageCountNonZero_IsInvalid_OnlyW4IsChecked(string profile)
    {
        var h = ProxyHarness.Create(profile).Mapped();
        var d = h.D((P, 1));
        var len = (ulong)d.Length;
        h.Memory.Write(T, d.Bytes);
        Err(h, h.Call(Share32, len, len, 1), -2, "pkvm.mem-share.dynamic-buffer", Share32, len, len, 1);
        Err(h, h.Call(Share32, len, len, 0, 1), -2, "pkvm.mem-share.dynamic-buffer", Share32, len, len, 0, 1);
        NoEl3(h);
        var a = h.Call(Share32, len, len, 0, 1UL << 32);
        Assert.Equal(SpmcMock.Success, a.Frame[0]);
        El3Saw(h, Share64);
    }

    [Theory]
    [MemberData(nameof(Profiles.All), MemberType = typeof(Profiles))]
    public void Case36_MemShare_FragmentLongerThanTotalOrPage_IsInvalidParameters(string profile)
    {
        var h = ProxyHarness.Create(profile).Mapped();
        Err(h, h.Call(Share32, 100, 112), -2, "pkvm.mem-share.fragment-exceeds-total", Share32, 100, 112);
        Err(h, h.Call(Share32, 8192, 4097), -2, "pkvm.mem-share.fragment-exceeds-page", Share32, 8192, 4097);
        NoEl3(h);
    }

    [Theory]
    [MemberData(nameof(Profiles.Smccc12), MemberType = typeof(Profiles))]
    public void Case37_MemShare_FragmentBelowHeaderPlusEmad_IsInvalidParameters(string profile)
    {
        var h = ProxyHarness.Create(profile).Mapped();
        h.Memory.Write(T, h.D((P, 1)).Bytes);
        Assert.Contains("below the 80 bytes", Err(h, h.Call(Share32, 79, 79), -2, "pkvm.mem-share.fragment-too-short", Share32, 79, 79).Reason);
        // 80 bytes are the minimum at v1.2: such a fragment passes that check and fails the next (the composite is at 80).
        Err(h, h.Call(Share32, 80, 80), -2, "pkvm.mem-share.composite-outside-fragment", Share32, 80, 80);

        var v11 = ProxyHarness.Create(profile).Mapped(0x1_0001);
        v11.Memory.Write(T, v11.D((P, 1)).Bytes);
        Err(v11, v11.Call(Share32, 63, 63), -2, "pkvm.mem-share.fragment-too-short", Share32, 63, 63);
        NoEl3(h);
        NoEl3(v11);
    }

    [Theory]
    [MemberData(nameof(Profiles.Gated), MemberType = typeof(Profiles))]
    public void Case38_MemShare_TotalLengthAboveDescriptorBuffer_IsNoMemory(string profile)
    {
        var h = ProxyHarness.Create(profile).Mapped();
        h.Memory.Write(T, h.D((P, 1)).Bytes);
        var a = Err(h, h.Call(Share32, 0x10_0000, 112), -3, "pkvm.mem-share.descriptor-too-long", Share32, 0x10_0000, 112);
        Assert.Contains("36864", a.Reason);
        NoEl3(h);
    }

    public static TheoryData<string, string> Case39Data()
    {
        var data = new TheoryData<string, string>();
        foreach (var p in Profiles.AllNames)
            foreach (var v in new[] { "ep_count 2", "sender 1", "composite_off 0" }) data.Add(p, v);
        return data;
    }

    private static readonly Dictionary<string, string> Case39Rules = new()
    {
        ["ep_count 2"] = "pkvm.mem-share.ep-count",
        ["sender 1"] = "pkvm.mem-share.sender-not-host",
        ["composite_off 0"] = "pkvm.mem-share.composite-offset-zero",
    };

    [Theory]
    [MemberData(nameof(Case39Data))]
    public void Case39_MemShare_BadHeader_IsInvalidParameters_NoEl3_NoStage2Change(string profile, string variant)
    {
        var h = ProxyHarness.Create(profile).Mapped();
        var d = h.D((P, 1)).With(d =>
        {
            if (variant == "ep_count 2") d.EpCount = 2;
            if (variant == "sender 1") d.Sender = 1;
            if (variant == "composite_off 0") d.CompositeOffset = 0;
        });
        Err(h, h.Share(d), -2, Case39Rules[variant], Share32, (ulong)d.Length, (ulong)d.Length);
        NoEl3(h);
        Assert.Equal(Stage2State.Owned, h.StateOf(P));
    }

    /// <summary>pkvm-6.3 has no overflow check: the offset wraps, and the leftover bytes are no whole constituents.</summary>
    [Theory]
    [MemberData(nameof(Profiles.All), MemberType = typeof(Profiles))]
    public void Case40_MemShare_CompositeOffsetOverflowingU32_IsInvalidParameters(string profile)
    {
        var h = ProxyHarness.Create(profile).Mapped();
        var d = h.D((P, 1)).With(d => d.CompositeOffset = 0xFFFF_FFF8);
        var rule = profile == "pkvm-6.3" ? "pkvm.mem-share.partial-constituent" : "pkvm.mem-share.composite-offset-overflow";
        Err(h, h.Share(d), -2, rule, Share32, (ulong)d.Length, (ulong)d.Length);
        NoEl3(h);
    }

    [Theory]
    [MemberData(nameof(Profiles.Newest), MemberType = typeof(Profiles))]
    public void Case41_MemShare_EpMemOffsetPuttingTheEmadOutsideTheFragment_IsInvalidParameters(string profile)
    {
        var h = ProxyHarness.Create(profile).Mapped();
        var bytes = new byte[4096];
        h.D((P, 1)).With(d => d.EpMemOffset = 4090).Bytes.CopyTo(bytes, 0);
        var a = Err(h, h.WithTx(bytes, Share32, 4096, 4096), -2, "pkvm.mem-share.emad-outside-fragment", Share32, 4096, 4096);
        Assert.Contains("EMAD at offset 4090", a.Reason);
        NoEl3(h);
    }

    [Theory]
    [MemberData(nameof(Profiles.All), MemberType = typeof(Profiles))]
    public void Case42_MemShare_ConstituentBytesNotAMultipleOf16_IsInvalidParameters(string profile)
    {
        var h = ProxyHarness.Create(profile).Mapped();
        var d = h.D(2);
        var len = (uint)d.ConstituentsAt + 24;
        Err(h, h.Share(d, len, len), -2, "pkvm.mem-share.partial-constituent", Share32, len, len);
        NoEl3(h);
    }

    public static TheoryData<string, uint, uint> Case43Data()
    {
        var data = new TheoryData<string, uint, uint>();
        foreach (var p in Profiles.AllNames)
        {
            data.Add(p, Share32, Share64);
            data.Add(p, Share64, Share64);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Case43Data))]
    public void Case43_MemShare_ValidDescriptor_IsReissuedAs64Bit_PageBecomesSharedOwned(string profile, uint fid, uint reissued)
    {
        var h = ProxyHarness.Create(profile).Mapped();
        var d = h.D((P, 1));
        var len = (ulong)d.Length;
        var input = F(fid, len, len);
        h.Memory.Write(T, d.Bytes);
        var a = h.Call(input);
        Assert.Equal([reissued, len, len, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], Assert.Single(h.Spmc.Frames).ToArray());
        Assert.Equal(d.Bytes, h.Memory.Read(HypTx, d.Length));
        Verbatim(h, a, F(SpmcMock.Success, 0, SpmcMock.HandleLo, SpmcMock.HandleHi), input);
        Assert.Equal(Stage2State.SharedWithFfa, h.StateOf(P));
        Assert.Equal(Stage2State.Owned, h.StateOf(P + 0x1000));
    }

    [Theory]
    [MemberData(nameof(Profiles.All), MemberType = typeof(Profiles))]
    public void Case44_MemLend32_IsReissuedAsLend64(string profile)
    {
        var h = ProxyHarness.Create(profile).Mapped();
        var d = h.D((P, 1));
        Assert.Equal(SpmcMock.Success, h.Share(d, fid: Lend32).Frame[0]);
        Assert.Equal((ulong)Lend64, Assert.Single(h.Spmc.Frames)[0]);
        Assert.Equal(Stage2State.SharedWithFfa, h.StateOf(P));
    }

    [Theory]
    [MemberData(nameof(Profiles.All), MemberType = typeof(Profiles))]
    public void Case45_MemShare_SecondConstituentAlreadyShared_IsDenied_FirstRolledBack(string profile)
    {
        var h = ProxyHarness.Create(profile).Mapped();
        Assert.Equal(SpmcMock.Success, h.Share(h.D((Q, 1))).Frame[0]);
        h.Spmc.Mark();
        var d = h.D((P, 1), (Q, 1));
        var a = Err(h, h.Share(d), -6, "pkvm.mem-share.range-not-owned", Share32, (ulong)d.Length, (ulong)d.Length);
        Assert.Contains("constituent 1", a.Reason);
        NoEl3(h);
        Assert.Equal(Stage2State.Owned, h.StateOf(P));
        Assert.Equal(Stage2State.SharedWithFfa, h.StateOf(Q));
    }

    [Theory]
    [MemberData(nameof(Profiles.Newest), MemberType = typeof(Profiles))]
    public void Case46_MemShare_UnalignedConstituentAddress_IsDenied(string profile)
    {
        var h = ProxyHarness.Create(profile).Mapped();
        var d = h.D((P + 0x800, 1));
        Err(h, h.Share(d), -6, "pkvm.mem-share.range-unaligned", Share32, (ulong)d.Length, (ulong)d.Length);
        NoEl3(h);
        Assert.Equal(Stage2State.Owned, h.StateOf(P));
    }

    [Theory]
    [MemberData(nameof(Profiles.All), MemberType = typeof(Profiles))]
    public void Case47_MemShare_SpmcRefuses_PageBackToOwned_ErrorVerbatim(string profile)
    {
        var h = ProxyHarness.Create(profile).Mapped();
        var el3 = SpmcMock.FfaError(-6);
        h.Spmc.On(Share64, el3.ToArray());
        var d = h.D((P, 1));
        Verbatim(h, h.Share(d), el3, F(Share32, (ulong)d.Length, (ulong)d.Length));
        Assert.Equal(Stage2State.Owned, h.StateOf(P));
    }

    /// <summary>n = what a 4096-byte first fragment holds + 1 (250 + 1 for the v1.2 layout: len 4112).</summary>
    private static PkvmDescriptor Fragmented(ProxyHarness h, out int firstFragmentConstituents)
    {
        var probe = h.D(0);
        firstFragmentConstituents = (4096 - probe.ConstituentsAt) / 16;
        return h.D(firstFragmentConstituents + 1, Pages, 0x1000);
    }

    public static TheoryData<string, bool> Case48Data()
    {
        var data = new TheoryData<string, bool>();
        foreach (var p in Profiles.AllNames)
        {
            data.Add(p, true);
            data.Add(p, false);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Case48Data))]
    public void Case48_MemShare_FirstFragment_SharedWhenFragRxCountsIt_ElseUnshared(string profile, bool spmcCountsTheFragment)
    {
        var h = ProxyHarness.Create(profile).Mapped();
        var d = Fragmented(h, out var first);
        if (h.Proxy.HypVersion == 0x1_0002) Assert.Equal((250, 4112), (first, d.Length));
        var el3 = FragRxFrame(spmcCountsTheFragment ? 4096UL : 4000UL);
        h.Spmc.On(Share64, el3.ToArray());
        var input = F(Share32, (ulong)d.Length, 4096);
        Verbatim(h, h.Share(d, (uint)d.Length, 4096), el3, input);
        var expected = spmcCountsTheFragment ? Stage2State.SharedWithFfa : Stage2State.Owned;
        for (var i = 0; i < first; i++) Assert.Equal(expected, h.StateOf(Pages + (ulong)i * 0x1000));
        Assert.Equal(Stage2State.Owned, h.StateOf(Pages + (ulong)first * 0x1000)); // the last constituent comes with FRAG_TX
    }

    [Theory]
    [MemberData(nameof(Profiles.All), MemberType = typeof(Profiles))]
    public void Case49_MemFragTx_BadLengthOrNoTx_IsInvalidParameters(string profile)
    {
        var h = ProxyHarness.Create(profile).Mapped();
        Err(h, h.Call(FragTx, 0x1234, 7, 24), -2, "pkvm.mem-frag-tx.partial-constituent", FragTx, 0x1234, 7, 24);
        Err(h, h.Call(FragTx, 0x1234, 7, 4112), -2, "pkvm.mem-frag-tx.fragment-exceeds-page", FragTx, 0x1234, 7, 4112);
        var unmapped = ProxyHarness.Create(profile).Negotiated();
        Err(unmapped, unmapped.Call(FragTx, 0x1234, 7, 16), -2, "pkvm.mem-frag-tx.no-host-tx", FragTx, 0x1234, 7, 16);
        NoEl3(h);
        NoEl3(unmapped);
    }

    [Theory]
    [MemberData(nameof(Profiles.All), MemberType = typeof(Profiles))]
    public void Case50_MemFragTx_SharesItsConstituents_AndForwards(string profile)
    {
        var h = ProxyHarness.Create(profile).Mapped();
        var fragment = new byte[16];
        BitConverter.GetBytes(Q).CopyTo(fragment, 0);
        BitConverter.GetBytes(1u).CopyTo(fragment, 8);
        h.Spmc.On(FragTx, SpmcMock.Success, 0, SpmcMock.HandleLo, SpmcMock.HandleHi);
        var input = F(FragTx, 0x1234, 7, 16, 0);
        var a = h.WithTx(fragment, input.ToArray());
        Assert.Equal([FragTx, 0x1234, 7, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], Assert.Single(h.Spmc.Frames).ToArray());
        Verbatim(h, a, F(SpmcMock.Success, 0, SpmcMock.HandleLo, SpmcMock.HandleHi), input);
        Assert.Equal(Stage2State.SharedWithFfa, h.StateOf(Q));
    }

    [Theory]
    [MemberData(nameof(Profiles.All), MemberType = typeof(Profiles))]
    public void Case51_MemFragTx_ConstituentNotHostOwned_AbortsWithReclaim_EarlierFragmentsStayShared(string profile)
    {
        var h = ProxyHarness.Create(profile).Mapped();
        var d = Fragmented(h, out var first);
        h.Spmc.On(Share64, FragRxFrame(4096).ToArray());
        Assert.Equal((ulong)FragRx, h.Share(d, (uint)d.Length, 4096).Frame[0]);
        h.Spmc.Mark();

        var fragment = new byte[16];
        BitConverter.GetBytes(GuestPage).CopyTo(fragment, 0);
        BitConverter.GetBytes(1u).CopyTo(fragment, 8);
        var a = h.WithTx(fragment, FragTx, SpmcMock.HandleLo, SpmcMock.HandleHi, 16, 0);
        Err(h, a, -6, "pkvm.mem-frag-tx.range-not-owned", FragTx, SpmcMock.HandleLo, SpmcMock.HandleHi, 16, 0);
        El3Saw(h, Reclaim);
        Assert.Equal([Reclaim, SpmcMock.HandleLo, SpmcMock.HandleHi, 0], h.Spmc.Frames[0].ToArray()[..4]);
        for (var i = 0; i < first; i++) Assert.Equal(Stage2State.SharedWithFfa, h.StateOf(Pages + (ulong)i * 0x1000));
    }

    [Theory]
    [MemberData(nameof(Profiles.Newest), MemberType = typeof(Profiles))]
    public void MemFragTx_UnalignedConstituentAddress_IsDenied_TransactionAbortedWithReclaim(string profile)
    {
        var h = ProxyHarness.Create(profile).Mapped();
        var fragment = new byte[16];
        BitConverter.GetBytes(Q + 0x800).CopyTo(fragment, 0);
        BitConverter.GetBytes(1u).CopyTo(fragment, 8);
        var a = h.WithTx(fragment, FragTx, SpmcMock.HandleLo, SpmcMock.HandleHi, 16, 0);
        Err(h, a, -6, "pkvm.mem-frag-tx.range-unaligned", FragTx, SpmcMock.HandleLo, SpmcMock.HandleHi, 16, 0);
        El3Saw(h, Reclaim);
        Assert.Equal(Stage2State.Owned, h.StateOf(Q));
    }

    [Theory]
    [MemberData(nameof(Profiles.All), MemberType = typeof(Profiles))]
    public void Case52_MemFragTx_SpmcError_UnsharesTheFragment_ErrorVerbatim(string profile)
    {
        var h = ProxyHarness.Create(profile).Mapped();
        var el3 = SpmcMock.FfaError(-2);
        h.Spmc.On(FragTx, el3.ToArray());
        var fragment = new byte[16];
        BitConverter.GetBytes(Q).CopyTo(fragment, 0);
        BitConverter.GetBytes(1u).CopyTo(fragment, 8);
        var input = F(FragTx, 0x1234, 7, 16, 0);
        Verbatim(h, h.WithTx(fragment, input.ToArray()), el3, input);
        Assert.Equal(Stage2State.Owned, h.StateOf(Q));
    }
}
