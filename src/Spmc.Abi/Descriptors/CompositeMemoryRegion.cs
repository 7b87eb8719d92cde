using System.Buffers.Binary;

namespace Spmc.Abi.Descriptors;

/// <summary>Constituent memory region descriptor: base address, 4 KiB page count, reserved word (16 bytes).</summary>
public readonly record struct MemoryRegionConstituent(ulong Address, uint PageCount)
{
    public const int Size = 16;

    public ulong ByteLength => (ulong)PageCount * 4096;

    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, Address);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], PageCount);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], 0);
    }

    public static ParseResult<MemoryRegionConstituent> Read(ReadOnlySpan<byte> source)
    {
        if (source.Length < Size) return ParseResult<MemoryRegionConstituent>.Fail($"constituent: {source.Length} bytes, need {Size}");
        if (BinaryPrimitives.ReadUInt32LittleEndian(source[12..]) != 0)
            return ParseResult<MemoryRegionConstituent>.Fail("constituent: reserved bytes 12..15 are not zero");
        return new MemoryRegionConstituent(BinaryPrimitives.ReadUInt64LittleEndian(source), BinaryPrimitives.ReadUInt32LittleEndian(source[8..]));
    }
}

/// <summary>
/// Composite memory region descriptor: total page count, constituent count, 8 reserved bytes, then the
/// constituents (16 + 16·n bytes).
/// </summary>
public sealed record CompositeMemoryRegion(uint TotalPageCount, IReadOnlyList<MemoryRegionConstituent> Constituents)
{
    public const int HeaderSize = 16;

    public int Size => HeaderSize + Constituents.Count * MemoryRegionConstituent.Size;

    public static CompositeMemoryRegion Of(params MemoryRegionConstituent[] constituents) =>
        new((uint)constituents.Sum(c => (long)c.PageCount), constituents);

    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, TotalPageCount);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], (uint)Constituents.Count);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], 0);
        for (var i = 0; i < Constituents.Count; i++)
            Constituents[i].Write(destination[(HeaderSize + i * MemoryRegionConstituent.Size)..]);
    }

    /// <summary>Reads a composite at <paramref name="offset"/> of <paramref name="buffer"/>, checking every bound.</summary>
    public static ParseResult<CompositeMemoryRegion> Read(ReadOnlySpan<byte> buffer, ulong offset, string what = "composite")
    {
        if (!Bounds.Fits(offset, HeaderSize, buffer.Length))
            return ParseResult<CompositeMemoryRegion>.Fail($"{what}: header at offset {offset} is outside the {buffer.Length}-byte buffer");
        var header = buffer[(int)offset..];
        var total = BinaryPrimitives.ReadUInt32LittleEndian(header);
        var count = BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);
        if (BinaryPrimitives.ReadUInt64LittleEndian(header[8..]) != 0)
            return ParseResult<CompositeMemoryRegion>.Fail($"{what}: reserved bytes 8..15 are not zero");
        if (!Bounds.Fits(offset + HeaderSize, (ulong)count * MemoryRegionConstituent.Size, buffer.Length))
            return ParseResult<CompositeMemoryRegion>.Fail($"{what}: {count} constituents do not fit in the {buffer.Length}-byte buffer");
        var constituents = new MemoryRegionConstituent[count];
        for (var i = 0; i < count; i++)
        {
            var c = MemoryRegionConstituent.Read(header[(HeaderSize + i * MemoryRegionConstituent.Size)..]);
            if (!c.Ok) return ParseResult<CompositeMemoryRegion>.Fail($"{what}: constituent {i}: {c.Error}");
            constituents[i] = c.Value;
        }
        return new CompositeMemoryRegion(total, constituents);
    }
}
