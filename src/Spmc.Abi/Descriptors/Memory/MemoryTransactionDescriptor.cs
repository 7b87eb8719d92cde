using System.Buffers.Binary;
using Spmc.Abi.Ffa;
using Spmc.Abi.Rules;

namespace Spmc.Abi.Descriptors.Memory;

/// <summary>
/// The byte layout of memory transaction descriptors a caller uses: v1.0 (32-byte header, 8-bit attributes,
/// 16-byte EMADs inline at 32), v1.1 (48-byte header with EMAD size/count/offset, 16-byte EMADs) and v1.2
/// (the same header, 32-byte EMADs). v1.3 keeps the v1.2 layout.
/// </summary>
public enum MemoryDescriptorLayout
{
    V1_0,
    V1_1,
    V1_2,
}

public static class MemoryDescriptorLayouts
{
    public static MemoryDescriptorLayout For(FfaVersion version) =>
        version < FfaVersion.V1_1 ? MemoryDescriptorLayout.V1_0 : version < FfaVersion.V1_2 ? MemoryDescriptorLayout.V1_1 : MemoryDescriptorLayout.V1_2;

    public static int HeaderSize(this MemoryDescriptorLayout layout) =>
        layout == MemoryDescriptorLayout.V1_0 ? MemoryTransactionDescriptor.HeaderSizeV1_0 : MemoryTransactionDescriptor.HeaderSizeV1_1;

    public static int EmadSize(this MemoryDescriptorLayout layout) =>
        layout == MemoryDescriptorLayout.V1_2 ? EndpointMemoryAccess.SizeV1_2 : EndpointMemoryAccess.SizeV1_0;
}

/// <summary>
/// Rules of the memory transaction descriptor's header and EMADs (DEN0077 v1.1 table 10.20; v1.0's 32-byte form).
/// The composite it points at is checked by <see cref="CompositeRules"/> and <see cref="ConstituentRules"/>.
/// </summary>
public static class MemoryDescriptorRules
{
    public static readonly Rule HeaderTruncated = new("mem-desc.header-truncated", FfaError.InvalidParameters,
        "the buffer holds the whole header: 32 bytes in the v1.0 layout, 48 from v1.1",
        "DEN0077 v1.0 EAC table 45, v1.1 table 10.20");
    public static readonly Rule V1_0ReservedByteMbz = new("mem-desc.v1-0-byte-3-mbz", FfaError.InvalidParameters,
        "v1.0 header: byte 3, after the 8-bit attributes, is reserved (MBZ)",
        "DEN0077 v1.0 EAC table 45; Hafnium ffa_memory_region_sanity_check");
    public static readonly Rule V1_0ReservedWordMbz = new("mem-desc.v1-0-bytes-24-27-mbz", FfaError.InvalidParameters,
        "v1.0 header: bytes 24..27 are reserved (MBZ); v1.1 puts the EMAD size there",
        "DEN0077 v1.0 EAC table 45; Hafnium ffa_memory_region_sanity_check");
    public static readonly Rule ReservedMbz = new("mem-desc.bytes-36-47-mbz", FfaError.InvalidParameters,
        "v1.1+ header: bytes 36..47 are reserved (MBZ)", "DEN0077 v1.1 table 10.20; Hafnium ffa_memory_region_sanity_check");
    public static readonly Rule EmadSizeInvalid = new("mem-desc.emad-size-invalid", FfaError.InvalidParameters,
        "the EMAD size is 16 (v1.1) or 32 (v1.2); a larger multiple of 16 only extends the v1.2 EMAD",
        "DEN0077 v1.1 table 10.20, v1.2 EMAD; Hafnium ffa_version_from_memory_access_desc_size");
    public static readonly Rule ReceiversOffsetInHeader = new("mem-desc.receivers-offset-in-header", FfaError.InvalidParameters,
        "the EMAD array starts after the 48-byte header",
        "DEN0077 v1.1 table 10.20; Hafnium receiver_size_and_offset_valid_for_version (which wants exactly 48)");
    public static readonly Rule ReceiversOffsetUnaligned = new("mem-desc.receivers-offset-unaligned", FfaError.InvalidParameters,
        "the EMAD array offset is 16-byte aligned", "DEN0077 v1.1 table 10.20; arm-ffa (Rust) memory_management");
    public static readonly Rule EmadsTruncated = new("mem-desc.emads-truncated", FfaError.InvalidParameters,
        "every EMAD (count x size from the receivers offset) lies inside the buffer",
        "DEN0077 v1.1 table 10.20; Hafnium ffa_memory_region_get_receiver");
    public static readonly Rule EmadReservedMbz = new("mem-desc.emad-reserved-mbz", FfaError.InvalidParameters,
        "an EMAD's reserved word (bytes 8..15 of a 16-byte EMAD, 24..31 of a 32-byte one) is MBZ; non-zero bytes 8..15 at FF-A 1.0/1.1 are the known Linux arm_ffa defect, which the system's compat switch 'arm-ffa-emad-reserved' accepts",
        "DEN0077 v1.1 table 10.16; Hafnium ffa_memory_region_sanity_check; Linux arm_ffa 11fb1a82 (defect), 3383ffb7 (fix, CVE-2026-68401)");

    /// <summary>
    /// Why a 16-byte (v1.0/v1.1) EMAD's reserved bytes are not zero, when a Linux driver sent it: its
    /// ffa_setup_and_transmit writes bytes 0..7 and 24..31 of Linux's 32-byte struct, so bytes 8..15 keep stale TX bytes.
    /// </summary>
    public const string LinuxEmadDefect =
        "the known Linux arm_ffa defect at FF-A 1.0/1.1: ffa_setup_and_transmit leaves EMAD bytes 8..15 unwritten " +
        "(11fb1a82, fixed by 3383ffb7, CVE-2026-68401: kernels 6.18.0-6.18.41 and 6.19-7.1.5); " +
        "a system with spmc.compat [\"arm-ffa-emad-reserved\"] accepts it";
}

/// <summary>
/// Memory transaction descriptor (DONATE/LEND/SHARE, retrieve requests and responses): header, the endpoint
/// memory access descriptors, and — when the EMADs point at one — the composite memory region. Parsing never
/// trusts an offset, count or length: each is bounds-checked in 64 bits and each failure has its own rule.
/// </summary>
public sealed record MemoryTransactionDescriptor(
    ushort Sender,
    MemoryRegionAttributes Attributes,
    MemoryTransactionFlags Flags,
    ulong Handle,
    ulong Tag,
    IReadOnlyList<EndpointMemoryAccess> Receivers,
    CompositeMemoryRegion? Composite = null)
{
    /// <summary>The v1.0 header: the EMAD array follows inline at this offset.</summary>
    public const int HeaderSizeV1_0 = 32;

    /// <summary>The v1.1+ header, which names the offset of the EMAD array itself.</summary>
    public const int HeaderSizeV1_1 = 48;

    /// <summary>
    /// Field offsets of the header (DEN0077 v1.1 table 10.20). v1.0 shares the layout up to byte 31 except where
    /// noted: its attributes are 8 bits with a reserved byte after them, and its bytes 24..27 are reserved.
    /// </summary>
    public static class Offsets
    {
        public const int Sender = 0;
        /// <summary>u8 in v1.0, u16 from v1.1.</summary>
        public const int Attributes = 2;
        /// <summary>v1.0: u8, MBZ (the high byte of the v1.1 attributes).</summary>
        public const int V1_0ReservedByte = 3;
        public const int Flags = 4;
        public const int Handle = 8;
        public const int Tag = 16;
        /// <summary>v1.1+: u32 size of each EMAD.</summary>
        public const int EmadSize = 24;
        /// <summary>v1.0: u32, MBZ (where v1.1 puts the EMAD size).</summary>
        public const int V1_0ReservedWord = 24;
        public const int ReceiverCount = 28;
        /// <summary>v1.1+: u32 offset of the EMAD array from the start of the descriptor.</summary>
        public const int ReceiversOffset = 32;
        /// <summary>v1.1+: 12 bytes, MBZ, read as a u32 and a u64.</summary>
        public const int Reserved = 36;
        public const int ReservedHigh = 40;
    }

    /// <summary>The layout the descriptor was read in (or is meant for).</summary>
    public MemoryDescriptorLayout Layout { get; init; } = MemoryDescriptorLayout.V1_2;

    /// <summary>EMAD size field as read (16, 32, or larger for later versions that only extend).</summary>
    public int EmadSize { get; init; }

    /// <summary>Offset of the EMAD array as read (32 in v1.0, normally 48 from v1.1).</summary>
    public int ReceiversOffset { get; init; }

    /// <summary>The composite offset the EMADs name (the first one's; validators check they agree).</summary>
    public uint CompositeOffset => Receivers.Count > 0 ? Receivers[0].CompositeOffset : 0;

    /// <summary>Offset of the composite when written in <paramref name="layout"/>: right after the EMADs (16-byte aligned).</summary>
    public int CompositeOffsetIn(MemoryDescriptorLayout layout) => layout.HeaderSize() + Receivers.Count * layout.EmadSize();

    /// <summary>Bytes of this descriptor in <paramref name="layout"/>, composite and constituents included.</summary>
    public int Size(MemoryDescriptorLayout layout) => CompositeOffsetIn(layout) + (Composite?.Size ?? 0);

    public byte[] ToBytes(MemoryDescriptorLayout layout)
    {
        var bytes = new byte[Size(layout)];
        Write(bytes, layout);
        return bytes;
    }

    /// <summary>Writes the descriptor; with a composite, every EMAD's composite offset is set to where it lands.</summary>
    public void Write(Span<byte> destination, MemoryDescriptorLayout layout)
    {
        var size = Size(layout);
        destination[..size].Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(destination[Offsets.Sender..], Sender);
        if (layout == MemoryDescriptorLayout.V1_0) destination[Offsets.Attributes] = (byte)Attributes.Value;
        else BinaryPrimitives.WriteUInt16LittleEndian(destination[Offsets.Attributes..], Attributes.Value);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[Offsets.Flags..], Flags.Value);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[Offsets.Handle..], Handle);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[Offsets.Tag..], Tag);
        var emadSize = layout.EmadSize();
        var offset = layout.HeaderSize();
        if (layout != MemoryDescriptorLayout.V1_0)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(destination[Offsets.EmadSize..], (uint)emadSize);
            BinaryPrimitives.WriteUInt32LittleEndian(destination[Offsets.ReceiversOffset..], (uint)offset);
        }
        BinaryPrimitives.WriteUInt32LittleEndian(destination[Offsets.ReceiverCount..], (uint)Receivers.Count);
        var compositeOffset = (uint)CompositeOffsetIn(layout);
        for (var i = 0; i < Receivers.Count; i++)
        {
            var emad = Composite is null ? Receivers[i] : Receivers[i] with { CompositeOffset = compositeOffset };
            emad.Write(destination[(offset + i * emadSize)..], emadSize);
        }
        Composite?.Write(destination[(int)compositeOffset..]);
    }

    /// <summary>
    /// Reads the header and the EMADs from <paramref name="buffer"/> (a first fragment is enough), in the v1.0
    /// layout or the v1.1+ one (which tells its EMAD size itself). The composite is not read.
    /// <paramref name="acceptEmadReserved"/>: non-zero reserved bytes 8..15 of 16-byte EMADs are read as zero instead of
    /// refused (the compatibility switch for the Linux arm_ffa defect, <see cref="MemoryDescriptorRules.LinuxEmadDefect"/>).
    /// </summary>
    public static ParseResult<MemoryTransactionDescriptor> ReadHeader(ReadOnlySpan<byte> buffer, bool v1_0Layout, bool acceptEmadReserved = false)
    {
        var layout = v1_0Layout ? MemoryDescriptorLayout.V1_0 : MemoryDescriptorLayout.V1_1;
        var headerSize = layout.HeaderSize();
        if (buffer.Length < headerSize)
            return MemoryDescriptorRules.HeaderTruncated.Reject(
                $"{buffer.Length} bytes cannot hold the {headerSize}-byte v{(v1_0Layout ? "1.0" : "1.1+")} header");

        var sender = BinaryPrimitives.ReadUInt16LittleEndian(buffer[Offsets.Sender..]);
        var flags = new MemoryTransactionFlags(BinaryPrimitives.ReadUInt32LittleEndian(buffer[Offsets.Flags..]));
        var handle = BinaryPrimitives.ReadUInt64LittleEndian(buffer[Offsets.Handle..]);
        var tag = BinaryPrimitives.ReadUInt64LittleEndian(buffer[Offsets.Tag..]);
        ushort attributes;
        uint emadSize, count, offset;
        count = BinaryPrimitives.ReadUInt32LittleEndian(buffer[Offsets.ReceiverCount..]);
        if (v1_0Layout)
        {
            attributes = buffer[Offsets.Attributes];
            if (buffer[Offsets.V1_0ReservedByte] != 0)
                return MemoryDescriptorRules.V1_0ReservedByteMbz.Reject("v1.0 header: reserved byte 3 is not zero");
            if (BinaryPrimitives.ReadUInt32LittleEndian(buffer[Offsets.V1_0ReservedWord..]) != 0)
                return MemoryDescriptorRules.V1_0ReservedWordMbz.Reject("v1.0 header: reserved bytes 24..27 are not zero");
            emadSize = EndpointMemoryAccess.SizeV1_0;
            offset = HeaderSizeV1_0;
        }
        else
        {
            attributes = BinaryPrimitives.ReadUInt16LittleEndian(buffer[Offsets.Attributes..]);
            emadSize = BinaryPrimitives.ReadUInt32LittleEndian(buffer[Offsets.EmadSize..]);
            offset = BinaryPrimitives.ReadUInt32LittleEndian(buffer[Offsets.ReceiversOffset..]);
            if (BinaryPrimitives.ReadUInt32LittleEndian(buffer[Offsets.Reserved..]) != 0
                || BinaryPrimitives.ReadUInt64LittleEndian(buffer[Offsets.ReservedHigh..]) != 0)
                return MemoryDescriptorRules.ReservedMbz.Reject("header: reserved bytes 36..47 are not zero");
            // A hypervisor retrieve request (pKVM's reclaim path) zeroes everything but the handle, sizes included.
            if (count == 0 && emadSize == 0 && offset == 0)
                return new MemoryTransactionDescriptor(sender, new MemoryRegionAttributes(attributes), flags, handle, tag, [])
                { Layout = MemoryDescriptorLayout.V1_1, EmadSize = 0, ReceiversOffset = 0 };
            if (emadSize != EndpointMemoryAccess.SizeV1_0 && (emadSize < EndpointMemoryAccess.SizeV1_2 || emadSize % 16 != 0))
                return MemoryDescriptorRules.EmadSizeInvalid.Reject(
                    $"header: endpoint memory access descriptor size {emadSize} is neither 16 (v1.1) nor 32 (v1.2)");
            if (offset < HeaderSizeV1_1)
                return MemoryDescriptorRules.ReceiversOffsetInHeader.Reject($"header: receivers offset {offset} is inside the 48-byte header");
            if (offset % 16 != 0)
                return MemoryDescriptorRules.ReceiversOffsetUnaligned.Reject($"header: receivers offset {offset} is not 16-byte aligned");
            layout = emadSize == EndpointMemoryAccess.SizeV1_0 ? MemoryDescriptorLayout.V1_1 : MemoryDescriptorLayout.V1_2;
        }
        if (!Bounds.Fits(offset, (ulong)count * emadSize, buffer.Length))
            return MemoryDescriptorRules.EmadsTruncated.Reject(
                $"{count} endpoint memory access descriptors of {emadSize} bytes at offset {offset} do not fit in {buffer.Length} bytes");

        var receivers = new EndpointMemoryAccess[count];
        for (var i = 0; i < count; i++)
        {
            var emad = EndpointMemoryAccess.Read(buffer[(int)(offset + i * emadSize)..], (int)emadSize);
            if (emad.Reserved != 0)
            {
                var legacy = emadSize == EndpointMemoryAccess.SizeV1_0;
                if (legacy && acceptEmadReserved) emad = emad with { Reserved = 0 };
                else
                    return MemoryDescriptorRules.EmadReservedMbz.Reject(legacy
                        ? $"receiver {i}: reserved bytes 8..15 are 0x{emad.Reserved:X16}, not zero: likely {MemoryDescriptorRules.LinuxEmadDefect}"
                        : $"receiver {i}: reserved bytes are not zero");
            }
            receivers[i] = emad;
        }

        return new MemoryTransactionDescriptor(sender, new MemoryRegionAttributes(attributes), flags, handle, tag, receivers)
        {
            Layout = layout,
            EmadSize = (int)emadSize,
            ReceiversOffset = (int)offset,
        };
    }

    /// <summary>Reads a whole descriptor: header, EMADs and, when the first EMAD names one, the composite with its constituents.</summary>
    public static ParseResult<MemoryTransactionDescriptor> Read(ReadOnlySpan<byte> buffer, bool v1_0Layout, bool acceptEmadReserved = false)
    {
        var head = ReadHeader(buffer, v1_0Layout, acceptEmadReserved);
        if (!head.Ok || head.Value!.CompositeOffset == 0) return head;
        var composite = CompositeMemoryRegion.Read(buffer, head.Value.CompositeOffset);
        if (!composite.Ok) return composite.Rejection!;
        return head.Value with { Composite = composite.Value };
    }
}
