using Spmc.Abi.Descriptors.Memory;
using Spmc.Core.Calls;
using Spmc.Core.Tests.Support;
using static Spmc.Core.Tests.Sharing.Pages;

namespace Spmc.Core.Tests.Sharing;

/// <summary>
/// The pages of a send: constituent checks (INVALID), ownership and exclusivity (DENIED), the share-state
/// limit, handle allocation and zeroing (spmc-behaviour.md §8.2 steps 15-17, §13 rule 7).
/// </summary>
public class MemSendPagesTests
{
    private static SmcOutcome SendPages(SharingSystem s, SendOp op, ushort sender, (ulong, uint)[] constituents, uint? totalPages = null) =>
        s.Send(sender, op, SharingDescriptors.Send(sender, [(Sp1 == sender ? Sp2 : Sp1, op.ValidPermission())], constituents,
            op.ValidAttributes(), totalPages: totalPages));

    [Fact]
    public void Send_ConstituentAddressUnaligned_IsInvalid()
    {
        var s = SharingSystem.Default();
        Expect.Error(SendPages(s, SendOp.Lend, Host, [(HostPage(0) + 0x800, 1)]), Err.InvalidParameters, "mem-send.constituent-unaligned");
        Assert.Empty(s.State.Shares);
    }

    [Fact]
    public void Send_ConstituentWithZeroPages_IsInvalid()
    {
        var s = SharingSystem.Default();
        Expect.Error(SendPages(s, SendOp.Lend, Host, [(HostPage(0), 1), (HostPage(4), 0)]), Err.InvalidParameters, "mem-send.constituent-empty");
    }

    [Fact]
    public void Send_ConstituentOverflowingTheAddressSpace_IsInvalid()
    {
        var s = SharingSystem.Default();
        Expect.Error(SendPages(s, SendOp.Lend, Host, [(0xFFFF_FFFF_FFFF_F000, 2)]), Err.InvalidParameters, "mem-send.constituent-overflows");
    }

    [Theory]
    [InlineData(0, 2, 1, 1)] // second inside the first
    [InlineData(0, 2, 0, 1)] // same start
    [InlineData(2, 2, 0, 3)] // second covers the first's start
    public void Send_OverlappingConstituents_IsInvalid(int a, uint aPages, int b, uint bPages)
    {
        var s = SharingSystem.Default();
        Expect.Error(SendPages(s, SendOp.Share, Host, [(HostPage(a), aPages), (HostPage(b), bPages)]), Err.InvalidParameters, "mem-send.constituents-overlap");
    }

    [Theory]
    [InlineData(2u)]
    [InlineData(4u)]
    public void Send_CompositeTotalPagesNotTheSum_IsInvalid(uint total)
    {
        var s = SharingSystem.Default();
        Expect.Error(SendPages(s, SendOp.Lend, Host, [(HostPage(0), 1), (HostPage(2), 2)], totalPages: total), Err.InvalidParameters, "mem-send.page-count-mismatch");
    }

    [Fact]
    public void Send_PagesOfAnotherEndpoint_AreDenied()
    {
        var s = SharingSystem.Default();
        Expect.Error(SendPages(s, SendOp.Lend, Host, [(Sp2Page(0), 1)]), Err.Denied, "mem-send.not-owned-exclusively");
    }

    [Fact]
    public void Send_SpSendingNormalWorldPages_IsDenied()
    {
        var s = SharingSystem.Default();
        Expect.Error(SendPages(s, SendOp.Share, Sp1, [(HostPage(0), 1)]), Err.Denied, "mem-send.not-owned-exclusively");
    }

    [Fact]
    public void Send_PagesPartlyNotOwnedBySender_IsDenied()
    {
        // The host's region ends at 0x90000000: a range running past it is not all the host's.
        var s = SharingSystem.Default();
        Expect.Error(SendPages(s, SendOp.Lend, Host, [(0x8FFF_F000, 2)]), Err.Denied, "mem-send.not-owned-exclusively");
    }

    [Fact]
    public void Send_UnmappedAddresses_AreDenied()
    {
        var s = SharingSystem.Default();
        Expect.Error(SendPages(s, SendOp.Lend, Host, [(Unmapped, 1)]), Err.Denied, "mem-send.not-owned-exclusively");
        Assert.Empty(s.State.Shares);
    }

    [Theory]
    [InlineData(0x8000_0000UL)] // host TX
    [InlineData(0x8000_1000UL)] // host RX
    public void Send_RxTxBufferPages_AreDenied(ulong page)
    {
        var s = SharingSystem.Default();
        Expect.Error(SendPages(s, SendOp.Share, Host, [(page, 1)]), Err.Denied, "mem-send.not-owned-exclusively");
    }

    [Fact]
    public void Send_SpRxTxBufferPages_AreDenied()
    {
        var s = SharingSystem.Default();
        Expect.Error(SendPages(s, SendOp.Lend, Sp1, [(0x6000_0000, 2)]), Err.Denied, "mem-send.not-owned-exclusively");
    }

    public static TheoryData<SendOp, SendOp, int, uint> AlreadySentCases()
    {
        var data = new TheoryData<SendOp, SendOp, int, uint>();
        foreach (var first in new[] { SendOp.Share, SendOp.Lend, SendOp.Donate })
            foreach (var (start, pages) in new[] { (0, 4u), (1, 2u), (3, 3u) }) // full, sub-range, overlapping the end
                data.Add(first, first == SendOp.Share ? SendOp.Lend : SendOp.Share, start, pages);
        return data;
    }

    [Theory]
    [MemberData(nameof(AlreadySentCases))]
    public void Send_PagesAlreadyInATransaction_AreDenied(SendOp first, SendOp second, int start, uint pages)
    {
        var s = SharingSystem.Default();
        s.SendSimple(first, Host, Sp1, HostPage(0), 4);
        var d = SharingDescriptors.Send(Host, [(Sp2, second.ValidPermission())], [(HostPage(start), pages)], second.ValidAttributes());
        Expect.Error(s.Send(Host, second, d), Err.Denied, "mem-send.not-owned-exclusively");
        Assert.Single(s.State.Shares);
    }

    [Fact]
    public void Share_PageAlreadyLent_IsDenied_EvenToTheSameReceiverWithOtherPermissions()
    {
        var s = SharingSystem.Default();
        s.SendSimple(SendOp.Lend, Host, Sp1, HostPage(0));
        var d = SharingDescriptors.Send(Host, [(Sp1, Perm.RO)], [(HostPage(0), 1)], 0x2F);
        Expect.Error(s.Send(Host, SendOp.Share, d), Err.Denied, "mem-send.not-owned-exclusively");
    }

    [Fact]
    public void Send_PagesAfterReclaim_CanBeSentAgain()
    {
        var s = SharingSystem.Default();
        var h = s.SendSimple(SendOp.Lend, Host, Sp1, HostPage(0), 2);
        Expect.Success(s.Reclaim(Host, h));
        s.SendSimple(SendOp.Share, Host, Sp2, HostPage(0), 2);
    }

    [Fact]
    public void Send_101stOutstandingTransaction_IsNoMemory()
    {
        var s = SharingSystem.Default();
        for (var i = 0; i < 100; i++) s.SendSimple(SendOp.Share, Host, Sp1, HostPage(i));
        Expect.Error(s.Send(Host, SendOp.Share, SharingDescriptors.Simple(SendOp.Share, Host, Sp1, HostPage(100))), Err.NoMemory, "mem-send.share-states-exhausted");
        Assert.Equal(100, s.State.Shares.Count);
        // Reclaiming one frees a slot.
        Expect.Success(s.Reclaim(Host, s.State.Shares[0].Handle));
        s.SendSimple(SendOp.Share, Host, Sp1, HostPage(100));
    }

    [Fact]
    public void Send_Handles_HaveBit63Clear_AreAllocatedInOrder_AndAreReproducible()
    {
        static List<ulong> Run()
        {
            var s = SharingSystem.Default();
            var handles = new List<ulong>
            {
                s.SendSimple(SendOp.Share, Host, Sp1, HostPage(0)),
                s.SendSimple(SendOp.Lend, Host, Sp2, HostPage(1)),
                s.SendSimple(SendOp.Donate, Host, Sp3, HostPage(2)),
                s.SendSimple(SendOp.Share, Sp1, Sp2, Sp1Page(0)),
            };
            Expect.Success(s.Reclaim(Host, handles[0]));
            handles.Add(s.SendSimple(SendOp.Lend, Host, Sp1, HostPage(0)));
            return handles;
        }

        var first = Run();
        Assert.All(first, h => Assert.Equal(0ul, h >> 63));
        Assert.Equal(first.Count, first.Distinct().Count());
        for (var i = 1; i < 4; i++) Assert.True(first[i] > first[i - 1], $"handle {i} (0x{first[i]:X}) should follow 0x{first[i - 1]:X}");
        Assert.Equal(first, Run());
    }

    [Theory]
    [InlineData(SendOp.Lend)]
    [InlineData(SendOp.Donate)]
    public void Send_ZeroFlag_ZeroesThePages(SendOp op)
    {
        var s = SharingSystem.Default();
        var pattern = Enumerable.Range(1, 64).Select(i => (byte)i).ToArray();
        s.Poke(Host, HostPage(0), pattern);
        s.Poke(Host, HostPage(1) + 0xFC0, pattern);
        s.Poke(Host, HostPage(2), pattern); // outside the range: untouched
        var handle = s.SendOk(Host, op, SharingDescriptors.Simple(op, Host, Sp1, HostPage(0), 2, MemoryTransactionFlags.ZeroMemory));

        Assert.All(s.Peek(HostPage(0), 0x2000), b => Assert.Equal(0, b));
        Assert.Equal(pattern, s.Peek(HostPage(2), 64));

        s.RetrieveOk(Sp1, Host, handle, Perm.RW | Perm.NX);
        Assert.All(s.System.ReadMemory(Sp1, HostPage(0), 0x2000), b => Assert.Equal(0, b));
    }

    [Fact]
    public void Lend_WithoutZeroFlag_KeepsTheBytes()
    {
        var s = SharingSystem.Default();
        s.Poke(Host, HostPage(0), [9, 8, 7]);
        var handle = s.SendSimple(SendOp.Lend, Host, Sp1, HostPage(0));
        s.RetrieveOk(Sp1, Host, handle, Perm.RW | Perm.NX);
        Assert.Equal(new byte[] { 9, 8, 7 }, s.System.ReadMemory(Sp1, HostPage(0), 3));
    }

    [Fact]
    public void Send_SpToSp_OfItsOwnMemory_Succeeds()
    {
        var s = SharingSystem.Default();
        var h = s.SendSimple(SendOp.Lend, Sp1, Sp2, Sp1Page(0), 3);
        Assert.False(s.CanRead(Sp1, Sp1Page(0)));
        s.RetrieveOk(Sp2, Sp1, h, Perm.RW | Perm.X);
        Assert.True(s.CanWrite(Sp2, Sp1Page(2)));
    }

}
