using System.Buffers.Binary;
using Spmc.Abi.Ffa;
using Spmc.Abi.Rules;

namespace Spmc.Abi.Descriptors.Memory;

/// <summary>Rules of the memory relinquish descriptor (DEN0077 v1.1 table 16.25).</summary>
public static class RelinquishRules
{
    public static readonly Rule HeaderTruncated = new("relinquish-desc.header-truncated", FfaError.InvalidParameters,
        "the buffer holds the 16-byte relinquish header (handle, flags, endpoint count)", "DEN0077 v1.1 table 16.25");
    public static readonly Rule EndpointsTruncated = new("relinquish-desc.endpoints-truncated", FfaError.InvalidParameters,
        "every endpoint ID the count names lies inside the buffer after the header",
        "DEN0077 v1.1 table 16.25; Hafnium api_ffa_mem_relinquish (length from the endpoint count)");
}

/// <summary>
/// Memory relinquish descriptor: handle, flags (bit 0 zero memory after relinquish, bit 1 time slicing),
/// endpoint count, then the 16-bit endpoint IDs.
/// </summary>
public sealed record MemoryRelinquishDescriptor(ulong Handle, uint Flags, IReadOnlyList<ushort> Endpoints)
{
    public const int HeaderSize = 16;
    public const uint ZeroMemory = 1u << 0;
    public const uint TimeSlicing = 1u << 1;

    /// <summary>Bytes of one endpoint ID in the array.</summary>
    public const int EndpointIdSize = 2;

    /// <summary>Field offsets (DEN0077 v1.1 table 16.25).</summary>
    public static class Offsets
    {
        public const int Handle = 0;
        public const int Flags = 8;
        public const int EndpointCount = 12;
        public const int Endpoints = HeaderSize;
    }

    public int Size => HeaderSize + Endpoints.Count * EndpointIdSize;

    private static int EndpointAt(int index) => Offsets.Endpoints + index * EndpointIdSize;

    public byte[] ToBytes()
    {
        var bytes = new byte[Size];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(Offsets.Handle), Handle);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(Offsets.Flags), Flags);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(Offsets.EndpointCount), (uint)Endpoints.Count);
        for (var i = 0; i < Endpoints.Count; i++) BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(EndpointAt(i)), Endpoints[i]);
        return bytes;
    }

    public static ParseResult<MemoryRelinquishDescriptor> Read(ReadOnlySpan<byte> buffer)
    {
        if (buffer.Length < HeaderSize)
            return RelinquishRules.HeaderTruncated.Reject($"relinquish descriptor: {buffer.Length} bytes, need {HeaderSize}");
        var count = BinaryPrimitives.ReadUInt32LittleEndian(buffer[Offsets.EndpointCount..]);
        if (!Bounds.Fits(Offsets.Endpoints, (ulong)count * EndpointIdSize, buffer.Length))
            return RelinquishRules.EndpointsTruncated.Reject($"relinquish descriptor: {count} endpoint IDs do not fit in {buffer.Length} bytes");
        var endpoints = new ushort[count];
        for (var i = 0; i < count; i++) endpoints[i] = BinaryPrimitives.ReadUInt16LittleEndian(buffer[EndpointAt(i)..]);
        return new MemoryRelinquishDescriptor(BinaryPrimitives.ReadUInt64LittleEndian(buffer[Offsets.Handle..]),
            BinaryPrimitives.ReadUInt32LittleEndian(buffer[Offsets.Flags..]), endpoints);
    }
}
