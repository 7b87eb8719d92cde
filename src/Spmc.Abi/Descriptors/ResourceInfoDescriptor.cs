using System.Buffers.Binary;
using Spmc.Abi.Ffa;
using Spmc.Abi.Rules;

namespace Spmc.Abi.Descriptors;

/// <summary>Rules of the resource information descriptor of FFA_NS_RES_INFO_GET (DEN0077 v1.3 tables 13.62/13.63).</summary>
public static class ResourceInfoRules
{
    public static readonly Rule Truncated = new("ns-res-info-desc.truncated", FfaError.InvalidParameters,
        "the buffer holds the 16-byte header and every address map descriptor it counts", "DEN0077 v1.3 ALP4 table 13.62");
    public static readonly Rule EntrySize = new("ns-res-info-desc.entry-size", FfaError.InvalidParameters,
        "address map descriptors are 16 bytes, at a 16-byte aligned offset of at least 16", "DEN0077 v1.3 ALP4 tables 13.62/13.63");
}

/// <summary>Who may access a region an <see cref="AddressMapDescriptor"/> describes (its flags, bit 0).</summary>
public enum RegionAccessType : byte
{
    /// <summary>The component maps the region itself (D0239).</summary>
    Direct = 0,
    /// <summary>The SPMC accesses the region on an SP's behalf, e.g. a VM's RX/TX buffer (D0241).</summary>
    Indirect = 1,
}

/// <summary>
/// Address map descriptor (AMD, DEN0077 v1.3 table 13.63), 16 bytes: u64 base address (4K aligned, a PA at the
/// non-secure physical instance), u32 count of 4K pages, u8 region access permissions (table 13.64: bits[7:4]
/// privileged, bits[3:0] unprivileged; bit 0/4 read, 1/5 write, 2/6 execute), u16 component ID, u8 flags (bit 0:
/// 1 = indirectly accessible).
/// </summary>
public sealed record AddressMapDescriptor(ulong Address, uint PageCount, byte Permissions, ushort ComponentId, RegionAccessType Access)
{
    public const int Size = 16;

    /// <summary>Region access permission bits (table 13.64): read, write, execute for both levels, and privileged only.</summary>
    public static class Rap
    {
        public const byte Read = 0x11, Write = 0x22, Execute = 0x44, PrivilegedRead = 0x10, PrivilegedWrite = 0x20;
    }

    public static class Offsets
    {
        public const int Address = 0, PageCount = 8, Permissions = 12, ComponentId = 13, Flags = 15;
    }

    public void Write(Span<byte> destination)
    {
        destination[..Size].Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(destination[Offsets.Address..], Address);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[Offsets.PageCount..], PageCount);
        destination[Offsets.Permissions] = Permissions;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[Offsets.ComponentId..], ComponentId);
        destination[Offsets.Flags] = (byte)Access;
    }

    public static AddressMapDescriptor Read(ReadOnlySpan<byte> source) => new(
        BinaryPrimitives.ReadUInt64LittleEndian(source[Offsets.Address..]),
        BinaryPrimitives.ReadUInt32LittleEndian(source[Offsets.PageCount..]),
        source[Offsets.Permissions],
        BinaryPrimitives.ReadUInt16LittleEndian(source[Offsets.ComponentId..]),
        (RegionAccessType)(source[Offsets.Flags] & 1));
}

/// <summary>
/// Resource information descriptor (DEN0077 v1.3 table 13.62), what FFA_NS_RES_INFO_GET writes to the caller's RX
/// buffer (in chunks when it does not fit): a 16-byte header — u32 AMD size (16), u32 AMD count, u32 offset of the
/// AMD array (16-byte aligned; 16 here), u32 reserved — then the <see cref="AddressMapDescriptor"/>s.
/// </summary>
public sealed record ResourceInfoDescriptor(IReadOnlyList<AddressMapDescriptor> Regions)
{
    public const int HeaderSize = 16;

    public static class Offsets
    {
        public const int EntrySize = 0, Count = 4, ArrayOffset = 8, Reserved = 12;
    }

    public int Size => HeaderSize + Regions.Count * AddressMapDescriptor.Size;

    public byte[] Encode()
    {
        var bytes = new byte[Size];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(Offsets.EntrySize), AddressMapDescriptor.Size);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(Offsets.Count), (uint)Regions.Count);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(Offsets.ArrayOffset), HeaderSize);
        for (var i = 0; i < Regions.Count; i++) Regions[i].Write(bytes.AsSpan(HeaderSize + i * AddressMapDescriptor.Size));
        return bytes;
    }

    public static ParseResult<ResourceInfoDescriptor> Read(ReadOnlySpan<byte> buffer)
    {
        if (buffer.Length < HeaderSize)
            return ResourceInfoRules.Truncated.Reject($"resource information descriptor: {buffer.Length} bytes, the header needs {HeaderSize}");
        var entrySize = BinaryPrimitives.ReadUInt32LittleEndian(buffer[Offsets.EntrySize..]);
        var count = BinaryPrimitives.ReadUInt32LittleEndian(buffer[Offsets.Count..]);
        var offset = BinaryPrimitives.ReadUInt32LittleEndian(buffer[Offsets.ArrayOffset..]);
        if (entrySize != AddressMapDescriptor.Size || offset < HeaderSize || offset % 16 != 0)
            return ResourceInfoRules.EntrySize.Reject($"resource information descriptor: AMD size {entrySize} at offset {offset}");
        if (!Bounds.Fits(offset, (ulong)count * AddressMapDescriptor.Size, buffer.Length))
            return ResourceInfoRules.Truncated.Reject($"resource information descriptor: {count} AMDs at offset {offset} do not fit {buffer.Length} bytes");
        var regions = new AddressMapDescriptor[count];
        for (var i = 0; i < regions.Length; i++) regions[i] = AddressMapDescriptor.Read(buffer[(int)(offset + i * AddressMapDescriptor.Size)..]);
        return new ResourceInfoDescriptor(regions);
    }
}
