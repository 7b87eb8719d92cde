using Spmc.Abi.Rules;

namespace Spmc.Abi.Descriptors;

/// <summary>
/// The outcome of decoding untrusted input (registers or bytes): a value, or the one <see cref="Rejection"/> saying
/// which rule it broke. Decoders never throw on bad input; every check has its own rule.
/// </summary>
public readonly record struct ParseResult<T>(T? Value, Rejection? Rejection)
{
    public bool Ok => Rejection is null;

    /// <summary>The reason of the rejection, or null.</summary>
    public string? Error => Rejection?.Reason;

    public static ParseResult<T> Success(T value) => new(value, null);
    public static ParseResult<T> Fail(Rejection rejection) => new(default, rejection);

    public static implicit operator ParseResult<T>(T value) => Success(value);
    public static implicit operator ParseResult<T>(Rejection rejection) => Fail(rejection);
}

/// <summary>Bounds arithmetic on untrusted offsets and lengths, done in 64 bits so nothing wraps.</summary>
public static class Bounds
{
    /// <summary>True when [offset, offset + length) lies inside a buffer of <paramref name="size"/> bytes.</summary>
    public static bool Fits(ulong offset, ulong length, int size) =>
        offset <= (ulong)size && length <= (ulong)size - offset;
}
