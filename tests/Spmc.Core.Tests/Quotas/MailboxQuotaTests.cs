using Spmc.Core.Memory;
using Spmc.Core.Systems;
using Spmc.Core.Tests.Support;
using static Spmc.Core.Tests.Support.Manifests;

namespace Spmc.Core.Tests.Quotas;

/// <summary>
/// The memory quota inside the SPMC: FFA_RXTX_MAP answers NO_MEMORY when the buffers do not fit (Hafnium
/// api_vm_configure_stage1), and what the SPMC then writes into a mapped RX buffer on a call's behalf is never refused,
/// so no call is left half-applied.
/// </summary>
public class MailboxQuotaTests
{
    private const int Page = PhysicalMemory.PageSize;

    private static (TestSystem System, MemoryQuota Quota) WithQuota(int pages)
    {
        var registry = new SystemRegistry(memoryQuota: new MemoryQuota((long)pages * Page, 0));
        return (new TestSystem(registry.Create("q", DefaultPassthroughJson)), registry.MemoryQuota);
    }

    private static byte[] Filled(int pages) => Enumerable.Repeat((byte)0x5A, pages * Page).ToArray();

    [Fact]
    public void RxTxMap_WithoutRoomForBothBuffers_AnswersNoMemory_AndMapsNothing()
    {
        var (sys, _) = WithQuota(4);
        sys.System.WriteMemory(Host, HostMemory + 0x10000, Filled(3));   // one page left: the pair needs two

        Expect.Error(sys.Call(Host, Ffa.RxTxMap(HostMemory, HostMemory + 0x1000, 1)), Err.NoMemory, "rxtx-map.no-memory");
        Assert.Null(sys.Endpoint(Host).Mailbox);
        Assert.All(sys.State.Memory, r => Assert.NotEqual(PageUse.TxBuffer, r.Use));

        sys.System.WriteMemory(Host, HostMemory + 0x10000, new byte[Page]);   // a page of zeros stays resident
        Expect.Error(sys.Call(Host, Ffa.RxTxMap(HostMemory, HostMemory + 0x1000, 1)), Err.NoMemory, "rxtx-map.no-memory");
    }

    [Fact]
    public void RxTxMap_CountsOnlyTheBuffersPagesNotYetInMemory()
    {
        var (sys, _) = WithQuota(4);
        sys.System.WriteMemory(Host, HostMemory, Filled(1));              // the TX page is already resident
        sys.System.WriteMemory(Host, HostMemory + 0x10000, Filled(2));   // one page left: enough for RX alone
        Expect.Success(sys.Call(Host, Ffa.RxTxMap(HostMemory, HostMemory + 0x1000, 1)));
    }

    [Fact]
    public void RxTxMap_IsCheckedAfterEveryParameter()
    {
        var (sys, _) = WithQuota(1);
        // Overlapping buffers are INVALID_PARAMETERS whatever the quota (Hafnium checks them before mapping).
        Expect.Error(sys.Call(Host, Ffa.RxTxMap(HostMemory, HostMemory, 1)), Err.InvalidParameters, "rxtx-map.overlap");
    }

    [Fact]
    public void TheSpmcsWriteIntoAMappedRxBuffer_IsNeverRefused_EvenWithTheQuotaFull()
    {
        var (sys, quota) = WithQuota(4);
        sys.Map(Host, HostMemory, HostMemory + 0x1000);
        sys.System.WriteMemory(Host, HostMemory + 0x10000, Filled(4));   // the quota is full now
        Assert.Equal(4L * Page, quota.TotalBytes);

        // FFA_PARTITION_INFO_GET writes descriptors into the host's RX: the answer is whole, the page counted.
        var o = Expect.Success(sys.Call(Host, Ffa.PartitionInfoGet("00000000-0000-0000-0000-000000000000")));
        Assert.True(o.Frame[2] > 0);
        Assert.NotEqual(new byte[8], sys.Peek(HostMemory + 0x1000, 8));
        Assert.Equal(5L * Page, quota.TotalBytes);

        // The API's own writes stay refused while the system is over its quota.
        Assert.Throws<QuotaExceededException>(() => sys.System.WriteMemory(Host, HostMemory + 0x20000, Filled(1)));
    }
}
