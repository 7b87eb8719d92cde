using Spmc.Abi.Descriptors;
using Spmc.Abi.Descriptors.Memory;
using Spmc.Abi.Ffa;

namespace Spmc.Client;

/// <summary>
/// Builders of the memory transaction descriptors a sender writes to its TX buffer (DEN0077 §10.11), over
/// Spmc.Abi's codec, in the layout of the caller's FF-A version (1.0: 32-byte header; 1.1: 16-byte EMADs; 1.2 and
/// later: 32-byte EMADs).
/// </summary>
public static class MemoryDescriptors
{
    /// <summary>
    /// FFA_MEM_SHARE/LEND/DONATE: <paramref name="sender"/> gives <paramref name="receiver"/> <paramref name="pages"/>
    /// 4 KiB pages at <paramref name="address"/> with <paramref name="access"/>, normal write-back inner-shareable memory.
    /// </summary>
    public static byte[] Transaction(ushort sender, ushort receiver, ulong address, uint pages,
        DataAccess access = DataAccess.ReadWrite, FfaVersion? version = null) =>
        new MemoryTransactionDescriptor(sender, MemoryRegionAttributes.NormalWriteBackInner, new MemoryTransactionFlags(0), 0, 0,
            [new EndpointMemoryAccess(MemoryAccessPermissions.Of(receiver, access), 0)],
            CompositeMemoryRegion.Of(new MemoryRegionConstituent(address, pages)))
            .ToBytes(MemoryDescriptorLayouts.For(version ?? FfaVersion.V1_2));

    /// <summary>FFA_MEM_RETRIEVE_REQ: <paramref name="receiver"/> asks for the transaction <paramref name="handle"/> of <paramref name="sender"/>.</summary>
    public static byte[] Retrieve(ushort sender, ushort receiver, ulong handle, MemoryTransactionType type = MemoryTransactionType.Share,
        DataAccess access = DataAccess.ReadWrite, FfaVersion? version = null) =>
        new MemoryTransactionDescriptor(sender, MemoryRegionAttributes.NormalWriteBackInner, MemoryTransactionFlags.OfType(type), handle, 0,
            [new EndpointMemoryAccess(MemoryAccessPermissions.Of(receiver, access), 0)])
            .ToBytes(MemoryDescriptorLayouts.For(version ?? FfaVersion.V1_2));

    /// <summary>Reads a descriptor (an RX buffer's FFA_MEM_RETRIEVE_RESP, say) in the layout of <paramref name="version"/>.</summary>
    public static ParseResult<MemoryTransactionDescriptor> Read(ReadOnlySpan<byte> bytes, FfaVersion? version = null) =>
        MemoryTransactionDescriptor.Read(bytes, v1_0Layout: (version ?? FfaVersion.V1_2) == FfaVersion.V1_0);
}
