using System.Buffers.Binary;

namespace Spmc.Abi.Descriptors.Memory;

/// <summary>
/// Endpoint memory access descriptor (EMAD): permissions, the composite descriptor's offset from the start
/// of the transaction descriptor (0 = none, as in retrieve requests), and — from v1.2, where the EMAD grows
/// from 16 to 32 bytes — a 16-byte implementation-defined value. Reserved bytes are kept as read.
/// </summary>
public readonly record struct EndpointMemoryAccess(MemoryAccessPermissions Access, uint CompositeOffset, UInt128 ImplementationDefined = default,
    ulong Reserved = 0)
{
    public const int SizeV1_0 = 16;
    public const int SizeV1_2 = 32;

    /// <summary>Field offsets (DEN0077 v1.1 table 10.16; v1.2 inserts the impdef value before the reserved word).</summary>
    public static class Offsets
    {
        /// <summary>The 4-byte memory access permissions descriptor.</summary>
        public const int Access = 0;
        public const int CompositeOffset = 4;
        /// <summary>16-byte EMAD (v1.0, v1.1): u64, MBZ.</summary>
        public const int ReservedV1_0 = 8;
        /// <summary>32-byte EMAD (v1.2+): the 16-byte implementation-defined value.</summary>
        public const int ImplementationDefined = 8;
        /// <summary>32-byte EMAD (v1.2+): u64, MBZ.</summary>
        public const int ReservedV1_2 = 24;
    }

    public void Write(Span<byte> destination, int emadSize)
    {
        destination[..emadSize].Clear();
        Access.Write(destination[Offsets.Access..]);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[Offsets.CompositeOffset..], CompositeOffset);
        if (emadSize >= SizeV1_2)
        {
            BinaryPrimitives.WriteUInt128LittleEndian(destination[Offsets.ImplementationDefined..], ImplementationDefined);
            BinaryPrimitives.WriteUInt64LittleEndian(destination[Offsets.ReservedV1_2..], Reserved);
        }
        else
        {
            BinaryPrimitives.WriteUInt64LittleEndian(destination[Offsets.ReservedV1_0..], Reserved);
        }
    }

    /// <summary>Reads one EMAD of <paramref name="emadSize"/> bytes (16, or 32 and up: larger sizes only extend).</summary>
    public static EndpointMemoryAccess Read(ReadOnlySpan<byte> source, int emadSize)
    {
        var access = MemoryAccessPermissions.Read(source[Offsets.Access..]);
        var compositeOffset = BinaryPrimitives.ReadUInt32LittleEndian(source[Offsets.CompositeOffset..]);
        return emadSize >= SizeV1_2
            ? new EndpointMemoryAccess(access, compositeOffset, BinaryPrimitives.ReadUInt128LittleEndian(source[Offsets.ImplementationDefined..]),
                BinaryPrimitives.ReadUInt64LittleEndian(source[Offsets.ReservedV1_2..]))
            : new EndpointMemoryAccess(access, compositeOffset, 0, BinaryPrimitives.ReadUInt64LittleEndian(source[Offsets.ReservedV1_0..]));
    }
}
