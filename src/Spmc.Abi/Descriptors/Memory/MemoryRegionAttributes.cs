namespace Spmc.Abi.Descriptors.Memory;

public enum MemoryType : byte { NotSpecified = 0, Device = 1, Normal = 2, Reserved = 3 }

public enum Shareability : byte { NonShareable = 0, Reserved = 1, OuterShareable = 2, InnerShareable = 3 }

/// <summary>Normal memory cacheability, bits[3:2] (device memory uses the same bits for nGnRnE..GRE).</summary>
public enum Cacheability : byte { Reserved0 = 0, NonCacheable = 1, Reserved2 = 2, WriteBack = 3 }

/// <summary>
/// Memory region attributes: 8 bits in v1.0, 16 bits from v1.1. Shareability bits[1:0], cacheability (or
/// device type) bits[3:2], memory type bits[5:4], NS bit 6 (v1.1+: set by the relayer in retrieve
/// responses for non-secure memory), the rest MBZ.
/// </summary>
public readonly record struct MemoryRegionAttributes(ushort Value)
{
    public const ushort NsBit = 1 << 6;

    /// <summary>Normal, write-back, inner shareable (0x2F): what Linux and OP-TEE send for SHARE.</summary>
    public static readonly MemoryRegionAttributes NormalWriteBackInner = new(0x2F);

    public MemoryType Type => (MemoryType)((Value >> 4) & 0x3);
    public Shareability Shareability => (Shareability)(Value & 0x3);
    public Cacheability Cacheability => (Cacheability)((Value >> 2) & 0x3);
    /// <summary>Device memory type in bits[3:2]: 0 = nGnRnE, 1 = nGnRE, 2 = nGRE, 3 = GRE.</summary>
    public byte DeviceAttributes => (byte)((Value >> 2) & 0x3);
    public bool NonSecure => (Value & NsBit) != 0;
    public bool ReservedBitsSet => (Value & 0xFF80) != 0;

    public MemoryRegionAttributes WithNonSecure(bool ns) => new((ushort)(ns ? Value | NsBit : Value & ~NsBit));

    public override string ToString() => $"0x{Value:X2} ({Type}{(Type == MemoryType.Normal ? $", {Cacheability}, {Shareability}" : "")}{(NonSecure ? ", NS" : "")})";
}
