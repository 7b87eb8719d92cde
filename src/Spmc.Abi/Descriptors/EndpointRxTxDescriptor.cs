using System.Buffers.Binary;
using Spmc.Abi.Ffa;
using Spmc.Abi.Rules;

namespace Spmc.Abi.Descriptors;

/// <summary>
/// Rules of the endpoint RX/TX descriptor (DEN0077 v1.1 table 13.27). Its two composites are checked by
/// <see cref="CompositeRules"/> and <see cref="ConstituentRules"/>, their reasons naming the RX or TX composite.
/// </summary>
public static class EndpointRxTxRules
{
    public static readonly Rule HeaderTruncated = new("rxtx-desc.header-truncated", FfaError.InvalidParameters,
        "the buffer holds the 16-byte endpoint RX/TX descriptor header", "DEN0077 v1.1 table 13.27");
    public static readonly Rule OffsetUnaligned = new("rxtx-desc.offset-unaligned", FfaError.InvalidParameters,
        "the RX and TX composite offsets are 8-byte aligned", "DEN0077 v1.1 table 13.27");
}

/// <summary>
/// Endpoint RX/TX descriptor (FF-A v1.1 table 13.27): what a hypervisor puts in its own TX buffer when it
/// forwards FFA_RXTX_MAP for a VM with x1 = x2 = w3 = 0. Header of 16 bytes, then one composite for RX and
/// one for TX at 8-byte-aligned offsets.
/// </summary>
public sealed record EndpointRxTxDescriptor(ushort EndpointId, CompositeMemoryRegion Rx, CompositeMemoryRegion Tx)
{
    public const int HeaderSize = 16;

    /// <summary>Field offsets of the header (DEN0077 v1.1 table 13.27).</summary>
    public static class Offsets
    {
        public const int EndpointId = 0;
        /// <summary>u16, reserved.</summary>
        public const int Reserved = 2;
        /// <summary>u32: offset of the RX composite from the start of this descriptor.</summary>
        public const int RxOffset = 4;
        /// <summary>u32: offset of the TX composite from the start of this descriptor.</summary>
        public const int TxOffset = 8;
        /// <summary>u32, padding to 16 bytes.</summary>
        public const int Padding = 12;
    }

    public int Size => HeaderSize + Rx.Size + Tx.Size;

    public void Write(Span<byte> destination)
    {
        destination[..Size].Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(destination[Offsets.EndpointId..], EndpointId);
        var rxOffset = HeaderSize;
        var txOffset = HeaderSize + Rx.Size;
        BinaryPrimitives.WriteUInt32LittleEndian(destination[Offsets.RxOffset..], (uint)rxOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[Offsets.TxOffset..], (uint)txOffset);
        Rx.Write(destination[rxOffset..]);
        Tx.Write(destination[txOffset..]);
    }

    public static ParseResult<EndpointRxTxDescriptor> Read(ReadOnlySpan<byte> buffer)
    {
        if (buffer.Length < HeaderSize)
            return EndpointRxTxRules.HeaderTruncated.Reject($"endpoint RX/TX descriptor: {buffer.Length} bytes, need {HeaderSize}");
        var id = BinaryPrimitives.ReadUInt16LittleEndian(buffer[Offsets.EndpointId..]);
        var rxOffset = BinaryPrimitives.ReadUInt32LittleEndian(buffer[Offsets.RxOffset..]);
        var txOffset = BinaryPrimitives.ReadUInt32LittleEndian(buffer[Offsets.TxOffset..]);
        if (rxOffset % 8 != 0 || txOffset % 8 != 0)
            return EndpointRxTxRules.OffsetUnaligned.Reject($"endpoint RX/TX descriptor: offsets 0x{rxOffset:X}/0x{txOffset:X} are not 8-byte aligned");
        var rx = CompositeMemoryRegion.Read(buffer, rxOffset, "RX composite");
        if (!rx.Ok) return rx.Rejection!;
        var tx = CompositeMemoryRegion.Read(buffer, txOffset, "TX composite");
        if (!tx.Ok) return tx.Rejection!;
        return new EndpointRxTxDescriptor(id, rx.Value!, tx.Value!);
    }
}
