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

    public void Write(Span<byte> destination, int emadSize)
    {
        destination[..emadSize].Clear();
        Access.Write(destination);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], CompositeOffset);
        if (emadSize >= SizeV1_2)
        {
            BinaryPrimitives.WriteUInt128LittleEndian(destination[8..], ImplementationDefined);
            BinaryPrimitives.WriteUInt64LittleEndian(destination[24..], Reserved);
        }
        else
        {
            BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], Reserved);
        }
    }

    /// <summary>Reads one EMAD of <paramref name="emadSize"/> bytes (16, or 32 and up: larger sizes only extend).</summary>
    public static EndpointMemoryAccess Read(ReadOnlySpan<byte> source, int emadSize) =>
        emadSize >= SizeV1_2
            ? new EndpointMemoryAccess(MemoryAccessPermissions.Read(source), BinaryPrimitives.ReadUInt32LittleEndian(source[4..]),
                BinaryPrimitives.ReadUInt128LittleEndian(source[8..]), BinaryPrimitives.ReadUInt64LittleEndian(source[24..]))
            : new EndpointMemoryAccess(MemoryAccessPermissions.Read(source), BinaryPrimitives.ReadUInt32LittleEndian(source[4..]),
                0, BinaryPrimitives.ReadUInt64LittleEndian(source[8..]));
}
