using Spmc.Abi.Descriptors.Memory;
using Spmc.Core.Tests.Support;
using static Spmc.Core.Tests.Sharing.Pages;

namespace Spmc.Core.Tests.Sharing;

/// <summary>The hypervisor retrieve request: ID 0, receiver count 0, all zero but the handle (spmc-behaviour.md §8.5, §13 rule 11).</summary>
public class HypervisorRetrieveTests
{
    private static (SharingSystem S, ulong Handle) TwoReceiverShare(SendOp op = SendOp.Share)
    {
        var s = SharingSystem.Default();
        var d = SharingDescriptors.Send(Host, [(Sp1, Perm.RW), (Sp2, Perm.RO)], [(HostPage(0), 2), (HostPage(8), 1)], 0x2F);
        return (s, s.SendOk(Host, op, d));
    }

    [Theory]
    [InlineData(SendOp.Share)]
    [InlineData(SendOp.Lend)]
    public void HypervisorRetrieve_ReturnsTheWholeTransaction_WithEveryReceiver(SendOp op)
    {
        var (s, h) = TwoReceiverShare(op);
        var (first, response) = s.Retrieve(Host, SharingDescriptors.HypervisorRetrieve(h), h);
        SharingExpect.Answer(first, MemIds.RetrieveResp);
        Assert.Equal((ulong)response!.Length, first.Frame[1]);

        var r = SharingDescriptors.ParseResponse(response);
        Assert.Equal(Host, r.Sender);
        Assert.Equal(h, r.Handle);
        Assert.Equal(0x2F, r.Attributes.Value); // the sender's attributes, no NS bit
        Assert.Equal(op.Type(), r.Flags.Type);
        Assert.Equal(0ul, r.Tag);
        Assert.Equal(2, r.Receivers.Count);
        Assert.Equal([Sp1, Sp2], r.Receivers.Select(e => e.Access.Endpoint));
        Assert.Equal([DataAccess.ReadWrite, DataAccess.ReadOnly], r.Receivers.Select(e => e.Access.Data));
        Assert.All(r.Receivers, e => Assert.Equal(r.Receivers[0].CompositeOffset, e.CompositeOffset));
        Assert.Equal(3u, r.Composite!.TotalPageCount);
        Assert.Equal([(HostPage(0), 2u), (HostPage(8), 1u)], r.Composite.Constituents.Select(k => (k.Address, k.PageCount)));
    }

    [Fact]
    public void HypervisorRetrieve_DoesNotChangeOwnershipOrBorrowState()
    {
        var (s, h) = TwoReceiverShare(SendOp.Lend);
        var memoryBefore = s.State.Memory;
        s.Retrieve(Host, SharingDescriptors.HypervisorRetrieve(h), h);

        Assert.Equal(memoryBefore, s.State.Memory);
        var share = Assert.Single(s.State.Shares);
        Assert.All(share.Receivers, r => Assert.Equal(0, r.Retrievals));
        Assert.False(s.CanRead(Host, HostPage(0)));
        Assert.False(s.CanRead(Sp1, HostPage(0)));
        // Borrowers still retrieve normally, and the host reclaims after them.
        s.RetrieveOk(Sp1, Host, h, Perm.RW, receivers: [(Sp1, Perm.RW), (Sp2, Perm.None)]);
        Expect.Success(s.Relinquish(Sp1, h));
        Expect.Success(s.Reclaim(Host, h));
    }

    [Fact]
    public void HypervisorRetrieve_ByAnSp_IsInvalid()
    {
        var (s, h) = TwoReceiverShare();
        Expect.Error(s.RetrieveRaw(Sp1, SharingDescriptors.HypervisorRetrieve(h)), Err.InvalidParameters, "mem-hyp-retrieve.not-hypervisor");
    }

    [Theory]
    [InlineData(0, 0x0001UL)]          // sender
    [InlineData(2, 0x002FUL)]          // attributes
    [InlineData(4, 0x0010UL)]          // flags (a transaction type)
    [InlineData(16, 0x77UL)]           // tag
    public void HypervisorRetrieve_WithANonZeroField_IsInvalid(int offset, ulong value)
    {
        var (s, h) = TwoReceiverShare();
        var request = offset == 16 ? SharingDescriptors.WithU64(SharingDescriptors.HypervisorRetrieve(h), offset, value)
            : SharingDescriptors.WithU32(SharingDescriptors.HypervisorRetrieve(h), offset & ~3, (uint)(value << (8 * (offset & 3))));
        Expect.Error(s.RetrieveRaw(Host, request), Err.InvalidParameters, "mem-hyp-retrieve.fields-not-zero");
    }

    /// <summary>§8.5: the access-descriptor size and receivers offset must be 0 too (Hafnium api_ffa_memory_hypervisor_retrieve_request_validate).</summary>
    [Fact]
    public void HypervisorRetrieve_WithEmadSizeAndReceiversOffsetSet_IsInvalid()
    {
        var (s, h) = TwoReceiverShare();
        var request = SharingDescriptors.WithU32(SharingDescriptors.WithU32(SharingDescriptors.HypervisorRetrieve(h), 24, 32), 32, 48);
        Expect.Error(s.RetrieveRaw(Host, request), Err.InvalidParameters, "mem-hyp-retrieve.fields-not-zero");
    }

    [Fact]
    public void HypervisorRetrieve_UnknownHandle_IsInvalid()
    {
        var (s, _) = TwoReceiverShare();
        Expect.Error(s.RetrieveRaw(Host, SharingDescriptors.HypervisorRetrieve(0x4242)), Err.InvalidParameters, "mem-hyp-retrieve.unknown-handle");
    }

    [Fact]
    public void HypervisorRetrieve_HandleWithBit63_IsInvalid()
    {
        var (s, h) = TwoReceiverShare();
        Expect.Error(s.RetrieveRaw(Host, SharingDescriptors.HypervisorRetrieve(h | 1UL << 63)), Err.InvalidParameters, "mem-hyp-retrieve.handle-hypervisor-allocated");
    }

    [Fact]
    public void HypervisorRetrieve_WhileFragmentsArePending_IsDenied()
    {
        var s = SharingSystem.Default();
        var d = SharingDescriptors.Send(Host, [(Sp1, Perm.RW)], Enumerable.Range(0, 300).Select(i => (HostPage(2 * i), 1u)), 0x2F);
        var h = s.SendOk(Host, SendOp.Share, d);

        var first = s.RetrieveRaw(Host, SharingDescriptors.HypervisorRetrieve(h));
        SharingExpect.Answer(first, MemIds.RetrieveResp);
        Assert.Equal(4896ul, first.Frame[1]);
        Assert.Equal(4096ul, first.Frame[2]);
        Assert.True(s.State.Shares[0].HypervisorRetrieveInProgress);
        Expect.Success(s.Call(Host, MemIds.RxRelease));

        Expect.Error(s.RetrieveRaw(Host, SharingDescriptors.HypervisorRetrieve(h)), Err.Denied, "mem-hyp-retrieve.in-progress");

        // A wrong offset is refused; the right one (w4 = sender << 16, here 0) completes it.
        Expect.Error(s.CallReadingRx(Host, null, MemIds.FragRx, (uint)h, h >> 32, 4000, 0), Err.InvalidParameters, "mem-frag-rx.wrong-offset");
        var next = s.CallReadingRx(Host, null, MemIds.FragRx, (uint)h, h >> 32, 4096, 0);
        SharingExpect.Answer(next, MemIds.FragTx);
        Assert.Equal(800ul, next.Frame[3]);
        var whole = first.Reads[0].Data![..4096].Concat(next.Reads[0].Data![..800]).ToArray();
        Assert.Equal(300, SharingDescriptors.ParseResponse(whole).Composite!.Constituents.Count);
        Assert.False(s.State.Shares[0].HypervisorRetrieveInProgress);
        Expect.Success(s.Call(Host, MemIds.RxRelease));

        // Finished: another hypervisor retrieve may start.
        SharingExpect.Answer(s.RetrieveRaw(Host, SharingDescriptors.HypervisorRetrieve(h)), MemIds.RetrieveResp);
    }

    [Fact]
    public void HypervisorRetrieve_ThenReclaim_IsThePkvmReclaimPath()
    {
        var s = SharingSystem.Default();
        var h = s.SendSimple(SendOp.Lend, Host, Sp1, HostPage(0), 4);
        var (first, response) = s.Retrieve(Host, SharingDescriptors.HypervisorRetrieve(h), h);
        SharingExpect.Answer(first, MemIds.RetrieveResp);
        Assert.Equal(4u, SharingDescriptors.ParseResponse(response!).Composite!.TotalPageCount);
        Expect.Success(s.Reclaim(Host, h));
        Assert.True(s.CanWrite(Host, HostPage(3)));
    }

    [Fact]
    public void HypervisorRetrieve_LongerThanTheHeader_IsInvalid()
    {
        var (s, h) = TwoReceiverShare();
        var request = SharingDescriptors.Padded(SharingDescriptors.HypervisorRetrieve(h), 16);
        Expect.Error(s.RetrieveRaw(Host, request), Err.InvalidParameters, "mem-hyp-retrieve.length");
    }
}
