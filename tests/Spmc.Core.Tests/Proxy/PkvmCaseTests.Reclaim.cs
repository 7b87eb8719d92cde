using Spmc.Abi.Smccc;
using Spmc.Core.Proxy.Pkvm;
using static Spmc.Core.Tests.Proxy.PkvmAssert;
using static Spmc.Core.Tests.Proxy.ProxyHarness;

namespace Spmc.Core.Tests.Proxy;

public sealed partial class PkvmCaseTests
{
    /// <summary>
    /// Makes the mock answer the hypervisor retrieve request like an SPMC: <paramref name="descriptor"/> (or its
    /// first <paramref name="fraglen"/> bytes) in the hyp RX, FFA_MEM_RETRIEVE_RESP(w1 = len, w2 = fraglen).
    /// </summary>
    private static void RetrieveAnswers(ProxyHarness h, byte[] descriptor, uint? len = null, uint? fraglen = null)
    {
        var total = len ?? (uint)descriptor.Length;
        var first = fraglen ?? (uint)Math.Min(descriptor.Length, 4096);
        h.Spmc.On(RetrieveReq64, _ =>
        {
            h.Memory.Write(HypRx, descriptor[..(int)Math.Min(first, (uint)descriptor.Length)]);
            return F(RetrieveResp, total, first);
        });
    }

    /// <summary>MAPPED, then case 43: page P shared in handle H.</summary>
    private static (ProxyHarness H, PkvmDescriptor D) SharedP(string profile)
    {
        var h = ProxyHarness.Create(profile).Mapped();
        var d = h.D((P, 1));
        Assert.Equal(SpmcMock.Success, h.Share(d).Frame[0]);
        Assert.Equal(Stage2State.SharedWithFfa, h.StateOf(P));
        h.Spmc.Mark();
        return (h, d);
    }

    [Theory]
    [MemberData(nameof(Profiles.All), MemberType = typeof(Profiles))]
    public void Case53_MemReclaim_UnknownHandle_RetrieveRequestFromHypTx_SpmcErrorVerbatim(string profile)
    {
        var h = ProxyHarness.Create(profile).Negotiated();
        h.Memory.Write(HypTx, Enumerable.Repeat((byte)0xCC, 64).ToArray());
        var el3 = SpmcMock.FfaError(-2);
        h.Spmc.On(RetrieveReq64, el3.ToArray());
        var input = F(Reclaim, 0x5555, 0x66, 0);
        Verbatim(h, h.Call(input), el3, input);
        El3Saw(h, RetrieveReq64);
        var size = (ulong)h.Profile.RetrieveRequestSize; // 48; the v1.0 header struct (32) in pkvm-6.3
        Assert.Equal([RetrieveReq64, size, size, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], h.Spmc.Frames[0].ToArray());
        var request = h.Memory.Read(HypTx, (int)size);
        Assert.Equal(0, BitConverter.ToUInt16(request, 0));
        Assert.Equal(0x66_0000_5555UL, BitConverter.ToUInt64(request, 8));
        Assert.All(request[2..8], b => Assert.Equal(0, b));  // attributes and flags
        Assert.All(request[16..], b => Assert.Equal(0, b)); // tag, sizes, counts: everything but the handle
    }

    [Theory]
    [MemberData(nameof(Profiles.Gated), MemberType = typeof(Profiles))]
    public void Case54_MemReclaim_RetrieveReleaseReclaim_PageBackToOwned(string profile)
    {
        var (h, d) = SharedP(profile);
        RetrieveAnswers(h, d.Bytes);
        h.Spmc.On(Reclaim, SpmcMock.Success);
        var input = F(Reclaim, SpmcMock.HandleLo, SpmcMock.HandleHi, 1);
        Verbatim(h, h.Call(input), F(SpmcMock.Success), input);
        El3Saw(h, RetrieveReq64, RxRelease, Reclaim);
        Assert.Equal([Reclaim, SpmcMock.HandleLo, SpmcMock.HandleHi, 1], h.Spmc.Frames[2].ToArray()[..4]);
        Assert.Equal(Stage2State.Owned, h.StateOf(P));
    }

    [Theory]
    [MemberData(nameof(Profiles.All), MemberType = typeof(Profiles))]
    public void Case55_MemReclaim_SpmcRefusesTheReclaim_PageStaysShared_ErrorVerbatim(string profile)
    {
        var (h, d) = SharedP(profile);
        RetrieveAnswers(h, d.Bytes);
        var el3 = SpmcMock.FfaError(-6);
        h.Spmc.On(Reclaim, el3.ToArray());
        var input = F(Reclaim, SpmcMock.HandleLo, SpmcMock.HandleHi, 0);
        Verbatim(h, h.Call(input), el3, input);
        Assert.Equal((uint)Reclaim, h.Spmc.Ids[^1]);
        Assert.Equal(Stage2State.SharedWithFfa, h.StateOf(P));
    }

    [Theory]
    [MemberData(nameof(Profiles.Newest), MemberType = typeof(Profiles))]
    public void Case56_MemReclaim_CompositeHeaderBeyondTotalLength_IsAborted_AfterRxRelease(string profile)
    {
        var (h, d) = SharedP(profile);
        d.CompositeOffset = (uint)d.Length - 8; // composite_off ≤ len, but composite_off + 16 > len
        RetrieveAnswers(h, d.Bytes);
        Err(h, h.Call(Reclaim, SpmcMock.HandleLo, SpmcMock.HandleHi, 0), -8, "pkvm.mem-reclaim.composite-beyond-length", Reclaim, SpmcMock.HandleLo, SpmcMock.HandleHi, 0);
        El3Saw(h, RetrieveReq64, RxRelease);
        Assert.Equal(Stage2State.SharedWithFfa, h.StateOf(P));
    }

    [Theory]
    [MemberData(nameof(Profiles.Gated), MemberType = typeof(Profiles))]
    public void Case57_MemReclaim_DescriptorLongerThanTheBuffer_IsNoMemory_AfterRxRelease(string profile)
    {
        var (h, d) = SharedP(profile);
        RetrieveAnswers(h, d.Bytes, len: 0x1_0000, fraglen: (uint)d.Length);
        Err(h, h.Call(Reclaim, SpmcMock.HandleLo, SpmcMock.HandleHi, 0), -3, "pkvm.mem-reclaim.descriptor-too-long", Reclaim, SpmcMock.HandleLo, SpmcMock.HandleHi, 0);
        El3Saw(h, RetrieveReq64, RxRelease);
    }

    [Theory]
    [MemberData(nameof(Profiles.All), MemberType = typeof(Profiles))]
    public void Case58_MemReclaim_FragmentedRetrieve_FragRxNotAnsweredWithFragTx_IsInvalidParameters(string profile)
    {
        var (h, d) = SharedP(profile);
        RetrieveAnswers(h, d.Bytes, len: 8192, fraglen: 4096);
        h.Spmc.On(FragRx, SpmcMock.FfaError(-2).ToArray());
        Err(h, h.Call(Reclaim, SpmcMock.HandleLo, SpmcMock.HandleHi, 0), -2, "pkvm.mem-reclaim.frag-rx-failed", Reclaim, SpmcMock.HandleLo, SpmcMock.HandleHi, 0);
        Assert.Equal((uint)FragRx, h.Spmc.Ids[^1]);
        Assert.Equal([FragRx, SpmcMock.HandleLo, SpmcMock.HandleHi, 4096, 0], h.Spmc.Frames[^1].ToArray()[..5]);
        Assert.DoesNotContain((uint)Reclaim, h.Spmc.Ids);
        Assert.Equal(Stage2State.SharedWithFfa, h.StateOf(P));
    }

    /// <summary>The hypervisor's RX released after a refused retrieve, by the releases that release it.</summary>
    private static uint[] RetrieveThenRelease(ProxyHarness h) => h.Profile.ReclaimReleasesRx ? [RetrieveReq64, RxRelease] : [RetrieveReq64];

    [Theory]
    [MemberData(nameof(Profiles.Newest), MemberType = typeof(Profiles))]
    public void MemReclaim_RetrievedEmadOutsideTheFragment_IsInvalidParameters_AfterRxRelease(string profile)
    {
        var (h, d) = SharedP(profile);
        d.EpMemOffset = 4090;
        RetrieveAnswers(h, d.Bytes);
        Err(h, h.Call(Reclaim, SpmcMock.HandleLo, SpmcMock.HandleHi, 0), -2, "pkvm.mem-reclaim.emad-outside-fragment",
            Reclaim, SpmcMock.HandleLo, SpmcMock.HandleHi, 0);
        El3Saw(h, RetrieveReq64, RxRelease);
        Assert.Equal(Stage2State.SharedWithFfa, h.StateOf(P));
    }

    [Theory]
    [MemberData(nameof(Profiles.All), MemberType = typeof(Profiles))]
    public void MemReclaim_RetrievedFragmentLongerThanAPage_IsAborted(string profile)
    {
        var (h, d) = SharedP(profile);
        RetrieveAnswers(h, d.Bytes, len: 8192, fraglen: 5000);
        Err(h, h.Call(Reclaim, SpmcMock.HandleLo, SpmcMock.HandleHi, 0), -8, "pkvm.mem-reclaim.fragment-exceeds-page",
            Reclaim, SpmcMock.HandleLo, SpmcMock.HandleHi, 0);
        El3Saw(h, RetrieveThenRelease(h));
        Assert.Equal(Stage2State.SharedWithFfa, h.StateOf(P));
    }

    /// <summary>pKVM trusts the length of each fragment and would loop for ever on an empty one: the model stops.</summary>
    [Theory]
    [MemberData(nameof(Profiles.All), MemberType = typeof(Profiles))]
    public void MemReclaim_EmptyFragmentFromFragRx_IsAbortedByTheModel(string profile)
    {
        var (h, d) = SharedP(profile);
        RetrieveAnswers(h, d.Bytes, len: 8192, fraglen: 4096);
        h.Spmc.On(FragRx, FragTx, SpmcMock.HandleLo, SpmcMock.HandleHi, 0);
        var a = Err(h, h.Call(Reclaim, SpmcMock.HandleLo, SpmcMock.HandleHi, 0), -8, "pkvm.mem-reclaim.empty-fragment",
            Reclaim, SpmcMock.HandleLo, SpmcMock.HandleHi, 0);
        Assert.Contains("loops for ever", a.Note);
        Assert.Equal((uint)FragRx, h.Spmc.Ids[^1]);
        Assert.DoesNotContain((uint)Reclaim, h.Spmc.Ids);
    }

    [Theory]
    [MemberData(nameof(Profiles.Newest), MemberType = typeof(Profiles))]
    public void MemReclaim_CompositeClaimingMoreConstituentsThanTheLength_IsAborted_NoReclaimSent(string profile)
    {
        var (h, d) = SharedP(profile);
        BitConverter.GetBytes(5u).CopyTo(d.Bytes, d.CompositeAt + 4); // addr_range_cnt 5 in a descriptor holding 1
        RetrieveAnswers(h, d.Bytes);
        Err(h, h.Call(Reclaim, SpmcMock.HandleLo, SpmcMock.HandleHi, 0), -8, "pkvm.mem-reclaim.ranges-beyond-length",
            Reclaim, SpmcMock.HandleLo, SpmcMock.HandleHi, 0);
        El3Saw(h, RetrieveReq64, RxRelease);
        Assert.Equal(Stage2State.SharedWithFfa, h.StateOf(P));
    }
}
