using Spmc.Core.Calls;
using Spmc.Core.Memory;
using Spmc.Core.Spm;
using Spmc.Core.Tests.Support;
using static Spmc.Core.Tests.Support.Manifests;

namespace Spmc.Core.Tests.Abi;

/// <summary>FFA_RXTX_UNMAP (spmc-behaviour.md §6.2): w1[31:16] names a VM only when ID 0 unmaps on its behalf.</summary>
public class RxTxUnmapTests
{
    [Fact]
    public void RxTxUnmap_OwnPair_Succeeds_AndReturnsThePages()
    {
        var sys = TestSystem.Default();
        var regions = sys.State.Memory.Count;
        sys.Map(Host, HostMemory, HostMemory + 0x1000);
        Assert.Equal(regions + 2, sys.State.Memory.Count);
        var o = Expect.Success(sys.Call(Host, Ffa.RxTxUnmap()));
        Assert.Equal(regions, sys.State.Memory.Count); // the buffer ranges coalesce back into the owner's region
        Assert.Equal("FFA_RXTX_UNMAP", o.Decoded.Function);
        Assert.Null(sys.Endpoint(Host).Mailbox);
        Assert.All(sys.State.Memory, r => Assert.Equal(PageUse.Owned, r.Use));
    }

    [Fact]
    public void RxTxUnmap_NothingMapped_IsInvalid()
    {
        var sys = TestSystem.Default();
        Expect.Error(sys.Call(Host, Ffa.RxTxUnmap()), Err.InvalidParameters, "rxtx-unmap.not-mapped");
        Expect.Error(sys.Call(Echo, Ffa.RxTxUnmap()), Err.InvalidParameters, "rxtx-unmap.not-mapped");
    }

    [Fact]
    public void RxTxUnmap_Twice_IsInvalid()
    {
        var sys = TestSystem.Default();
        sys.Map(Echo, EchoMemory, EchoMemory + 0x1000);
        Expect.Success(sys.Call(Echo, Ffa.RxTxUnmap()));
        Expect.Error(sys.Call(Echo, Ffa.RxTxUnmap()), Err.InvalidParameters, "rxtx-unmap.not-mapped");
    }

    [Theory]
    [InlineData(Sp12)]
    [InlineData(Vm1)]
    [InlineData(Sp11)]
    public void RxTxUnmap_PartitionNamingAnId_IsInvalid(ushort named)
    {
        var sys = TestSystem.Rich();
        sys.Map(Sp12, Sp12Memory, Sp12Memory + 0x1000);
        sys.Map(Vm1, Vm1Memory, Vm1Memory + 0x1000);
        Expect.Error(sys.Call(Sp12, Ffa.RxTxUnmap(named)), Err.InvalidParameters, "rxtx-unmap.id-not-hypervisor");
        Assert.NotNull(sys.Endpoint(Sp12).Mailbox);
        Assert.NotNull(sys.Endpoint(Vm1).Mailbox);
    }

    [Theory]
    [InlineData(Vm1)]
    [InlineData(Vm2)]
    public void RxTxUnmap_VmOtherThanId0NamingAnId_IsInvalid(ushort named)
    {
        var sys = TestSystem.Rich();
        sys.Map(Vm1, Vm1Memory, Vm1Memory + 0x1000);
        sys.Map(Vm2, Vm2Memory, Vm2Memory + 0x1000);
        Expect.Error(sys.Call(Vm1, Ffa.RxTxUnmap(named)), Err.InvalidParameters, "rxtx-unmap.id-not-hypervisor");
        Assert.NotNull(sys.Endpoint(Vm1).Mailbox);
        Assert.NotNull(sys.Endpoint(Vm2).Mailbox);
    }

    [Fact]
    public void RxTxUnmap_Id0NamingAPartition_IsInvalid()
    {
        var sys = TestSystem.Rich();
        sys.Map(Sp12, Sp12Memory, Sp12Memory + 0x1000);
        sys.Map(Host, HostMemory, HostMemory + 0x1000);
        Expect.Error(sys.Call(Host, Ffa.RxTxUnmap(Sp12)), Err.InvalidParameters, "rxtx-unmap.not-a-vm");
        Assert.NotNull(sys.Endpoint(Sp12).Mailbox);
        Assert.NotNull(sys.Endpoint(Host).Mailbox);
    }

    [Theory]
    [InlineData(0x0000_0001ul)]
    [InlineData(0x0001_0001ul)]
    [InlineData(0x0000_8000ul)]
    public void RxTxUnmap_Bits15To0Set_IsInvalid(ulong w1)
    {
        var sys = TestSystem.Rich();
        sys.Map(Host, HostMemory, HostMemory + 0x1000);
        sys.Map(Vm1, Vm1Memory, Vm1Memory + 0x1000);
        Expect.Error(sys.Call(Host, Ffa.Frame(Ffa.RxTxUnmapId, w1)), Err.InvalidParameters, "rxtx-unmap.w1-low-mbz");
        Assert.NotNull(sys.Endpoint(Host).Mailbox);
        Assert.NotNull(sys.Endpoint(Vm1).Mailbox);
    }

    [Fact]
    public void RxTxUnmap_Smc32_IgnoresUpperHalfOfW1()
    {
        var sys = TestSystem.Default();
        sys.Map(Host, HostMemory, HostMemory + 0x1000);
        Expect.Success(sys.Call(Host, Ffa.Frame(Ffa.RxTxUnmapId, 0xFFFF_FFFF_0000_0000)));
    }

    [Fact]
    public void RxTxUnmap_Id0NamingAVm_UnmapsThatVmsPairOnly()
    {
        var sys = TestSystem.Rich();
        sys.Map(Host, HostMemory, HostMemory + 0x1000);
        Expect.Success(sys.Call(Host, Ffa.RxTxMap(0, 0, 0),
            writes: [new MemoryWrite(HostMemory, Descriptors.EndpointRxTx(Vm1, tx: Vm1Memory, rx: Vm1Memory + 0x1000))]));
        Expect.Success(sys.Call(Host, Ffa.RxTxUnmap(Vm1)));
        Assert.Null(sys.Endpoint(Vm1).Mailbox);
        Assert.NotNull(sys.Endpoint(Host).Mailbox);
        Assert.True(sys.System.GetState().Memory.Where(r => r.Owner == Vm1).All(r => r.Use == PageUse.Owned));
    }

    [Fact]
    public void RxTxUnmap_Id0NamingAVmItselfMapped_Succeeds()
    {
        var sys = TestSystem.Rich();
        sys.Map(Vm2, Vm2Memory, Vm2Memory + 0x1000);
        Expect.Success(sys.Call(Host, Ffa.RxTxUnmap(Vm2)));
        Assert.Null(sys.Endpoint(Vm2).Mailbox);
    }

    [Theory]
    [InlineData(Vm1, "rxtx-unmap.not-mapped")]      // known VM with nothing mapped
    [InlineData(0x0005, "rxtx-unmap.unknown-vm")]   // not a VM of this system
    public void RxTxUnmap_Id0NamingAVmWithoutAPair_IsInvalid(ushort vm, string rule)
    {
        var sys = TestSystem.Rich();
        sys.Map(Host, HostMemory, HostMemory + 0x1000);
        Expect.Error(sys.Call(Host, Ffa.RxTxUnmap(vm)), Err.InvalidParameters, rule);
        Assert.NotNull(sys.Endpoint(Host).Mailbox);
    }

    [Fact]
    public void RxTxUnmap_ThenRemap_Succeeds_EvenWithAnotherPageCount()
    {
        var sys = TestSystem.Rich();
        sys.Map(Host, HostMemory, HostMemory + 0x1000);
        Expect.Success(sys.Call(Host, Ffa.RxTxUnmap()));
        sys.Map(Host, HostMemory, HostMemory + 0x1000);
        Expect.Success(sys.Call(Host, Ffa.RxTxUnmap()));
        sys.Map(Host, HostMemory + 0x1000, HostMemory + 0x4000, 2);
        Assert.Equal(2u, sys.Endpoint(Host).Mailbox!.Pages);
    }

    [Fact]
    public void RxTxUnmap_PagesAreUsableAgain()
    {
        var sys = TestSystem.Default();
        ulong tx = EchoMemory, rx = EchoMemory + 0x1000;
        sys.Map(Echo, tx, rx);
        Assert.Throws<AccessDeniedException>(() => sys.Call(Echo, Ffa.IdGet(), writes: [new MemoryWrite(rx, [1])]));
        Expect.Success(sys.Call(Echo, Ffa.RxTxUnmap()));
        sys.Call(Echo, Ffa.IdGet(), writes: [new MemoryWrite(rx, [1])]); // RX is ordinary memory again
        Assert.Equal(new byte[] { 1 }, sys.Peek(rx, 1));
        sys.Map(Echo, rx, tx); // and the pages may become buffers again, swapped
    }

    [Fact]
    public void RxTxUnmap_WithAFullRx_Succeeds_AndARemapStartsEmpty()
    {
        var sys = TestSystem.Default();
        sys.Map(Host, HostMemory, HostMemory + 0x1000);
        Expect.Success(sys.Call(Host, Ffa.PartitionInfoGet(Uuid.Nil)));
        Assert.Equal(RxState.Full, sys.Endpoint(Host).Mailbox!.State);
        Expect.Success(sys.Call(Host, Ffa.RxTxUnmap()));
        sys.Map(Host, HostMemory, HostMemory + 0x1000);
        Assert.Equal(RxState.Empty, sys.Endpoint(Host).Mailbox!.State);
        Expect.Success(sys.Call(Host, Ffa.PartitionInfoGet(Uuid.Nil)));
    }
}
