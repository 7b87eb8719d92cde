using System.Text;

namespace Spmc.Core.Spm;

/// <summary>One line a partition wrote with FFA_CONSOLE_LOG.</summary>
public sealed record ConsoleLine(long Sequence, ushort Endpoint, string Text);

/// <summary>
/// FFA_CONSOLE_LOG output of one system. Characters are buffered per endpoint and a line is emitted at
/// '\n' or NUL, or when it reaches <see cref="MaxLineLength"/> (Hafnium flushes its log buffer the same way).
/// The log keeps the last <see cref="Capacity"/> lines.
/// </summary>
public sealed class ConsoleOutput
{
    public const int Capacity = 1000;
    public const int MaxLineLength = 256;

    private readonly Dictionary<ushort, StringBuilder> _pending = [];
    private readonly Queue<ConsoleLine> _lines = new();
    private long _sequence;

    public IReadOnlyCollection<ConsoleLine> Lines => _lines;

    public void Append(ushort endpoint, ReadOnlySpan<byte> chars)
    {
        if (!_pending.TryGetValue(endpoint, out var line)) _pending[endpoint] = line = new StringBuilder();
        foreach (var c in chars)
        {
            // NUL ends a line only if there is one (callers pad the last register with zeros).
            if (c == (byte)'\n' || (c == 0 && line.Length > 0)) { Flush(endpoint, line); continue; }
            if (c == 0) continue;
            line.Append(c is >= 0x20 and < 0x7F or (byte)'\t' ? (char)c : '?');
            if (line.Length >= MaxLineLength) Flush(endpoint, line);
        }
    }

    /// <summary>Characters written without a newline yet, per endpoint.</summary>
    public IReadOnlyDictionary<ushort, string> Pending =>
        _pending.Where(p => p.Value.Length > 0).ToDictionary(p => p.Key, p => p.Value.ToString());

    /// <summary>The log, its line counter and the unfinished lines, for a snapshot.</summary>
    public Snapshots.ConsoleSnapshot Export() =>
        new(_sequence, [.. _lines], Pending.OrderBy(p => p.Key).Select(p => new Snapshots.ConsolePending(p.Key, p.Value)).ToList());

    public void Load(Snapshots.ConsoleSnapshot snapshot)
    {
        _sequence = snapshot.Sequence;
        _lines.Clear();
        foreach (var line in snapshot.Lines) _lines.Enqueue(line);
        _pending.Clear();
        foreach (var p in snapshot.Pending) _pending[p.Endpoint] = new StringBuilder(p.Text);
    }

    private void Flush(ushort endpoint, StringBuilder line)
    {
        _lines.Enqueue(new ConsoleLine(++_sequence, endpoint, line.ToString()));
        while (_lines.Count > Capacity) _lines.Dequeue();
        line.Clear();
    }
}
