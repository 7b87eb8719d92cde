using Spmc.Abi.Descriptors;
using Spmc.Abi.Ffa;
using Spmc.Abi.Rules;
using Spmc.Abi.Smccc;

namespace Spmc.Abi.Calls;

/// <summary>Register rules of the partition discovery ABIs.</summary>
public static class DiscoveryCallRules
{
    public static readonly Rule InfoGetFlagsMbz = new("partition-info-get.flags-mbz", FfaError.InvalidParameters,
        "w5 bits[31:1] are reserved (MBZ); bit 0 asks for the count only",
        "DEN0077 v1.3 §13.8 table 13.35; Hafnium api_ffa_partition_info_get");
    public static readonly Rule InfoGetRegsX3High = new("partition-info-get-regs.x3-high-mbz", FfaError.InvalidParameters,
        "x3 bits[63:32] are reserved (MBZ); the start index and the tag are x3[31:0]",
        "DEN0077 v1.3 §13.9 table 13.40; Spmc: Hafnium ignores x3[63:32]");
}

/// <summary>
/// FFA_PARTITION_INFO_GET (DEN0077 v1.3 §13.8, SMC32 only): w1..w4 = the UUID (Nil: every partition), w5 = flags
/// (bit 0: return the count only, v1.1+; bits[31:1] MBZ).
/// </summary>
public sealed record PartitionInfoGet(FfaUuid Uuid, uint Flags = 0) : IFfaCall<PartitionInfoGet>
{
    /// <summary>w5 bit 0: answer the count in w2 and write nothing to RX.</summary>
    public const uint ReturnCountOnly = 1;

    public uint FunctionId => FfaFunctions.Id32(FfaFunction.PartitionInfoGet);
    public bool CountOnly => (Flags & ReturnCountOnly) != 0;

    public static ParseResult<PartitionInfoGet> Decode(in SmcFrame frame)
    {
        var flags = (uint)Regs.Arg(frame, 5);
        if ((flags & ~ReturnCountOnly) != 0) return DiscoveryCallRules.InfoGetFlagsMbz.Reject($"w5 flags 0x{flags:X}: bits[31:1] must be zero");
        var uuid = FfaUuid.FromRegisters32(Regs.Arg(frame, 1), Regs.Arg(frame, 2), Regs.Arg(frame, 3), Regs.Arg(frame, 4));
        return new PartitionInfoGet(uuid, flags);
    }

    public SmcFrame Encode()
    {
        var (w1, w2, w3, w4) = Uuid.ToRegisters32();
        return Regs.Frame(FunctionId, w1, w2, w3, w4, Flags);
    }
}

/// <summary>
/// FFA_PARTITION_INFO_GET_REGS (DEN0077 v1.3 §13.9, v1.2, SMC64 only): x1/x2 = the UUID (bytes 0..7, 8..15),
/// x3[15:0] = start index, x3[31:16] = information tag (0 when starting from index 0), x3[63:32] MBZ. The answer
/// is <see cref="PartitionInfoGetRegsAnswer"/>.
/// </summary>
public sealed record PartitionInfoGetRegs(FfaUuid Uuid, ushort StartIndex = 0, ushort Tag = 0) : IFfaCall<PartitionInfoGetRegs>
{
    public uint FunctionId => FfaFunctions.Id64(FfaFunction.PartitionInfoGetRegs);

    public static ParseResult<PartitionInfoGetRegs> Decode(in SmcFrame frame)
    {
        var x3 = Regs.Arg(frame, 3);
        if (x3 >> 32 != 0) return DiscoveryCallRules.InfoGetRegsX3High.Reject($"x3 bits[63:32] must be zero (x3 = 0x{x3:X})");
        return new PartitionInfoGetRegs(FfaUuid.FromRegisters64(Regs.Arg(frame, 1), Regs.Arg(frame, 2)), (ushort)x3, (ushort)(x3 >> 16));
    }

    public SmcFrame Encode()
    {
        var (lo, hi) = Uuid.ToRegisters64();
        return Regs.Frame(FunctionId, lo, hi, StartIndex | ((ulong)Tag << 16));
    }
}

/// <summary>
/// The FFA_SUCCESS_64 answer to FFA_PARTITION_INFO_GET_REGS: x2 = last index [15:0], current index [31:16], tag
/// [47:32] and descriptor size [63:48]; x3..x17 = the descriptors from the start index to the current index, eight
/// bytes of a descriptor per register. For a v1.2 caller (Hafnium's form) a descriptor is 24 bytes in three
/// registers, so five fit; for a v1.3 caller (DEN0077 v1.3 table 13.41) it is 48 bytes in six registers, so two fit.
/// The layout follows <see cref="DescriptorSize"/>.
/// </summary>
public sealed record PartitionInfoGetRegsAnswer(ushort LastIndex, ushort CurrentIndex, ushort Tag, ushort DescriptorSize,
    IReadOnlyList<PartitionInfoDescriptor> Descriptors)
{
    /// <summary>x3..x17: the registers that carry descriptors.</summary>
    public const int PayloadRegisters = 15;

    public uint FunctionId => FfaFunctions.Id64(FfaFunction.Success);

    /// <summary>The layout a descriptor size stands for: 48 bytes is v1.3, anything else the 24-byte v1.1 layout.</summary>
    private static FfaVersion LayoutOf(ushort descriptorSize) =>
        descriptorSize >= PartitionInfoDescriptor.SizeV1_3 ? FfaVersion.V1_3 : FfaVersion.V1_1;

    /// <summary>Registers one descriptor of that layout takes: three of 24 bytes, six of 48.</summary>
    private static int RegistersPerDescriptor(ushort descriptorSize) => PartitionInfoDescriptor.SizeFor(LayoutOf(descriptorSize)) / 8;

    /// <summary>How many descriptors of <paramref name="descriptorSize"/> bytes fit x3..x17: five of 24 bytes, two of 48.</summary>
    public static int MaxDescriptorsFor(ushort descriptorSize) => PayloadRegisters / RegistersPerDescriptor(descriptorSize);

    public SmcFrame Encode()
    {
        var layout = LayoutOf(DescriptorSize);
        var perDescriptor = RegistersPerDescriptor(DescriptorSize);
        if (Descriptors.Count > MaxDescriptorsFor(DescriptorSize))
            throw new InvalidOperationException($"{Descriptors.Count} descriptors of {DescriptorSize} bytes do not fit x3..x17 (at most {MaxDescriptorsFor(DescriptorSize)})");
        var args = new ulong[2 + Descriptors.Count * perDescriptor];
        args[1] = LastIndex | ((ulong)CurrentIndex << 16) | ((ulong)Tag << 32) | ((ulong)DescriptorSize << 48);
        for (var i = 0; i < Descriptors.Count; i++)
            Descriptors[i].ToRegisters(layout).CopyTo(args, 2 + i * perDescriptor);
        return Regs.Frame(FunctionId, args);
    }

    /// <summary>
    /// Decodes the answer to a call that asked from <paramref name="startIndex"/> (the answer carries
    /// current index - start index + 1 descriptors, in the layout its x2 descriptor size names); null when the frame
    /// is not such an answer.
    /// </summary>
    public static PartitionInfoGetRegsAnswer? Decode(in SmcFrame frame, ushort startIndex)
    {
        if (frame.FunctionId != FfaFunctions.Id64(FfaFunction.Success)) return null;
        var x2 = frame[2];
        ushort last = (ushort)x2, current = (ushort)(x2 >> 16), size = (ushort)(x2 >> 48);
        var count = current - startIndex + 1;
        if (current > last || count < 1 || count > MaxDescriptorsFor(size)) return null;
        var perDescriptor = RegistersPerDescriptor(size);
        var descriptors = new PartitionInfoDescriptor[count];
        var registers = new ulong[perDescriptor];
        for (var i = 0; i < count; i++)
        {
            for (var r = 0; r < perDescriptor; r++) registers[r] = frame[3 + i * perDescriptor + r];
            descriptors[i] = PartitionInfoDescriptor.FromRegisters(registers);
        }
        return new PartitionInfoGetRegsAnswer(last, current, (ushort)(x2 >> 32), size, descriptors);
    }
}
