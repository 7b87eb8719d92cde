using System.Diagnostics;

namespace Spmc.Bench;

/// <summary>Round-trip times in Stopwatch ticks, preallocated so recording does not allocate.</summary>
public sealed class Latencies(int capacity)
{
    private readonly long[] ticks = new long[capacity];
    private readonly long started = Stopwatch.GetTimestamp();

    public int Count { get; private set; }

    public void Add(long elapsedTicks) => ticks[Count++] = elapsedTicks;

    /// <summary>Sorts what was recorded; throughput is over the time since construction.</summary>
    public BenchResult Summarize(string name, int requested)
    {
        var elapsed = Stopwatch.GetElapsedTime(started);
        Array.Sort(ticks, 0, Count);
        double Micros(double p) => Count == 0 ? double.NaN
            : ticks[Math.Max(0, (int)Math.Ceiling(p * Count) - 1)] * 1e6 / Stopwatch.Frequency;
        return new BenchResult(name, Count, requested, elapsed, Micros(0.50), Micros(0.90), Micros(0.99), Micros(1.0),
            Count / elapsed.TotalSeconds);
    }
}

/// <summary>One benchmark's figures; percentiles are nearest-rank, in microseconds.</summary>
public sealed record BenchResult(string Name, int Count, int Requested, TimeSpan Elapsed,
    double P50, double P90, double P99, double Max, double PerSecond)
{
    public const string Header = "benchmark                              count    p50 us    p90 us    p99 us    max us      calls/s";

    public override string ToString() =>
        $"{Name,-34} {Count,9} {P50,9:F1} {P90,9:F1} {P99,9:F1} {Max,9:F1} {PerSecond,12:F0}"
        + (Count < Requested ? $"  (stopped after {Count} of {Requested})" : "");
}
