using Spmc.Core.Systems;
using Spmc.Core.Tests.Sharing;
using Spmc.Core.Tests.Support;

namespace Spmc.Core.Tests.Bounded;

/// <summary>
/// The state view lists at most <see cref="StateLimits.ListedConstituents"/> constituents per share and
/// <see cref="StateLimits.ListedRanges"/> memory-map ranges; the paged views give the rest (issue 19: one
/// 327 000-constituent share made GET /state 520 MB).
/// </summary>
public sealed class StateViewBoundsTests
{
    private const ushort Host = 0, Sp1 = 0x8001;
    private const ulong Base = 0x8010_0000;
    private const int Constituents = 600;

    private const string Manifest = """
        {
          "spmc": { "rxtxMaxPages": 4 },
          "vms": [ { "id": 0, "name": "host", "memory": [ { "base": "0x80000000", "size": "0x1000000" } ] } ],
          "partitions": [
            { "id": "0x8001", "name": "sp1", "uuids": [ "55555555-0000-0000-0000-000000008001" ],
              "properties": { "directRequestReceive": true }, "memory": [ { "base": "0x60000000", "size": "0x100000" } ] }
          ]
        }
        """;

    /// <summary>A share of 600 one-page constituents, every other page, so the memory map has over 1024 ranges.</summary>
    public static (SharingSystem System, ulong Handle) ScatteredShare()
    {
        var s = SharingSystem.FromJson(Manifest);
        s.Map(Host, 0x8000_0000, 0x8000_4000, 4);
        var h = s.SendOk(Host, SendOp.Share, SharingDescriptors.Send(Host, [(Sp1, Perm.RW)],
            Enumerable.Range(0, Constituents).Select(i => (Base + (ulong)i * 0x2000, 1u)), 0x2F));
        return (s, h);
    }

    [Fact]
    public void State_ListsTheFirstConstituentsAndRanges_AndCountsThemAll()
    {
        var (s, h) = ScatteredShare();
        var state = s.State;
        var share = Assert.Single(state.Shares);
        Assert.Equal(h, share.Handle);
        Assert.Equal(StateLimits.ListedConstituents, share.Constituents.Count);
        Assert.Equal((Constituents, (ulong)Constituents, 0), (share.ConstituentCount, share.TotalPages, share.ConstituentsOffset));
        Assert.Equal(Base + 63 * 0x2000UL, share.Constituents[^1].Address);
        Assert.Equal(StateLimits.ListedRanges, state.Memory.Count);
        Assert.True(state.MemoryRangeCount > 2 * Constituents, $"{state.MemoryRangeCount} ranges");
    }

    [Fact]
    public void GetShare_PagesThroughEveryConstituent()
    {
        var (s, h) = ScatteredShare();
        var all = new List<ulong>();
        for (var offset = 0; ; offset += 250)
        {
            var page = s.System.GetShare(h, offset, 250);
            Assert.Equal((Constituents, offset), (page.ConstituentCount, page.ConstituentsOffset));
            if (page.Constituents.Count == 0) break;
            all.AddRange(page.Constituents.Select(c => c.Address));
        }
        Assert.Equal(Enumerable.Range(0, Constituents).Select(i => Base + (ulong)i * 0x2000), all);
    }

    [Fact]
    public void GetMemoryMap_PagesThroughEveryRange_InAddressOrder()
    {
        var (s, h) = ScatteredShare();
        var first = s.System.GetMemoryMap(0, 1000);
        var rest = s.System.GetMemoryMap(1000, StateLimits.MaxPage);
        Assert.Equal((first.Total, 1000, 1000), (rest.Total, rest.Offset, first.Ranges.Count));
        var ranges = first.Ranges.Concat(rest.Ranges).ToList();
        Assert.Equal(first.Total, ranges.Count);
        Assert.Equal(ranges.OrderBy(r => r.Base), ranges);
        Assert.Equal(Constituents, ranges.Count(r => r.Share == h));
        Assert.Empty(s.System.GetMemoryMap(first.Total, 10).Ranges);
    }

    [Theory]
    [InlineData(-1, 10, "offset: -1 is negative")]
    [InlineData(0, 0, "limit: 0 is not between 1 and 4096")]
    [InlineData(0, 4097, "limit: 4097 is not between 1 and 4096")]
    public void PagedViews_RefuseABadPage(int offset, int limit, string error)
    {
        var (s, h) = ScatteredShare();
        Assert.Equal(error, Assert.Throws<InvalidRequestException>(() => s.System.GetShare(h, offset, limit)).Message);
        Assert.Equal(error, Assert.Throws<InvalidRequestException>(() => s.System.GetMemoryMap(offset, limit)).Message);
    }

    [Fact]
    public void GetShare_UnknownHandle_IsNotFound()
    {
        var (s, h) = ScatteredShare();
        var e = Assert.Throws<NotFoundException>(() => s.System.GetShare(h + 1, 0, 10));
        Assert.Contains($"handle: system '{s.System.Id}' has no memory transaction 0x{h + 1:X}", e.Message);
    }
}
