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

/// <summary>Rules of the partition information descriptor (DEN0077 v1.0 table 8.25, v1.1 table 13.37).</summary>
public static class PartitionInfoRules
{
    public static readonly Rule Truncated = new("partition-info-desc.truncated", FfaError.InvalidParameters,
        "a partition information descriptor is 8 bytes in v1.0 and 24 from v1.1",
        "DEN0077 v1.0 table 8.25, v1.1 table 13.37");
}

/// <summary>
/// Partition information descriptor: 8 bytes in v1.0 (ID, execution-context count, properties) and 24 bytes
/// from v1.1 (adds the UUID). The layout follows the caller's negotiated version.
/// </summary>
public readonly record struct PartitionInfoDescriptor(ushort Id, ushort ExecutionContexts, PartitionProperties Properties, FfaUuid Uuid)
{
    public const int SizeV1_0 = 8;
    public const int SizeV1_1 = 24;

    /// <summary>Field offsets (DEN0077 v1.1 table 13.37).</summary>
    public static class Offsets
    {
        public const int Id = 0;
        public const int ExecutionContexts = 2;
        public const int Properties = 4;
        /// <summary>v1.1+: the 16-byte UUID.</summary>
        public const int Uuid = 8;
    }

    public static int SizeFor(FfaVersion layout) => layout < FfaVersion.V1_1 ? SizeV1_0 : SizeV1_1;

    /// <summary>Properties bits defined at a version; the rest are reserved and written as zero.</summary>
    public static PartitionProperties DefinedAt(FfaVersion version) =>
        version < FfaVersion.V1_1 ? (PartitionProperties)0x7
        : version < FfaVersion.V1_2 ? (PartitionProperties)0x1FF & ~(PartitionProperties)0x30
        : (PartitionProperties)0x7FF & ~(PartitionProperties)0x30;

    public void Write(Span<byte> destination, FfaVersion layout)
    {
        var size = SizeFor(layout);
        if (destination.Length < size) throw new ArgumentException($"descriptor needs {size} bytes", nameof(destination));
        destination[..size].Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(destination[Offsets.Id..], Id);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[Offsets.ExecutionContexts..], ExecutionContexts);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[Offsets.Properties..], (uint)Properties);
        if (size >= SizeV1_1) Uuid.WriteTo(destination[Offsets.Uuid..]);
    }

    public static ParseResult<PartitionInfoDescriptor> Read(ReadOnlySpan<byte> source, FfaVersion layout)
    {
        var size = SizeFor(layout);
        if (source.Length < size)
            return PartitionInfoRules.Truncated.Reject($"partition info descriptor: {source.Length} bytes, need {size}");
        return new PartitionInfoDescriptor(
            BinaryPrimitives.ReadUInt16LittleEndian(source[Offsets.Id..]),
            BinaryPrimitives.ReadUInt16LittleEndian(source[Offsets.ExecutionContexts..]),
            (PartitionProperties)BinaryPrimitives.ReadUInt32LittleEndian(source[Offsets.Properties..]),
            size >= SizeV1_1 ? FfaUuid.FromBytes(source[Offsets.Uuid..]) : FfaUuid.Nil);
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

    public static PartitionInfoDescriptor FromRegisters(ulong word0, ulong uuidLo, ulong uuidHi) =>
        new((ushort)(word0 >> (8 * Offsets.Id)), (ushort)(word0 >> (8 * Offsets.ExecutionContexts)),
            (PartitionProperties)(uint)(word0 >> (8 * Offsets.Properties)), FfaUuid.FromRegisters64(uuidLo, uuidHi));
}
