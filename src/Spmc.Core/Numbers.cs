using System.Globalization;

namespace Spmc.Core;

/// <summary>Parses the number forms the API accepts: "0x..." hex or plain decimal, 64-bit unsigned.</summary>
public static class Numbers
{
    public static bool TryParseU64(string? text, out ulong value)
    {
        value = 0;
        if (string.IsNullOrWhiteSpace(text)) return false;
        var s = text.Trim().Replace("_", "", StringComparison.Ordinal);
        if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            return s.Length > 2 && ulong.TryParse(s.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
        return ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>Parses or throws <see cref="InvalidRequestException"/> naming the field.</summary>
    public static ulong ParseU64(string? text, string field)
    {
        if (TryParseU64(text, out var value)) return value;
        throw new InvalidRequestException(text is null
            ? $"{field}: required"
            : $"{field}: '{text}' is not a 64-bit unsigned value (use 0x-prefixed hex or decimal)");
    }

    public static ushort ParseEndpointId(string? text, string field)
    {
        var value = ParseU64(text, field);
        if (value > 0xFFFF) throw new InvalidRequestException($"{field}: 0x{value:X} is not a 16-bit endpoint ID");
        return (ushort)value;
    }

    public static string Hex(ulong value) => $"0x{value:X}";
}
