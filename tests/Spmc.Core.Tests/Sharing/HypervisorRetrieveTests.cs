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

    /// <summary>
    /// Hafnium has no length rule on the hypervisor path (api_ffa_mem_retrieve_req): a request longer than the header
    /// is answered (before issue 14 Spmc refused it with mem-hyp-retrieve.length), and a shorter one reads the rest
    /// of the header as zero from Hafnium's wiped staging buffer.
    /// </summary>
    [Theory]
    [InlineData(64)]
    [InlineData(16)]
    public void HypervisorRetrieve_OfAnyLength_IsClassifiedByItsReceiverCount(int length)
    {
        var (s, h) = TwoReceiverShare();
        var request = SharingDescriptors.Padded(SharingDescriptors.HypervisorRetrieve(h), 16)[..length];
        var (first, response) = s.Retrieve(Host, request, h);
        SharingExpect.Answer(first, MemIds.RetrieveResp);
        Assert.Equal(2, SharingDescriptors.ParseResponse(response!).Receivers.Count);
    }

    /// <summary>The high byte of the v1.1 attributes and the v1.1 reserved bytes 36..47 are not among the fields Hafnium checks.</summary>
    [Theory]
    [InlineData(3)]
    [InlineData(40)]
    public void HypervisorRetrieve_BytesHafniumDoesNotRead_MayBeNonZero(int offset)
    {
        var (s, h) = TwoReceiverShare();
        var request = SharingDescriptors.HypervisorRetrieve(h);
        request[offset] = 0x5A;
        SharingExpect.Answer(s.Retrieve(Host, request, h).First, MemIds.RetrieveResp);
    }

    /// <summary>A v1.0 hypervisor: the v1.0 header's fields only — bytes 24..27 are reserved there, 32..47 are past it.</summary>
    private static (SharingSystem S, ulong Handle) V10HostShare()
    {
        var s = SharingSystem.Default(map: false);
        Assert.Equal(0x1_0003UL, s.Call(Host, 0x8400_0063, 0x1_0000).Frame[0]);
        s.MapDefault(Host);
        s.MapDefault(Sp1);
        var d = SharingDescriptors.Send(Host, [(Sp1, Perm.RW)], [(HostPage(0), 2)], 0x2F, layout: MemoryDescriptorLayout.V1_0);
        return (s, s.SendOk(Host, SendOp.Share, d));
    }

    [Theory]
    [InlineData(24, 32u)] // v1.1's EMAD size: v1.0 reserved_1, not checked
    [InlineData(32, 48u)] // v1.1's receivers offset: past the v1.0 header
    public void HypervisorRetrieve_FromAV10Caller_ChecksTheV10HeaderOnly(int offset, uint value)
    {
        var (s, h) = V10HostShare();
        var request = SharingDescriptors.WithU32(SharingDescriptors.HypervisorRetrieve(h), offset, value);
        var (first, response) = s.Retrieve(Host, request, h);
        SharingExpect.Answer(first, MemIds.RetrieveResp);
        var r = SharingDescriptors.ParseResponse(response!, v1_0: true);
        Assert.Equal(Sp1, r.Receivers.Single().Access.Endpoint);
        Assert.Equal(2u, r.Composite!.TotalPageCount);
    }

    [Fact]
    public void HypervisorRetrieve_FromAV10Caller_WithATag_IsInvalid()
    {
        var (s, h) = V10HostShare();
        var request = SharingDescriptors.WithU64(SharingDescriptors.HypervisorRetrieve(h), 16, 1);
        Expect.Error(s.RetrieveRaw(Host, request), Err.InvalidParameters, "mem-hyp-retrieve.fields-not-zero");
    }

    /// <summary>
    /// The response keeps the sender's fragments (Hafnium ffa_hypervisor_retrieve_response_init): a v1.2+ host that
    /// sent 16-byte EMADs and a full first page gets its first fragment back with a 32-byte EMAD, 16 bytes more than
    /// its RX holds. Hafnium CHECKs (panics); Spmc answers ABORTED and changes nothing.
    /// </summary>
    [Fact]
    public void HypervisorRetrieve_FirstFragmentLargerThanRx_IsAborted()
    {
        var s = SharingSystem.Default();
        var d = SharingDescriptors.Send(Host, [(Sp1, Perm.RW)], Enumerable.Range(0, 300).Select(i => (HostPage(2 * i), 1u)), 0x2F,
            layout: MemoryDescriptorLayout.V1_1);
        var answers = s.SendFragments(Host, SendOp.Share.Id(), d, 4096);
        var h = SharingSystem.Handle(Expect.Success(answers[^1]));
        var before = s.State.Memory;
        Expect.Error(s.RetrieveRaw(Host, SharingDescriptors.HypervisorRetrieve(h)), Err.Aborted, "mem-hyp-retrieve.fragment-exceeds-rx");
        Assert.Equal(before, s.State.Memory);
        Assert.NotEqual(Spmc.Core.Spm.RxState.Full, s.Test.Endpoint(Host).Mailbox!.State);
        Assert.False(s.State.Shares[0].HypervisorRetrieveInProgress);
        Expect.Success(s.Reclaim(Host, h));
    }

    /// <summary>
    /// Fragment by fragment as sent (Hafnium ffa_memory_retrieve_continue for ID 0): a share sent as 1024 + 2048 + 624
    /// bytes is answered as 1024 + 2048 + 624 bytes, whatever the RX size; a FRAG_RX naming another sender in
    /// w4[31:16] is refused, and state is unchanged by it.
    /// </summary>
    [Fact]
    public void HypervisorRetrieve_IsCutWhereTheSenderCutIt_AndFragRxMustNameTheSender()
    {
        var s = SharingSystem.Default();
        var d = SharingDescriptors.Send(Host, [(Sp1, Perm.RW)], Enumerable.Range(0, 225).Select(i => (HostPage(2 * i), 1u)), 0x2F);
        Assert.Equal(3696, d.Length);
        var answers = s.SendFragments(Host, SendOp.Share.Id(), d, 1024, 2048, 624);
        var h = SharingSystem.Handle(Expect.Success(answers[^1]));

        var first = s.RetrieveRaw(Host, SharingDescriptors.HypervisorRetrieve(h));
        Assert.Equal([MemIds.RetrieveResp, 3696UL, 1024UL], first.Frame.ToArray()[..3]);
        Expect.Success(s.Call(Host, MemIds.RxRelease));
        Expect.Error(s.Call(Host, MemIds.FragRx, (uint)h, h >> 32, 1024, 1UL << 16), Err.InvalidParameters, "mem-frag-rx.w4-not-sender");
        Assert.True(s.State.Shares[0].HypervisorRetrieveInProgress);
        var second = s.CallReadingRx(Host, null, MemIds.FragRx, (uint)h, h >> 32, 1024, 0);
        Assert.Equal(2048UL, second.Frame[3]);
        Expect.Success(s.Call(Host, MemIds.RxRelease));
        var third = s.CallReadingRx(Host, null, MemIds.FragRx, (uint)h, h >> 32, 3072, 0);
        Assert.Equal(624UL, third.Frame[3]);
        var whole = first.Reads[0].Data![..1024].Concat(second.Reads[0].Data![..2048]).Concat(third.Reads[0].Data![..624]).ToArray();
        Assert.Equal(d.Skip(96).ToArray(), whole.Skip(96).ToArray()); // the constituents, in order
        Assert.False(s.State.Shares[0].HypervisorRetrieveInProgress);
    }
}
