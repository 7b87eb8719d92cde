using System.Buffers.Binary;
using Spmc.Abi.Ffa;
using Spmc.Abi.Rules;

namespace Spmc.Abi.Descriptors;

/// <summary>Partition properties word of the partition information descriptor (DEN0077 table 6.2 / 13.37).</summary>
[Flags]
public enum PartitionProperties : uint
{
    None = 0,
    DirectRequestReceive = 1u << 0,
    DirectRequestSend = 1u << 1,
    IndirectMessaging = 1u << 2,
    NotificationReceive = 1u << 3,
    VmCreatedMessages = 1u << 6,
    VmDestroyedMessages = 1u << 7,
    AArch64 = 1u << 8,
    DirectRequest2Receive = 1u << 9,
    DirectRequest2Send = 1u << 10,
    /// <summary>FF-A 1.3: supports live activation.</summary>
    LiveActivation = 1u << 11,
    /// <summary>FF-A 1.3: live activation needs a CPU rendezvous.</summary>
    NeedsRendezvous = 1u << 12,
    /// <summary>FF-A 1.3: uses the SMC64 CPU-cycle management function IDs (valid only with <see cref="AArch64"/>).</summary>
    Smc64CpuCycles = 1u << 13,
}

/// <summary>Rules of the partition information descriptor (DEN0077 v1.0 table 8.25, v1.1 table 13.37, v1.3 table 6.1).</summary>
public static class PartitionInfoRules
{
    public static readonly Rule Truncated = new("partition-info-desc.truncated", FfaError.InvalidParameters,
        "a partition information descriptor is 8 bytes in v1.0, 24 from v1.1 and 48 from v1.3",
        "DEN0077 v1.0 table 8.25, v1.1 table 13.37, v1.3 ALP4 table 6.1");
}

/// <summary>
/// Partition information descriptor: 8 bytes in v1.0 (ID, execution-context count, properties), 24 bytes from v1.1
/// (adds the protocol UUID) and 48 bytes from v1.3 (adds the image UUID, the partition's FF-A version and four
/// reserved bytes; DEN0077 v1.3 table 6.1). The layout follows the caller's negotiated version.
/// </summary>
public readonly record struct PartitionInfoDescriptor(ushort Id, ushort ExecutionContexts, PartitionProperties Properties, FfaUuid Uuid,
    FfaUuid ImageUuid = default, FfaVersion PartitionVersion = default)
{
    public const int SizeV1_0 = 8;
    public const int SizeV1_1 = 24;
    public const int SizeV1_3 = 48;

    /// <summary>Field offsets (DEN0077 v1.1 table 13.37, v1.3 table 6.1).</summary>
    public static class Offsets
    {
        public const int Id = 0;
        public const int ExecutionContexts = 2;
        public const int Properties = 4;
        /// <summary>v1.1+: the 16-byte protocol UUID.</summary>
        public const int Uuid = 8;
        /// <summary>v1.3+: the 16-byte image UUID (Nil when the partition names none).</summary>
        public const int ImageUuid = 24;
        /// <summary>v1.3+: the partition's FF-A version (bit 31 MBZ), then four reserved (MBZ) bytes.</summary>
        public const int PartitionVersion = 40;
    }

    public static int SizeFor(FfaVersion layout) =>
        layout < FfaVersion.V1_1 ? SizeV1_0 : layout < FfaVersion.V1_3 ? SizeV1_1 : SizeV1_3;

    /// <summary>
    /// Properties bits defined at a version; the rest are reserved and written as zero. Bits[5:4] (the ID type) are
    /// always zero here (PE endpoints). v1.2 adds bits 9/10 (REQ2), v1.3 bits 11 (live activation), 12 (rendezvous)
    /// and 13 (SMC64 CPU-cycle IDs).
    /// </summary>
    public static PartitionProperties DefinedAt(FfaVersion version) =>
        version < FfaVersion.V1_1 ? (PartitionProperties)0x7
        : version < FfaVersion.V1_2 ? (PartitionProperties)0x1FF & ~(PartitionProperties)0x30
        : version < FfaVersion.V1_3 ? (PartitionProperties)0x7FF & ~(PartitionProperties)0x30
        : (PartitionProperties)0x3FFF & ~(PartitionProperties)0x30;

    public void Write(Span<byte> destination, FfaVersion layout)
    {
        var size = SizeFor(layout);
        if (destination.Length < size) throw new ArgumentException($"descriptor needs {size} bytes", nameof(destination));
        destination[..size].Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(destination[Offsets.Id..], Id);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[Offsets.ExecutionContexts..], ExecutionContexts);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[Offsets.Properties..], (uint)Properties);
        if (size >= SizeV1_1) Uuid.WriteTo(destination[Offsets.Uuid..]);
        if (size < SizeV1_3) return;
        ImageUuid.WriteTo(destination[Offsets.ImageUuid..]);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[Offsets.PartitionVersion..], PartitionVersion.Encoded);
    }

    public static ParseResult<PartitionInfoDescriptor> Read(ReadOnlySpan<byte> source, FfaVersion layout)
    {
        var size = SizeFor(layout);
        if (source.Length < size)
            return PartitionInfoRules.Truncated.Reject($"partition info descriptor: {source.Length} bytes, need {size}");
        var v1_3 = size >= SizeV1_3;
        return new PartitionInfoDescriptor(
            BinaryPrimitives.ReadUInt16LittleEndian(source[Offsets.Id..]),
            BinaryPrimitives.ReadUInt16LittleEndian(source[Offsets.ExecutionContexts..]),
            (PartitionProperties)BinaryPrimitives.ReadUInt32LittleEndian(source[Offsets.Properties..]),
            size >= SizeV1_1 ? FfaUuid.FromBytes(source[Offsets.Uuid..]) : FfaUuid.Nil,
            v1_3 ? FfaUuid.FromBytes(source[Offsets.ImageUuid..]) : FfaUuid.Nil,
            v1_3 ? FfaVersion.Decode(BinaryPrimitives.ReadUInt32LittleEndian(source[Offsets.PartitionVersion..])) ?? default : default);
    }

    /// <summary>
    /// FFA_PARTITION_INFO_GET_REGS packing of a 24-byte descriptor into three registers: each register is eight
    /// bytes of the descriptor read little-endian, so a field at byte offset n sits at bit 8·n of the first.
    /// </summary>
    public (ulong Word0, ulong UuidLo, ulong UuidHi) ToRegisters()
    {
        var (lo, hi) = Uuid.ToRegisters64();
        var word0 = ((ulong)Id << (8 * Offsets.Id)) | ((ulong)ExecutionContexts << (8 * Offsets.ExecutionContexts))
            | ((ulong)(uint)Properties << (8 * Offsets.Properties));
        return (word0, lo, hi);
    }

    /// <summary>
    /// The descriptor in the layout of <paramref name="layout"/> as FFA_PARTITION_INFO_GET_REGS registers: three for
    /// 24 bytes (v1.1/v1.2), six for 48 bytes (v1.3, table 13.41: word0, protocol UUID lo/hi, image UUID lo/hi,
    /// then the partition's version in bits[30:0] with bits[63:31] MBZ). Eight little-endian bytes per register.
    /// </summary>
    public ulong[] ToRegisters(FfaVersion layout)
    {
        var (word0, lo, hi) = ToRegisters();
        if (SizeFor(layout) < SizeV1_3) return [word0, lo, hi];
        var (imageLo, imageHi) = ImageUuid.ToRegisters64();
        return [word0, lo, hi, imageLo, imageHi, PartitionVersion.Encoded];
    }

    public static PartitionInfoDescriptor FromRegisters(ulong word0, ulong uuidLo, ulong uuidHi) =>
        new((ushort)(word0 >> (8 * Offsets.Id)), (ushort)(word0 >> (8 * Offsets.ExecutionContexts)),
            (PartitionProperties)(uint)(word0 >> (8 * Offsets.Properties)), FfaUuid.FromRegisters64(uuidLo, uuidHi));

    /// <summary>The inverse of <see cref="ToRegisters(FfaVersion)"/>: three registers (24 bytes) or six (48 bytes).</summary>
    public static PartitionInfoDescriptor FromRegisters(ReadOnlySpan<ulong> registers)
    {
        var d = FromRegisters(registers[0], registers[1], registers[2]);
        return registers.Length < 6 ? d
            : d with { ImageUuid = FfaUuid.FromRegisters64(registers[3], registers[4]), PartitionVersion = FfaVersion.Decode((uint)registers[5]) ?? default };
    }
}
