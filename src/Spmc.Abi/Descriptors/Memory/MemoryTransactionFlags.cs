namespace Spmc.Abi.Descriptors.Memory;

/// <summary>The transaction type recorded in flags bits[4:3].</summary>
public enum MemoryTransactionType : byte
{
    NotSpecified = 0,
    Share = 1,
    Lend = 2,
    Donate = 3,
}

/// <summary>
/// Transaction flags (u32 at offset 4). Send: bit 0 zero memory, bit 1 time slicing. Retrieve: bit 0 zero
/// before retrieve, bit 1 time slicing, bit 2 zero after relinquish, bits[4:3] transaction type, bits[8:5]
/// address-range alignment hint, bit 9 hint valid, bit 10 (v1.2) bypass the multiple-borrower check.
/// </summary>
public readonly record struct MemoryTransactionFlags(uint Value)
{
    public const uint ZeroMemory = 1u << 0;
    public const uint TimeSlicing = 1u << 1;
    public const uint ZeroAfterRelinquish = 1u << 2;
    public const uint TypeMask = 0x3u << 3;
    public const uint AlignmentHintMask = 0xFu << 5;
    public const uint AlignmentHintValid = 1u << 9;
    public const uint BypassMultipleBorrowerCheck = 1u << 10;

    public bool Has(uint bit) => (Value & bit) != 0;
    public MemoryTransactionType Type => (MemoryTransactionType)((Value >> 3) & 0x3);

    public static MemoryTransactionFlags OfType(MemoryTransactionType type, uint other = 0) => new(((uint)type << 3) | other);

    public override string ToString() => $"0x{Value:X}";
}
