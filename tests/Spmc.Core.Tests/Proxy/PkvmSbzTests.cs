using Spmc.Abi.Smccc;
using Spmc.Core.Proxy.Pkvm;
using Spmc.Core.Tests.Support;
using static Spmc.Core.Tests.Proxy.PkvmAssert;
using static Spmc.Core.Tests.Proxy.ProxyHarness;

namespace Spmc.Core.Tests.Proxy;

/// <summary>
/// 3e9df0b0 "KVM: arm64: Enforce strict SBZ checks in the FF-A proxy" (pkvm-7.4): ffa_check_unused_args_sbz refuses a
/// host call whose registers after the ABI's last defined one, up to x7 (x17 for SMC64 once hyp_ffa_version ≥ 1.2),
/// are not zero — INVALID_PARAMETERS at EL2, no EL3 call, nothing changed. The first register per ABI is from the FF-A
/// 1.2 tables (the merged call sites were not readable); one test per ABI family, and the version dependence.
/// </summary>
public sealed class PkvmSbzTests
{
    private const string Rule = "pkvm.sbz.unused-register-not-zero";
    private const uint Features = 0x8400_0064, RxRelease = 0x8400_0065, RxTxMap = 0xC400_0066, RxTxUnmap = 0x8400_0067,
        PartInfo = 0x8400_0068, IdGet = 0x8400_0069, Run = 0x8400_006D, Req32 = 0x8400_006F, Req64 = 0xC400_006F,
        Share32 = 0x8400_0073, Lend64 = 0xC400_0072, Reclaim = 0x8400_0077, FragTx = 0x8400_007B, BitmapCreate = 0x8400_007D,
        Bind = 0x8400_007F, NotifGet = 0x8400_0082, InfoGet64 = 0xC400_0083, Send2 = 0x8400_0086, Version = 0x8400_0063,
        Req2 = 0xC400_008D, DonateDenied = 0x8400_0071;

    private static SmcFrame F(params ulong[] x) => SmcFrame.From(x);

    /// <summary><paramref name="frame"/> with x<paramref name="reg"/> = <paramref name="value"/>.</summary>
    private static SmcFrame With(SmcFrame frame, int reg, ulong value = 1)
    {
        frame[reg] = value;
        return frame;
    }

    /// <summary>Refused by the SBZ rule with no EL3 call; the reason names the register.</summary>
    private static void Refused(ProxyHarness h, SmcFrame input, int reg)
    {
        var a = Err(h, h.Call(input), -2, input, Rule);
        Assert.Contains($"x{reg} = 0x", a.Reason);
        NoEl3(h);
    }

    /// <summary>Accepted: the call got past the SBZ check (whatever the handler then answered).</summary>
    private static void NotSbz(ProxyHarness h, SmcFrame input)
    {
        var a = h.Call(input);
        Assert.NotEqual(Rule, a.Rule);
        h.Spmc.Mark();
    }

    public static TheoryData<uint, int> FirstUnused => new()
    {
        { Features, 3 }, { RxRelease, 1 }, { RxTxMap, 4 }, { RxTxUnmap, 2 }, { PartInfo, 6 }, { IdGet, 1 }, { Run, 2 },
        { Share32, 5 }, { Lend64, 5 }, { FragTx, 5 }, { Reclaim, 4 }, { BitmapCreate, 3 }, { Bind, 5 }, { NotifGet, 3 },
        { InfoGet64, 1 }, { Send2, 3 }, { Req64, 8 },
    };

    /// <summary>The table is the FF-A 1.2 one; FFA_VERSION (no FFA_ERROR answer), DIRECT_REQ2 (x1..x17 all used) and undefined IDs are not checked.</summary>
    [Fact]
    public void FirstUnusedRegister_FollowsTheFfaTables_VersionReq2AndUndefinedIdsUnchecked()
    {
        foreach (var (id, reg) in FirstUnused.Select(r => ((uint)r[0], (int)r[1]))) Assert.Equal(reg, PkvmProxy.FirstUnusedRegister(id));
        Assert.Null(PkvmProxy.FirstUnusedRegister(Version));
        Assert.Null(PkvmProxy.FirstUnusedRegister(Req2));
        Assert.Null(PkvmProxy.FirstUnusedRegister(0xC400_0077)); // a 64-bit RECLAIM is not defined: passes unchecked
        Assert.Null(PkvmProxy.FirstUnusedRegister(0x8400_00F0));
    }

    /// <summary>Per ABI family, at hyp version 1.2: the first unused register set is refused; the last defined one is not.</summary>
    [Theory]
    [MemberData(nameof(FirstUnused))]
    public void Pkvm74_FirstUnusedRegisterSet_IsInvalidParameters_NoEl3(uint id, int first)
    {
        var h = ProxyHarness.Create("pkvm-7.4").Mapped();
        Refused(h, With(F(id), first), first);
        var last = (id & 0x4000_0000) != 0 ? 17 : 7;
        Refused(h, With(F(id), last, 0x8000_0000_0000_0000), last);
    }

    [Fact]
    public void Pkvm74_RxTxMapWithJunkInX4_NothingMapped_HostPagesStayOwned()
    {
        var h = ProxyHarness.Create("pkvm-7.4").Negotiated();
        Refused(h, F(RxTxMap, T, R, 1, 0xDEAD), 4);
        Assert.Equal(Stage2State.Owned, h.StateOf(T));
        Assert.Null(h.Proxy.State.HostTx);
        // The same map with x4 clear goes through (registers the ABI defines are the handler's business).
        Ok(h, h.Call(RxTxMap, T, R, 1), 0, RxTxMap, T, R, 1);
    }

    [Fact]
    public void Pkvm74_ShareWithJunkInX5_NothingShared_NoEl3()
    {
        var h = ProxyHarness.Create("pkvm-7.4").Mapped();
        var d = h.D((P, 1));
        h.Memory.Write(T, d.Bytes);
        Refused(h, F(Share32, (ulong)d.Length, (ulong)d.Length, 0, 0, 0x77), 5);
        Assert.Equal(Stage2State.Owned, h.StateOf(P));
    }

    /// <summary>DIRECT_REQ carries payload to x7: an SMC32 one is never checked; an SMC64 one at 1.2 has x8..x17 SBZ.</summary>
    [Fact]
    public void Pkvm74_DirectReq_PayloadToX7Passes_Smc64X8IsRefusedAt12()
    {
        var h = ProxyHarness.Create("pkvm-7.4").Negotiated();
        var req32 = F(Req32, 0x0000_8001, 0, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17);
        Passed(h.Call(req32), SpmcMock.Echo());
        Assert.Equal(req32.ToArray(), Assert.Single(h.Spmc.Frames).ToArray());
        h.Spmc.Mark();
        Passed(h.Call(Req64, 0x0000_8001, 0, 3, 4, 5, 6, 7), SpmcMock.Echo());
        h.Spmc.Mark();
        Refused(h, F(Req64, 0x0000_8001, 0, 3, 4, 5, 6, 7, 8), 8);
    }

    /// <summary>
    /// The version dependence reviewers asked for (Will Deacon on v5, lkml 2606.3/04407): once the host negotiated 1.1,
    /// hyp_ffa_version is 1.1 and x8..x17 of an SMC64 call are not checked (FF-A 1.1 has x4..x7 MBZ only); x4..x7 still are.
    /// </summary>
    [Fact]
    public void Pkvm74_Smc64UpperRegisters_CheckedOnlyWhenHypVersionIs12()
    {
        var at11 = ProxyHarness.Create("pkvm-7.4").Negotiated(0x1_0001);
        Assert.Equal(0x1_0001u, at11.Proxy.HypVersion);
        Ok(at11, at11.Call(With(F(RxTxMap, T, R, 1), 8, 0xAA)), 0, With(F(RxTxMap, T, R, 1), 8, 0xAA));
        at11.Spmc.Mark();
        NotSbz(at11, With(F(Req64, 0x0000_8001), 17, 0xAA));
        var a = Err(at11, at11.Call(With(F(RxTxUnmap, 0), 7, 0xAA)), -2, With(F(RxTxUnmap, 0), 7, 0xAA), Rule);
        Assert.Contains("(an SMC32 call)", a.Reason);
        a = Err(at11, at11.Call(With(F(Lend64, 0, 0), 6, 0xAA)), -2, With(F(Lend64, 0, 0), 6, 0xAA), Rule);
        Assert.Contains("x8..x17 are not checked", a.Reason);

        var at12 = ProxyHarness.Create("pkvm-7.4").Negotiated();
        a = Err(at12, at12.Call(With(F(RxTxMap, T, R, 1), 8, 0xAA)), -2, With(F(RxTxMap, T, R, 1), 8, 0xAA), Rule);
        Assert.Contains("checked up to x17 (an SMC64 call with hyp_ffa_version 1.2)", a.Reason);
        NoEl3(at12);
        Assert.Equal(Stage2State.Owned, at12.StateOf(T));
    }

    /// <summary>SMC32 calls are checked to x7 only, at any version: x8..x17 are the caller's to keep (SMCCC).</summary>
    [Fact]
    public void Pkvm74_Smc32Call_X8ToX17AreNotChecked()
    {
        var h = ProxyHarness.Create("pkvm-7.4").Mapped();
        Ok(h, h.Call(With(F(RxTxUnmap, 0), 8, 0xAAAA)), 0, With(F(RxTxUnmap, 0), 8, 0xAAAA));
    }

    /// <summary>The gate and the deny list come first: an un-negotiated or denied call is refused by its own rule.</summary>
    [Fact]
    public void Pkvm74_GateAndDenyListBeforeSbz_FfaVersionIsNotChecked()
    {
        var h = ProxyHarness.Create("pkvm-7.4");
        Err(h, h.Call(IdGet, 5), -2, "pkvm.version.not-negotiated", IdGet, 5);
        var version = h.Call(Version, 0x1_0002, 0, 0x99);
        Assert.Equal(0x1_0002UL, version.Frame[0]);
        Assert.True(h.Proxy.Negotiated);
        h.Spmc.Mark();
        Err(h, h.Call(DonateDenied, 0, 0, 0, 0, 9), -1, "pkvm.deny-list", DonateDenied, 0, 0, 0, 0, 9);
        NoEl3(h);
    }

    /// <summary>Releases before 7.4 keep forwarding junk in unused registers (their own tests pin what reaches EL3).</summary>
    [Theory]
    [InlineData("pkvm-6.10")]
    [InlineData("pkvm-6.18")]
    [InlineData("pkvm-7.2")]
    public void OlderReleases_HaveNoSbzChecks(string profile)
    {
        Assert.False(PkvmProfile.Find(profile)!.StrictSbz);
        var h = ProxyHarness.Create(profile).Negotiated();
        Ok(h, h.Call(RxTxMap, T, R, 1, 0xDEAD, 0, 0, 0, 0x88), 0, RxTxMap, T, R, 1, 0xDEAD, 0, 0, 0, 0x88);
        h.Spmc.Mark();
        Passed(h.Call(IdGet, 0x11, 0x22), SpmcMock.Default(F(IdGet)));
    }

    /// <summary>docs/pkvm.md's example on the default system (pkvm-7.4, SPMC 1.3): x4 of RXTX_MAP_64 at 1.2; x8 only matters at 1.2.</summary>
    [Fact]
    public void DefaultSystem_DocExample_RxTxMapX4Refused_X8AcceptedAfterNegotiating11()
    {
        var sys = TestSystem.FromJson(Support.Manifests.DefaultJson);
        Assert.Equal(0x1_0002UL, sys.Call(0, F(Version, 0x1_0002)).Frame[0]);
        var o = sys.Call(0, F(RxTxMap, 0x8000_1000, 0x8000_0000, 1, 0xDEAD));
        Assert.Equal([0x8400_0060, 0, 0xFFFF_FFFF_FFFF_FFFE], o.Frame.ToArray()[..3]);
        Assert.Equal(Rule, o.Decoded.Rule);
        Assert.Empty(o.Decoded.Hops!);
        Assert.Equal("pKVM: FFA_RXTX_MAP_64: x4 = 0xDEAD must be zero: the ABI leaves x4.. unused, checked up to x17 (an SMC64 call with hyp_ffa_version 1.2)",
            o.Decoded.Reason);

        var at11 = TestSystem.FromJson(Support.Manifests.DefaultJson);
        Assert.Equal(0x1_0001UL, at11.Call(0, F(Version, 0x1_0001)).Frame[0]);
        Assert.Equal(0x8400_0061UL, at11.Call(0, With(F(RxTxMap, 0x8000_1000, 0x8000_0000, 1), 8, 0xDEAD)).Frame[0]);
    }
}
