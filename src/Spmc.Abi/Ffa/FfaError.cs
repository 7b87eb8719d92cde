namespace Spmc.Abi.Ffa;

/// <summary>FF-A status codes (DEN0077 table 2.3), returned in w2 of FFA_ERROR as a 32-bit value.</summary>
public enum FfaError
{
    NotSupported = -1,
    InvalidParameters = -2,
    NoMemory = -3,
    Busy = -4,
    Interrupted = -5,
    Denied = -6,
    Retry = -7,
    Aborted = -8,
    NoData = -9,
    /// <summary>FF-A 1.3 (table 12.2): the target is not ready yet (starting, or stopping).</summary>
    NotReady = -10,
}

public static class FfaErrorNames
{
    public static string Name(this FfaError error) => error switch
    {
        FfaError.NotSupported => "NOT_SUPPORTED",
        FfaError.InvalidParameters => "INVALID_PARAMETERS",
        FfaError.NoMemory => "NO_MEMORY",
        FfaError.Busy => "BUSY",
        FfaError.Interrupted => "INTERRUPTED",
        FfaError.Denied => "DENIED",
        FfaError.Retry => "RETRY",
        FfaError.Aborted => "ABORTED",
        FfaError.NoData => "NO_DATA",
        FfaError.NotReady => "NOT_READY",
        _ => $"ERROR({(int)error})",
    };

    /// <summary>The register encoding: the signed code as an unsigned 32-bit value, zero-extended (Hafnium).</summary>
    public static ulong Encoded(this FfaError error) => (uint)(int)error;

    public static FfaError? Decode(ulong register)
    {
        var code = (int)(uint)register;
        return code is <= -1 and >= -10 ? (FfaError)code : null;
    }
}
