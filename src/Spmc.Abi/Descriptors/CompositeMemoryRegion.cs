using System.Buffers.Binary;
using Spmc.Abi.Ffa;

namespace Spmc.Abi.Descriptors;

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
        if (source.Length < Size) return ParseResult<MemoryRegionConstituent>.Fail($"constituent: {source.Length} bytes, need {Size}");
        if (BinaryPrimitives.ReadUInt32LittleEndian(source[Offsets.Reserved..]) != 0)
            return ParseResult<MemoryRegionConstituent>.Fail("constituent: reserved bytes 12..15 are not zero");
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
            return ParseResult<CompositeMemoryRegion>.Fail($"{what}: header at offset {offset} is outside the {buffer.Length}-byte buffer");
        var header = buffer[(int)offset..];
        var total = BinaryPrimitives.ReadUInt32LittleEndian(header[Offsets.TotalPageCount..]);
        var count = BinaryPrimitives.ReadUInt32LittleEndian(header[Offsets.ConstituentCount..]);
        if (BinaryPrimitives.ReadUInt64LittleEndian(header[Offsets.Reserved..]) != 0)
            return ParseResult<CompositeMemoryRegion>.Fail($"{what}: reserved bytes 8..15 are not zero");
        if (!Bounds.Fits(offset + Offsets.Constituents, (ulong)count * MemoryRegionConstituent.Size, buffer.Length))
            return ParseResult<CompositeMemoryRegion>.Fail($"{what}: {count} constituents do not fit in the {buffer.Length}-byte buffer");
        var constituents = new MemoryRegionConstituent[count];
        for (var i = 0; i < count; i++)
        {
            var c = MemoryRegionConstituent.Read(header[ConstituentAt(i)..]);
            if (!c.Ok) return ParseResult<CompositeMemoryRegion>.Fail($"{what}: constituent {i}: {c.Error}");
            constituents[i] = c.Value;
        }
        return new CompositeMemoryRegion(total, constituents);
    }
}
