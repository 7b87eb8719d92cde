using Spmc.Core.Calls;
using Spmc.Core.Tests.Support;
using static Spmc.Core.Tests.Sharing.Pages;

namespace Spmc.Core.Tests.Sharing;

/// <summary>Fragmented sends: FFA_MEM_FRAG_RX answers and FFA_MEM_FRAG_TX (spmc-behaviour.md §8.3, §13 rule 12; ffa-abi.md §6.5).</summary>
public class MemFragmentTests
{
    /// <summary>A v1.2 descriptor of <paramref name="count"/> single, non-contiguous pages: 96 bytes of header/EMAD/composite, then 16 per page.</summary>
    private static byte[] Scattered(SendOp op, ushort sender, ushort receiver, Func<int, ulong> page, int count) =>
        SharingDescriptors.Send(sender, [(receiver, op.ValidPermission())],
            Enumerable.Range(0, count).Select(i => (page(2 * i), 1u)), op.ValidAttributes());

    /// <summary>Sends only the first <paramref name="first"/> bytes and returns the handle of the FFA_MEM_FRAG_RX answer.</summary>
    private static ulong Start(SharingSystem s, ushort caller, ulong fid, byte[] d, int first = 112)
    {
        var o = s.Send(caller, fid, d, (ulong)d.Length, (ulong)first);
        SharingExpect.Answer(o, MemIds.FragRx);
        return SharingSystem.FragHandle(o);
    }

    private static void AssertFragRx(SmcOutcome o, ulong handle, ulong received, ulong w4)
    {
        SharingExpect.Answer(o, MemIds.FragRx);
        Assert.Equal("FFA_MEM_FRAG_RX", o.Decoded.Result);
        Assert.Equal(handle, SharingSystem.FragHandle(o));
        Assert.Equal(received, o.Frame[3]);
        Assert.Equal(w4, o.Frame[4]);
    }

    [Fact]
    public void FragRx_FromHost_CarriesTheHandleAndCumulativeLength()
    {
        var s = SharingSystem.Default();
        var d = Scattered(SendOp.Share, Host, Sp1, HostPage, 10); // 256 bytes
        var answers = s.SendFragments(Host, MemIds.Share32, d, 112, 48, 64, 32);
        Assert.Equal(4, answers.Count);
        var handle = SharingSystem.FragHandle(answers[0]);
        Assert.Equal(0ul, handle >> 63);
        AssertFragRx(answers[0], handle, 112, 0);
        AssertFragRx(answers[1], handle, 160, 0);
        AssertFragRx(answers[2], handle, 224, 0);
        Assert.Equal(handle, SharingSystem.Handle(Expect.Success(answers[3])));
        var share = Assert.Single(s.State.Shares);
        Assert.Equal(4, share.Fragments);
        Assert.Equal(10, share.Constituents.Count);
    }

    [Fact]
    public void FragRx_FromAVm_CarriesTheSenderInW4()
    {
        var s = SharingSystem.Rich();
        const ushort vm1 = Support.Manifests.Vm1;
        s.Map(vm1, 0x9000_0000, 0x9000_1000);
        var d = Scattered(SendOp.Share, vm1, Sp1, i => 0x9008_0000UL + (ulong)i * 0x1000, 4); // 160 bytes
        var answers = s.SendFragments(vm1, MemIds.Share64, d, 112, 32, 16);
        var handle = SharingSystem.FragHandle(answers[0]);
        AssertFragRx(answers[0], handle, 112, (ulong)vm1 << 16);
        AssertFragRx(answers[1], handle, 144, (ulong)vm1 << 16);
        Assert.Equal(handle, SharingSystem.Handle(Expect.Success(answers[2])));
    }

    /// <summary>The fragments of a VM's transaction come from the VM or the hypervisor (which forwards for it); another VM may not send them.</summary>
    [Fact]
    public void FragTx_ForAVmsTransaction_ByTheHypervisor_IsAccepted_ByAnotherVm_IsInvalid()
    {
        var s = SharingSystem.Rich();
        const ushort vm1 = Support.Manifests.Vm1, vm2 = Support.Manifests.Vm2;
        s.Map(Host, 0x8000_0000, 0x8000_1000);
        s.Map(vm2, 0x9100_0000, 0x9100_1000);
        var d = Scattered(SendOp.Share, vm1, Sp1, i => 0x9008_0000UL + (ulong)i * 0x1000, 3); // 144 bytes
        var handle = Start(s, Host, MemIds.Share32, d);
        Expect.Error(s.FragTx(vm2, handle, 32, d[112..]), Err.InvalidParameters, "mem-frag-tx.not-sender");
        Assert.Equal(handle, SharingSystem.Handle(Expect.Success(s.FragTx(Host, handle, 32, d[112..]))));
        Assert.Equal(vm1, Assert.Single(s.State.Shares).Sender);
    }

    [Fact]
    public void FragRx_FromAnSp_HasW4Zero()
    {
        var s = SharingSystem.Default();
        var d = Scattered(SendOp.Lend, Sp1, Sp2, Sp1Page, 3); // 144 bytes
        var answers = s.SendFragments(Sp1, MemIds.Lend32, d, 112, 32);
        var handle = SharingSystem.FragHandle(answers[0]);
        AssertFragRx(answers[0], handle, 112, 0);
        Assert.Equal(handle, SharingSystem.Handle(Expect.Success(answers[1])));
    }

    [Fact]
    public void FragTx_UnknownHandle_IsInvalid()
    {
        var s = SharingSystem.Default();
        Expect.Error(s.FragTx(Host, 0x1234, 16, new byte[16]), Err.InvalidParameters, "mem-frag-tx.unknown-handle");
    }

    [Fact]
    public void FragTx_CompletedHandle_IsInvalid()
    {
        var s = SharingSystem.Default();
        var handle = s.SendSimple(SendOp.Share, Host, Sp1, HostPage(0));
        Expect.Error(s.FragTx(Host, handle, 16, new byte[16]), Err.InvalidParameters, "mem-frag-tx.already-complete");
    }

    [Fact]
    public void FragTx_ByAnotherEndpoint_IsInvalid()
    {
        var s = SharingSystem.Default();
        var d = Scattered(SendOp.Share, Sp1, Sp3, Sp1Page, 3);
        var handle = Start(s, Sp1, MemIds.Share32, d);
        Expect.Error(s.FragTx(Sp2, handle, 32, d[112..]), Err.InvalidParameters, "mem-frag-tx.not-sender");
        // The real sender still completes it.
        Expect.Success(s.FragTx(Sp1, handle, 32, d[112..]));
    }

    [Fact]
    public void FragTx_SpPassingASenderInW4_IsInvalid()
    {
        var s = SharingSystem.Default();
        var d = Scattered(SendOp.Share, Sp1, Sp3, Sp1Page, 3);
        var handle = Start(s, Sp1, MemIds.Share32, d);
        Expect.Error(s.FragTx(Sp1, handle, 32, d[112..], w4: (ulong)Sp1 << 16), Err.InvalidParameters, "mem-frag-tx.sp-names-sender");
    }

    [Theory]
    [InlineData(24UL)]
    [InlineData(8UL)]
    [InlineData(0UL)]
    [InlineData(4112UL)]
    public void FragTx_BadLength_IsInvalid(ulong length)
    {
        var s = SharingSystem.Default();
        var d = Scattered(SendOp.Share, Host, Sp1, HostPage, 3);
        var handle = Start(s, Host, MemIds.Share32, d);
        Expect.Error(s.FragTx(Host, handle, length, d[112..]), Err.InvalidParameters, "mem-frag-tx.bad-length");
        // A bad length does not spoil the transaction.
        Expect.Success(s.FragTx(Host, handle, 32, d[112..]));
    }

    [Fact]
    public void FragTx_OverrunningTheTotal_IsInvalid()
    {
        var s = SharingSystem.Default();
        var d = Scattered(SendOp.Share, Host, Sp1, HostPage, 3); // 144 bytes
        var handle = Start(s, Host, MemIds.Share32, d);
        Expect.Error(s.FragTx(Host, handle, 48, SharingDescriptors.Padded(d[112..], 16)), Err.InvalidParameters, "mem-frag-tx.overrun");
    }

    [Fact]
    public void FragTx_MoreThan20Fragments_IsNoMemory_AndDropsTheTransaction()
    {
        var s = SharingSystem.Default();
        var d = Scattered(SendOp.Lend, Host, Sp1, HostPage, 22);
        var o = s.Send(Host, MemIds.Lend32, d, (ulong)d.Length, 112);
        var handle = SharingSystem.FragHandle(o);
        for (var fragment = 2; fragment <= 20; fragment++)
        {
            var at = 112 + (fragment - 2) * 16;
            AssertFragRx(s.FragTx(Host, handle, 16, d[at..(at + 16)]), handle, (ulong)at + 16, 0);
        }
        var at21 = 112 + 19 * 16;
        Expect.Error(s.FragTx(Host, handle, 16, d[at21..(at21 + 16)]), Err.NoMemory, "mem-frag-tx.too-many-fragments");

        Assert.Empty(s.State.Shares);
        Expect.Error(s.FragTx(Host, handle, 16, d[(at21 + 16)..]), Err.InvalidParameters, "mem-frag-tx.unknown-handle");
        Expect.Error(s.Reclaim(Host, handle), Err.InvalidParameters, "mem-reclaim.unknown-handle");
        // Nothing stays locked: the host still owns and can send its pages.
        Assert.True(s.CanWrite(Host, HostPage(0)));
        s.SendOk(Host, SendOp.Lend, d);
    }

    [Fact]
    public void FragTx_Exactly20Fragments_Succeeds()
    {
        var s = SharingSystem.Default();
        var d = Scattered(SendOp.Lend, Host, Sp1, HostPage, 20);
        var sizes = new[] { 112 }.Concat(Enumerable.Repeat(16, 19)).ToArray();
        var answers = s.SendFragments(Host, MemIds.Lend32, d, sizes);
        Assert.Equal(20, answers.Count);
        Expect.Success(answers[^1]);
        Assert.Equal(20, Assert.Single(s.State.Shares).Fragments);
    }

    [Fact]
    public void Retrieve_IncompleteTransaction_IsInvalid()
    {
        var s = SharingSystem.Default();
        var d = Scattered(SendOp.Share, Host, Sp1, HostPage, 3);
        var handle = Start(s, Host, MemIds.Share32, d);
        var o = s.RetrieveRaw(Sp1, SharingDescriptors.Retrieve(Host, handle, [(Sp1, Perm.RW)]));
        Expect.Error(o, Err.InvalidParameters, "mem-retrieve.handle-incomplete");
    }

    [Fact]
    public void Relinquish_IncompleteTransaction_IsInvalid()
    {
        var s = SharingSystem.Default();
        var d = Scattered(SendOp.Share, Host, Sp1, HostPage, 3);
        var handle = Start(s, Host, MemIds.Share32, d);
        Expect.Error(s.Relinquish(Sp1, handle), Err.InvalidParameters, "mem-relinquish.handle-incomplete");
    }

    [Fact]
    public void Reclaim_IncompleteTransaction_IsInvalid()
    {
        var s = SharingSystem.Default();
        var d = Scattered(SendOp.Lend, Host, Sp1, HostPage, 3);
        var handle = Start(s, Host, MemIds.Lend32, d);
        Expect.Error(s.Reclaim(Host, handle), Err.InvalidParameters, "mem-reclaim.handle-incomplete");
        Assert.False(Assert.Single(s.State.Shares).SendingComplete);
    }

    [Fact]
    public void Send_SecondTransactionWhileOneIsFragmented_GetsItsOwnHandle_AndBothComplete()
    {
        var s = SharingSystem.Default();
        var a = Scattered(SendOp.Share, Host, Sp1, HostPage, 4);
        var b = Scattered(SendOp.Lend, Host, Sp2, i => HostPage(100 + i), 4);
        var ha = Start(s, Host, MemIds.Share32, a);
        var hb = Start(s, Host, MemIds.Lend32, b);
        Assert.NotEqual(ha, hb);
        AssertFragRx(s.FragTx(Host, hb, 16, b[112..128]), hb, 128, 0);
        Assert.Equal(ha, SharingSystem.Handle(Expect.Success(s.FragTx(Host, ha, 48, a[112..]))));
        Assert.Equal(hb, SharingSystem.Handle(Expect.Success(s.FragTx(Host, hb, 32, b[128..]))));
        Assert.All(s.State.Shares, x => Assert.True(x.SendingComplete));
        s.RetrieveOk(Sp1, Host, ha);
        s.RetrieveOk(Sp2, Host, hb, Perm.RW | Perm.NX);
    }

    [Fact]
    public void Send_PageNotOwnedInTheLastFragment_IsDenied_AndDropsTheTransaction()
    {
        var s = SharingSystem.Default();
        var d = SharingDescriptors.Send(Host, [(Sp1, Perm.RW)], [(HostPage(0), 1), (HostPage(2), 1), (Sp2Page(0), 1)], 0x2F);
        var handle = Start(s, Host, MemIds.Share32, d);
        Expect.Error(s.FragTx(Host, handle, 32, d[112..]), Err.Denied, "mem-send.not-owned-exclusively");

        Assert.Empty(s.State.Shares);
        Expect.Error(s.Reclaim(Host, handle), Err.InvalidParameters, "mem-reclaim.unknown-handle");
        Expect.Error(s.FragTx(Host, handle, 16, d[112..128]), Err.InvalidParameters, "mem-frag-tx.unknown-handle");
        Assert.True(s.CanWrite(Host, HostPage(0)));
        s.SendSimple(SendOp.Share, Host, Sp1, HostPage(0));
    }

    [Fact]
    public void Send_ConstituentsOverlappingAcrossFragments_AreInvalid_AndDropTheTransaction()
    {
        var s = SharingSystem.Default();
        var d = SharingDescriptors.Send(Host, [(Sp1, Perm.RW)], [(HostPage(0), 2), (HostPage(4), 1), (HostPage(1), 1)], 0x2F);
        var handle = Start(s, Host, MemIds.Share32, d);
        Expect.Error(s.FragTx(Host, handle, 32, d[112..]), Err.InvalidParameters, "mem-send.constituents-overlap");
        Assert.Empty(s.State.Shares);
    }

    [Fact]
    public void Send_LargeDescriptor_InTxSizedFragments_Succeeds()
    {
        var s = SharingSystem.Default();
        var d = Scattered(SendOp.Share, Host, Sp1, HostPage, 600); // 9696 bytes: three fragments
        var answers = s.SendFragments(Host, MemIds.Share32, d);
        Assert.Equal(3, answers.Count);
        AssertFragRx(answers[0], SharingSystem.FragHandle(answers[0]), 4096, 0);
        AssertFragRx(answers[1], SharingSystem.FragHandle(answers[0]), 8192, 0);
        Expect.Success(answers[2]);
        Assert.Equal(600, Assert.Single(s.State.Shares).ConstituentCount);
    }

    [Fact]
    public void FragTx_NoTxMapped_IsInvalid()
    {
        var s = SharingSystem.Default(only: Host);
        var d = Scattered(SendOp.Share, Host, Sp1, HostPage, 3);
        var handle = Start(s, Host, MemIds.Share32, d);
        Expect.Error(s.Call(Sp1, MemIds.FragTx, (uint)handle, handle >> 32, 32, 0), Err.InvalidParameters, "mem-frag-tx.no-tx-buffer");
    }

    [Theory]
    [InlineData(0x1UL)]
    [InlineData(0x0001_8000UL)]
    public void FragTx_W4LowBits_AreInvalid(ulong w4)
    {
        var s = SharingSystem.Default();
        var d = Scattered(SendOp.Share, Host, Sp1, HostPage, 3);
        var handle = Start(s, Host, MemIds.Share32, d);
        Expect.Error(s.FragTx(Host, handle, 32, d[112..], w4), Err.InvalidParameters, "mem-frag-tx.w4-low-mbz");
        // The transaction is untouched.
        Expect.Success(s.FragTx(Host, handle, 32, d[112..]));
    }

    [Fact]
    public void FragTx_W4NamingAnotherSender_IsInvalid()
    {
        var s = SharingSystem.Default();
        var d = Scattered(SendOp.Share, Host, Sp1, HostPage, 3);
        var handle = Start(s, Host, MemIds.Share32, d);
        Expect.Error(s.FragTx(Host, handle, 32, d[112..], w4: 1UL << 16), Err.InvalidParameters, "mem-frag-tx.w4-not-sender");
        Expect.Success(s.FragTx(Host, handle, 32, d[112..]));
    }

    [Fact]
    public void FragRx_IncompleteTransaction_IsInvalid()
    {
        var s = SharingSystem.Default();
        var d = Scattered(SendOp.Share, Host, Sp1, HostPage, 3);
        var handle = Start(s, Host, MemIds.Share32, d);
        Expect.Error(s.Call(Sp1, MemIds.FragRx, (uint)handle, handle >> 32, 0, 0), Err.InvalidParameters, "mem-frag-rx.handle-incomplete");
    }

    [Fact]
    public void HypervisorRetrieve_IncompleteTransaction_IsInvalid()
    {
        var s = SharingSystem.Default();
        var d = Scattered(SendOp.Share, Host, Sp1, HostPage, 3);
        var handle = Start(s, Host, MemIds.Share32, d);
        Expect.Error(s.RetrieveRaw(Host, SharingDescriptors.HypervisorRetrieve(handle)), Err.InvalidParameters, "mem-hyp-retrieve.handle-incomplete");
    }
}
