using System.Buffers.Binary;
using Spmc.Abi.Ffa;

namespace Spmc.Abi.Descriptors;

/// <summary>
/// The partition message header of FFA_MSG_SEND2 (FF-A v1.1 table 7.1, v1.2 table 7.1), at the start of the
/// sender's TX buffer and, after delivery, of the receiver's RX buffer. Little endian:
/// <code>
/// +0  u32 flags (reserved, MBZ)        +4  u32 reserved
/// +8  u32 payload offset               +12 u16 receiver ID   +14 u16 sender ID
/// +16 u32 payload size                 -- 20 bytes in v1.1 --
/// +20 u32 reserved (v1.2)              +24 16-byte protocol UUID (v1.2, may be nil)
/// </code>
/// The header is 20 bytes for v1.1 and 40 bytes from v1.2; the layout follows the sender's negotiated version
/// (v1.0 has no MSG_SEND2 and is read with the v1.1 layout).
/// </summary>
public readonly record struct IndirectMessageHeader(
    uint Flags,
    uint Reserved1,
    uint PayloadOffset,
    ushort Receiver,
    ushort Sender,
    uint PayloadSize,
    uint Reserved2,
    FfaUuid Uuid)
{
    public const int SizeV1_1 = 20;
    public const int SizeV1_2 = 40;

    /// <summary>The header size of a layout: 20 bytes before v1.2, 40 from v1.2.</summary>
    public static int SizeFor(FfaVersion layout) => layout < FfaVersion.V1_2 ? SizeV1_1 : SizeV1_2;

    /// <summary>A header with the payload right after it (offset = the header size of <paramref name="layout"/>).</summary>
    public static IndirectMessageHeader For(ushort sender, ushort receiver, uint payloadSize, FfaVersion layout, FfaUuid uuid = default) =>
        new(0, 0, (uint)SizeFor(layout), receiver, sender, payloadSize, 0, layout < FfaVersion.V1_2 ? FfaUuid.Nil : uuid);

    /// <summary>Writes the header in <paramref name="layout"/>; the v1.2 fields are not written for a v1.1 layout.</summary>
    public void Write(Span<byte> destination, FfaVersion layout)
    {
        var size = SizeFor(layout);
        if (destination.Length < size) throw new ArgumentException($"an indirect message header needs {size} bytes", nameof(destination));
        destination[..size].Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(destination, Flags);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], Reserved1);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], PayloadOffset);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[12..], Receiver);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[14..], Sender);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[16..], PayloadSize);
        if (size < SizeV1_2) return;
        BinaryPrimitives.WriteUInt32LittleEndian(destination[20..], Reserved2);
        Uuid.WriteTo(destination[24..]);
    }

    /// <summary>
    /// Decodes a header in <paramref name="layout"/>. Only the length is checked: the reserved fields and the
    /// offset/size are the relayer's to judge (Hafnium ignores the reserved fields).
    /// </summary>
    public static ParseResult<IndirectMessageHeader> Read(ReadOnlySpan<byte> source, FfaVersion layout)
    {
        var size = SizeFor(layout);
        if (source.Length < size)
            return ParseResult<IndirectMessageHeader>.Fail($"indirect message header: {source.Length} bytes, need {size}");
        var v12 = size >= SizeV1_2;
        return new IndirectMessageHeader(
            BinaryPrimitives.ReadUInt32LittleEndian(source),
            BinaryPrimitives.ReadUInt32LittleEndian(source[4..]),
            BinaryPrimitives.ReadUInt32LittleEndian(source[8..]),
            BinaryPrimitives.ReadUInt16LittleEndian(source[12..]),
            BinaryPrimitives.ReadUInt16LittleEndian(source[14..]),
            BinaryPrimitives.ReadUInt32LittleEndian(source[16..]),
            v12 ? BinaryPrimitives.ReadUInt32LittleEndian(source[20..]) : 0,
            v12 ? FfaUuid.FromBytes(source[24..]) : FfaUuid.Nil);
    }
}
