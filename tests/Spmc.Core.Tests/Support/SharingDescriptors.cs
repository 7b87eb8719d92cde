using System.Buffers.Binary;
using Spmc.Abi.Descriptors;
using Spmc.Abi.Descriptors.Memory;

namespace Spmc.Core.Tests.Support;

/// <summary>
/// FF-A memory-management function IDs (ffa-abi.md §1.1), spelled out as numbers so the tests check the product's table.
/// SMC32 forms are 0x8400_00xx, SMC64 forms 0xC400_00xx.
/// </summary>
public static class MemIds
{
    public const ulong Donate32 = 0x8400_0071, Lend32 = 0x8400_0072, Share32 = 0x8400_0073, RetrieveReq32 = 0x8400_0074;
    public const ulong Donate64 = 0xC400_0071, Lend64 = 0xC400_0072, Share64 = 0xC400_0073, RetrieveReq64 = 0xC400_0074;
    public const ulong RetrieveResp = 0x8400_0075, Relinquish = 0x8400_0076, Reclaim = 0x8400_0077, FragRx = 0x8400_007A, FragTx = 0x8400_007B;
    public const ulong RxRelease = 0x8400_0065, RxAcquire = 0x8400_0084, Features = 0x8400_0064;
}

/// <summary>Which send ABI: the operation, as the descriptors and the ID tables know it.</summary>
public enum SendOp
{
    Share,
    Lend,
    Donate,
}

public static class SendOps
{
    public static ulong Id(this SendOp op, bool smc64 = false) => op switch
    {
        SendOp.Share => smc64 ? MemIds.Share64 : MemIds.Share32,
        SendOp.Lend => smc64 ? MemIds.Lend64 : MemIds.Lend32,
        _ => smc64 ? MemIds.Donate64 : MemIds.Donate32,
    };

    public static MemoryTransactionType Type(this SendOp op) => op switch
    {
        SendOp.Share => MemoryTransactionType.Share,
        SendOp.Lend => MemoryTransactionType.Lend,
        _ => MemoryTransactionType.Donate,
    };

    /// <summary>A sender's permissions byte that is valid for the operation: RW for SHARE/LEND, unspecified for DONATE (§8.2 step 13).</summary>
    public static byte ValidPermission(this SendOp op) => op == SendOp.Donate ? (byte)0 : Perm.RW;

    /// <summary>Attributes that are valid for the operation with one receiver: Normal/WB/inner for SHARE, unspecified otherwise (§8.2 step 14).</summary>
    public static ushort ValidAttributes(this SendOp op, int receivers = 1) =>
        op == SendOp.Share || (op == SendOp.Lend && receivers > 1) ? (ushort)0x2F : (ushort)0;

    public static SendOp FromId(ulong fid) => (fid & 0xFF) switch
    {
        0x73 => SendOp.Share,
        0x72 => SendOp.Lend,
        _ => SendOp.Donate,
    };
}

/// <summary>Permission byte values (ffa-abi.md §5.4): data bits[1:0], instruction bits[3:2].</summary>
public static class Perm
{
    public const byte None = 0, RO = 0x1, RW = 0x2, NX = 0x4, X = 0x8;
}

/// <summary>Memory transaction, retrieve and relinquish descriptors for the tests, built with the product's codec and then bent where a test needs a malformed one.</summary>
public static class SharingDescriptors
{
    public const ulong Tag = 0x5AFE;

    /// <summary>A send descriptor (SHARE/LEND/DONATE): header, one EMAD per receiver, composite right after them.</summary>
    public static byte[] Send(ushort sender, IEnumerable<(ushort Id, byte Perm)> receivers, IEnumerable<(ulong Address, uint Pages)> constituents,
        ushort attributes = 0, uint flags = 0, ulong tag = Tag, MemoryDescriptorLayout layout = MemoryDescriptorLayout.V1_2, uint? totalPages = null,
        byte emadFlags = 0)
    {
        var parts = constituents.Select(c => new MemoryRegionConstituent(c.Address, c.Pages)).ToArray();
        var composite = new CompositeMemoryRegion(totalPages ?? (uint)parts.Sum(p => (long)p.PageCount), parts);
        return new MemoryTransactionDescriptor(sender, new MemoryRegionAttributes(attributes), new MemoryTransactionFlags(flags), 0, tag,
            receivers.Select(r => new EndpointMemoryAccess(new MemoryAccessPermissions(r.Id, r.Perm, emadFlags), 0)).ToList(), composite).ToBytes(layout);
    }

    /// <summary>The usual valid descriptor for <paramref name="op"/> from <paramref name="sender"/> to one receiver.</summary>
    public static byte[] Simple(SendOp op, ushort sender, ushort receiver, ulong address, uint pages = 1, uint flags = 0,
        MemoryDescriptorLayout layout = MemoryDescriptorLayout.V1_2) =>
        Send(sender, [(receiver, op.ValidPermission())], [(address, pages)], op.ValidAttributes(), flags, layout: layout);

    /// <summary>A retrieve request: header with the handle, the listed receivers with composite offset 0, nothing after them.</summary>
    public static byte[] Retrieve(ushort sender, ulong handle, IEnumerable<(ushort Id, byte Perm)> receivers, uint flags = 0, ulong tag = Tag,
        ushort attributes = 0, MemoryDescriptorLayout layout = MemoryDescriptorLayout.V1_2) =>
        new MemoryTransactionDescriptor(sender, new MemoryRegionAttributes(attributes), new MemoryTransactionFlags(flags), handle, tag,
            receivers.Select(r => new EndpointMemoryAccess(new MemoryAccessPermissions(r.Id, r.Perm), 0)).ToList())
            .ToBytes(layout);

    /// <summary>The hypervisor retrieve request (§8.5): a 48-byte header, zero but for the handle.</summary>
    public static byte[] HypervisorRetrieve(ulong handle)
    {
        var bytes = new byte[48];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(8), handle);
        return bytes;
    }

    public static byte[] Relinquish(ulong handle, uint flags, params ushort[] endpoints) => new MemoryRelinquishDescriptor(handle, flags, endpoints).ToBytes();

    /// <summary>Offset of EMAD <paramref name="index"/> in a descriptor of <paramref name="layout"/>.</summary>
    public static int EmadAt(int index, MemoryDescriptorLayout layout = MemoryDescriptorLayout.V1_2) =>
        layout.HeaderSize() + index * layout.EmadSize();

    /// <summary>Offset of the composite in a descriptor of <paramref name="layout"/> with <paramref name="receivers"/> EMADs.</summary>
    public static int CompositeAt(int receivers, MemoryDescriptorLayout layout = MemoryDescriptorLayout.V1_2) => EmadAt(receivers, layout);

    /// <summary>Overwrites every EMAD's composite offset.</summary>
    public static byte[] WithCompositeOffset(byte[] descriptor, int receivers, uint offset, MemoryDescriptorLayout layout = MemoryDescriptorLayout.V1_2)
    {
        var copy = (byte[])descriptor.Clone();
        for (var i = 0; i < receivers; i++) BinaryPrimitives.WriteUInt32LittleEndian(copy.AsSpan(EmadAt(i, layout) + 4), offset);
        return copy;
    }

    public static byte[] WithU32(byte[] descriptor, int offset, uint value)
    {
        var copy = (byte[])descriptor.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(copy.AsSpan(offset), value);
        return copy;
    }

    public static byte[] WithU64(byte[] descriptor, int offset, ulong value)
    {
        var copy = (byte[])descriptor.Clone();
        BinaryPrimitives.WriteUInt64LittleEndian(copy.AsSpan(offset), value);
        return copy;
    }

    public static byte[] Padded(byte[] descriptor, int extra) => [.. descriptor, .. new byte[extra]];

    /// <summary>Parses a retrieve response (or hypervisor retrieve response) in the given layout, composite included.</summary>
    public static MemoryTransactionDescriptor ParseResponse(byte[] response, bool v1_0 = false)
    {
        var parsed = MemoryTransactionDescriptor.Read(response, v1_0);
        Assert.True(parsed.Ok, parsed.Error);
        return parsed.Value!;
    }
}
