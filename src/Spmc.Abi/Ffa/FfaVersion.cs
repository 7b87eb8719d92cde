using System.Globalization;

namespace Spmc.Abi.Ffa;

/// <summary>
/// An FF-A version: major in bits[30:16], minor in bits[15:0], bit 31 must be zero (DEN0077 §13.2.1).
/// </summary>
public readonly record struct FfaVersion(ushort Major, ushort Minor) : IComparable<FfaVersion>
{
    public static readonly FfaVersion V1_0 = new(1, 0);
    public static readonly FfaVersion V1_1 = new(1, 1);
    public static readonly FfaVersion V1_2 = new(1, 2);
    public static readonly FfaVersion V1_3 = new(1, 3);

    /// <summary>Versions an SPMC of this simulator can be configured to implement.</summary>
    public static readonly IReadOnlyList<FfaVersion> Supported = [V1_0, V1_1, V1_2, V1_3];

    public uint Encoded => ((uint)Major << 16) | Minor;

    /// <summary>Decodes a register value; null when bit 31 is set (not a version).</summary>
    public static FfaVersion? Decode(uint value) =>
        (value & 0x8000_0000) != 0 ? null : new FfaVersion((ushort)(value >> 16), (ushort)value);

    /// <summary>A caller at this version can be served by a callee at <paramref name="callee"/>: same major, minor not above.</summary>
    public bool IsCompatibleWith(FfaVersion callee) => Major == callee.Major && Minor <= callee.Minor;

    public int CompareTo(FfaVersion other) => Encoded.CompareTo(other.Encoded);
    public static bool operator <(FfaVersion a, FfaVersion b) => a.Encoded < b.Encoded;
    public static bool operator >(FfaVersion a, FfaVersion b) => a.Encoded > b.Encoded;
    public static bool operator <=(FfaVersion a, FfaVersion b) => a.Encoded <= b.Encoded;
    public static bool operator >=(FfaVersion a, FfaVersion b) => a.Encoded >= b.Encoded;

    public override string ToString() => $"{Major}.{Minor}";

    /// <summary>Parses "1.2".</summary>
    public static bool TryParse(string? text, out FfaVersion version)
    {
        version = default;
        if (string.IsNullOrWhiteSpace(text)) return false;
        var parts = text.Trim().Split('.');
        if (parts.Length != 2) return false;
        if (!ushort.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var major) ||
            !ushort.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var minor) ||
            major > 0x7FFF)
            return false;
        version = new FfaVersion(major, minor);
        return true;
    }
}
