using System.Buffers.Binary;
using Spmc.Abi.Ffa;
using Spmc.Abi.Rules;

namespace Spmc.Abi.Descriptors;

/// <summary>Rules of the FFA_MSG_SEND2 partition message header (DEN0077 v1.1 and v1.2 table 7.1).</summary>
public static class IndirectMessageRules
{
    public static readonly Rule Truncated = new("msg-header.truncated", FfaError.InvalidParameters,
        "the buffer holds the whole message header: 20 bytes before v1.2, 40 from v1.2", "DEN0077 v1.1 table 7.1, v1.2 table 7.1");
}

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

    /// <summary>Field offsets (DEN0077 v1.1 and v1.2 table 7.1).</summary>
    public static class Offsets
    {
        public const int Flags = 0;
        public const int Reserved1 = 4;
        public const int PayloadOffset = 8;
        /// <summary>u16; with <see cref="Sender"/> the v1.1 "sender/receiver" word (sender in bits[31:16]).</summary>
        public const int Receiver = 12;
        public const int Sender = 14;
        public const int PayloadSize = 16;
        /// <summary>v1.2+: u32, reserved.</summary>
        public const int Reserved2 = 20;
        /// <summary>v1.2+: the 16-byte protocol UUID.</summary>
        public const int Uuid = 24;
    }

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
        BinaryPrimitives.WriteUInt32LittleEndian(destination[Offsets.Flags..], Flags);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[Offsets.Reserved1..], Reserved1);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[Offsets.PayloadOffset..], PayloadOffset);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[Offsets.Receiver..], Receiver);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[Offsets.Sender..], Sender);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[Offsets.PayloadSize..], PayloadSize);
        if (size < SizeV1_2) return;
        BinaryPrimitives.WriteUInt32LittleEndian(destination[Offsets.Reserved2..], Reserved2);
        Uuid.WriteTo(destination[Offsets.Uuid..]);
    }

    /// <summary>
    /// Decodes a header in <paramref name="layout"/>. Only the length is checked: the reserved fields and the
    /// offset/size are the relayer's to judge (Hafnium ignores the reserved fields).
    /// </summary>
    public static ParseResult<IndirectMessageHeader> Read(ReadOnlySpan<byte> source, FfaVersion layout)
    {
        var size = SizeFor(layout);
        if (source.Length < size)
            return IndirectMessageRules.Truncated.Reject($"indirect message header: {source.Length} bytes, need {size}");
        var v12 = size >= SizeV1_2;
        return new IndirectMessageHeader(
            BinaryPrimitives.ReadUInt32LittleEndian(source[Offsets.Flags..]),
            BinaryPrimitives.ReadUInt32LittleEndian(source[Offsets.Reserved1..]),
            BinaryPrimitives.ReadUInt32LittleEndian(source[Offsets.PayloadOffset..]),
            BinaryPrimitives.ReadUInt16LittleEndian(source[Offsets.Receiver..]),
            BinaryPrimitives.ReadUInt16LittleEndian(source[Offsets.Sender..]),
            BinaryPrimitives.ReadUInt32LittleEndian(source[Offsets.PayloadSize..]),
            v12 ? BinaryPrimitives.ReadUInt32LittleEndian(source[Offsets.Reserved2..]) : 0,
            v12 ? FfaUuid.FromBytes(source[Offsets.Uuid..]) : FfaUuid.Nil);
    }
}
