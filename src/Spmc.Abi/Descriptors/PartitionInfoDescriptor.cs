using System.Buffers.Binary;
using Spmc.Abi.Ffa;

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
}

/// <summary>
/// Partition information descriptor: 8 bytes in v1.0 (ID, execution-context count, properties) and 24 bytes
/// from v1.1 (adds the UUID). The layout follows the caller's negotiated version.
/// </summary>
public readonly record struct PartitionInfoDescriptor(ushort Id, ushort ExecutionContexts, PartitionProperties Properties, FfaUuid Uuid)
{
    public const int SizeV1_0 = 8;
    public const int SizeV1_1 = 24;

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
        BinaryPrimitives.WriteUInt16LittleEndian(destination, Id);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[2..], ExecutionContexts);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], (uint)Properties);
        if (size >= SizeV1_1) Uuid.WriteTo(destination[8..]);
    }

    public static ParseResult<PartitionInfoDescriptor> Read(ReadOnlySpan<byte> source, FfaVersion layout)
    {
        var size = SizeFor(layout);
        if (source.Length < size)
            return ParseResult<PartitionInfoDescriptor>.Fail($"partition info descriptor: {source.Length} bytes, need {size}");
        return new PartitionInfoDescriptor(
            BinaryPrimitives.ReadUInt16LittleEndian(source),
            BinaryPrimitives.ReadUInt16LittleEndian(source[2..]),
            (PartitionProperties)BinaryPrimitives.ReadUInt32LittleEndian(source[4..]),
            size >= SizeV1_1 ? FfaUuid.FromBytes(source[8..]) : FfaUuid.Nil);
    }

    /// <summary>FFA_PARTITION_INFO_GET_REGS packing of a 24-byte descriptor into three registers.</summary>
    public (ulong Word0, ulong UuidLo, ulong UuidHi) ToRegisters()
    {
        var (lo, hi) = Uuid.ToRegisters64();
        return (Id | ((ulong)ExecutionContexts << 16) | ((ulong)(uint)Properties << 32), lo, hi);
    }

    public static PartitionInfoDescriptor FromRegisters(ulong word0, ulong uuidLo, ulong uuidHi) =>
        new((ushort)word0, (ushort)(word0 >> 16), (PartitionProperties)(uint)(word0 >> 32), FfaUuid.FromRegisters64(uuidLo, uuidHi));
}
