using Spmc.Core.Calls;
using Spmc.Core.Memory;
using Spmc.Core.Tests.Support;
using static Spmc.Core.Tests.Support.Manifests;

namespace Spmc.Core.Tests.Abi;

/// <summary>FFA_RXTX_MAP (spmc-behaviour.md §6.1).</summary>
public class RxTxMapTests
{
    private static void AssertNotMapped(TestSystem sys, ushort id)
    {
        Assert.Null(sys.Endpoint(id).Mailbox);
        Assert.All(sys.State.Memory, r => Assert.Equal(PageUse.Owned, r.Use));
    }

    [Fact]
    public void RxTxMap_Succeeds_AndRecordsTheMailbox()
    {
        var sys = TestSystem.Default();
        var o = Expect.Success(sys.Call(Host, Ffa.RxTxMap(HostMemory, HostMemory + 0x1000, 1)));
        Assert.Equal("FFA_RXTX_MAP", o.Decoded.Function);
        Assert.Equal("SMC64", o.Decoded.Width);
        var mailbox = sys.Endpoint(Host).Mailbox!;
        Assert.Equal(HostMemory, mailbox.Tx);
        Assert.Equal(HostMemory + 0x1000, mailbox.Rx);
        Assert.Equal(1u, mailbox.Pages);
        Assert.Equal(Spmc.Core.Spm.RxState.Empty, mailbox.State);
        var memory = sys.State.Memory;
        Assert.Contains(memory, r => r.Base == HostMemory && r.Size == 0x1000 && r.Use == PageUse.TxBuffer && r.Owner == Host);
        Assert.Contains(memory, r => r.Base == HostMemory + 0x1000 && r.Size == 0x1000 && r.Use == PageUse.RxBuffer);
    }

    [Fact]
    public void RxTxMap_Partition_Succeeds() => TestSystem.Default().Map(Echo, EchoMemory + 0x5000, EchoMemory);

    [Fact]
    public void RxTxMap_UpToTheMaximumPageCount_Succeeds()
    {
        var sys = TestSystem.Rich();
        sys.Map(Host, HostMemory, HostMemory + 0x2000, 2);
        Assert.Equal(2u, sys.Endpoint(Host).Mailbox!.Pages);
    }

    [Fact]
    public void RxTxMap_32BitForm_IsNotSupported()
    {
        var sys = TestSystem.Default();
        Expect.Error(sys.Call(Host, Ffa.RxTxMap32(HostMemory, HostMemory + 0x1000, 1)), Err.NotSupported, "dispatch.not-implemented");
        AssertNotMapped(sys, Host);
    }

    [Fact]
    public void RxTxMap_PageCountZero_IsInvalid()
    {
        var sys = TestSystem.Default();
        Expect.Error(sys.Call(Host, Ffa.RxTxMap(HostMemory, HostMemory + 0x1000, 0)), Err.InvalidParameters, "rxtx-map.page-count");
        AssertNotMapped(sys, Host);
    }

    [Theory]
    [InlineData(false, 2u)]
    [InlineData(false, 64u)]
    [InlineData(true, 3u)]
    [InlineData(true, 0xFFFF_FFFFu)]
    public void RxTxMap_PageCountAboveTheMaximum_IsInvalid(bool rich, uint pages)
    {
        var sys = rich ? TestSystem.Rich() : TestSystem.Default();
        Expect.Error(sys.Call(Host, Ffa.RxTxMap(HostMemory, HostMemory + 0x10000, pages)), Err.InvalidParameters, "rxtx-map.page-count");
        AssertNotMapped(sys, Host);
    }

    [Fact]
    public void RxTxMap_UpperBitsOfX3_AreInvalid()
    {
        var sys = TestSystem.Default();
        Expect.Error(sys.Call(Host, Ffa.RxTxMap(HostMemory, HostMemory + 0x1000, 0x1_0000_0001)), Err.InvalidParameters, "rxtx-map.x3-high-mbz");
        AssertNotMapped(sys, Host);
    }

    [Theory]
    [InlineData(0x8000_0800ul, 0x8000_1000ul)]  // TX unaligned
    [InlineData(0x8000_0000ul, 0x8000_1001ul)]  // RX unaligned
    [InlineData(0x8000_0004ul, 0x8000_2004ul)]
    public void RxTxMap_UnalignedBuffer_IsInvalid(ulong tx, ulong rx)
    {
        var sys = TestSystem.Default();
        Expect.Error(sys.Call(Host, Ffa.RxTxMap(tx, rx, 1)), Err.InvalidParameters, "rxtx-map.unaligned");
        AssertNotMapped(sys, Host);
    }

    [Fact]
    public void RxTxMap_SamePage_IsInvalid()
    {
        var sys = TestSystem.Default();
        Expect.Error(sys.Call(Host, Ffa.RxTxMap(HostMemory, HostMemory, 1)), Err.InvalidParameters, "rxtx-map.overlap");
        Expect.Error(sys.Call(Echo, Ffa.RxTxMap(EchoMemory, EchoMemory, 1)), Err.InvalidParameters, "rxtx-map.overlap");
        AssertNotMapped(sys, Host);
    }

    [Theory]
    [InlineData(0x8000_0000ul, 0x8000_1000ul)] // RX starts inside TX
    [InlineData(0x8000_1000ul, 0x8000_0000ul)] // TX starts inside RX
    public void RxTxMap_OverlappingRanges_IsInvalid(ulong tx, ulong rx)
    {
        var sys = TestSystem.Rich();
        Expect.Error(sys.Call(Host, Ffa.RxTxMap(tx, rx, 2)), Err.InvalidParameters, "rxtx-map.overlap");
        AssertNotMapped(sys, Host);
    }

    [Fact]
    public void RxTxMap_AdjacentRanges_Succeed() => TestSystem.Rich().Map(Host, HostMemory + 0x2000, HostMemory, 2);

    [Fact]
    public void RxTxMap_AddressPlusSizeOverflowing_IsInvalid()
    {
        var sys = TestSystem.Default();
        Expect.Error(sys.Call(Host, Ffa.RxTxMap(0xFFFF_FFFF_FFFF_F000, HostMemory, 1)), Err.InvalidParameters, "rxtx-map.address-overflow");
    }

    [Theory]
    [InlineData(0x6000_0000ul, 0x8000_1000ul)] // TX in a partition's memory
    [InlineData(0x8000_0000ul, 0x6000_1000ul)] // RX in a partition's memory
    [InlineData(0x1000_0000ul, 0x8000_1000ul)] // TX in memory nobody owns
    [InlineData(0x8000_0000ul, 0x7000_0000ul)] // RX in memory nobody owns
    [InlineData(0x8FFF_F000ul, 0x9000_0000ul)] // RX just past the end of the host's 256 MiB
    public void RxTxMap_VmBufferNotOwnedByTheVm_IsDenied(ulong tx, ulong rx)
    {
        var sys = TestSystem.Default();
        Expect.Error(sys.Call(Host, Ffa.RxTxMap(tx, rx, 1)), Err.Denied, "rxtx-map.vm-buffer-not-owned");
        AssertNotMapped(sys, Host);
    }

    [Fact]
    public void RxTxMap_VmBufferInAnotherVmsMemory_IsDenied()
    {
        var sys = TestSystem.Rich();
        Expect.Error(sys.Call(Vm1, Ffa.RxTxMap(Vm2Memory, Vm1Memory, 1)), Err.Denied, "rxtx-map.vm-buffer-not-owned");
        Expect.Error(sys.Call(Vm1, Ffa.RxTxMap(Vm1Memory, HostMemory, 1)), Err.Denied, "rxtx-map.vm-buffer-not-owned");
        AssertNotMapped(sys, Vm1);
    }

    [Fact]
    public void RxTxMap_VmBufferStraddlingTheEndOfItsMemory_IsDenied()
    {
        var sys = TestSystem.Rich();
        Expect.Error(sys.Call(Vm1, Ffa.RxTxMap(Vm1Memory + 0xFF000, Vm1Memory, 2)), Err.Denied, "rxtx-map.vm-buffer-not-owned");
    }

    [Theory]
    [InlineData(0x8000_0000ul, 0x6000_1000ul)] // TX in the host's memory
    [InlineData(0x6000_0000ul, 0x6010_0000ul)] // RX in another partition's memory
    [InlineData(0x6000_0000ul, 0x1000_0000ul)] // RX in memory nobody owns
    [InlineData(0x6020_0000ul, 0x6000_0000ul)] // TX in another partition's memory
    public void RxTxMap_PartitionBufferNotOwnedByThePartition_IsInvalid(ulong tx, ulong rx)
    {
        var sys = TestSystem.Rich();
        Expect.Error(sys.Call(Sp12, Ffa.RxTxMap(tx, rx, 1)), Err.InvalidParameters, "rxtx-map.sp-buffer-not-owned");
        AssertNotMapped(sys, Sp12);
    }

    [Fact]
    public void RxTxMap_Twice_IsDenied()
    {
        var sys = TestSystem.Default();
        sys.Map(Host, HostMemory, HostMemory + 0x1000);
        Expect.Error(sys.Call(Host, Ffa.RxTxMap(HostMemory + 0x2000, HostMemory + 0x3000, 1)), Err.Denied, "rxtx-map.already-mapped");
        Expect.Error(sys.Call(Host, Ffa.RxTxMap(HostMemory, HostMemory + 0x1000, 1)), Err.Denied, "rxtx-map.already-mapped");
        Assert.Equal(HostMemory, sys.Endpoint(Host).Mailbox!.Tx);
    }

    [Fact]
    public void RxTxMap_Twice_IsDeniedBeforeAnyOtherCheck()
    {
        // Hafnium checks "already mapped" first, so even a malformed second map is DENIED.
        var sys = TestSystem.Default();
        sys.Map(Echo, EchoMemory, EchoMemory + 0x1000);
        Expect.Error(sys.Call(Echo, Ffa.RxTxMap(EchoMemory + 0x2000, EchoMemory + 0x3000, 0)), Err.Denied, "rxtx-map.already-mapped");
        Expect.Error(sys.Call(Echo, Ffa.RxTxMap(0x1, 0x1, 99)), Err.Denied, "rxtx-map.already-mapped");
    }

    [Fact]
    public void RxTxMap_BuffersOfOneEndpoint_CannotBeMappedByAnother()
    {
        // A forwarded map of VM 1's pages for VM 2 is DENIED (the pages are not VM 2's).
        var sys = TestSystem.Rich();
        sys.Map(Vm1, Vm1Memory, Vm1Memory + 0x1000);
        Expect.Error(sys.Call(Vm2, Ffa.RxTxMap(Vm1Memory, Vm1Memory + 0x1000, 1)), Err.Denied, "rxtx-map.vm-buffer-not-owned");
    }

    // Forwarded maps: ID 0 passes x1 = x2 = w3 = 0 and puts an endpoint RX/TX descriptor in its own TX buffer.

    private static TestSystem RichWithHostBuffers()
    {
        var sys = TestSystem.Rich();
        sys.Map(Host, HostMemory, HostMemory + 0x2000, 2);
        return sys;
    }

    private static SmcOutcome Forward(TestSystem sys, byte[] descriptor) =>
        sys.Call(Host, Ffa.RxTxMap(0, 0, 0), writes: [new MemoryWrite(HostMemory, descriptor)]);

    [Fact]
    public void RxTxMap_ForwardedById0_MapsTheVmsBuffers()
    {
        var sys = RichWithHostBuffers();
        Expect.Success(Forward(sys, Descriptors.EndpointRxTx(Vm1, tx: Vm1Memory, rx: Vm1Memory + 0x1000)));
        var mailbox = sys.Endpoint(Vm1).Mailbox!;
        Assert.Equal(Vm1Memory, mailbox.Tx);
        Assert.Equal(Vm1Memory + 0x1000, mailbox.Rx);
        Assert.Equal(1u, mailbox.Pages);
        Assert.Equal(HostMemory, sys.Endpoint(Host).Mailbox!.Tx); // the hypervisor's own pair is unchanged
        // The VM's RX now receives what the SPMC writes for it.
        var o = sys.Call(Vm1, Ffa.PartitionInfoGet(Uuid.Nil), reads: TestSystem.ReadBack(Vm1Memory + 0x1000, 2));
        Expect.Success(o, w2: 3, w3: 24);
        Assert.Equal(new byte[] { 0x01, 0x80 }, o.Reads[0].Data);
    }

    [Fact]
    public void RxTxMap_ForwardedTwoPages_Succeeds()
    {
        var sys = RichWithHostBuffers();
        Expect.Success(Forward(sys, Descriptors.EndpointRxTx(Vm2, tx: Vm2Memory + 0x4000, rx: Vm2Memory, pages: 2)));
        Assert.Equal(2u, sys.Endpoint(Vm2).Mailbox!.Pages);
    }

    [Fact]
    public void RxTxMap_Forwarded_WithoutHypervisorTx_IsInvalid()
    {
        var sys = TestSystem.Rich();
        Expect.Error(sys.Call(Host, Ffa.RxTxMap(0, 0, 0)), Err.InvalidParameters, "rxtx-map.forward-without-tx");
        AssertNotMapped(sys, Vm1);
    }

    [Theory]
    [InlineData(20u, null)]
    [InlineData(null, 52u)]
    [InlineData(17u, 49u)]
    public void RxTxMap_Forwarded_MisalignedOffsets_AreInvalid(uint? rxOffset, uint? txOffset)
    {
        var sys = RichWithHostBuffers();
        var descriptor = Descriptors.EndpointRxTx(Vm1, [(Vm1Memory + 0x1000, 1)], [(Vm1Memory, 1)], rxOffset, txOffset);
        Expect.Error(Forward(sys, descriptor), Err.InvalidParameters);
        Assert.Null(sys.Endpoint(Vm1).Mailbox);
    }

    [Fact]
    public void RxTxMap_Forwarded_OffsetOutsideTheTxBuffer_IsInvalid()
    {
        var sys = RichWithHostBuffers();
        var descriptor = Descriptors.EndpointRxTx(Vm1, [(Vm1Memory + 0x1000, 1)], [(Vm1Memory, 1)], txOffset: 0x2000);
        Expect.Error(Forward(sys, descriptor), Err.InvalidParameters);
    }

    [Fact]
    public void RxTxMap_Forwarded_HugeConstituentCount_IsInvalid()
    {
        var sys = RichWithHostBuffers();
        var descriptor = Descriptors.EndpointRxTx(Vm1, [(Vm1Memory + 0x1000, 1)], [(Vm1Memory, 1)], rxCount: 0xFFFF_FFFF);
        Expect.Error(Forward(sys, descriptor), Err.InvalidParameters);
    }

    [Theory]
    [InlineData(0x0000, "rxtx-map.forward-not-a-vm")]   // the hypervisor itself
    [InlineData(0x8001, "rxtx-map.forward-not-a-vm")]   // a partition
    [InlineData(0x7FFF, "rxtx-map.forward-not-a-vm")]   // the invalid ID (an undeclared VM is created: UndeclaredVmTests)
    public void RxTxMap_Forwarded_ForAnEndpointThatIsNotAKnownVm_IsInvalid(ushort id, string rule)
    {
        var sys = RichWithHostBuffers();
        Expect.Error(Forward(sys, Descriptors.EndpointRxTx(id, tx: Vm1Memory, rx: Vm1Memory + 0x1000)), Err.InvalidParameters, rule);
        Assert.All(sys.State.Endpoints.Where(e => e.Id != Host), e => Assert.Null(e.Mailbox));
    }

    [Fact]
    public void RxTxMap_Forwarded_MoreThanOneConstituent_IsInvalid()
    {
        var sys = RichWithHostBuffers();
        var descriptor = Descriptors.EndpointRxTx(Vm1, [(Vm1Memory + 0x2000, 1), (Vm1Memory + 0x4000, 1)], [(Vm1Memory, 2)]);
        Expect.Error(Forward(sys, descriptor), Err.InvalidParameters, "rxtx-map.forward-one-constituent");
        Assert.Null(sys.Endpoint(Vm1).Mailbox);
    }

    [Fact]
    public void RxTxMap_Forwarded_DifferentPageCounts_AreInvalid()
    {
        var sys = RichWithHostBuffers();
        var descriptor = Descriptors.EndpointRxTx(Vm1, [(Vm1Memory + 0x2000, 1)], [(Vm1Memory, 2)]);
        Expect.Error(Forward(sys, descriptor), Err.InvalidParameters, "rxtx-map.forward-page-counts-differ");
    }

    [Fact]
    public void RxTxMap_Forwarded_BadBuffers_FollowTheOrdinaryRules()
    {
        var sys = RichWithHostBuffers();
        Expect.Error(Forward(sys, Descriptors.EndpointRxTx(Vm1, tx: Vm1Memory, rx: Vm1Memory, pages: 1)), Err.InvalidParameters, "rxtx-map.overlap");
        Expect.Error(Forward(sys, Descriptors.EndpointRxTx(Vm1, tx: Vm1Memory + 8, rx: Vm1Memory + 0x1000)), Err.InvalidParameters, "rxtx-map.unaligned");
        Expect.Error(Forward(sys, Descriptors.EndpointRxTx(Vm1, tx: Vm1Memory, rx: Vm1Memory + 0x4000, pages: 0)), Err.InvalidParameters, "rxtx-map.page-count");
        Expect.Error(Forward(sys, Descriptors.EndpointRxTx(Vm1, tx: Vm1Memory, rx: Vm1Memory + 0x4000, pages: 3)), Err.InvalidParameters, "rxtx-map.page-count");
        Assert.Null(sys.Endpoint(Vm1).Mailbox);
    }

    [Theory]
    [InlineData(0x9100_0000ul)] // VM 2's memory
    [InlineData(0x8000_4000ul)] // the hypervisor's own memory
    [InlineData(0x6000_0000ul)] // a partition's memory
    [InlineData(0x1000_0000ul)] // nobody's memory
    public void RxTxMap_Forwarded_BuffersNotOwnedByTheVm_AreDenied(ulong tx)
    {
        var sys = RichWithHostBuffers();
        Expect.Error(Forward(sys, Descriptors.EndpointRxTx(Vm1, tx: tx, rx: Vm1Memory)), Err.Denied, "rxtx-map.vm-buffer-not-owned");
        Assert.Null(sys.Endpoint(Vm1).Mailbox);
    }

    [Fact]
    public void RxTxMap_Forwarded_VmAlreadyMapped_IsDenied()
    {
        var sys = RichWithHostBuffers();
        sys.Map(Vm1, Vm1Memory, Vm1Memory + 0x1000);
        Expect.Error(Forward(sys, Descriptors.EndpointRxTx(Vm1, tx: Vm1Memory + 0x4000, rx: Vm1Memory + 0x5000)), Err.Denied, "rxtx-map.already-mapped");
        Assert.Equal(Vm1Memory, sys.Endpoint(Vm1).Mailbox!.Tx);
    }

    [Fact]
    public void RxTxMap_Forwarded_SamePagesForAnotherVm_AreDenied()
    {
        var sys = RichWithHostBuffers();
        Expect.Success(Forward(sys, Descriptors.EndpointRxTx(Vm1, tx: Vm1Memory, rx: Vm1Memory + 0x1000)));
        Expect.Error(Forward(sys, Descriptors.EndpointRxTx(Vm2, tx: Vm1Memory, rx: Vm1Memory + 0x1000)), Err.Denied, "rxtx-map.vm-buffer-not-owned");
        Assert.Null(sys.Endpoint(Vm2).Mailbox);
    }

    [Theory]
    [InlineData(Vm1)]
    [InlineData(Sp12)]
    public void RxTxMap_AllZeroFromAnyoneButId0_IsAnOrdinaryMapWithZeroPages(ushort caller)
    {
        var sys = TestSystem.Rich();
        sys.Map(Host, HostMemory, HostMemory + 0x1000);
        Expect.Error(sys.Call(caller, Ffa.RxTxMap(0, 0, 0)), Err.InvalidParameters, "rxtx-map.page-count");
        Assert.Null(sys.Endpoint(caller).Mailbox);
    }
}
