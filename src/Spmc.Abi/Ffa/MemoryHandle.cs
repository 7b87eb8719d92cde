namespace Spmc.Abi.Ffa;

/// <summary>
/// A 64-bit memory transaction handle (DEN0077 §5.10.2). In registers it travels as two 32-bit halves, low in the
/// first register and high in the second (e.g. w1/w2 of FFA_MEM_RECLAIM); in descriptors as one 64-bit field.
/// Bit 63 says who allocated it: set by the hypervisor, clear by the SPMC.
/// </summary>
public readonly record struct MemoryHandle(ulong Value)
{
    public const ulong HypervisorAllocatedBit = 1UL << 63;

    /// <summary>Assembles a handle from the registers that carry its low and high halves (only w-sized parts count).</summary>
    public static MemoryHandle FromRegisters(ulong low, ulong high) => new((low & 0xFFFF_FFFF) | ((high & 0xFFFF_FFFF) << 32));

    public uint Low => (uint)Value;
    public uint High => (uint)(Value >> 32);

    /// <summary>True when bit 63 is set: the hypervisor allocated the handle and the SPMC does not know it.</summary>
    public bool IsHypervisorAllocated => (Value & HypervisorAllocatedBit) != 0;

    public static implicit operator ulong(MemoryHandle handle) => handle.Value;

    public override string ToString() => $"0x{Value:X}";
}
