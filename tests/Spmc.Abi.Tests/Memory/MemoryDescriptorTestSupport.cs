using System.Buffers.Binary;
using Spmc.Abi.Descriptors;
using Spmc.Abi.Descriptors.Memory;

namespace Spmc.Abi.Tests.Memory;

/// <summary>Shared samples and assertions for the memory descriptor codec tests.</summary>
internal static class MemoryDescriptorTestSupport
{
    public static readonly MemoryDescriptorLayout[] AllLayouts = [MemoryDescriptorLayout.V1_0, MemoryDescriptorLayout.V1_1, MemoryDescriptorLayout.V1_2];

    public const ulong SampleTag = 0x1122334455667788;

    /// <summary>Two constituents: 0x80010000 × 1 page and 0x80030000 × 2 pages (3 pages in all).</summary>
    public static CompositeMemoryRegion SampleComposite() =>
        CompositeMemoryRegion.Of(new MemoryRegionConstituent(0x8001_0000, 1), new MemoryRegionConstituent(0x8003_0000, 2));

    /// <summary>
    /// The sample SHARE descriptor: sender 0x0000, attributes 0x2F, flags 0, handle 0, tag 0x1122334455667788,
    /// one receiver 0x8002 RW, and the sample composite.
    /// </summary>
    public static MemoryTransactionDescriptor SampleShare() =>
        new(0x0000, new MemoryRegionAttributes(0x2F), new MemoryTransactionFlags(0), 0, SampleTag,
            [new EndpointMemoryAccess(MemoryAccessPermissions.Of(0x8002, DataAccess.ReadWrite), 0)], SampleComposite());

    /// <summary>Bytes from hex fragments; spaces, underscores and line breaks are ignored.</summary>
    public static byte[] Hex(params string[] parts) =>
        Convert.FromHexString(string.Concat(parts).Replace(" ", "").Replace("_", "").Replace("\n", "").Replace("\r", ""));

    public static bool IsV1_0(MemoryDescriptorLayout layout) => layout == MemoryDescriptorLayout.V1_0;

    public static byte[] With(byte[] source, Action<byte[]> change)
    {
        var copy = (byte[])source.Clone();
        change(copy);
        return copy;
    }

    public static byte[] WithU32(byte[] source, int offset, uint value) =>
        With(source, b => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(offset), value));

    public static byte[] WithByte(byte[] source, int offset, byte value) => With(source, b => b[offset] = value);

    /// <summary>
    /// Field-by-field comparison of a parsed descriptor against the one it was written from (records holding lists
    /// do not compare by value). When the original has a composite, every EMAD is expected to name where it landed.
    /// </summary>
    public static void AssertRoundTripped(MemoryTransactionDescriptor original, MemoryTransactionDescriptor parsed, MemoryDescriptorLayout layout)
    {
        Assert.Equal(original.Sender, parsed.Sender);
        Assert.Equal(IsV1_0(layout) ? (ushort)(original.Attributes.Value & 0xFF) : original.Attributes.Value, parsed.Attributes.Value);
        Assert.Equal(original.Flags, parsed.Flags);
        Assert.Equal(original.Handle, parsed.Handle);
        Assert.Equal(original.Tag, parsed.Tag);
        Assert.Equal(layout, parsed.Layout);
        Assert.Equal(layout.EmadSize(), parsed.EmadSize);
        Assert.Equal(layout.HeaderSize(), parsed.ReceiversOffset);

        var expectedCompositeOffset = original.Composite is null ? (uint?)null : (uint)original.CompositeOffsetIn(layout);
        Assert.Equal(original.Receivers.Count, parsed.Receivers.Count);
        for (var i = 0; i < original.Receivers.Count; i++)
        {
            var want = original.Receivers[i];
            var got = parsed.Receivers[i];
            Assert.Equal(want.Access, got.Access);
            Assert.Equal(expectedCompositeOffset ?? want.CompositeOffset, got.CompositeOffset);
            Assert.Equal(layout == MemoryDescriptorLayout.V1_2 ? want.ImplementationDefined : UInt128.Zero, got.ImplementationDefined);
            Assert.Equal(0ul, got.Reserved);
        }

        if (original.Composite is null)
        {
            Assert.Null(parsed.Composite);
            Assert.Equal(original.CompositeOffset, parsed.CompositeOffset);
        }
        else
        {
            Assert.NotNull(parsed.Composite);
            Assert.Equal(original.Composite.TotalPageCount, parsed.Composite.TotalPageCount);
            Assert.Equal(original.Composite.Constituents, parsed.Composite.Constituents);
            Assert.Equal(expectedCompositeOffset, parsed.CompositeOffset);
        }
    }
}
