using System.Buffers.Binary;

namespace Spmc.Abi.Descriptors.Memory;

/// <summary>
/// Memory relinquish descriptor: handle, flags (bit 0 zero memory after relinquish, bit 1 time slicing),
/// endpoint count, then the 16-bit endpoint IDs.
/// </summary>
public sealed record MemoryRelinquishDescriptor(ulong Handle, uint Flags, IReadOnlyList<ushort> Endpoints)
{
    public const int HeaderSize = 16;
    public const uint ZeroMemory = 1u << 0;
    public const uint TimeSlicing = 1u << 1;

    public int Size => HeaderSize + Endpoints.Count * 2;

    public byte[] ToBytes()
    {
        var bytes = new byte[Size];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, Handle);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), Flags);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(12), (uint)Endpoints.Count);
        for (var i = 0; i < Endpoints.Count; i++) BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(HeaderSize + 2 * i), Endpoints[i]);
        return bytes;
    }

    public static ParseResult<MemoryRelinquishDescriptor> Read(ReadOnlySpan<byte> buffer)
    {
        if (buffer.Length < HeaderSize)
            return ParseResult<MemoryRelinquishDescriptor>.Fail($"relinquish descriptor: {buffer.Length} bytes, need {HeaderSize}");
        var count = BinaryPrimitives.ReadUInt32LittleEndian(buffer[12..]);
        if (!Bounds.Fits(HeaderSize, (ulong)count * 2, buffer.Length))
            return ParseResult<MemoryRelinquishDescriptor>.Fail($"relinquish descriptor: {count} endpoint IDs do not fit in {buffer.Length} bytes");
        var endpoints = new ushort[count];
        for (var i = 0; i < count; i++) endpoints[i] = BinaryPrimitives.ReadUInt16LittleEndian(buffer[(HeaderSize + 2 * i)..]);
        return new MemoryRelinquishDescriptor(BinaryPrimitives.ReadUInt64LittleEndian(buffer),
            BinaryPrimitives.ReadUInt32LittleEndian(buffer[8..]), endpoints);
    }
}
