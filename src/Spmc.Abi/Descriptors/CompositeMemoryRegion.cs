using System.Buffers.Binary;
using Spmc.Abi.Ffa;
using Spmc.Abi.Rules;

namespace Spmc.Abi.Descriptors;

/// <summary>Rules of the constituent memory region descriptor (DEN0077 v1.1 table 10.14).</summary>
public static class ConstituentRules
{
    public static readonly Rule Truncated = new("constituent.truncated", FfaError.InvalidParameters,
        "a constituent memory region descriptor is 16 bytes", "DEN0077 v1.1 table 10.14");
    public static readonly Rule ReservedMbz = new("constituent.reserved-mbz", FfaError.InvalidParameters,
        "bytes 12..15 of a constituent are reserved (MBZ)", "DEN0077 v1.1 table 10.14");
}

/// <summary>Rules of the composite memory region descriptor (DEN0077 v1.1 table 10.13).</summary>
public static class CompositeRules
{
    public static readonly Rule HeaderOutOfBounds = new("composite.header-out-of-bounds", FfaError.InvalidParameters,
        "the 16-byte composite header lies wholly inside the buffer",
        "DEN0077 v1.1 table 10.13; Hafnium ffa_memory_send_validate (composite offset inside the fragment)");
    public static readonly Rule ReservedMbz = new("composite.reserved-mbz", FfaError.InvalidParameters,
        "bytes 8..15 of a composite are reserved (MBZ)", "DEN0077 v1.1 table 10.13");
    public static readonly Rule ConstituentsTruncated = new("composite.constituents-truncated", FfaError.InvalidParameters,
        "every constituent the count names lies inside the buffer after the composite header",
        "DEN0077 v1.1 table 10.13; Hafnium ffa_memory_send_validate (length = constituents offset + 16 x count)");
}

/// <summary>Constituent memory region descriptor: base address, 4 KiB page count, reserved word (16 bytes).</summary>
public readonly record struct MemoryRegionConstituent(ulong Address, uint PageCount)
{
    public const int Size = 16;

    /// <summary>Field offsets (DEN0077 v1.1 table 10.14).</summary>
    public static class Offsets
    {
        public const int Address = 0;
        public const int PageCount = 8;
        /// <summary>u32, MBZ.</summary>
        public const int Reserved = 12;
    }

    public ulong ByteLength => (ulong)PageCount * FfaPage.Size;

    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination[Offsets.Address..], Address);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[Offsets.PageCount..], PageCount);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[Offsets.Reserved..], 0);
    }

    public static ParseResult<MemoryRegionConstituent> Read(ReadOnlySpan<byte> source)
    {
        if (source.Length < Size) return ConstituentRules.Truncated.Reject($"constituent: {source.Length} bytes, need {Size}");
        if (BinaryPrimitives.ReadUInt32LittleEndian(source[Offsets.Reserved..]) != 0)
            return ConstituentRules.ReservedMbz.Reject("constituent: reserved bytes 12..15 are not zero");
        return new MemoryRegionConstituent(BinaryPrimitives.ReadUInt64LittleEndian(source[Offsets.Address..]),
            BinaryPrimitives.ReadUInt32LittleEndian(source[Offsets.PageCount..]));
    }
}

/// <summary>
/// Composite memory region descriptor: total page count, constituent count, 8 reserved bytes, then the
/// constituents (16 + 16·n bytes).
/// </summary>
public sealed record CompositeMemoryRegion(uint TotalPageCount, IReadOnlyList<MemoryRegionConstituent> Constituents)
{
    /// <summary>Bytes before the constituents; the first constituent starts here.</summary>
    public const int HeaderSize = 16;

    /// <summary>Field offsets (DEN0077 v1.1 table 10.13).</summary>
    public static class Offsets
    {
        public const int TotalPageCount = 0;
        public const int ConstituentCount = 4;
        /// <summary>u64, MBZ.</summary>
        public const int Reserved = 8;
        public const int Constituents = HeaderSize;
    }

    public int Size => HeaderSize + Constituents.Count * MemoryRegionConstituent.Size;

    public static CompositeMemoryRegion Of(params MemoryRegionConstituent[] constituents) =>
        new((uint)constituents.Sum(c => (long)c.PageCount), constituents);

    /// <summary>Where constituent <paramref name="index"/> starts, from the start of the composite.</summary>
    private static int ConstituentAt(int index) => Offsets.Constituents + index * MemoryRegionConstituent.Size;

    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination[Offsets.TotalPageCount..], TotalPageCount);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[Offsets.ConstituentCount..], (uint)Constituents.Count);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[Offsets.Reserved..], 0);
        for (var i = 0; i < Constituents.Count; i++)
            Constituents[i].Write(destination[ConstituentAt(i)..]);
    }

    /// <summary>Reads a composite at <paramref name="offset"/> of <paramref name="buffer"/>, checking every bound.</summary>
    public static ParseResult<CompositeMemoryRegion> Read(ReadOnlySpan<byte> buffer, ulong offset, string what = "composite")
    {
        if (!Bounds.Fits(offset, HeaderSize, buffer.Length))
            return CompositeRules.HeaderOutOfBounds.Reject($"{what}: header at offset {offset} is outside the {buffer.Length}-byte buffer");
        var header = buffer[(int)offset..];
        var total = BinaryPrimitives.ReadUInt32LittleEndian(header[Offsets.TotalPageCount..]);
        var count = BinaryPrimitives.ReadUInt32LittleEndian(header[Offsets.ConstituentCount..]);
        if (BinaryPrimitives.ReadUInt64LittleEndian(header[Offsets.Reserved..]) != 0)
            return CompositeRules.ReservedMbz.Reject($"{what}: reserved bytes 8..15 are not zero");
        if (!Bounds.Fits(offset + Offsets.Constituents, (ulong)count * MemoryRegionConstituent.Size, buffer.Length))
            return CompositeRules.ConstituentsTruncated.Reject($"{what}: {count} constituents do not fit in the {buffer.Length}-byte buffer");
        var constituents = new MemoryRegionConstituent[count];
        for (var i = 0; i < count; i++)
        {
            var c = MemoryRegionConstituent.Read(header[ConstituentAt(i)..]);
            if (!c.Ok) return c.Rejection!.Prefixed($"{what}: constituent {i}");
            constituents[i] = c.Value;
        }
        return new CompositeMemoryRegion(total, constituents);
    }
}
