namespace Spmc.Abi.Smccc;

/// <summary>Owning entity numbers of SMCCC function IDs (DEN0028, bits[29:24]).</summary>
public enum OwningEntity : byte
{
    ArmArchitecture = 0,
    CpuService = 1,
    SiP = 2,
    Oem = 3,
    StandardSecureService = 4,
    StandardHypervisorService = 5,
    VendorHypervisorService = 6,
}

/// <summary>Decodes the fields of an SMCCC function ID (DEN0028 §2.5).</summary>
public readonly record struct SmcccFunctionId(uint Value)
{
    /// <summary>SMCCC v1.3 bit 16: "no live SVE state" hint; callees mask it before decoding (Hafnium does).</summary>
    public const uint SveHintMask = 1u << 16;

    /// <summary>SMCCC_VERSION, answered with the conduit's SMCCC version.</summary>
    public const uint SmcccVersion = 0x8000_0000;

    /// <summary>SMCCC v1.2, the version whose 18-register convention FF-A 1.2 relies on.</summary>
    public const uint Version1_2 = 0x0001_0002;

    /// <summary>The value SMCCC returns in x0 for a function ID nobody implements (-1, sign-extended).</summary>
    public const ulong NotSupported = ulong.MaxValue;

    public bool IsFastCall => (Value & 0x8000_0000) != 0;
    public bool Is64Bit => (Value & 0x4000_0000) != 0;
    public OwningEntity Owner => (OwningEntity)((Value >> 24) & 0x3F);
    public ushort Number => (ushort)(Value & 0xFFFF);

    /// <summary>The ID with the SVE hint masked, as handlers compare it.</summary>
    public uint Canonical => Value & ~SveHintMask;

    /// <summary>
    /// FF-A owns function numbers 0x60..0xFF of the standard secure service, fast calls only, in both
    /// widths (FF-A 1.2; pKVM widened its check from 0x7F to 0xFF in 2024). Bits[23:17] must be zero.
    /// </summary>
    public bool IsFfa =>
        IsFastCall && Owner == OwningEntity.StandardSecureService && (Canonical & 0x00FE_0000) == 0 &&
        Number is >= 0x60 and <= 0xFF;
}
