using Spmc.Abi.Descriptors;
using Spmc.Core.Spm.Behaviours;
using Spmc.Core.Tests.Messaging;
using Spmc.Core.Tests.Sharing;
using Spmc.Core.Tests.Support;

namespace Spmc.Core.Tests.Bounded;

/// <summary>
/// The `memory` partition checks and fills at most <see cref="MemoryBehaviour.MaxTouchedPages"/> pages per request
/// (issue 19: one ~600-byte direct request after sharing 1 GiB made 1 GiB resident).
/// </summary>
public sealed class MemoryBehaviourBudgetTests
{
    private const ushort Host = 0, MemorySp = 0x8001;
    private const ulong Big = 0x1_0000_0000, Small = 0x8000_2000;
    private const uint BigPages = 1u << 20; // 4 GiB in one constituent

    private const string Manifest = """
        {
          "vms": [ { "id": 0, "name": "host", "memory": [
            { "base": "0x80000000", "size": "0x100000" }, { "base": "0x100000000", "size": "0x100000000" } ] } ],
          "partitions": [
            { "id": "0x8001", "name": "memory", "behaviour": "memory", "uuids": [ "44444444-0000-0000-0000-000000008001" ],
              "properties": { "directRequestReceive": true },
              "memory": [ { "base": "0x60000000", "size": "0x100000" } ] }
          ]
        }
        """;

    private static SharingSystem System()
    {
        var s = SharingSystem.FromJson(Manifest);
        s.MapDefault(Host);
        return s;
    }

    /// <summary>Asks the memory partition to retrieve <paramref name="handle"/> (SHARE), check for <paramref name="check"/> and fill with <paramref name="fill"/>.</summary>
    private static ulong[] Run(SharingSystem s, ulong handle, byte? check, byte? fill)
    {
        var answer = s.Test.Call(Host, Dm.Req(Host, MemorySp, payload: [(uint)handle, handle >> 32, 1,
            check is { } c ? 0x100u | c : 0, fill is { } f ? 0x100u | f : 0]));
        Assert.Equal(Dm.Resp32, answer.Frame[0]);
        return [answer.Frame[3], answer.Frame[4], answer.Frame[5], answer.Frame[6] | answer.Frame[7] << 32];
    }

    [Fact]
    public void FourGibibyteShare_FillAndCheck_StayWithinTheBudget()
    {
        var s = System();
        var h = s.SendOk(Host, SendOp.Share, SharingDescriptors.Send(Host, [(MemorySp, Perm.RW)], [(Big, BigPages)], 0x2F, tag: 0));
        var before = s.State.ResidentPages;

        var r = Run(s, h, check: 0, fill: 0xAB);
        Assert.Equal([MemoryBehaviour.StatusOk, 0, BigPages], r[..3]);
        var resident = s.State.ResidentPages - before;
        Assert.InRange(resident, 2, MemoryBehaviour.MaxTouchedPages);
        // The first and last page of the constituent are filled; the middle is not touched.
        Assert.Equal(0xAB, s.Peek(Big, 1)[0]);
        Assert.Equal(0xAB, s.Peek(Big + (BigPages - 1UL) * 4096 + 4095, 1)[0]);
        Assert.Equal(0, s.Peek(Big + BigPages / 2 * 4096UL, 1)[0]);
        // Checking the same pattern again agrees with what was filled.
        Assert.Equal(MemoryBehaviour.StatusOk, Run(s, h, check: 0xAB, fill: null)[0]);
        Assert.Equal(resident, s.State.ResidentPages - before);
        Expect.Success(s.Reclaim(Host, h));
    }

    [Fact]
    public void FourGibibyteShare_CheckFindsAMismatchOnTheLastPage()
    {
        var s = System();
        var last = Big + (BigPages - 1UL) * 4096;
        s.Poke(Host, last + 0x10, [0x5A]);
        var h = s.SendOk(Host, SendOp.Share, SharingDescriptors.Send(Host, [(MemorySp, Perm.RW)], [(Big, BigPages)], 0x2F, tag: 0));
        var r = Run(s, h, check: 0, fill: null);
        Assert.Equal(MemoryBehaviour.StatusMismatch, r[0]);
        Assert.Equal(last + 0x10, r[3]);
        Assert.True(s.State.ResidentPages <= 8, $"{s.State.ResidentPages} resident pages");
    }

    [Fact]
    public void SmallShare_EveryPageIsFilled()
    {
        var s = System();
        var h = s.SendOk(Host, SendOp.Share, SharingDescriptors.Send(Host, [(MemorySp, Perm.RW)], [(Small, 3), (Small + 0x1_0000, 2)], 0x2F, tag: 0));
        Assert.Equal([MemoryBehaviour.StatusOk, 0, 5], Run(s, h, check: 0, fill: 0x11)[..3]);
        foreach (var page in new ulong[] { Small, Small + 0x1000, Small + 0x2000, Small + 0x1_0000, Small + 0x1_1000 })
            Assert.Equal(Enumerable.Repeat((byte)0x11, 4096), s.Peek(page, 4096));
        Assert.Equal(0, s.Peek(Small + 0x3000, 1)[0]);
    }

    [Fact]
    public void PagesToTouch_TakesTheEndsOfEachConstituent_UpToTheBudget()
    {
        MemoryRegionConstituent[] twoLarge = [new(0x1000_0000, 2000), new(0x2000_0000, 1)];
        Assert.Equal([0x1000_0000, 0x1000_0000 + 1999 * 4096, 0x2000_0000], MemoryBehaviour.PagesToTouch(twoLarge, 2001));

        var many = Enumerable.Range(0, 1100).Select(i => new MemoryRegionConstituent(0x1000_0000 + (ulong)i * 0x2000, 1)).ToArray();
        var touched = MemoryBehaviour.PagesToTouch(many, 1100).ToList();
        Assert.Equal(MemoryBehaviour.MaxTouchedPages, touched.Count);
        Assert.Equal(many[..MemoryBehaviour.MaxTouchedPages].Select(c => c.Address), touched);

        MemoryRegionConstituent[] huge = [new(0, uint.MaxValue)];
        Assert.Equal(2, MemoryBehaviour.PagesToTouch(huge, uint.MaxValue).Count());
    }
}
