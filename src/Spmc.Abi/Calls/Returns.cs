using Spmc.Abi.Descriptors;
using Spmc.Abi.Ffa;
using Spmc.Abi.Smccc;

namespace Spmc.Abi.Calls;

/// <summary>
/// FFA_SUCCESS_32/64 (DEN0077 v1.2, FFA_SUCCESS): w1 = target information (the endpoint and vCPU of an FFA_RUN or
/// a direct message, otherwise 0), then the results of the call it completes in w2..w7 (SMC32) or x2..x17 (SMC64).
/// Which result registers are reserved depends on the call answered, so decoding checks nothing.
/// </summary>
public sealed record Success : IFfaCall<Success>
{
    /// <summary>Result registers after w1: w2..w7 for SMC32, x2..x17 for SMC64.</summary>
    public const int Results32 = 6, Results64 = 16;

    private readonly ulong[] _results;

    /// <param name="is64">FFA_SUCCESS_64 rather than FFA_SUCCESS_32.</param>
    /// <param name="target">w1, the target information.</param>
    /// <param name="results">x2/w2 onwards; missing ones are zero. SMC32 takes at most 6 values of 32 bits, SMC64 16.</param>
    public Success(bool is64 = false, uint target = 0, params ReadOnlySpan<ulong> results)
    {
        var max = is64 ? Results64 : Results32;
        if (results.Length > max)
            throw new ArgumentException($"FFA_SUCCESS_{(is64 ? 64 : 32)} has {max} result registers, got {results.Length}", nameof(results));
        _results = new ulong[max];
        for (var i = 0; i < results.Length; i++)
        {
            if (!is64 && results[i] > uint.MaxValue)
                throw new ArgumentOutOfRangeException(nameof(results), $"w{i + 2} of FFA_SUCCESS_32 is 32 bits, got 0x{results[i]:X}");
            _results[i] = results[i];
        }
        Is64 = is64;
        Target = target;
    }

    public bool Is64 { get; }
    public uint Target { get; }
    public uint FunctionId => Regs.Id(FfaFunction.Success, Is64);

    /// <summary>The results from x2/w2 on (6 for SMC32, 16 for SMC64).</summary>
    public IReadOnlyList<ulong> Results => _results;

    /// <summary>Result register <paramref name="register"/> (2..7 for SMC32, 2..17 for SMC64).</summary>
    public ulong Arg(int register) => _results[register - 2];

    public static ParseResult<Success> Decode(in SmcFrame frame)
    {
        var count = frame.Is64 ? Results64 : Results32;
        Span<ulong> results = stackalloc ulong[count];
        for (var i = 0; i < count; i++) results[i] = Regs.Arg(frame, i + 2);
        return new Success(frame.Is64, (uint)Regs.Arg(frame, 1), results);
    }

    public SmcFrame Encode() => Regs.Frame(FunctionId, [Target, .. _results]);

    public bool Equals(Success? other) =>
        other is not null && Is64 == other.Is64 && Target == other.Target && _results.AsSpan().SequenceEqual(other._results);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Is64);
        hash.Add(Target);
        foreach (var r in _results) hash.Add(r);
        return hash.ToHashCode();
    }
}
