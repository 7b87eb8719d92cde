namespace Spmc.Abi.Ffa;

/// <summary>The FF-A translation granule this simulator uses everywhere: 4 KiB (DEN0077 §5.1, "FF-A page").</summary>
public static class FfaPage
{
    public const int Size = 4096;

    /// <summary>True when <paramref name="address"/> is the start of a page.</summary>
    public static bool IsAligned(ulong address) => address % Size == 0;
}
