using System.Buffers.Binary;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Spmc.Abi.Ffa;

/// <summary>
/// A partition or protocol UUID as its 16 bytes in canonical string order. In registers, FF-A splits
/// those bytes into little-endian words: four 32-bit words for FFA_PARTITION_INFO_GET (w1 = bytes 0..3)
/// and two 64-bit words for PARTITION_INFO_GET_REGS and DIRECT_REQ2 (x_lo = bytes 0..7), which is what
/// the Linux driver does with uuid_t. Descriptors carry the bytes in the same order.
/// </summary>
[JsonConverter(typeof(FfaUuidJsonConverter))]
public readonly struct FfaUuid : IEquatable<FfaUuid>
{
    private readonly ulong _lo;
    private readonly ulong _hi;

    private FfaUuid(ulong lo, ulong hi) { _lo = lo; _hi = hi; }

    public static readonly FfaUuid Nil = default;

    public bool IsNil => _lo == 0 && _hi == 0;

    public static FfaUuid FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 16) throw new ArgumentException("a UUID is 16 bytes", nameof(bytes));
        return new FfaUuid(BinaryPrimitives.ReadUInt64LittleEndian(bytes), BinaryPrimitives.ReadUInt64LittleEndian(bytes[8..]));
    }

    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, _lo);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], _hi);
    }

    public static FfaUuid FromRegisters32(ulong w1, ulong w2, ulong w3, ulong w4) =>
        new(((ulong)(uint)w2 << 32) | (uint)w1, ((ulong)(uint)w4 << 32) | (uint)w3);

    public (uint W1, uint W2, uint W3, uint W4) ToRegisters32() => ((uint)_lo, (uint)(_lo >> 32), (uint)_hi, (uint)(_hi >> 32));

    public static FfaUuid FromRegisters64(ulong lo, ulong hi) => new(lo, hi);

    public (ulong Lo, ulong Hi) ToRegisters64() => (_lo, _hi);

    /// <summary>Parses the canonical 8-4-4-4-12 form (either case).</summary>
    public static bool TryParse(string? text, out FfaUuid uuid)
    {
        uuid = default;
        if (text is null || !Guid.TryParseExact(text.Trim(), "D", out _)) return false;
        var hex = text.Trim().Replace("-", "", StringComparison.Ordinal);
        Span<byte> bytes = stackalloc byte[16];
        for (var i = 0; i < 16; i++)
            bytes[i] = byte.Parse(hex.AsSpan(i * 2, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        uuid = FromBytes(bytes);
        return true;
    }

    public static FfaUuid Parse(string text) =>
        TryParse(text, out var uuid) ? uuid : throw new FormatException($"'{text}' is not a UUID");

    public override string ToString()
    {
        Span<byte> b = stackalloc byte[16];
        WriteTo(b);
        var hex = Convert.ToHexStringLower(b);
        return $"{hex[..8]}-{hex[8..12]}-{hex[12..16]}-{hex[16..20]}-{hex[20..]}";
    }

    public bool Equals(FfaUuid other) => _lo == other._lo && _hi == other._hi;
    public override bool Equals(object? obj) => obj is FfaUuid other && Equals(other);
    public override int GetHashCode() => HashCode.Combine(_lo, _hi);
    public static bool operator ==(FfaUuid a, FfaUuid b) => a.Equals(b);
    public static bool operator !=(FfaUuid a, FfaUuid b) => !a.Equals(b);
}

/// <summary>A UUID in JSON is its canonical string form.</summary>
public sealed class FfaUuidJsonConverter : JsonConverter<FfaUuid>
{
    public override FfaUuid Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        FfaUuid.TryParse(reader.GetString(), out var uuid) ? uuid : throw new JsonException("not a canonical UUID");

    public override void Write(Utf8JsonWriter writer, FfaUuid value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());
}
