using Spmc.Abi.Smccc;
using Spmc.Core.Spm.Behaviours;
using Spmc.Core.Tests.Support;
using static Spmc.Core.Tests.Sharing.Pages;

namespace Spmc.Core.Tests.Sharing;

/// <summary>
/// The memory of a partition that calls FFA_ABORT (FF-A 1.3 §7.2.4; Hafnium 2da53c70, b902a4d6): borrowed memory is
/// relinquished for it, lent memory reclaimed at once or, while borrowers hold it, once they relinquish — and no one
/// may retrieve it in between. Sp1 (0x8001) is the default system's echo partition, aborted by its abort command.
/// </summary>
public sealed class AbortedPartitionMemoryTests
{
    private const ulong Req32 = 0x8400_006F;

    private static void AbortSp1(SharingSystem s)
    {
        var o = s.Test.Call(Host, SmcFrame.From(Req32, Sp1, 0, EchoBehaviour.AbortCommand));
        Expect.Error(o, Err.Aborted, "abort.lender-aborted");
    }

    [Fact]
    public void BorrowedMemory_IsRelinquishedForIt_AndTheLenderCanReclaim()
    {
        var s = SharingSystem.Default();
        var h = s.SendSimple(SendOp.Lend, Host, Sp1, HostPage(0));
        s.RetrieveOk(Sp1, Host, h, Perm.RW | Perm.NX);
        Assert.True(s.CanRead(Sp1, HostPage(0)));
        Expect.Error(s.Reclaim(Host, h), Err.Denied, "mem-reclaim.still-held");

        AbortSp1(s);
        Assert.False(s.CanRead(Sp1, HostPage(0)));
        Expect.Success(s.Reclaim(Host, h));
        Assert.True(s.CanRead(Host, HostPage(0)));
    }

    [Fact]
    public void LentMemoryNotRetrieved_IsReclaimedAtOnce()
    {
        var s = SharingSystem.Default();
        var h = s.SendSimple(SendOp.Lend, Sp1, Sp2, Sp1Page(0));
        AbortSp1(s);
        Assert.DoesNotContain(s.State.Shares, x => x.Handle == h);
        Expect.Error(s.Retrieve(Sp2, SharingDescriptors.Retrieve(Sp1, h, [(Sp2, Perm.RW)]), h).First, Err.InvalidParameters);
    }

    [Fact]
    public void LentMemoryHeldByABorrower_CannotBeRetrieved_AndIsReclaimedWhenRelinquished()
    {
        var s = SharingSystem.Default();
        var h = s.SendOk(Sp1, SendOp.Share, SharingDescriptors.Send(Sp1, [(Sp2, Perm.RW), (Sp3, Perm.RW)], [(Sp1Page(0), 1)], SendOp.Share.ValidAttributes()));
        s.RetrieveOk(Sp2, Sp1, h, Perm.RW | Perm.NX, receivers: [(Sp2, Perm.RW), (Sp3, Perm.RW)]);

        AbortSp1(s);
        Assert.Contains(s.State.Shares, x => x.Handle == h);
        Assert.True(s.CanRead(Sp2, Sp1Page(0))); // the borrower keeps access until it relinquishes

        // Sp3 never retrieved: it cannot now (Hafnium: deferred reclaim pending → DENIED); nothing changes.
        var before = s.State.Shares.Single(x => x.Handle == h).ToString();
        var o = s.Retrieve(Sp3, SharingDescriptors.Retrieve(Sp1, h, [(Sp2, Perm.RW), (Sp3, Perm.RW)]), h).First;
        Expect.Error(o, Err.Denied, "abort.retrieve-deferred-reclaim");
        Assert.Equal(before, s.State.Shares.Single(x => x.Handle == h).ToString());
        Assert.False(s.CanRead(Sp3, Sp1Page(0)));

        // The last borrower relinquishes: the SPMC reclaims it for the aborted sender.
        var relinquished = Expect.Success(s.Relinquish(Sp2, h));
        Assert.Contains(relinquished.Decoded.Notes!, n => n.Contains("reclaimed for it"));
        Assert.DoesNotContain(s.State.Shares, x => x.Handle == h);
        Assert.False(s.CanRead(Sp2, Sp1Page(0)));
    }

    [Fact]
    public void AtSpmc12_TheAbortCommandIsEchoed_AndSharesAreUntouched()
    {
        var s = new SharingSystem(TestSystem.DefaultAt("1.2"));
        s.MapDefault(Host);
        var h = s.SendSimple(SendOp.Lend, Host, Sp1, HostPage(0));
        var o = s.Test.Call(Host, SmcFrame.From(Req32, Sp1, 0, EchoBehaviour.AbortCommand));
        Assert.Equal(0x8400_0070ul, o.Frame[0]);
        Assert.Contains(s.State.Shares, x => x.Handle == h);
    }
}
