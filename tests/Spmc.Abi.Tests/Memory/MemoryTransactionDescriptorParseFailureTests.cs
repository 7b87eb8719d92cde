using Spmc.Abi.Descriptors;
using Spmc.Abi.Descriptors.Memory;
using static Spmc.Abi.Tests.Memory.MemoryDescriptorTestSupport;
using static Spmc.Abi.Tests.Memory.MemoryTransactionDescriptorBytesTests;

namespace Spmc.Abi.Tests.Memory;

/// <summary>
/// Malformed descriptors: every one must give Ok == false with a reason naming what is wrong, and nothing may throw.
/// Offsets in the samples (see <see cref="MemoryTransactionDescriptorBytesTests"/>):
/// v1.0 — EMAD 32..47 (reserved 40..47), composite 48..63 (reserved 56..63), constituents 64.., 80.. (reserved +12..15);
/// v1.1 — EMAD 48..63 (reserved 56..63), composite 64..79, constituents 80.., 96..;
/// v1.2 — EMAD 48..79 (impdef 56..71, reserved 72..79), composite 80..95, constituents 96.., 112...
/// </summary>
public class MemoryTransactionDescriptorParseFailureTests
{
    /// <summary>Cases the header reader already rejects: (name, bytes, v1.0 layout?, key phrase of the reason).</summary>
    public static TheoryData<string, byte[], bool, string> HeaderFailures() => new()
    {
        // Buffer shorter than the header.
        { "v1.0 empty", [], true, "0 bytes cannot hold the 32-byte" },
        { "v1.0 31 bytes", ShareV1_0[..31], true, "31 bytes cannot hold the 32-byte v1.0 header" },
        { "v1.1 empty", [], false, "0 bytes cannot hold the 48-byte" },
        { "v1.1 47 bytes", ShareV1_1[..47], false, "47 bytes cannot hold the 48-byte v1.1+ header" },
        { "v1.1 given a v1.0-sized header", ShareV1_0[..32], false, "32 bytes cannot hold the 48-byte" },

        // v1.0 reserved fields.
        { "v1.0 reserved byte 3", WithByte(ShareV1_0, 3, 0x01), true, "reserved byte 3" },
        { "v1.0 reserved byte 3 high bit", WithByte(ShareV1_0, 3, 0x80), true, "reserved byte 3" },
        { "v1.0 reserved word 24", WithU32(ShareV1_0, 24, 0x10), true, "reserved bytes 24..27" },
        { "v1.0 reserved byte 27", WithByte(ShareV1_0, 27, 0x80), true, "reserved bytes 24..27" },

        // v1.1+ reserved bytes 36..47.
        { "v1.1 reserved byte 36", WithByte(ShareV1_1, 36, 1), false, "reserved bytes 36..47" },
        { "v1.1 reserved byte 40", WithByte(ShareV1_1, 40, 1), false, "reserved bytes 36..47" },
        { "v1.1 reserved byte 44", WithByte(ShareV1_1, 44, 1), false, "reserved bytes 36..47" },
        { "v1.1 reserved byte 47", WithByte(ShareV1_1, 47, 0x80), false, "reserved bytes 36..47" },
        { "v1.2 reserved byte 39", WithByte(ShareV1_2, 39, 1), false, "reserved bytes 36..47" },
        { "hypervisor retrieve reserved byte 40", WithByte(HypervisorRetrieveV1_1, 40, 1), false, "reserved bytes 36..47" },

        // EMAD size.
        { "EMAD size 0, count 1", WithU32(ShareV1_1, 24, 0), false, "size 0 is neither 16" },
        { "EMAD size 8", WithU32(ShareV1_1, 24, 8), false, "size 8 is neither 16" },
        { "EMAD size 24", WithU32(ShareV1_2, 24, 24), false, "size 24 is neither 16" },
        { "EMAD size 17", WithU32(ShareV1_1, 24, 17), false, "size 17 is neither 16" },
        { "EMAD size 40", WithU32(ShareV1_2, 24, 40), false, "size 40 is neither 16" },
        { "EMAD size 0xFFFFFFFF", WithU32(ShareV1_2, 24, uint.MaxValue), false, "size 4294967295 is neither 16" },

        // Receivers offset.
        { "receivers offset 0 with a receiver", WithU32(ShareV1_1, 32, 0), false, "receivers offset 0 is inside the 48-byte header" },
        { "receivers offset 32", WithU32(ShareV1_1, 32, 32), false, "receivers offset 32 is inside the 48-byte header" },
        { "receivers offset 47", WithU32(ShareV1_2, 32, 47), false, "receivers offset 47 is inside the 48-byte header" },
        { "receivers offset 56", WithU32(ShareV1_1, 32, 56), false, "receivers offset 56 is not 16-byte aligned" },
        { "receivers offset 49", WithU32(ShareV1_2, 32, 49), false, "receivers offset 49 is not 16-byte aligned" },
        { "receivers offset 0xFFFFFFF8", WithU32(ShareV1_2, 32, 0xFFFF_FFF8), false, "is not 16-byte aligned" },

        // EMAD array past the buffer.
        { "v1.0 EMAD truncated", ShareV1_0[..47], true, "1 endpoint memory access descriptors of 16 bytes at offset 32 do not fit in 47 bytes" },
        { "v1.1 EMAD truncated", ShareV1_1[..63], false, "1 endpoint memory access descriptors of 16 bytes at offset 48 do not fit in 63 bytes" },
        { "v1.2 EMAD truncated", ShareV1_2[..79], false, "1 endpoint memory access descriptors of 32 bytes at offset 48 do not fit in 79 bytes" },
        { "v1.0 count 5", WithU32(ShareV1_0, 28, 5), true, "5 endpoint memory access descriptors" },
        { "v1.1 count 5", WithU32(ShareV1_1, 28, 5), false, "5 endpoint memory access descriptors" },
        { "v1.2 count 3", WithU32(ShareV1_2, 28, 3), false, "3 endpoint memory access descriptors of 32 bytes" },
        { "receivers offset past the buffer", WithU32(ShareV1_1, 32, 0x1000), false, "at offset 4096 do not fit" },
        { "receivers offset 0xFFFFFFF0", WithU32(ShareV1_1, 32, 0xFFFF_FFF0), false, "at offset 4294967280 do not fit" },
        { "hypervisor shape but count 1", WithU32(HypervisorRetrieveV1_1, 28, 1), false, "size 0 is neither 16" },

        // Huge counts.
        { "v1.0 count 0xFFFFFFFF", WithU32(ShareV1_0, 28, uint.MaxValue), true, "4294967295 endpoint memory access descriptors" },
        { "v1.1 count 0xFFFFFFFF", WithU32(ShareV1_1, 28, uint.MaxValue), false, "4294967295 endpoint memory access descriptors of 16 bytes" },
        { "v1.2 count 0xFFFFFFFF", WithU32(ShareV1_2, 28, uint.MaxValue), false, "4294967295 endpoint memory access descriptors of 32 bytes" },
        {
            "count and EMAD size 0xFFFFFFF0 / 0xFFFFFFFF",
            WithU32(WithU32(ShareV1_2, 24, 0xFFFF_FFF0), 28, uint.MaxValue), false, "4294967295 endpoint memory access descriptors of 4294967280 bytes"
        },
        { "count 0x10000000 of 16 (wraps in 32 bits)", WithU32(ShareV1_1, 28, 0x1000_0000), false, "268435456 endpoint memory access descriptors" },

        // EMAD reserved bytes.
        { "v1.0 EMAD reserved byte 8", WithByte(ShareV1_0, 40, 1), true, "receiver 0: reserved bytes are not zero" },
        { "v1.0 EMAD reserved byte 15", WithByte(ShareV1_0, 47, 0x80), true, "receiver 0: reserved bytes are not zero" },
        { "v1.1 EMAD reserved byte 8", WithByte(ShareV1_1, 56, 1), false, "receiver 0: reserved bytes are not zero" },
        { "v1.1 EMAD reserved byte 15", WithByte(ShareV1_1, 63, 1), false, "receiver 0: reserved bytes are not zero" },
        { "v1.2 EMAD reserved byte 24", WithByte(ShareV1_2, 72, 1), false, "receiver 0: reserved bytes are not zero" },
        { "v1.2 EMAD reserved byte 31", WithByte(ShareV1_2, 79, 0x80), false, "receiver 0: reserved bytes are not zero" },
        { "v1.1 second EMAD reserved", WithByte(TwoReceivers(MemoryDescriptorLayout.V1_1), 48 + 16 + 9, 1), false, "receiver 1: reserved bytes are not zero" },
        { "v1.2 second EMAD reserved", WithByte(TwoReceivers(MemoryDescriptorLayout.V1_2), 48 + 32 + 25, 1), false, "receiver 1: reserved bytes are not zero" },
        { "v1.0 second EMAD reserved", WithByte(TwoReceivers(MemoryDescriptorLayout.V1_0), 32 + 16 + 12, 1), true, "receiver 1: reserved bytes are not zero" },
    };

    /// <summary>Cases whose header and EMADs are fine but whose composite is not (ReadHeader succeeds, Read fails).</summary>
    public static TheoryData<string, byte[], bool, string> CompositeFailures() => new()
    {
        // Composite header out of bounds.
        { "v1.0 composite offset = buffer length", WithU32(ShareV1_0, 36, 96), true, "composite: header at offset 96 is outside the 96-byte buffer" },
        { "v1.0 composite offset 0xFFFFFFFF", WithU32(ShareV1_0, 36, uint.MaxValue), true, "composite: header at offset 4294967295 is outside" },
        { "v1.1 composite header cut", ShareV1_1[..72], false, "composite: header at offset 64 is outside the 72-byte buffer" },
        { "v1.2 composite header cut", ShareV1_2[..95], false, "composite: header at offset 80 is outside the 95-byte buffer" },
        { "v1.2 composite offset 120", WithU32(ShareV1_2, 52, 120), false, "composite: header at offset 120 is outside" },

        // Composite reserved bytes 8..15.
        { "v1.0 composite reserved byte 8", WithByte(ShareV1_0, 56, 1), true, "composite: reserved bytes 8..15 are not zero" },
        { "v1.1 composite reserved byte 15", WithByte(ShareV1_1, 79, 0x80), false, "composite: reserved bytes 8..15 are not zero" },
        { "v1.2 composite reserved byte 12", WithByte(ShareV1_2, 92, 1), false, "composite: reserved bytes 8..15 are not zero" },

        // Constituents past the buffer and huge counts.
        { "v1.0 constituent count 3", WithU32(ShareV1_0, 52, 3), true, "composite: 3 constituents do not fit in the 96-byte buffer" },
        { "v1.1 last constituent cut", ShareV1_1[..111], false, "composite: 2 constituents do not fit in the 111-byte buffer" },
        { "v1.2 constituent count 0xFFFFFFFF", WithU32(ShareV1_2, 84, uint.MaxValue), false, "composite: 4294967295 constituents do not fit" },
        { "v1.0 constituent count 0x10000000 (wraps in 32 bits)", WithU32(ShareV1_0, 52, 0x1000_0000), true, "composite: 268435456 constituents do not fit" },

        // Constituent reserved bytes 12..15.
        { "v1.0 constituent 0 reserved", WithByte(ShareV1_0, 76, 1), true, "constituent 0: constituent: reserved bytes 12..15 are not zero" },
        { "v1.1 constituent 1 reserved", WithByte(ShareV1_1, 111, 0x80), false, "constituent 1: constituent: reserved bytes 12..15 are not zero" },
        { "v1.2 constituent 1 reserved", WithByte(ShareV1_2, 124, 1), false, "constituent 1: constituent: reserved bytes 12..15 are not zero" },
    };

    private static byte[] TwoReceivers(MemoryDescriptorLayout layout) =>
        (SampleShare() with
        {
            Receivers =
            [
                new EndpointMemoryAccess(MemoryAccessPermissions.Of(0x8002, DataAccess.ReadWrite), 0),
                new EndpointMemoryAccess(MemoryAccessPermissions.Of(0x8003, DataAccess.ReadWrite), 0),
            ],
        }).ToBytes(layout);

    [Theory]
    [MemberData(nameof(HeaderFailures))]
    public void ReadHeader_RejectsWithItsReason(string name, byte[] bytes, bool v1_0, string phrase)
    {
        var result = MemoryTransactionDescriptor.ReadHeader(bytes, v1_0);

        Assert.False(result.Ok, name);
        Assert.Null(result.Value);
        Assert.NotNull(result.Error);
        Assert.Contains(phrase, result.Error);
    }

    [Theory]
    [MemberData(nameof(HeaderFailures))]
    public void Read_RejectsHeaderFailuresWithTheSameReason(string name, byte[] bytes, bool v1_0, string phrase)
    {
        var result = MemoryTransactionDescriptor.Read(bytes, v1_0);

        Assert.False(result.Ok, name);
        Assert.Contains(phrase, result.Error);
        Assert.Equal(MemoryTransactionDescriptor.ReadHeader(bytes, v1_0).Error, result.Error);
    }

    [Theory]
    [MemberData(nameof(CompositeFailures))]
    public void Read_RejectsBadComposites(string name, byte[] bytes, bool v1_0, string phrase)
    {
        Assert.True(MemoryTransactionDescriptor.ReadHeader(bytes, v1_0).Ok, $"{name}: the header itself is fine");

        var result = MemoryTransactionDescriptor.Read(bytes, v1_0);

        Assert.False(result.Ok, name);
        Assert.Null(result.Value);
        Assert.Contains(phrase, result.Error);
    }

    [Fact]
    public void EachCheck_HasItsOwnReason()
    {
        // One representative per check, with a phrase only that check's reason may contain.
        (string Phrase, string? Error)[] cases =
        [
            ("cannot hold the 32-byte", MemoryTransactionDescriptor.Read(ShareV1_0[..20], true).Error),
            ("cannot hold the 48-byte", MemoryTransactionDescriptor.Read(ShareV1_1[..40], false).Error),
            ("reserved byte 3", MemoryTransactionDescriptor.Read(WithByte(ShareV1_0, 3, 1), true).Error),
            ("reserved bytes 24..27", MemoryTransactionDescriptor.Read(WithByte(ShareV1_0, 25, 1), true).Error),
            ("reserved bytes 36..47", MemoryTransactionDescriptor.Read(WithByte(ShareV1_1, 38, 1), false).Error),
            ("is neither 16", MemoryTransactionDescriptor.Read(WithU32(ShareV1_1, 24, 24), false).Error),
            ("inside the 48-byte header", MemoryTransactionDescriptor.Read(WithU32(ShareV1_1, 32, 16), false).Error),
            ("not 16-byte aligned", MemoryTransactionDescriptor.Read(WithU32(ShareV1_1, 32, 52), false).Error),
            ("endpoint memory access descriptors of", MemoryTransactionDescriptor.Read(WithU32(ShareV1_1, 28, 9), false).Error),
            ("receiver 0: reserved", MemoryTransactionDescriptor.Read(WithByte(ShareV1_1, 60, 1), false).Error),
            ("composite: header at offset", MemoryTransactionDescriptor.Read(WithU32(ShareV1_1, 52, 112), false).Error),
            ("composite: reserved bytes 8..15", MemoryTransactionDescriptor.Read(WithByte(ShareV1_1, 72, 1), false).Error),
            ("constituents do not fit", MemoryTransactionDescriptor.Read(WithU32(ShareV1_1, 68, 4), false).Error),
            ("reserved bytes 12..15", MemoryTransactionDescriptor.Read(WithByte(ShareV1_1, 92, 1), false).Error),
        ];

        Assert.All(cases, c => Assert.NotNull(c.Error));
        Assert.Equal(cases.Length, cases.Select(c => c.Error).Distinct().Count());
        foreach (var (phrase, _) in cases)
            Assert.Equal(1, cases.Count(c => c.Error!.Contains(phrase, StringComparison.Ordinal)));
    }

    [Fact]
    public void V1_2ImplementationDefinedBytes_AreNotReserved()
    {
        // §5.3: bytes 8..23 of a 32-byte EMAD carry the impdef value; only 24..31 are MBZ.
        for (var b = 56; b < 72; b++)
        {
            var result = MemoryTransactionDescriptor.Read(WithByte(ShareV1_2, b, 0xA5), false);
            Assert.True(result.Ok, $"byte {b}: {result.Error}");
            Assert.NotEqual(UInt128.Zero, result.Value!.Receivers[0].ImplementationDefined);
        }
    }

    [Fact]
    public void HugeCounts_FailWithoutAllocating()
    {
        (byte[] Bytes, bool V1_0)[] inputs =
        [
            (WithU32(ShareV1_0, 28, uint.MaxValue), true),
            (WithU32(ShareV1_1, 28, uint.MaxValue), false),
            (WithU32(ShareV1_2, 28, uint.MaxValue), false),
            (WithU32(WithU32(ShareV1_2, 24, 0xFFFF_FFF0), 28, uint.MaxValue), false),
            (WithU32(ShareV1_0, 52, uint.MaxValue), true),
            (WithU32(ShareV1_2, 84, uint.MaxValue), false),
        ];
        foreach (var (input, v1_0) in inputs)
        {
            // Warm up (JIT, string formatting caches), then measure.
            _ = MemoryTransactionDescriptor.Read(input, v1_0);
            var before = GC.GetAllocatedBytesForCurrentThread();
            var result = MemoryTransactionDescriptor.Read(input, v1_0);
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

            Assert.False(result.Ok);
            Assert.True(allocated < 64 * 1024, $"{result.Error}: allocated {allocated} bytes");
        }
    }

    [Fact]
    public void CompositeRead_HugeOffsetsAndCounts_FailCleanly()
    {
        var composite = new byte[48];
        SampleComposite().Write(composite);

        Assert.True(CompositeMemoryRegion.Read(composite, 0).Ok);
        foreach (var offset in new ulong[] { 40, 47, 48, 49, uint.MaxValue, ulong.MaxValue, ulong.MaxValue - 15, long.MaxValue })
        {
            var result = CompositeMemoryRegion.Read(composite, offset);
            Assert.False(result.Ok, $"offset {offset}");
            Assert.NotNull(result.Error);
        }
        var huge = WithU32(composite, 4, uint.MaxValue);
        Assert.Contains("4294967295 constituents do not fit", CompositeMemoryRegion.Read(huge, 0).Error);
        Assert.Contains("retrieve: reserved bytes 8..15", CompositeMemoryRegion.Read(WithByte(composite, 8, 1), 0, "retrieve").Error);
    }
}
