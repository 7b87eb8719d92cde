using Spmc.Abi.Descriptors.Memory;
using Spmc.Core.Tests.Support;
using static Spmc.Core.Tests.Sharing.Pages;

namespace Spmc.Core.Tests.Sharing;

/// <summary>FFA_MEM_RELINQUISH (spmc-behaviour.md §8.6) and FFA_MEM_RECLAIM (§8.7, §13 rule 9).</summary>
public class MemRelinquishReclaimTests
{
    private static readonly byte[] Pattern = [0xDE, 0xAD, 0xBE, 0xEF, 1, 2, 3, 4];

    private static (SharingSystem S, ulong Handle) Retrieved(SendOp op = SendOp.Lend, byte sent = Perm.RW, byte requested = Perm.RW | Perm.NX)
    {
        var s = SharingSystem.Default();
        s.Poke(Host, HostPage(0), Pattern);
        var h = s.SendOk(Host, op, SharingDescriptors.Send(Host, [(Sp1, sent)], [(HostPage(0), 2)], op.ValidAttributes()));
        s.RetrieveOk(Sp1, Host, h, requested);
        return (s, h);
    }

    private static void AssertZero(SharingSystem s, ulong address, int length) => Assert.All(s.Peek(address, length), b => Assert.Equal(0, b));

    // ---- relinquish ----------------------------------------------------------------------------------------

    [Fact]
    public void Relinquish_Succeeds_AndTheBorrowerLosesAccess()
    {
        var (s, h) = Retrieved();
        Assert.True(s.CanWrite(Sp1, HostPage(1)));
        Expect.Success(s.Relinquish(Sp1, h));
        Assert.False(s.CanRead(Sp1, HostPage(0)));
        Assert.False(s.CanRead(Host, HostPage(0))); // still lent until reclaimed
        Assert.Equal(Pattern, s.Peek(HostPage(0), Pattern.Length));
    }

    [Fact]
    public void Relinquish_NoTxMapped_IsInvalid()
    {
        var s = SharingSystem.Default(only: Host);
        var h = s.SendSimple(SendOp.Lend, Host, Sp1, HostPage(0));
        Expect.Error(s.Call(Sp1, MemIds.Relinquish), Err.InvalidParameters, "mem-relinquish.no-tx-buffer");
        Assert.Single(s.State.Shares, x => x.Handle == h);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public void Relinquish_EndpointCountNotOne_IsInvalid(int count)
    {
        var (s, h) = Retrieved();
        var endpoints = Enumerable.Repeat(Sp1, count).ToArray();
        var o = s.CallWithTx(Sp1, SharingDescriptors.Relinquish(h, 0, endpoints), MemIds.Relinquish);
        Expect.Error(o, Err.InvalidParameters, "mem-relinquish.endpoint-count");
        Assert.True(s.CanRead(Sp1, HostPage(0)));
    }

    [Fact]
    public void Relinquish_EndpointNotTheCaller_IsInvalid()
    {
        var s = SharingSystem.Default();
        var h = s.SendOk(Host, SendOp.Lend, SharingDescriptors.Send(Host, [(Sp1, Perm.RW), (Sp2, Perm.RW)], [(HostPage(0), 1)], 0x2F));
        s.RetrieveOk(Sp2, Host, h, receivers: [(Sp1, Perm.None), (Sp2, Perm.RW)]);
        Expect.Error(s.Relinquish(Sp1, h, 0, Sp2), Err.InvalidParameters, "mem-relinquish.endpoint-not-caller");
        Assert.True(s.CanRead(Sp2, HostPage(0)));
    }

    [Fact]
    public void Relinquish_UnknownHandle_IsInvalid()
    {
        var (s, _) = Retrieved();
        Expect.Error(s.Relinquish(Sp1, 0x4242), Err.InvalidParameters, "mem-relinquish.unknown-handle");
    }

    [Fact]
    public void Relinquish_ByANonBorrower_IsInvalid()
    {
        var (s, h) = Retrieved();
        Expect.Error(s.Relinquish(Sp2, h), Err.InvalidParameters, "mem-relinquish.not-a-receiver");
    }

    [Fact]
    public void Relinquish_NotRetrieved_IsInvalid()
    {
        var s = SharingSystem.Default();
        var h = s.SendSimple(SendOp.Lend, Host, Sp1, HostPage(0));
        Expect.Error(s.Relinquish(Sp1, h), Err.InvalidParameters, "mem-relinquish.not-retrieved");
    }

    [Fact]
    public void Relinquish_BeforePullingEveryFragment_IsInvalid()
    {
        var s = SharingSystem.Default();
        var d = SharingDescriptors.Send(Host, [(Sp1, Perm.RW)], Enumerable.Range(0, 300).Select(i => (HostPage(2 * i), 1u)), 0x2F);
        var h = s.SendOk(Host, SendOp.Share, d);
        var first = s.RetrieveRaw(Sp1, SharingDescriptors.Retrieve(Host, h, [(Sp1, Perm.RW)]));
        SharingExpect.Answer(first, MemIds.RetrieveResp);
        Expect.Error(s.Relinquish(Sp1, h), Err.InvalidParameters, "mem-relinquish.response-pending");
        s.Pull(Sp1, first, h, 0);
        Expect.Success(s.Relinquish(Sp1, h));
    }

    [Fact]
    public void Relinquish_ZeroFlagOnShare_IsInvalid()
    {
        var (s, h) = Retrieved(SendOp.Share, Perm.RW, Perm.RW);
        Expect.Error(s.Relinquish(Sp1, h, MemoryRelinquishDescriptor.ZeroMemory), Err.InvalidParameters, "mem-relinquish.share-zero");
        Assert.True(s.CanRead(Sp1, HostPage(0)));
        Assert.Equal(Pattern, s.Peek(HostPage(0), Pattern.Length));
    }

    [Fact]
    public void Relinquish_ZeroFlagWithReadOnlyAccess_IsDenied()
    {
        var (s, h) = Retrieved(SendOp.Lend, Perm.RO, Perm.RO | Perm.NX);
        Expect.Error(s.Relinquish(Sp1, h, MemoryRelinquishDescriptor.ZeroMemory), Err.Denied, "mem-relinquish.read-only-zero");
        Assert.Equal(Pattern, s.Peek(HostPage(0), Pattern.Length));
    }

    [Fact]
    public void Relinquish_ZeroFlagByTheLastRwBorrower_ZeroesTheMemory()
    {
        var (s, h) = Retrieved();
        s.Poke(Sp1, HostPage(1) + 0x10, Pattern);
        Expect.Success(s.Relinquish(Sp1, h, MemoryRelinquishDescriptor.ZeroMemory));
        AssertZero(s, HostPage(0), 0x2000);
        Expect.Success(s.Reclaim(Host, h));
        Assert.All(s.System.ReadMemory(Host, HostPage(0), 0x2000), b => Assert.Equal(0, b));
    }

    [Fact]
    public void Relinquish_ZeroFlagFromTheFirstOfTwoBorrowers_IsNotApplied()
    {
        var s = SharingSystem.Default();
        s.Poke(Host, HostPage(0), Pattern);
        var h = s.SendOk(Host, SendOp.Lend, SharingDescriptors.Send(Host, [(Sp1, Perm.RW), (Sp2, Perm.RW)], [(HostPage(0), 1)], 0x2F));
        s.RetrieveOk(Sp1, Host, h, receivers: [(Sp1, Perm.RW), (Sp2, Perm.None)]);
        s.RetrieveOk(Sp2, Host, h, receivers: [(Sp1, Perm.None), (Sp2, Perm.RW)]);

        Expect.Success(s.Relinquish(Sp1, h, MemoryRelinquishDescriptor.ZeroMemory));
        Assert.Equal(Pattern, s.Peek(HostPage(0), Pattern.Length));
        Assert.Equal(Pattern, s.System.ReadMemory(Sp2, HostPage(0), Pattern.Length));

        Expect.Success(s.Relinquish(Sp2, h));
        Assert.Equal(Pattern, s.Peek(HostPage(0), Pattern.Length));
        Expect.Success(s.Reclaim(Host, h));
        Assert.Equal(Pattern, s.System.ReadMemory(Host, HostPage(0), Pattern.Length));
    }

    [Fact]
    public void Relinquish_ZeroFlagFromTheSecondOfTwoBorrowers_IsApplied()
    {
        var s = SharingSystem.Default();
        s.Poke(Host, HostPage(0), Pattern);
        var h = s.SendOk(Host, SendOp.Lend, SharingDescriptors.Send(Host, [(Sp1, Perm.RW), (Sp2, Perm.RW)], [(HostPage(0), 1)], 0x2F));
        s.RetrieveOk(Sp1, Host, h, receivers: [(Sp1, Perm.RW), (Sp2, Perm.None)]);
        s.RetrieveOk(Sp2, Host, h, receivers: [(Sp1, Perm.None), (Sp2, Perm.RW)]);
        Expect.Success(s.Relinquish(Sp1, h));
        Expect.Success(s.Relinquish(Sp2, h, MemoryRelinquishDescriptor.ZeroMemory));
        AssertZero(s, HostPage(0), 0x1000);
    }

    // ---- reclaim -------------------------------------------------------------------------------------------

    /// <summary>The hypervisor relinquishes for a VM it retrieved for; a partition cannot name the VM.</summary>
    [Fact]
    public void Relinquish_ForAVm_ByTheHypervisor_IsAccepted_ByAnSp_IsInvalid()
    {
        var s = SharingSystem.Rich();
        const ushort vm1 = Support.Manifests.Vm1;
        s.Map(Host, 0x8000_0000, 0x8000_1000);
        s.Map(Sp1, 0x6000_0000, 0x6000_1000);
        var h = s.SendOk(Host, SendOp.Share, SharingDescriptors.Send(Host, [(Sp1, Perm.RW), (vm1, Perm.RO)], [(0x8008_0000, 1)], 0x2F));
        s.RetrieveOk(Host, Host, h, receivers: [(Sp1, Perm.None), (vm1, Perm.RO)]);
        Expect.Error(s.Relinquish(Sp1, h, 0, vm1), Err.InvalidParameters, "mem-relinquish.endpoint-not-caller");
        Expect.Success(s.Relinquish(Host, h, 0, vm1));
        Expect.Success(s.Reclaim(Host, h));
    }

    [Fact]
    public void Reclaim_UnknownHandle_IsInvalid()
    {
        var s = SharingSystem.Default();
        Expect.Error(s.Reclaim(Host, 0x4242), Err.InvalidParameters, "mem-reclaim.unknown-handle");
    }

    [Fact]
    public void Reclaim_HandleWithBit63_IsInvalid()
    {
        var s = SharingSystem.Default();
        var h = s.SendSimple(SendOp.Lend, Host, Sp1, HostPage(0));
        Expect.Error(s.Reclaim(Host, h | 1UL << 63), Err.InvalidParameters, "mem-reclaim.handle-hypervisor-allocated");
        Assert.Single(s.State.Shares);
    }

    [Theory]
    [InlineData(Sp3)] // an unrelated SP
    [InlineData(Sp2)] // the borrower
    public void Reclaim_ByAnSpThatIsNotTheSender_IsInvalid(ushort caller)
    {
        var s = SharingSystem.Default();
        var h = s.SendSimple(SendOp.Lend, Sp1, Sp2, Sp1Page(0));
        Expect.Error(s.Reclaim(caller, h), Err.InvalidParameters, "mem-reclaim.not-sender");
        Expect.Success(s.Reclaim(Sp1, h));
    }

    [Fact]
    public void Reclaim_WhileABorrowerHoldsTheMemory_IsDenied()
    {
        var (s, h) = Retrieved();
        Expect.Error(s.Reclaim(Host, h), Err.Denied, "mem-reclaim.still-held");
        Assert.True(s.CanWrite(Sp1, HostPage(0)));
        Assert.False(s.CanRead(Host, HostPage(0)));
    }

    [Fact]
    public void Reclaim_WhileOneOfTwoBorrowersHolds_IsDenied()
    {
        var s = SharingSystem.Default();
        var h = s.SendOk(Host, SendOp.Share, SharingDescriptors.Send(Host, [(Sp1, Perm.RW), (Sp2, Perm.RO)], [(HostPage(0), 1)], 0x2F));
        s.RetrieveOk(Sp1, Host, h, receivers: [(Sp1, Perm.RW), (Sp2, Perm.None)]);
        s.RetrieveOk(Sp2, Host, h, receivers: [(Sp1, Perm.None), (Sp2, Perm.RO)]);
        Expect.Success(s.Relinquish(Sp1, h));
        Expect.Error(s.Reclaim(Host, h), Err.Denied, "mem-reclaim.still-held");
        Expect.Success(s.Relinquish(Sp2, h));
        Expect.Success(s.Reclaim(Host, h));
    }

    [Theory]
    [InlineData(SendOp.Lend)]
    [InlineData(SendOp.Share)]
    public void Reclaim_AfterRelinquish_Succeeds_AndTheSenderHasExclusiveAccessAgain(SendOp op)
    {
        var (s, h) = Retrieved(op, Perm.RW, op == SendOp.Share ? Perm.RW : (byte)(Perm.RW | Perm.NX));
        Expect.Success(s.Relinquish(Sp1, h));
        Expect.Success(s.Reclaim(Host, h));

        Assert.Empty(s.State.Shares);
        Assert.True(s.CanWrite(Host, HostPage(0), [7]));
        Assert.True(s.CanWrite(Host, HostPage(1)));
        Assert.False(s.CanRead(Sp1, HostPage(0)));
        Assert.False(s.CanWrite(Sp1, HostPage(1)));
        Assert.All(s.State.Memory.Where(r => r.Base < HostPage(2) && HostPage(0) < r.Base + r.Size), r =>
        {
            Assert.Equal(Host, r.Owner);
            Assert.Null(r.Share);
        });
    }

    [Fact]
    public void Reclaim_Twice_IsInvalid()
    {
        var s = SharingSystem.Default();
        var h = s.SendSimple(SendOp.Lend, Host, Sp1, HostPage(0));
        Expect.Success(s.Reclaim(Host, h));
        Expect.Error(s.Reclaim(Host, h), Err.InvalidParameters, "mem-reclaim.unknown-handle");
    }

    [Theory]
    [InlineData(0x2UL)]
    [InlineData(0x4UL)]
    [InlineData(0x8000_0000UL)]
    public void Reclaim_FlagsOtherThanZeroMemory_AreInvalid(ulong flags)
    {
        var s = SharingSystem.Default();
        var h = s.SendSimple(SendOp.Lend, Host, Sp1, HostPage(0));
        Expect.Error(s.Reclaim(Host, h, flags), Err.InvalidParameters, "mem-reclaim.flags-mbz");
        Assert.Single(s.State.Shares);
    }

    [Fact]
    public void Reclaim_ZeroFlag_ZeroesTheMemory()
    {
        var s = SharingSystem.Default();
        s.Poke(Host, HostPage(0), Pattern);
        s.Poke(Host, HostPage(2), Pattern);
        var h = s.SendSimple(SendOp.Lend, Host, Sp1, HostPage(0), 2);
        Expect.Success(s.Reclaim(Host, h, 1));
        Assert.All(s.System.ReadMemory(Host, HostPage(0), 0x2000), b => Assert.Equal(0, b));
        Assert.Equal(Pattern, s.System.ReadMemory(Host, HostPage(2), Pattern.Length));
    }

    [Theory]
    [InlineData(0x2u)]
    [InlineData(0x8000_0000u)]
    public void Relinquish_FlagsOtherThanZeroMemory_AreInvalid(uint flags)
    {
        var (s, h) = Retrieved();
        Expect.Error(s.Relinquish(Sp1, h, flags), Err.InvalidParameters, "mem-relinquish.flags-reserved");
        Assert.True(s.CanRead(Sp1, HostPage(0)));
    }

    [Fact]
    public void Relinquish_HandleWithBit63_IsInvalid()
    {
        var (s, h) = Retrieved();
        Expect.Error(s.Relinquish(Sp1, h | 1UL << 63), Err.InvalidParameters, "mem-relinquish.handle-hypervisor-allocated");
        Assert.True(s.CanRead(Sp1, HostPage(0)));
    }
}
