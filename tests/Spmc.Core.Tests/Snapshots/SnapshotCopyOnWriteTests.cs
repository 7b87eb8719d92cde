using System.Text.Json.Nodes;
using Spmc.Core.Memory;
using Spmc.Core.Snapshots;
using Spmc.Core.Systems;
using Spmc.Core.Tests.Support;

namespace Spmc.Core.Tests.Snapshots;

/// <summary>
/// Pages are shared between a live system and its snapshots by reference (copy-on-write): a write after a snapshot
/// copies the page first, so neither the snapshot nor another system restored from it sees the write.
/// </summary>
public sealed class SnapshotCopyOnWriteTests
{
    private const ushort Host = 0;
    private const ulong Page0 = 0x8000_0000, Page1 = 0x8000_1000;

    private static TestSystem Written()
    {
        var sys = TestSystem.Default();
        sys.System.WriteMemory(Host, Page0, [1, 2, 3]);
        sys.System.WriteMemory(Host, Page1, [4, 5, 6]);
        return sys;
    }

    private static byte[] PageOf(SystemSnapshot s, ulong address) => s.Pages.Single(p => p.Address == address).Bytes;

    [Fact]
    public void Snapshot_SharesPageBuffers_AWriteAfterItDoesNotChangeTheSnapshot()
    {
        var sys = Written();
        var first = sys.System.Snapshot();
        var second = sys.System.Snapshot();
        Assert.Same(PageOf(first, Page0), PageOf(second, Page0)); // no copy per snapshot

        sys.System.WriteMemory(Host, Page0, [9, 9]);

        Assert.Equal<byte>([1, 2, 3, 0], PageOf(first, Page0)[..4]);
        Assert.Equal<byte>([9, 9, 3, 0], sys.Peek(Page0, 4));
        Assert.NotSame(PageOf(first, Page0), PageOf(sys.System.Snapshot(), Page0)); // the written page was copied
        Assert.Same(PageOf(first, Page1), PageOf(sys.System.Snapshot(), Page1)); // the other is still shared
    }

    [Fact]
    public void PartialClear_OfASharedPage_DoesNotChangeTheSnapshot()
    {
        var memory = new PhysicalMemory();
        memory.Write(Page0, [1, 2, 3, 4]);
        var exported = memory.ExportPages();
        memory.Clear(Page0 + 1, 2);
        Assert.Equal<byte>([1, 2, 3, 4], exported[0].Bytes[..4]);
        Assert.Equal<byte>([1, 0, 0, 4], memory.Read(Page0, 4));
        Assert.Equal(0, memory.SharedPages);
    }

    [Fact]
    public void TwoSystems_RestoredFromOneSnapshot_DoNotSeeEachOthersWrites()
    {
        var original = Written();
        var snapshot = original.System.Snapshot();
        var a = SimulatedSystem.FromSnapshot("a", snapshot);
        var b = SimulatedSystem.FromSnapshot("b", snapshot);
        Assert.Same(PageOf(snapshot, Page0), PageOf(a.Snapshot(), Page0));

        a.WriteMemory(Host, Page0, [7]);
        b.WriteMemory(Host, Page0 + 1, [8]);
        original.System.WriteMemory(Host, Page0 + 2, [6]);

        Assert.Equal<byte>([7, 2, 3], a.ReadMemory(Host, Page0, 3));
        Assert.Equal<byte>([1, 8, 3], b.ReadMemory(Host, Page0, 3));
        Assert.Equal<byte>([1, 2, 6], original.Peek(Page0, 3));
        Assert.Equal<byte>([1, 2, 3], PageOf(snapshot, Page0)[..3]);
    }

    [Fact]
    public void RestoreInPlace_SharesTheSnapshotsPages_AndLaterWritesCopyThem()
    {
        var sys = Written();
        var snapshot = sys.System.Snapshot();
        sys.System.WriteMemory(Host, Page0, [5]);
        sys.System.RestoreInPlace(snapshot);
        Assert.Equal<byte>([1, 2, 3], sys.Peek(Page0, 3));

        sys.System.WriteMemory(Host, Page0, [6]);
        sys.System.RestoreInPlace(snapshot);
        Assert.Equal(snapshot.ToJson(), sys.System.Snapshot().ToJson()); // before the read below, which counts in `sequence`
        Assert.Equal<byte>([1, 2, 3], sys.Peek(Page0, 3));
    }

    [Fact]
    public void Version2_WritesTheManifestAsAnObject_AndVersion1sStringFormIsStillRead()
    {
        var sys = Written();
        var json = sys.System.Snapshot().ToJson();
        var node = JsonNode.Parse(json)!.AsObject();
        Assert.Equal(2, (int)node["version"]!);
        var manifest = Assert.IsType<JsonObject>(node["manifest"]);
        Assert.Equal("0x8000", (string)manifest["spmc"]!["id"]!);

        node["version"] = 1;
        node["manifest"] = manifest.ToJsonString(); // version 1: the manifest as an escaped string
        var v1 = SystemSnapshot.FromJson(System.Text.Encoding.UTF8.GetBytes(node.ToJsonString()));
        var restored = SimulatedSystem.FromSnapshot("v1", v1);
        Assert.Equal(json, restored.Snapshot().ToJson()); // written back as version 2, the same bytes
        sys.System.RestoreInPlace(v1); // the same manifest, whatever its form
    }
}
