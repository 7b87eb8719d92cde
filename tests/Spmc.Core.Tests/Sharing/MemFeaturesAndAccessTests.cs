using Spmc.Abi.Descriptors.Memory;
using Spmc.Core.Tests.Support;
using static Spmc.Core.Tests.Sharing.Pages;

namespace Spmc.Core.Tests.Sharing;

/// <summary>FFA_FEATURES for the memory ABIs (spmc-behaviour.md §4).</summary>
public class MemFeaturesTests
{
    public static TheoryData<ulong> SendIdsData => new(SendIds);

    [Theory]
    [MemberData(nameof(SendIdsData))]
    public void Features_MemSend_SucceedsWithNoProperties(ulong fid)
    {
        var s = SharingSystem.Default(map: false);
        Expect.Success(s.Test.Call(Host, Ffa.Features(fid)), w2: 0);
        Expect.Success(s.Test.Call(Sp1, Ffa.Features(fid)), w2: 0);
    }

    [Theory]
    [InlineData(MemIds.RetrieveReq32)]
    [InlineData(MemIds.RetrieveReq64)]
    public void Features_RetrieveReq_FromV12CallerWithoutNsBitSupport_IsNotSupported(ulong fid)
    {
        var s = SharingSystem.Default(map: false);
        Expect.Error(s.Test.Call(Host, Ffa.Features(fid, 0)), Err.NotSupported, "mem-retrieve.features-ns-bit");
    }

    [Theory]
    [InlineData(MemIds.RetrieveReq32)]
    [InlineData(MemIds.RetrieveReq64)]
    public void Features_RetrieveReq_FromV12CallerWithNsBitSupport_ReportsNsBitAndHypervisorRetrieve(ulong fid)
    {
        var s = SharingSystem.Default(map: false);
        Expect.Success(s.Test.Call(Host, Ffa.Features(fid, 2)), w2: 0b110);
        Expect.Success(s.Test.Call(Sp1, Ffa.Features(fid, 2)), w2: 0b110);
    }

    [Fact]
    public void Features_RetrieveReq_FromV10Caller_Succeeds()
    {
        var s = SharingSystem.Default(map: false);
        s.Test.Negotiate(Host, Ffa.V1_0);
        Expect.Success(s.Test.Call(Host, Ffa.Features(MemIds.RetrieveReq32, 0)), w2: 0b110);
    }

    [Theory]
    [InlineData(MemIds.Relinquish)]
    [InlineData(MemIds.Reclaim)]
    [InlineData(MemIds.FragRx)]
    [InlineData(MemIds.FragTx)]
    [InlineData(MemIds.RetrieveResp)]
    public void Features_OtherMemoryAbis_Succeed(ulong fid)
    {
        var s = SharingSystem.Default(map: false);
        Expect.Success(s.Test.Call(Host, Ffa.Features(fid)), w2: 0);
    }
}

/// <summary>
/// The memory API follows the sharing state (ffa-abi.md §6.1-6.2): a lender loses access, a borrower gains the
/// granted access only once retrieved, and reclaim restores the lender. And the cost follows constituents, not pages.
/// </summary>
public class MemoryAccessStateTests
{
    [Fact]
    public void Lend_LenderLosesAccess_BorrowerOnlyAfterRetrieve_LenderBackAfterReclaim()
    {
        var s = SharingSystem.Default();
        s.Poke(Host, HostPage(0), [0x11]);
        Assert.True(s.CanRead(Host, HostPage(0)));
        Assert.False(s.CanRead(Sp1, HostPage(0)));

        var h = s.SendOk(Host, SendOp.Lend, SharingDescriptors.Send(Host, [(Sp1, Perm.RO)], [(HostPage(0), 1)]));
        Assert.Throws<AccessDeniedException>(() => s.System.ReadMemory(Host, HostPage(0), 1));
        Assert.Throws<AccessDeniedException>(() => s.System.WriteMemory(Host, HostPage(0), [1]));
        Assert.Throws<AccessDeniedException>(() => s.System.ReadMemory(Sp1, HostPage(0), 1));
        Assert.False(s.CanRead(Sp2, HostPage(0)));
        Assert.Equal(0x11, s.Peek(HostPage(0), 1)[0]); // the SPMC reads everything

        s.RetrieveOk(Sp1, Host, h, Perm.RO | Perm.NX);
        Assert.Equal(0x11, s.System.ReadMemory(Sp1, HostPage(0), 1)[0]);
        Assert.Throws<AccessDeniedException>(() => s.System.WriteMemory(Sp1, HostPage(0), [1]));
        Assert.False(s.CanRead(Host, HostPage(0)));
        Assert.False(s.CanRead(Sp2, HostPage(0)));
        // The neighbouring page was never lent.
        Assert.True(s.CanWrite(Host, HostPage(1)));
        Assert.False(s.CanRead(Sp1, HostPage(1)));

        Expect.Success(s.Relinquish(Sp1, h));
        Expect.Success(s.Reclaim(Host, h));
        Assert.True(s.CanWrite(Host, HostPage(0), [0x22]));
        Assert.Equal(0x22, s.System.ReadMemory(Host, HostPage(0), 1)[0]);
        Assert.False(s.CanRead(Sp1, HostPage(0)));
    }

    [Fact]
    public void Share_LenderKeepsAccess_BorrowerGetsTheGrantedAccess()
    {
        var s = SharingSystem.Default();
        var h = s.SendOk(Host, SendOp.Share, SharingDescriptors.Send(Host, [(Sp1, Perm.RW), (Sp2, Perm.RO)], [(HostPage(0), 1)], 0x2F));
        Assert.True(s.CanWrite(Host, HostPage(0)));
        Assert.False(s.CanRead(Sp1, HostPage(0)));
        s.RetrieveOk(Sp1, Host, h, receivers: [(Sp1, Perm.RW), (Sp2, Perm.None)]);
        s.RetrieveOk(Sp2, Host, h, receivers: [(Sp1, Perm.None), (Sp2, Perm.None)]);
        Assert.True(s.CanWrite(Sp1, HostPage(0), [5]));
        Assert.Equal(5, s.System.ReadMemory(Sp2, HostPage(0), 1)[0]);
        Assert.False(s.CanWrite(Sp2, HostPage(0)));
        Assert.True(s.CanWrite(Host, HostPage(0)));
        Assert.False(s.CanRead(Sp3, HostPage(0)));
    }

    /// <summary>A refused access says why, from the transaction's point of view (the memory API's 403 text).</summary>
    [Fact]
    public void Access_ToLentPages_IsRefusedWithTheReason()
    {
        var s = SharingSystem.Default();
        var h = s.SendOk(Host, SendOp.Lend, SharingDescriptors.Send(Host, [(Sp1, Perm.RO)], [(HostPage(0), 1)]));
        var lender = Assert.Throws<AccessDeniedException>(() => s.System.ReadMemory(Host, HostPage(0), 1));
        Assert.Contains($"lent by 0x0000 in handle 0x{h:X}: no access until FFA_MEM_RECLAIM", lender.Message);
        var early = Assert.Throws<AccessDeniedException>(() => s.System.ReadMemory(Sp1, HostPage(0), 1));
        Assert.Contains($"lent by 0x0000 in handle 0x{h:X}; 0x8001 has not retrieved it", early.Message);
        var stranger = Assert.Throws<AccessDeniedException>(() => s.System.ReadMemory(Sp2, HostPage(0), 1));
        Assert.Contains($"lent by 0x0000 in handle 0x{h:X}; 0x8002 is not a receiver", stranger.Message);

        s.RetrieveOk(Sp1, Host, h, Perm.RO | Perm.NX);
        var write = Assert.Throws<AccessDeniedException>(() => s.System.WriteMemory(Sp1, HostPage(0), [1]));
        Assert.Contains($"0x8001 has read-only access (handle 0x{h:X})", write.Message);
    }

    [Fact]
    public void Access_AcrossAPartlyLentRange_IsRefused()
    {
        var s = SharingSystem.Default();
        s.SendSimple(SendOp.Lend, Host, Sp1, HostPage(1));
        Assert.False(s.CanRead(Host, HostPage(0), 0x2000));
        Assert.True(s.CanRead(Host, HostPage(0), 0x1000));
    }

    [Fact]
    public void Share_OneGibibyteInOneConstituent_CostsOneRange()
    {
        var s = SharingSystem.FromJson(SharingManifests.LargeHost);
        s.MapDefault(Host);
        s.MapDefault(Sp1);
        const ulong gib = 1UL << 30, start = 0x9000_0000;
        const uint pages = (uint)(gib / 4096);
        var regionsBefore = s.State.Memory.Count;
        s.Poke(Host, start + gib - 8, [0xAB]);

        var h = s.SendOk(Host, SendOp.Share, SharingDescriptors.Send(Host, [(Sp1, Perm.RW)], [(start, pages)], 0x2F));
        var memory = s.State.Memory;
        Assert.True(memory.Count <= regionsBefore + 2, $"{memory.Count} ranges after sharing 1 GiB");
        Assert.Contains(memory, r => r.Base == start && r.Size == gib && r.Share == h);

        var response = SharingDescriptors.ParseResponse(s.RetrieveOk(Sp1, Host, h, Perm.RW));
        Assert.Equal(pages, response.Composite!.TotalPageCount);
        Assert.Equal((start, pages), (response.Composite.Constituents[0].Address, response.Composite.Constituents[0].PageCount));
        Assert.Equal(0xAB, s.System.ReadMemory(Sp1, start + gib - 8, 1)[0]);
        Assert.True(s.CanWrite(Sp1, start));
        Assert.True(s.CanRead(Host, start + gib / 2));

        Expect.Success(s.Relinquish(Sp1, h));
        Expect.Success(s.Reclaim(Host, h));
        Assert.Equal(regionsBefore, s.State.Memory.Count);
        Assert.True(s.State.ResidentPages <= 8, $"{s.State.ResidentPages} resident pages");
    }

    [Fact]
    public void Lend_OneGibibyteZeroedOnRelinquish_CostsWhatItsResidentPagesCost()
    {
        var s = SharingSystem.FromJson(SharingManifests.LargeHost);
        s.MapDefault(Host);
        s.MapDefault(Sp1);
        const ulong gib = 1UL << 30, start = 0x9000_0000;
        s.Poke(Host, start + gib - 8, [0xAB]);
        var h = s.SendOk(Host, SendOp.Lend, SharingDescriptors.Send(Host, [(Sp1, Perm.RW)], [(start, (uint)(gib / 4096))]));
        Assert.False(s.CanRead(Host, start + gib / 2));
        s.RetrieveOk(Sp1, Host, h, Perm.RW | Perm.NX);
        Expect.Success(s.Relinquish(Sp1, h, MemoryRelinquishDescriptor.ZeroMemory));
        Expect.Success(s.Reclaim(Host, h));
        Assert.Equal(0, s.System.ReadMemory(Host, start + gib - 8, 1)[0]);
        Assert.True(s.State.Memory.Count < 10);
    }

    [Fact]
    public void Donate_OneGibibyte_ChangesTheOwnerOfOneRange()
    {
        var s = SharingSystem.FromJson(SharingManifests.LargeHost);
        s.MapDefault(Host);
        s.MapDefault(Sp1);
        const ulong gib = 1UL << 30, start = 0xC000_0000;
        var h = s.SendOk(Host, SendOp.Donate, SharingDescriptors.Send(Host, [(Sp1, Perm.None)], [(start, (uint)(gib / 4096))],
            flags: MemoryTransactionFlags.ZeroMemory));
        s.RetrieveOk(Sp1, Host, h, Perm.RW | Perm.NX);
        Assert.Contains(s.State.Memory, r => r.Base == start && r.Size == gib && r.Owner == Sp1);
        Assert.True(s.State.Memory.Count < 10);
    }
}
