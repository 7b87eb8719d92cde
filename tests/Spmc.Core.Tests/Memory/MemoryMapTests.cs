using Spmc.Core.Manifests;
using Spmc.Core.Memory;
using Spmc.Core.Tests.Support;
using static Spmc.Core.Tests.Support.Manifests;

namespace Spmc.Core.Tests.Memory;

public class MemoryMapTests
{
    private static MemoryMap Map() => new(ManifestValidator.Validate(Rich));

    /// <summary>These tests put no page in a memory transaction.</summary>
    private static readonly IShareAccess NoShares = new NoTransactions();

    private sealed class NoTransactions : IShareAccess
    {
        public (PageAccess Access, string? Why) AccessOf(ulong handle, ushort endpoint) => throw new InvalidOperationException("no page is in a transaction here");
    }

    [Fact]
    public void Owner_MayReadAndWriteItsMemory()
    {
        var map = Map();
        Assert.Null(map.CheckAccess(Host, HostMemory, 0x100000, write: true, NoShares));
        Assert.Null(map.CheckAccess(Sp12, Sp12Memory + 0x1000, 16, write: true, NoShares));
        Assert.Null(map.CheckAccess(Vm1, Vm1Memory + 0xFFFFF, 1, write: false, NoShares));
    }

    [Fact]
    public void OtherEndpoint_IsRefused()
    {
        var map = Map();
        Assert.Contains("0x8001", map.CheckAccess(Host, Sp12Memory, 16, write: false, NoShares));
        Assert.NotNull(map.CheckAccess(Vm1, Vm2Memory, 16, write: true, NoShares));
        Assert.NotNull(map.CheckAccess(Sp11, Sp12Memory, 16, write: false, NoShares));
        Assert.NotNull(map.CheckAccess(Sp12, HostMemory, 16, write: false, NoShares));
    }

    [Fact]
    public void AccessStraddlingTheEndOfOwnedMemory_IsRefused()
    {
        var map = Map();
        Assert.NotNull(map.CheckAccess(Host, HostMemory + 0x100000 - 8, 16, write: false, NoShares));
        Assert.NotNull(map.CheckAccess(Host, HostMemory - 8, 16, write: false, NoShares));
    }

    [Fact]
    public void Spmc_MayAccessEveryEndpointsMemory()
    {
        var map = Map();
        Assert.Null(map.CheckAccess(0x8000, Sp12Memory, 16, write: true, NoShares));
        Assert.Null(map.CheckAccess(0x8000, HostMemory, 16, write: false, NoShares));
        Assert.Null(map.CheckAccess(0x8000, Vm2Memory, 4096, write: true, NoShares));
    }

    [Fact]
    public void UnownedAddress_IsRefused_EvenForTheSpmc()
    {
        var map = Map();
        Assert.NotNull(map.CheckAccess(Host, Unowned, 1, write: false, NoShares));
        Assert.NotNull(map.CheckAccess(0x8000, Unowned, 1, write: false, NoShares));
    }

    [Fact]
    public void Overflow_IsRefused()
    {
        var map = Map();
        var reason = map.CheckAccess(Host, ulong.MaxValue - 10, 100, write: false, NoShares);
        Assert.Contains("overflow", reason);
        Assert.NotNull(map.CheckAccess(0x8000, ulong.MaxValue, 2, write: false, NoShares));
    }

    [Fact]
    public void ZeroLength_IsAlwaysAllowed() => Assert.Null(Map().CheckAccess(Host, Unowned, 0, write: true, NoShares));

    [Fact]
    public void PartitionRxBuffer_IsReadOnlyForItsOwner_NormalWorldRxIsNot()
    {
        var map = Map();
        map.SetUse(Sp12Memory, 0x1000, PageUse.RxBuffer);
        map.SetUse(HostMemory, 0x1000, PageUse.RxBuffer);
        Assert.NotNull(map.CheckAccess(Sp12, Sp12Memory, 16, write: true, NoShares));
        Assert.Null(map.CheckAccess(Sp12, Sp12Memory, 16, write: false, NoShares));
        Assert.Null(map.CheckAccess(0x8000, Sp12Memory, 16, write: true, NoShares));
        Assert.Null(map.CheckAccess(Host, HostMemory, 16, write: true, NoShares));
    }

    [Fact]
    public void WhyNotOwnedExclusively_ExcludesBuffersAndOtherOwners()
    {
        var map = Map();
        Assert.Null(map.WhyNotOwnedExclusively(Host, HostMemory, 0x2000));
        map.SetUse(HostMemory + 0x1000, 0x1000, PageUse.TxBuffer);
        Assert.Contains("TX buffer", map.WhyNotOwnedExclusively(Host, HostMemory, 0x2000));
        Assert.Null(map.WhyNotOwnedExclusively(Host, HostMemory, 0x1000));
        Assert.Contains("belongs to", map.WhyNotOwnedExclusively(Vm1, HostMemory, 0x1000));
        Assert.Contains("not memory of this system", map.WhyNotOwnedExclusively(Host, Unowned, 0x1000));
        Assert.Contains("empty", map.WhyNotOwnedExclusively(Host, HostMemory, 0));
        Assert.Contains("overflows", map.WhyNotOwnedExclusively(Host, ulong.MaxValue - 0xFFF, 0x2000));
        map.SetUse(HostMemory + 0x1000, 0x1000, PageUse.Owned);
        Assert.Null(map.WhyNotOwnedExclusively(Host, HostMemory, 0x2000));
        map.SetShare(HostMemory, 0x1000, 7);
        Assert.Contains("memory transaction 0x7", map.WhyNotOwnedExclusively(Host, HostMemory, 0x2000));
    }

    [Fact]
    public void WhyNotFreeNormalWorld_TakesAnyFreeNonSecurePage()
    {
        var map = Map();
        // Whichever VM's region holds the pages: one normal-world table.
        Assert.Null(map.WhyNotFreeNormalWorld(HostMemory, 0x2000));
        Assert.Null(map.WhyNotFreeNormalWorld(Vm1Memory, 0x1000));
        Assert.Equal($"0x{Sp12Memory:X}..0x{Sp12Memory + 0xFFF:X} is secure memory of 0x8001, not normal-world memory",
            map.WhyNotFreeNormalWorld(Sp12Memory, 0x1000));
        map.SetUse(Vm1Memory, 0x1000, PageUse.RxBuffer);
        Assert.Equal($"0x{Vm1Memory:X}..0x{Vm1Memory + 0xFFF:X} is an RX/TX buffer already (RX, in 0x0001's region)",
            map.WhyNotFreeNormalWorld(Vm1Memory, 0x2000));
        map.SetShare(HostMemory + 0x1000, 0x1000, 9);
        Assert.Contains("is already in memory transaction 0x9", map.WhyNotFreeNormalWorld(HostMemory, 0x2000));
        Assert.Contains("not memory of this system", map.WhyNotFreeNormalWorld(Unowned, 0x1000));
        Assert.Equal("the range is empty", map.WhyNotFreeNormalWorld(HostMemory, 0));
        Assert.Contains("overflows", map.WhyNotFreeNormalWorld(ulong.MaxValue - 0xFFF, 0x2000));
    }

    [Fact]
    public void Entries_ReflectTheManifestRegions()
    {
        var map = Map();
        Assert.Equal(6, map.Entries.Count);
        Assert.True(map.TryGetState(Sp11Memory, out var state));
        Assert.Equal(new PageState(Sp11, true, PageUse.Owned), state);
        Assert.True(map.TryGetState(Vm2Memory + 0xFFFFF, out state));
        Assert.Equal(new PageState(Vm2, false, PageUse.Owned), state);
        Assert.False(map.TryGetState(Unowned, out _));
    }
}
