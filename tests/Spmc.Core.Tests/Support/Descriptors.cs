using System.Buffers.Binary;

namespace Spmc.Core.Tests.Support;

/// <summary>Hand-built descriptors for the tests (ffa-abi.md §5.7 and §5.11), so malformed variants are easy.</summary>
public static class Descriptors
{
    /// <summary>
    /// An endpoint RX/TX descriptor: a 16-byte header {u16 id, u16 reserved, u32 RX offset, u32 TX offset, u32 pad},
    /// then the RX and the TX composite, each {u32 total pages, u32 count, u64 reserved} and 16-byte constituents.
    /// </summary>
    public static byte[] EndpointRxTx(ushort id, (ulong Address, uint Pages)[] rx, (ulong Address, uint Pages)[] tx,
        uint? rxOffset = null, uint? txOffset = null, uint? rxCount = null)
    {
        var rxAt = 16;
        var txAt = rxAt + 16 + 16 * rx.Length;
        var bytes = new byte[txAt + 16 + 16 * tx.Length];
        BinaryPrimitives.WriteUInt16LittleEndian(bytes, id);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), rxOffset ?? (uint)rxAt);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), txOffset ?? (uint)txAt);
        Composite(bytes.AsSpan(rxAt), rx, rxCount);
        Composite(bytes.AsSpan(txAt), tx, null);
        return bytes;
    }

    /// <summary>One contiguous RX and TX range of <paramref name="pages"/> pages each.</summary>
    public static byte[] EndpointRxTx(ushort id, ulong tx, ulong rx, uint pages = 1) => EndpointRxTx(id, [(rx, pages)], [(tx, pages)]);

    private static void Composite(Span<byte> at, (ulong Address, uint Pages)[] constituents, uint? count)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(at, (uint)constituents.Sum(c => c.Pages));
        BinaryPrimitives.WriteUInt32LittleEndian(at[4..], count ?? (uint)constituents.Length);
        for (var i = 0; i < constituents.Length; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(at[(16 + 16 * i)..], constituents[i].Address);
            BinaryPrimitives.WriteUInt32LittleEndian(at[(24 + 16 * i)..], constituents[i].Pages);
        }
    }
}

/// <summary>Expected partition information descriptors, written out field by field (ffa-abi.md §5.8).</summary>
public static class PartitionInfo
{
    /// <summary>v1.1+ layout: u16 ID, u16 execution contexts, u32 properties, 16-byte UUID (zero when null).</summary>
    public static byte[] V1_1(ushort id, ushort contexts, uint properties, string? uuid)
    {
        var bytes = new byte[24];
        BinaryPrimitives.WriteUInt16LittleEndian(bytes, id);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2), contexts);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), properties);
        if (uuid is not null) Uuid.Bytes(uuid).CopyTo(bytes, 8);
        return bytes;
    }

    /// <summary>v1.0 layout: u16 ID, u16 execution contexts, u32 properties.</summary>
    public static byte[] V1_0(ushort id, ushort contexts, uint properties) => V1_1(id, contexts, properties, null)[..8];

    /// <summary>First register of a PARTITION_INFO_GET_REGS entry: ID | contexts &lt;&lt; 16 | properties &lt;&lt; 32.</summary>
    public static ulong Word0(ushort id, ushort contexts, uint properties) => id | ((ulong)contexts << 16) | ((ulong)properties << 32);
}
