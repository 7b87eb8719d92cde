using Spmc.Core.Memory;

namespace Spmc.Core.Tests.Memory;

public class RangeMapTests
{
    private static (ulong, ulong, int)[] Entries(RangeMap<int> map) => [.. map.Entries.Select(e => (e.Start, e.End, e.Value))];

    [Fact]
    public void Set_OnEmptyMap_AddsOneEntry()
    {
        var map = new RangeMap<int>();
        map.Set(0x1000, 0x3000, 1);
        Assert.Equal([(0x1000ul, 0x3000ul, 1)], Entries(map));
        Assert.Equal(0x2000ul, map.Entries[0].Length);
    }

    [Fact]
    public void Set_EmptyOrInvertedRange_Throws()
    {
        var map = new RangeMap<int>();
        Assert.Throws<ArgumentOutOfRangeException>(() => map.Set(0x1000, 0x1000, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => map.Set(0x2000, 0x1000, 1));
    }

    [Fact]
    public void Set_OneGiBRange_CostsOneEntry()
    {
        var map = new RangeMap<int>();
        map.Set(0x4000_0000, 0x8000_0000, 7);
        Assert.Equal(1, map.Count);
        Assert.True(map.TryGet(0x7FFF_FFFF, out var v));
        Assert.Equal(7, v);
        Assert.False(map.TryGet(0x8000_0000, out _));
        Assert.False(map.TryGet(0x3FFF_FFFF, out _));
    }

    [Fact]
    public void Set_InsideAnEntry_SplitsItInThree()
    {
        var map = new RangeMap<int>();
        map.Set(0x0000, 0x10000, 1);
        map.Set(0x4000, 0x5000, 2);
        Assert.Equal([(0x0ul, 0x4000ul, 1), (0x4000ul, 0x5000ul, 2), (0x5000ul, 0x10000ul, 1)], Entries(map));
    }

    [Fact]
    public void Set_SameValueBetweenNeighbours_CoalescesIntoOne()
    {
        var map = new RangeMap<int>();
        map.Set(0x0000, 0x1000, 1);
        map.Set(0x2000, 0x3000, 1);
        Assert.Equal(2, map.Count);
        map.Set(0x1000, 0x2000, 1);
        Assert.Equal([(0x0ul, 0x3000ul, 1)], Entries(map));
    }

    [Fact]
    public void Set_BackToTheSurroundingValue_CoalescesTheSplit()
    {
        var map = new RangeMap<int>();
        map.Set(0x0000, 0x10000, 1);
        map.Set(0x4000, 0x5000, 2);
        map.Set(0x4000, 0x5000, 1);
        Assert.Equal([(0x0ul, 0x10000ul, 1)], Entries(map));
    }

    [Fact]
    public void Set_DifferentValueAdjacent_DoesNotCoalesce()
    {
        var map = new RangeMap<int>();
        map.Set(0x0000, 0x1000, 1);
        map.Set(0x1000, 0x2000, 2);
        Assert.Equal([(0x0ul, 0x1000ul, 1), (0x1000ul, 0x2000ul, 2)], Entries(map));
    }

    [Fact]
    public void Set_AcrossSeveralEntries_ReplacesThemAll()
    {
        var map = new RangeMap<int>();
        map.Set(0x1000, 0x2000, 1);
        map.Set(0x3000, 0x4000, 2);
        map.Set(0x5000, 0x6000, 3);
        map.Set(0x1800, 0x5800, 9);
        Assert.Equal([(0x1000ul, 0x1800ul, 1), (0x1800ul, 0x5800ul, 9), (0x5800ul, 0x6000ul, 3)], Entries(map));
    }

    [Fact]
    public void Remove_Middle_SplitsTheEntry()
    {
        var map = new RangeMap<int>();
        map.Set(0x1000, 0x5000, 1);
        map.Remove(0x2000, 0x3000);
        Assert.Equal([(0x1000ul, 0x2000ul, 1), (0x3000ul, 0x5000ul, 1)], Entries(map));
        Assert.False(map.TryGet(0x2000, out _));
        Assert.False(map.TryGet(0x2FFF, out _));
        Assert.True(map.TryGet(0x3000, out _));
    }

    [Fact]
    public void Remove_Edges_TrimsEntries()
    {
        var map = new RangeMap<int>();
        map.Set(0x1000, 0x3000, 1);
        map.Set(0x4000, 0x6000, 2);
        map.Remove(0x2000, 0x5000);
        Assert.Equal([(0x1000ul, 0x2000ul, 1), (0x5000ul, 0x6000ul, 2)], Entries(map));
    }

    [Fact]
    public void Remove_Everything_EmptiesTheMap()
    {
        var map = new RangeMap<int>();
        map.Set(0x1000, 0x3000, 1);
        map.Set(0x4000, 0x6000, 2);
        map.Remove(0, ulong.MaxValue);
        Assert.Equal(0, map.Count);
    }

    [Fact]
    public void Remove_EmptyRangeOrGap_ChangesNothing()
    {
        var map = new RangeMap<int>();
        map.Set(0x1000, 0x2000, 1);
        map.Remove(0x1800, 0x1800);
        map.Remove(0x1800, 0x1000);
        map.Remove(0x3000, 0x4000);
        Assert.Equal([(0x1000ul, 0x2000ul, 1)], Entries(map));
    }

    [Fact]
    public void Segments_ReportGapsAndPieces_InAddressOrder()
    {
        var map = new RangeMap<int>();
        map.Set(0x1000, 0x2000, 1);
        map.Set(0x2000, 0x3000, 2);
        map.Set(0x5000, 0x6000, 3);
        var segments = map.Segments(0x0000, 0x7000).Select(s => (s.Start, s.End, s.HasValue, s.Value)).ToArray();
        Assert.Equal(
        [
            (0x0000ul, 0x1000ul, false, 0),
            (0x1000ul, 0x2000ul, true, 1),
            (0x2000ul, 0x3000ul, true, 2),
            (0x3000ul, 0x5000ul, false, 0),
            (0x5000ul, 0x6000ul, true, 3),
            (0x6000ul, 0x7000ul, false, 0),
        ], segments);
    }

    [Fact]
    public void Segments_ClipToTheQueriedRange()
    {
        var map = new RangeMap<int>();
        map.Set(0x1000, 0x2000, 1);
        map.Set(0x2000, 0x3000, 2);
        var segments = map.Segments(0x1800, 0x2800).Select(s => (s.Start, s.End, s.HasValue, s.Value)).ToArray();
        Assert.Equal([(0x1800ul, 0x2000ul, true, 1), (0x2000ul, 0x2800ul, true, 2)], segments);
    }

    [Fact]
    public void Segments_OfAnEmptyMap_IsOneGap()
    {
        var segments = new RangeMap<int>().Segments(0x1000, 0x2000).ToArray();
        Assert.Equal((0x1000ul, 0x2000ul, false), Assert.Single(segments) is var s ? (s.Start, s.End, s.HasValue) : default);
    }

    [Fact]
    public void Segments_OfAnEmptyQuery_IsEmpty()
    {
        var map = new RangeMap<int>();
        map.Set(0x1000, 0x2000, 1);
        Assert.Empty(map.Segments(0x1800, 0x1800));
    }

    [Fact]
    public void TryGet_FindsTheEntryHoldingTheAddress()
    {
        var map = new RangeMap<int>();
        map.Set(0x1000, 0x2000, 1);
        map.Set(0x3000, 0x4000, 2);
        Assert.True(map.TryGet(0x1000, out var a));
        Assert.Equal(1, a);
        Assert.True(map.TryGet(0x3FFF, out var b));
        Assert.Equal(2, b);
        Assert.False(map.TryGet(0x2000, out _));
        Assert.False(map.TryGet(0x0FFF, out _));
        Assert.False(map.TryGet(0x4000, out _));
    }

    [Fact]
    public void All_NeedsFullCoverageAndThePredicateEverywhere()
    {
        var map = new RangeMap<int>();
        map.Set(0x1000, 0x2000, 1);
        map.Set(0x2000, 0x3000, 2);
        map.Set(0x4000, 0x5000, 1);
        Assert.True(map.All(0x1000, 0x3000, v => v > 0));
        Assert.False(map.All(0x1000, 0x3000, v => v == 1));
        Assert.False(map.All(0x1000, 0x5000, v => v > 0)); // gap at 0x3000
        Assert.False(map.All(0x0800, 0x1800, v => v > 0)); // gap before
    }

    [Fact]
    public void ManyOperations_KeepEntriesSortedDisjointAndCoalesced()
    {
        var map = new RangeMap<int>();
        var model = new int?[64];
        var random = new Random(1234);
        for (var step = 0; step < 2000; step++)
        {
            var a = random.Next(64);
            var b = random.Next(64);
            var (start, end) = (Math.Min(a, b), Math.Max(a, b) + 1);
            if (random.Next(3) == 0)
            {
                map.Remove((ulong)start * 0x1000, (ulong)end * 0x1000);
                for (var i = start; i < end; i++) model[i] = null;
            }
            else
            {
                var value = random.Next(3);
                map.Set((ulong)start * 0x1000, (ulong)end * 0x1000, value);
                for (var i = start; i < end; i++) model[i] = value;
            }

            for (var i = 1; i < map.Count; i++)
            {
                var (prev, cur) = (map.Entries[i - 1], map.Entries[i]);
                Assert.True(prev.End <= cur.Start, "sorted and disjoint");
                Assert.False(prev.End == cur.Start && prev.Value == cur.Value, "adjacent equal entries are coalesced");
            }
            for (var page = 0; page < 64; page++)
            {
                var found = map.TryGet((ulong)page * 0x1000 + 0x800, out var v);
                Assert.Equal(model[page].HasValue, found);
                if (found) Assert.Equal(model[page], v);
            }
        }
    }
}
