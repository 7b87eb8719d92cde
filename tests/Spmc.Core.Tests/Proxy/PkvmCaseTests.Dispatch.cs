using Spmc.Abi.Smccc;
using Spmc.Core.Proxy.Pkvm;
using static Spmc.Core.Tests.Proxy.PkvmAssert;

namespace Spmc.Core.Tests.Proxy;

/// <summary>
/// The digest's §9 cases, one test each (CaseNN_...), against the scripted SPMC, under every release the case
/// holds for. Where an older release behaves differently the difference has its own test in
/// <see cref="PkvmProfileDifferenceTests"/>.
/// </summary>
public sealed partial class PkvmCaseTests
{
    private static SmcFrame F(params ulong[] x) => SmcFrame.From(x);

    // ---- Gate and dispatch -------------------------------------------------------------------------------

    [Theory]
    [MemberData(nameof(Profiles.All), MemberType = typeof(Profiles))]
    public void Case01_NonFfaSipCall_IsForwardedVerbatim(string profile)
    {
        var h = ProxyHarness.Create(profile);
        var input = F(0x8200_0001, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17);
        var a = h.Call(input);
        Assert.Equal(input.ToArray(), Assert.Single(h.Spmc.Frames).ToArray());
        Passed(a, SpmcMock.Echo());
    }

    [Theory]
    [MemberData(nameof(Profiles.Gated), MemberType = typeof(Profiles))]
    public void Case02_IdGetBeforeNegotiation_IsInvalidParameters_NoEl3(string profile)
    {
        var h = ProxyHarness.Create(profile);
        Err(h, h.Call(0x8400_0069), -2, "pkvm.version.not-negotiated", 0x8400_0069);
        NoEl3(h);
    }

    [Theory]
    [MemberData(nameof(Profiles.Gated), MemberType = typeof(Profiles))]
    public void Case03_UndefinedInRangeIdBeforeNegotiation_IsInvalidParameters_NoEl3(string profile)
    {
        var h = ProxyHarness.Create(profile);
        Err(h, h.Call(0x8400_00F0), -2, "pkvm.version.not-negotiated", 0x8400_00F0);
        NoEl3(h);
    }

    [Theory]
    [MemberData(nameof(Profiles.Gated), MemberType = typeof(Profiles))]
    public void Case04_RxTxMapBeforeNegotiation_IsInvalidParameters_NoStateChange(string profile)
    {
        var h = ProxyHarness.Create(profile);
        Err(h, h.Call(0xC400_0066, ProxyHarness.T, ProxyHarness.R, 1), -2, "pkvm.version.not-negotiated", 0xC400_0066, ProxyHarness.T, ProxyHarness.R, 1);
        NoEl3(h);
        Assert.Equal(Stage2State.Owned, h.StateOf(ProxyHarness.T));
        Assert.Null(h.Proxy.State.HostTx);
    }

    [Theory]
    [MemberData(nameof(Profiles.Smccc12), MemberType = typeof(Profiles))]
    public void Case05_VersionWithSveHintBit_IsTreatedAsFfaVersion(string profile)
    {
        var h = ProxyHarness.Create(profile);
        var a = h.Call(0x8401_0063, 0x1_0002);
        Assert.Equal(0x1_0002UL, a.Frame[0]);
        Assert.True(h.Proxy.Negotiated);
        El3Saw(h, 0x8400_0069, 0x8400_0064);
    }

    // ---- Deny list and passthrough -------------------------------------------------------------------------

    public static TheoryData<string, uint> Case21Data()
    {
        uint[] ids = [0xC400_008D, 0xC400_008E, 0x8400_008A, 0xC400_008B, 0x8400_0071, 0xC400_0071, 0x8400_0074, 0xC400_0074, 0x8400_0075,
            0x8400_0076, 0x8400_0078, 0x8400_0079, 0x8400_007A, 0x8400_006A, 0x8400_006B, 0x8400_006E, 0x8400_0070, 0x8400_0066];
        var data = new TheoryData<string, uint>();
        foreach (var p in new[] { "pkvm-6.18", "pkvm-7.2", "pkvm-7.4" })
            foreach (var id in ids) data.Add(p, id);
        return data;
    }

    [Theory]
    [MemberData(nameof(Case21Data))]
    public void Case21_DenyList_IsNotSupported_NoEl3(string profile, uint id)
    {
        var h = ProxyHarness.Create(profile).Negotiated();
        Err(h, h.Call(id, 1, 2, 3), -1, "pkvm.deny-list", id, 1, 2, 3);
        NoEl3(h);
    }

    [Theory]
    [MemberData(nameof(Profiles.Gated), MemberType = typeof(Profiles))]
    public void Case22_DirectReq32_IsForwardedUnchanged_HostGetsEl3Registers(string profile)
    {
        var h = ProxyHarness.Create(profile).Negotiated();
        var input = F(0x8400_006F, 0x0000_8001, 0, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17);
        var a = h.Call(input);
        Assert.Equal(input.ToArray(), Assert.Single(h.Spmc.Frames).ToArray());
        Passed(a, SpmcMock.Echo());
    }

    public static TheoryData<string, uint> Case23Data()
    {
        uint[] ids = [0xC400_006F, 0xC400_0070, 0x8400_0065, 0x8400_0069, 0x8400_006D, 0x8400_0086, 0xC400_0083, 0x8400_008C, 0xC400_0077];
        var data = new TheoryData<string, uint>();
        // Releases without 3e9df0b0's strict SBZ checks: under 7.4 junk in unused registers is refused (PkvmSbzTests).
        foreach (var p in Profiles.AllNames.Where(n => !PkvmProfile.Find(n)!.StrictSbz))
            foreach (var id in ids) data.Add(p, id);
        return data;
    }

    /// <summary>Also true of pkvm-6.3, where IDs above 0x7F are not FF-A calls at all and go the generic way.</summary>
    [Theory]
    [MemberData(nameof(Case23Data))]
    public void Case23_PassthroughIds_AreForwardedUnchanged(string profile, uint id)
    {
        var h = ProxyHarness.Create(profile).Negotiated();
        var input = F(id, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88);
        var a = h.Call(input);
        Assert.Equal(input.ToArray(), Assert.Single(h.Spmc.Frames).ToArray());
        Passed(a, SpmcMock.Default(input));
    }
}
