using System.Buffers.Binary;

namespace Spmc.Abi.Descriptors;

/// <summary>
/// Endpoint RX/TX descriptor (FF-A v1.1 table 13.27): what a hypervisor puts in its own TX buffer when it
/// forwards FFA_RXTX_MAP for a VM with x1 = x2 = w3 = 0. Header of 16 bytes, then one composite for RX and
/// one for TX at 8-byte-aligned offsets.
/// </summary>
public sealed record EndpointRxTxDescriptor(ushort EndpointId, CompositeMemoryRegion Rx, CompositeMemoryRegion Tx)
{
    public const int HeaderSize = 16;

    public int Size => HeaderSize + Rx.Size + Tx.Size;

    public void Write(Span<byte> destination)
    {
        destination[..Size].Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(destination, EndpointId);
        var rxOffset = HeaderSize;
        var txOffset = HeaderSize + Rx.Size;
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], (uint)rxOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], (uint)txOffset);
        Rx.Write(destination[rxOffset..]);
        Tx.Write(destination[txOffset..]);
    }

    public static ParseResult<EndpointRxTxDescriptor> Read(ReadOnlySpan<byte> buffer)
    {
        if (buffer.Length < HeaderSize)
            return ParseResult<EndpointRxTxDescriptor>.Fail($"endpoint RX/TX descriptor: {buffer.Length} bytes, need {HeaderSize}");
        var id = BinaryPrimitives.ReadUInt16LittleEndian(buffer);
        var rxOffset = BinaryPrimitives.ReadUInt32LittleEndian(buffer[4..]);
        var txOffset = BinaryPrimitives.ReadUInt32LittleEndian(buffer[8..]);
        if (rxOffset % 8 != 0 || txOffset % 8 != 0)
            return ParseResult<EndpointRxTxDescriptor>.Fail($"endpoint RX/TX descriptor: offsets 0x{rxOffset:X}/0x{txOffset:X} are not 8-byte aligned");
        var rx = CompositeMemoryRegion.Read(buffer, rxOffset, "RX composite");
        if (!rx.Ok) return ParseResult<EndpointRxTxDescriptor>.Fail(rx.Error!);
        var tx = CompositeMemoryRegion.Read(buffer, txOffset, "TX composite");
        if (!tx.Ok) return ParseResult<EndpointRxTxDescriptor>.Fail(tx.Error!);
        return new EndpointRxTxDescriptor(id, rx.Value!, tx.Value!);
    }
}
