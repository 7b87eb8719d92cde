using Spmc.Abi.Smccc;
using Spmc.Core.Calls;
using Spmc.Core.Memory;
using Spmc.Core.Systems;
using static Spmc.Core.Tests.Support.Manifests;

namespace Spmc.Core.Tests.Quotas;

/// <summary>Resident memory quotas: per system and in total, all or nothing, pages given back when a system goes.</summary>
public class MemoryQuotaTests
{
    private const int Page = PhysicalMemory.PageSize;
    private const ulong Base = 0x8000_0000; // VM 0's memory in the default manifest

    private static byte[] Pages(int count, byte value = 0xA5) => Enumerable.Repeat(value, count * Page).ToArray();

    [Fact]
    public void PhysicalMemory_RefusesAWriteBeyondThePerSystemQuota_AndWritesNothing()
    {
        var memory = new PhysicalMemory(new MemoryQuota(2 * Page, 0));
        memory.Write(0, Pages(1));
        var e = Assert.Throws<QuotaExceededException>(() => memory.Write(Page, Pages(2)));
        Assert.Contains("MaxResidentBytesPerSystem", e.Message);
        Assert.StartsWith(MemoryQuota.RefusalPrefix, e.Message);   // how persistence recognises a quota-decided answer
        Assert.Equal(1, memory.ResidentPages);
        Assert.All(memory.Read(Page, 2 * Page), b => Assert.Equal(0, b));
        memory.Write(0, Pages(1, 0x11));   // rewriting a resident page needs no new page
        memory.Write(Page, Pages(1));
        Assert.Equal(2, memory.ResidentPages);
    }

    [Fact]
    public void ZeroBytes_AndClearedPages_TakeNoQuota()
    {
        var quota = new MemoryQuota(Page, 0);
        var memory = new PhysicalMemory(quota);
        memory.Write(0, new byte[8 * Page]);   // zeros make no page
        memory.Write(0, Pages(1));
        memory.Clear(0, Page);
        memory.Write(Page, Pages(1));
        Assert.Equal(Page, quota.TotalBytes);
    }

    [Fact]
    public void WriteAll_IsAllOrNothing_AcrossEntries()
    {
        var memory = new PhysicalMemory(new MemoryQuota(2 * Page, 0));
        var e = Assert.Throws<QuotaExceededException>(() => memory.WriteAll([(0, Pages(1)), (4 * Page, Pages(1)), (8 * Page, Pages(1))]));
        Assert.Contains("3 new page(s)", e.Message);
        Assert.Equal(0, memory.ResidentPages);
        memory.WriteAll([(0, Pages(1)), (16, new byte[] { 1 })]);   // the same page twice counts once
        Assert.Equal(1, memory.ResidentPages);
    }

    [Fact]
    public void TotalQuota_SpansSystems_AndDeletingOneGivesItsPagesBack()
    {
        var registry = new SystemRegistry(memoryQuota: new MemoryQuota(0, 3 * Page));
        var a = registry.Create("a", DefaultJson);
        var b = registry.Create("b", DefaultJson);
        a.WriteMemory(0x0, Base, Pages(2));
        var e = Assert.Throws<QuotaExceededException>(() => b.WriteMemory(0x0, Base, Pages(2)));
        Assert.Contains("MaxResidentBytesTotal", e.Message);
        Assert.StartsWith(MemoryQuota.RefusalPrefix, e.Message);
        Assert.All(b.ReadMemory(0x0, Base, 2 * Page), x => Assert.Equal(0, x));
        registry.Delete("a");
        Assert.Equal(0, registry.MemoryQuota.TotalBytes);
        b.WriteMemory(0x0, Base, Pages(2));
        Assert.Equal(2 * Page, registry.MemoryQuota.TotalBytes);
    }

    [Fact]
    public void ACallsWrites_BeyondTheQuota_AreRefusedBeforeTheSmcRuns()
    {
        var registry = new SystemRegistry(memoryQuota: new MemoryQuota(2 * Page, 0));
        var system = registry.Create("s", DefaultJson);
        var frame = SmcFrame.From(0x8400_0063, 0x0001_0002); // FFA_VERSION
        system.Call(new SmcCall(0x0, 0, Conduit.Smc, frame, [new MemoryWrite(Base, Pages(1))]));
        Assert.Throws<QuotaExceededException>(() => system.Call(new SmcCall(0x0, 0, Conduit.Smc, frame,
            [new MemoryWrite(Base + 4 * Page, Pages(1)), new MemoryWrite(Base + 8 * Page, Pages(1))])));
        Assert.All(system.ReadMemory(0x0, Base + 4 * Page, Page), x => Assert.Equal(0, x));
        Assert.Equal(Page, registry.MemoryQuota.TotalBytes);
    }

    [Fact]
    public void ResetAndRestore_GiveBackWhatTheyDrop_AndASnapshotsSharedPagesCountOncePerSystem()
    {
        var registry = new SystemRegistry(memoryQuota: new MemoryQuota(0, 4 * Page));
        var a = registry.Create("a", DefaultJson);
        a.WriteMemory(0x0, Base, Pages(2));
        var snapshot = a.Snapshot();
        registry.Create("b", snapshot);   // shares a's buffers, but holds its own two pages
        Assert.Equal(4 * Page, registry.MemoryQuota.TotalBytes);
        Assert.Throws<QuotaExceededException>(() => registry.Create("c", snapshot));
        Assert.Equal(4 * Page, registry.MemoryQuota.TotalBytes);   // the refused system gave its pages back
        a.Reset();
        Assert.Equal(2 * Page, registry.MemoryQuota.TotalBytes);
        a.RestoreInPlace(snapshot);
        a.RestoreInPlace(snapshot);
        Assert.Equal(4 * Page, registry.MemoryQuota.TotalBytes);
    }

    [Fact]
    public void Discard_DropsThePages_AndGivesThemBack()
    {
        var quota = new MemoryQuota(0, 0);
        var memory = new PhysicalMemory(quota);
        memory.Write(0, Pages(4));
        memory.Discard();   // a deleted system: whoever still holds it holds no pages
        Assert.Equal(0, memory.ResidentPages);
        Assert.Equal(0, quota.TotalBytes);
    }
}
