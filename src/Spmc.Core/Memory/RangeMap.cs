namespace Spmc.Core.Memory;

/// <summary>
/// A map from non-overlapping address ranges [Start, End) to values, kept sorted and coalesced. Operations
/// cost O(log n + k) in the number of ranges touched, never in the number of pages, so a 1 GiB range costs
/// what a 4 KiB one does.
/// </summary>
public sealed class RangeMap<T> where T : IEquatable<T>
{
    private readonly List<Entry> _entries = [];

    public readonly record struct Entry(ulong Start, ulong End, T Value)
    {
        public ulong Length => End - Start;
    }

    /// <summary>One piece of a queried range: either covered by an entry or a gap (HasValue false).</summary>
    public readonly record struct Segment(ulong Start, ulong End, bool HasValue, T? Value);

    public int Count => _entries.Count;
    public IReadOnlyList<Entry> Entries => _entries;

    /// <summary>Replaces every entry with <paramref name="entries"/> (sorted, disjoint and coalesced, as <see cref="Entries"/> lists them): a snapshot's restore.</summary>
    public void Load(IEnumerable<Entry> entries)
    {
        _entries.Clear();
        _entries.AddRange(entries);
    }

    /// <summary>Sets [start, end) to <paramref name="value"/>, replacing whatever covered it.</summary>
    public void Set(ulong start, ulong end, T value)
    {
        if (end <= start) throw new ArgumentOutOfRangeException(nameof(end), "empty or inverted range");
        Remove(start, end);
        var index = LowerBound(start);
        _entries.Insert(index, new Entry(start, end, value));
        Coalesce(index);
    }

    /// <summary>Removes [start, end) from the map, splitting entries that straddle its edges.</summary>
    public void Remove(ulong start, ulong end)
    {
        if (end <= start) return;
        var i = FirstOverlapping(start);
        while (i < _entries.Count && _entries[i].Start < end)
        {
            var e = _entries[i];
            _entries.RemoveAt(i);
            if (e.Start < start) _entries.Insert(i++, e with { End = start });
            if (e.End > end) { _entries.Insert(i, e with { Start = end }); break; }
        }
    }

    /// <summary>The pieces of [start, end) in address order, gaps included.</summary>
    public IEnumerable<Segment> Segments(ulong start, ulong end)
    {
        if (end <= start) yield break;
        var cursor = start;
        for (var i = FirstOverlapping(start); i < _entries.Count && _entries[i].Start < end; i++)
        {
            var e = _entries[i];
            if (e.Start > cursor) yield return new Segment(cursor, e.Start, false, default);
            var s = Math.Max(e.Start, cursor);
            var t = Math.Min(e.End, end);
            yield return new Segment(s, t, true, e.Value);
            cursor = t;
        }
        if (cursor < end) yield return new Segment(cursor, end, false, default);
    }

    /// <summary>The value at one address, if any.</summary>
    public bool TryGet(ulong address, out T value)
    {
        var i = FirstOverlapping(address);
        if (i < _entries.Count && _entries[i].Start <= address && address < _entries[i].End)
        {
            value = _entries[i].Value;
            return true;
        }
        value = default!;
        return false;
    }

    /// <summary>True when every byte of [start, end) is covered and <paramref name="predicate"/> holds for each piece.</summary>
    public bool All(ulong start, ulong end, Func<T, bool> predicate)
    {
        foreach (var s in Segments(start, end))
            if (!s.HasValue || !predicate(s.Value!)) return false;
        return true;
    }

    // Index of the first entry whose End > address.
    private int FirstOverlapping(ulong address)
    {
        int lo = 0, hi = _entries.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_entries[mid].End <= address) lo = mid + 1; else hi = mid;
        }
        return lo;
    }

    // Index of the first entry whose Start >= address.
    private int LowerBound(ulong address)
    {
        int lo = 0, hi = _entries.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_entries[mid].Start < address) lo = mid + 1; else hi = mid;
        }
        return lo;
    }

    private void Coalesce(int index)
    {
        if (index + 1 < _entries.Count && _entries[index].End == _entries[index + 1].Start && _entries[index].Value.Equals(_entries[index + 1].Value))
        {
            _entries[index] = _entries[index] with { End = _entries[index + 1].End };
            _entries.RemoveAt(index + 1);
        }
        if (index > 0 && _entries[index - 1].End == _entries[index].Start && _entries[index - 1].Value.Equals(_entries[index].Value))
        {
            _entries[index - 1] = _entries[index - 1] with { End = _entries[index].End };
            _entries.RemoveAt(index);
        }
    }
}
