using Spmc.Abi.Descriptors.Memory;
using Spmc.Core.Calls;
using Spmc.Core.Tests.Support;
using static Spmc.Core.Tests.Sharing.Pages;

namespace Spmc.Core.Tests.Sharing;

/// <summary>FFA_MEM_FRAG_RX pulling a retrieve response that does not fit one RX buffer (spmc-behaviour.md §8.4, ffa-abi.md §6.5).</summary>
public class MemRetrieveFragRxTests
{
    private static byte[] Request(ulong handle, byte perm) => SharingDescriptors.Retrieve(Host, handle, [(Sp1, perm)]);

    private static (SharingSystem S, ulong Handle) Shared()
    {
        var s = SharingSystem.Default();
        return (s, s.SendSimple(SendOp.Share, Host, Sp1, HostPage(0)));
    }

    /// <summary>A SHARE of 300 scattered host pages to SP 0x8001: the response (4896 bytes) takes two RX fragments.</summary>
    private static (SharingSystem S, ulong Handle, SmcOutcome First) BigRetrieveStarted()
    {
        var s = SharingSystem.Default();
        var d = SharingDescriptors.Send(Host, [(Sp1, Perm.RW)], Enumerable.Range(0, 300).Select(i => (HostPage(2 * i), 1u)), 0x2F);
        var h = s.SendOk(Host, SendOp.Share, d);
        var first = s.RetrieveRaw(Sp1, Request(h, Perm.RW));
        SharingExpect.Answer(first, MemIds.RetrieveResp);
        Assert.Equal(4896ul, first.Frame[1]);
        Assert.Equal(4096ul, first.Frame[2]);
        return (s, h, first);
    }

    private static SmcOutcome FragRx(SharingSystem s, ushort caller, ulong handle, ulong offset, ulong w4 = 0) =>
        s.CallReadingRx(caller, null, MemIds.FragRx, (uint)handle, handle >> 32, offset, w4);

    [Fact]
    public void FragRx_PullsTheRestOfTheResponse()
    {
        var (s, h, first) = BigRetrieveStarted();
        var response = s.Pull(Sp1, first, h, 0);
        var r = SharingDescriptors.ParseResponse(response);
        Assert.Equal(300, r.Composite!.Constituents.Count);
        Assert.Equal(HostPage(598), r.Composite.Constituents[^1].Address);
        Assert.Null(s.State.Shares[0].Receivers[0].ResponseDelivered);
    }

    [Fact]
    public void FragRx_AnswerCarriesTheHandleAndTheFragmentLength()
    {
        var (s, h, _) = BigRetrieveStarted();
        Expect.Success(s.Call(Sp1, MemIds.RxRelease));
        var o = FragRx(s, Sp1, h, 4096);
        SharingExpect.Answer(o, MemIds.FragTx);
        Assert.Equal(h, SharingSystem.FragHandle(o));
        Assert.Equal(800ul, o.Frame[3]);
    }

    [Theory]
    [InlineData(0UL)]
    [InlineData(4080UL)]
    [InlineData(4112UL)]
    public void FragRx_WrongOffset_IsInvalid(ulong offset)
    {
        var (s, h, _) = BigRetrieveStarted();
        Expect.Success(s.Call(Sp1, MemIds.RxRelease));
        Expect.Error(FragRx(s, Sp1, h, offset), Err.InvalidParameters, "mem-frag-rx.wrong-offset");
    }

    [Fact]
    public void FragRx_RxFull_IsBusy()
    {
        var (s, h, _) = BigRetrieveStarted();
        Expect.Error(FragRx(s, Sp1, h, 4096), Err.Busy, "mem-frag-rx.rx-busy");
    }

    [Fact]
    public void FragRx_ByANonReceiver_IsInvalid()
    {
        var (s, h, _) = BigRetrieveStarted();
        Expect.Error(FragRx(s, Sp3, h, 4096), Err.InvalidParameters, "mem-frag-rx.not-a-receiver");
    }

    [Fact]
    public void FragRx_BySpWithSenderInW4_IsInvalid()
    {
        var (s, h, _) = BigRetrieveStarted();
        Expect.Success(s.Call(Sp1, MemIds.RxRelease));
        Expect.Error(FragRx(s, Sp1, h, 4096, 1UL << 16), Err.InvalidParameters, "mem-frag-rx.sp-names-sender");
    }

    [Fact]
    public void FragRx_WhenNothingIsPending_IsInvalid()
    {
        var (s, h) = Shared();
        Expect.Error(FragRx(s, Sp1, h, 0), Err.InvalidParameters, "mem-frag-rx.no-response");
        s.RetrieveOk(Sp1, Host, h, Perm.RW); // one fragment: complete at once
        Expect.Error(FragRx(s, Sp1, h, 112), Err.InvalidParameters, "mem-frag-rx.no-response");
    }

    [Fact]
    public void FragRx_UnknownHandle_IsInvalid()
    {
        var (s, _) = Shared();
        Expect.Error(FragRx(s, Sp1, 0x4242, 0), Err.InvalidParameters, "mem-frag-rx.unknown-handle");
    }

    [Fact]
    public void FragRx_HandleWithBit63_IsInvalid()
    {
        var (s, h, _) = BigRetrieveStarted();
        Expect.Success(s.Call(Sp1, MemIds.RxRelease));
        Expect.Error(FragRx(s, Sp1, h | 1UL << 63, 4096), Err.InvalidParameters, "mem-frag-rx.handle-hypervisor-allocated");
    }

    [Theory]
    [InlineData(0x1UL)]
    [InlineData(0x0001_0001UL)]
    public void FragRx_W4LowBits_AreInvalid(ulong w4)
    {
        var (s, h, _) = BigRetrieveStarted();
        Expect.Success(s.Call(Sp1, MemIds.RxRelease));
        Expect.Error(FragRx(s, Sp1, h, 4096, w4), Err.InvalidParameters, "mem-frag-rx.w4-low-mbz");
        // The response is still there to pull.
        SharingExpect.Answer(FragRx(s, Sp1, h, 4096), MemIds.FragTx);
    }

    /// <summary>The hypervisor may name the sender in w4[31:16]; naming anyone else is refused.</summary>
    [Fact]
    public void FragRx_ByTheHypervisorNamingAnotherSender_IsInvalid()
    {
        var (s, h) = Shared();
        Expect.Error(FragRx(s, Host, h, 0, 1UL << 16), Err.InvalidParameters, "mem-frag-rx.w4-not-sender");
    }
}
