namespace Spmc.Abi.Descriptors;

/// <summary>
/// The outcome of decoding untrusted bytes: a value, or the one reason it could not be decoded.
/// Decoders never throw on bad input; every bounds check has its own reason.
/// </summary>
public readonly record struct ParseResult<T>(T? Value, string? Error)
{
    public bool Ok => Error is null;

    public static ParseResult<T> Success(T value) => new(value, null);
    public static ParseResult<T> Fail(string error) => new(default, error);

    public static implicit operator ParseResult<T>(T value) => Success(value);
}

/// <summary>Bounds arithmetic on untrusted offsets and lengths, done in 64 bits so nothing wraps.</summary>
public static class Bounds
{
    /// <summary>True when [offset, offset + length) lies inside a buffer of <paramref name="size"/> bytes.</summary>
    public static bool Fits(ulong offset, ulong length, int size) =>
        offset <= (ulong)size && length <= (ulong)size - offset;
}
