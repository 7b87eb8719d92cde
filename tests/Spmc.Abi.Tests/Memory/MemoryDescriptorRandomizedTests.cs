using System.Buffers.Binary;
using Spmc.Abi.Descriptors;
using Spmc.Abi.Descriptors.Memory;
using static Spmc.Abi.Tests.Memory.MemoryDescriptorTestSupport;

namespace Spmc.Abi.Tests.Memory;

/// <summary>Seeded random round trips and robustness against arbitrary bytes. Fixed seeds keep failures reproducible.</summary>
public class MemoryDescriptorRandomizedTests
{
    private static ulong NextU64(Random random) => (ulong)random.NextInt64() ^ ((ulong)random.Next(2) << 63);
    private static uint NextU32(Random random) => (uint)NextU64(random);

    /// <summary>A random descriptor that is valid for the codec in <paramref name="layout"/> (reserved fields zero).</summary>
    private static MemoryTransactionDescriptor RandomDescriptor(Random random, MemoryDescriptorLayout layout)
    {
        var receiverCount = random.Next(0, 5);
        var withComposite = receiverCount > 0 && random.Next(2) == 0;
        var receivers = new EndpointMemoryAccess[receiverCount];
        for (var i = 0; i < receiverCount; i++)
        {
            var access = new MemoryAccessPermissions((ushort)random.Next(0x10000), (byte)random.Next(0x100), (byte)random.Next(0x100));
            var impdef = layout == MemoryDescriptorLayout.V1_2 ? new UInt128(NextU64(random), NextU64(random)) : UInt128.Zero;
            // Without a composite the offset must stay 0 (retrieve request); with one the writer fills it in.
            receivers[i] = new EndpointMemoryAccess(access, withComposite ? NextU32(random) : 0, impdef);
        }
        CompositeMemoryRegion? composite = null;
        if (withComposite)
        {
            var constituents = new MemoryRegionConstituent[random.Next(0, 6)];
            for (var i = 0; i < constituents.Length; i++) constituents[i] = new MemoryRegionConstituent(NextU64(random), NextU32(random));
            // The codec does not check that the total matches; keep it random so a swapped field would show.
            composite = new CompositeMemoryRegion(NextU32(random), constituents);
        }
        var attributes = layout == MemoryDescriptorLayout.V1_0 ? (ushort)random.Next(0x100) : (ushort)random.Next(0x10000);
        return new MemoryTransactionDescriptor((ushort)random.Next(0x10000), new MemoryRegionAttributes(attributes),
            new MemoryTransactionFlags(NextU32(random)), NextU64(random), NextU64(random), receivers, composite);
    }

    [Theory]
    [InlineData(MemoryDescriptorLayout.V1_0, 1000)]
    [InlineData(MemoryDescriptorLayout.V1_1, 2000)]
    [InlineData(MemoryDescriptorLayout.V1_2, 3000)]
    public void RandomDescriptors_EmitParseEmit_IsByteIdentical(MemoryDescriptorLayout layout, int seed)
    {
        var random = new Random(seed);
        for (var iteration = 0; iteration < 1000; iteration++)
        {
            var original = RandomDescriptor(random, layout);
            var bytes = original.ToBytes(layout);
            Assert.Equal(original.Size(layout), bytes.Length);

            var parsed = MemoryTransactionDescriptor.Read(bytes, IsV1_0(layout));

            Assert.True(parsed.Ok, $"iteration {iteration}: {parsed.Error}");
            AssertRoundTripped(original, parsed.Value!, layout);
            Assert.Equal(bytes, parsed.Value!.ToBytes(layout));
        }
    }

    [Fact]
    public void RandomRelinquishDescriptors_RoundTrip()
    {
        var random = new Random(4000);
        for (var iteration = 0; iteration < 1000; iteration++)
        {
            var endpoints = Enumerable.Range(0, random.Next(0, 9)).Select(_ => (ushort)random.Next(0x10000)).ToArray();
            var original = new MemoryRelinquishDescriptor(NextU64(random), NextU32(random), endpoints);
            var bytes = original.ToBytes();

            var parsed = MemoryRelinquishDescriptor.Read(bytes);

            Assert.True(parsed.Ok, parsed.Error);
            Assert.Equal(original.Handle, parsed.Value!.Handle);
            Assert.Equal(original.Flags, parsed.Value.Flags);
            Assert.Equal(endpoints, parsed.Value.Endpoints);
            Assert.Equal(bytes, parsed.Value.ToBytes());
        }
    }

    /// <summary>Runs every decoder over <paramref name="buffer"/>; a throw fails the test, and every result must be coherent.</summary>
    private static void DecodeEverything(byte[] buffer, Random random)
    {
        foreach (var v1_0 in new[] { true, false })
        {
            Coherent(MemoryTransactionDescriptor.ReadHeader(buffer, v1_0));
            var full = MemoryTransactionDescriptor.Read(buffer, v1_0);
            Coherent(full);
            if (full.Ok)
            {
                // Whatever parsed must fit the buffer it came from.
                var d = full.Value!;
                Assert.True(d.ReceiversOffset + (long)d.Receivers.Count * d.EmadSize <= buffer.Length);
                if (d.Composite is not null) Assert.True(d.CompositeOffset + (long)d.Composite.Size <= buffer.Length);
            }
        }
        Coherent(MemoryRelinquishDescriptor.Read(buffer));
        Coherent(CompositeMemoryRegion.Read(buffer, 0));
        Coherent(CompositeMemoryRegion.Read(buffer, (ulong)random.Next(0, buffer.Length + 32)));
        Coherent(CompositeMemoryRegion.Read(buffer, NextU64(random)));
    }

    private static void Coherent<T>(ParseResult<T> result)
    {
        if (result.Ok) Assert.NotNull(result.Value);
        else Assert.False(string.IsNullOrWhiteSpace(result.Error));
    }

    [Fact]
    public void RandomBuffers_NeverThrow()
    {
        var random = new Random(5000);
        for (var iteration = 0; iteration < 2000; iteration++)
        {
            var buffer = new byte[random.Next(0, 601)];
            switch (iteration % 4)
            {
                case 0:
                    random.NextBytes(buffer);
                    break;
                case 1:
                    // Mostly zero, so the reserved checks pass and the counts/offsets/sizes get exercised.
                    if (buffer.Length >= 36)
                    {
                        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(24), random.Next(3) switch { 0 => 16u, 1 => 32u, _ => NextU32(random) });
                        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(28), random.Next(2) == 0 ? (uint)random.Next(0, 40) : NextU32(random));
                        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(32), random.Next(2) == 0 ? (uint)random.Next(0, 40) * 16 : NextU32(random));
                    }
                    if (buffer.Length >= 16) BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(12), random.Next(2) == 0 ? (uint)random.Next(0, 400) : NextU32(random));
                    // Sprinkle composite offsets where EMADs would sit.
                    for (var at = 36; at + 4 <= buffer.Length && at < 200; at += 16)
                        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(at), (uint)random.Next(0, buffer.Length + 64));
                    break;
                default:
                    buffer = Mutated(random);
                    break;
            }
            DecodeEverything(buffer, random);
        }
    }

    /// <summary>A valid descriptor (any layout, or a relinquish), with a few random bytes flipped and maybe cut short or padded.</summary>
    private static byte[] Mutated(Random random)
    {
        byte[] bytes;
        var kind = random.Next(4);
        if (kind == 3)
        {
            bytes = new MemoryRelinquishDescriptor(NextU64(random), 0,
                Enumerable.Range(0, random.Next(0, 5)).Select(_ => (ushort)random.Next(0x10000)).ToArray()).ToBytes();
        }
        else
        {
            var layout = AllLayouts[kind];
            var d = RandomDescriptor(random, layout);
            if (d.Receivers.Count > 0 && d.Composite is null && random.Next(2) == 0)
                d = d with { Composite = CompositeMemoryRegion.Of(new MemoryRegionConstituent(0x8000_0000, 1)) };
            bytes = d.ToBytes(layout);
        }
        var flips = random.Next(1, 6);
        for (var i = 0; i < flips && bytes.Length > 0; i++)
        {
            var at = random.Next(bytes.Length);
            bytes[at] = random.Next(3) switch { 0 => (byte)(bytes[at] ^ (1 << random.Next(8))), 1 => 0xFF, _ => (byte)random.Next(0x100) };
        }
        return random.Next(4) switch
        {
            0 => bytes[..random.Next(0, bytes.Length + 1)],
            1 => [.. bytes, .. new byte[random.Next(1, 64)]],
            _ => bytes,
        };
    }

    [Fact]
    public void MutatedValidDescriptors_ParseInTheirOwnLayoutOrFailCleanly()
    {
        var random = new Random(6000);
        var accepted = 0;
        var rejected = 0;
        for (var iteration = 0; iteration < 1000; iteration++)
        {
            var layout = AllLayouts[iteration % 3];
            var original = RandomDescriptor(random, layout);
            var bytes = original.ToBytes(layout);
            if (bytes.Length == 0) continue;
            var at = random.Next(bytes.Length);
            bytes[at] ^= (byte)(1 << random.Next(8));

            var result = MemoryTransactionDescriptor.Read(bytes, IsV1_0(layout));
            Coherent(result);
            if (result.Ok) accepted++;
            else rejected++;
        }
        // Flipping a bit in a data field still parses; in a reserved field, a count or a size it must not.
        Assert.True(accepted > 0);
        Assert.True(rejected > 0);
    }
}
