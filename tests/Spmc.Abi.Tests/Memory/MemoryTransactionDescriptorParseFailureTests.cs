using Spmc.Abi.Descriptors;
using Spmc.Abi.Descriptors.Memory;
using Spmc.Abi.Ffa;
using Spmc.Abi.Rules;
using static Spmc.Abi.Tests.Memory.MemoryDescriptorTestSupport;
using static Spmc.Abi.Tests.Memory.MemoryTransactionDescriptorBytesTests;

namespace Spmc.Abi.Tests.Memory;

/// <summary>
/// Malformed descriptors: every one must give Ok == false, refused by the rule of the check it breaks (its stable ID,
/// see docs/rules.md), and nothing may throw.
/// Offsets in the samples (see <see cref="MemoryTransactionDescriptorBytesTests"/>):
/// v1.0 — EMAD 32..47 (reserved 40..47), composite 48..63 (reserved 56..63), constituents 64.., 80.. (reserved +12..15);
/// v1.1 — EMAD 48..63 (reserved 56..63), composite 64..79, constituents 80.., 96..;
/// v1.2 — EMAD 48..79 (impdef 56..71, reserved 72..79), composite 80..95, constituents 96.., 112...
/// </summary>
public class MemoryTransactionDescriptorParseFailureTests
{
    /// <summary>Cases the header reader already rejects: (name, bytes, v1.0 layout?, ID of the rule that refuses it).</summary>
    public static TheoryData<string, byte[], bool, string> HeaderFailures() => new()
    {
        // Buffer shorter than the header.
        { "v1.0 empty", [], true, "mem-desc.header-truncated" },
        { "v1.0 31 bytes", ShareV1_0[..31], true, "mem-desc.header-truncated" },
        { "v1.1 empty", [], false, "mem-desc.header-truncated" },
        { "v1.1 47 bytes", ShareV1_1[..47], false, "mem-desc.header-truncated" },
        { "v1.1 given a v1.0-sized header", ShareV1_0[..32], false, "mem-desc.header-truncated" },

        // v1.0 reserved fields.
        { "v1.0 reserved byte 3", WithByte(ShareV1_0, 3, 0x01), true, "mem-desc.v1-0-byte-3-mbz" },
        { "v1.0 reserved byte 3 high bit", WithByte(ShareV1_0, 3, 0x80), true, "mem-desc.v1-0-byte-3-mbz" },
        { "v1.0 reserved word 24", WithU32(ShareV1_0, 24, 0x10), true, "mem-desc.v1-0-bytes-24-27-mbz" },
        { "v1.0 reserved byte 27", WithByte(ShareV1_0, 27, 0x80), true, "mem-desc.v1-0-bytes-24-27-mbz" },

        // v1.1+ reserved bytes 36..47.
        { "v1.1 reserved byte 36", WithByte(ShareV1_1, 36, 1), false, "mem-desc.bytes-36-47-mbz" },
        { "v1.1 reserved byte 40", WithByte(ShareV1_1, 40, 1), false, "mem-desc.bytes-36-47-mbz" },
        { "v1.1 reserved byte 44", WithByte(ShareV1_1, 44, 1), false, "mem-desc.bytes-36-47-mbz" },
        { "v1.1 reserved byte 47", WithByte(ShareV1_1, 47, 0x80), false, "mem-desc.bytes-36-47-mbz" },
        { "v1.2 reserved byte 39", WithByte(ShareV1_2, 39, 1), false, "mem-desc.bytes-36-47-mbz" },
        { "hypervisor retrieve reserved byte 40", WithByte(HypervisorRetrieveV1_1, 40, 1), false, "mem-desc.bytes-36-47-mbz" },

        // EMAD size.
        { "EMAD size 0, count 1", WithU32(ShareV1_1, 24, 0), false, "mem-desc.emad-size-invalid" },
        { "EMAD size 8", WithU32(ShareV1_1, 24, 8), false, "mem-desc.emad-size-invalid" },
        { "EMAD size 24", WithU32(ShareV1_2, 24, 24), false, "mem-desc.emad-size-invalid" },
        { "EMAD size 17", WithU32(ShareV1_1, 24, 17), false, "mem-desc.emad-size-invalid" },
        { "EMAD size 40", WithU32(ShareV1_2, 24, 40), false, "mem-desc.emad-size-invalid" },
        { "EMAD size 0xFFFFFFFF", WithU32(ShareV1_2, 24, uint.MaxValue), false, "mem-desc.emad-size-invalid" },

        // Receivers offset.
        { "receivers offset 0 with a receiver", WithU32(ShareV1_1, 32, 0), false, "mem-desc.receivers-offset-in-header" },
        { "receivers offset 32", WithU32(ShareV1_1, 32, 32), false, "mem-desc.receivers-offset-in-header" },
        { "receivers offset 47", WithU32(ShareV1_2, 32, 47), false, "mem-desc.receivers-offset-in-header" },
        { "receivers offset 56", WithU32(ShareV1_1, 32, 56), false, "mem-desc.receivers-offset-unaligned" },
        { "receivers offset 49", WithU32(ShareV1_2, 32, 49), false, "mem-desc.receivers-offset-unaligned" },
        { "receivers offset 0xFFFFFFF8", WithU32(ShareV1_2, 32, 0xFFFF_FFF8), false, "mem-desc.receivers-offset-unaligned" },

        // EMAD array past the buffer.
        { "v1.0 EMAD truncated", ShareV1_0[..47], true, "mem-desc.emads-truncated" },
        { "v1.1 EMAD truncated", ShareV1_1[..63], false, "mem-desc.emads-truncated" },
        { "v1.2 EMAD truncated", ShareV1_2[..79], false, "mem-desc.emads-truncated" },
        { "v1.0 count 5", WithU32(ShareV1_0, 28, 5), true, "mem-desc.emads-truncated" },
        { "v1.1 count 5", WithU32(ShareV1_1, 28, 5), false, "mem-desc.emads-truncated" },
        { "v1.2 count 3", WithU32(ShareV1_2, 28, 3), false, "mem-desc.emads-truncated" },
        { "receivers offset past the buffer", WithU32(ShareV1_1, 32, 0x1000), false, "mem-desc.emads-truncated" },
        { "receivers offset 0xFFFFFFF0", WithU32(ShareV1_1, 32, 0xFFFF_FFF0), false, "mem-desc.emads-truncated" },
        { "hypervisor shape but count 1", WithU32(HypervisorRetrieveV1_1, 28, 1), false, "mem-desc.emad-size-invalid" },

        // Huge counts.
        { "v1.0 count 0xFFFFFFFF", WithU32(ShareV1_0, 28, uint.MaxValue), true, "mem-desc.emads-truncated" },
        { "v1.1 count 0xFFFFFFFF", WithU32(ShareV1_1, 28, uint.MaxValue), false, "mem-desc.emads-truncated" },
        { "v1.2 count 0xFFFFFFFF", WithU32(ShareV1_2, 28, uint.MaxValue), false, "mem-desc.emads-truncated" },
        {
            "count and EMAD size 0xFFFFFFF0 / 0xFFFFFFFF",
            WithU32(WithU32(ShareV1_2, 24, 0xFFFF_FFF0), 28, uint.MaxValue), false, "mem-desc.emads-truncated"
        },
        { "count 0x10000000 of 16 (wraps in 32 bits)", WithU32(ShareV1_1, 28, 0x1000_0000), false, "mem-desc.emads-truncated" },

        // EMAD reserved bytes.
        { "v1.0 EMAD reserved byte 8", WithByte(ShareV1_0, 40, 1), true, "mem-desc.emad-reserved-mbz" },
        { "v1.0 EMAD reserved byte 15", WithByte(ShareV1_0, 47, 0x80), true, "mem-desc.emad-reserved-mbz" },
        { "v1.1 EMAD reserved byte 8", WithByte(ShareV1_1, 56, 1), false, "mem-desc.emad-reserved-mbz" },
        { "v1.1 EMAD reserved byte 15", WithByte(ShareV1_1, 63, 1), false, "mem-desc.emad-reserved-mbz" },
        { "v1.2 EMAD reserved byte 24", WithByte(ShareV1_2, 72, 1), false, "mem-desc.emad-reserved-mbz" },
        { "v1.2 EMAD reserved byte 31", WithByte(ShareV1_2, 79, 0x80), false, "mem-desc.emad-reserved-mbz" },
        { "v1.1 second EMAD reserved", WithByte(TwoReceivers(MemoryDescriptorLayout.V1_1), 48 + 16 + 9, 1), false, "mem-desc.emad-reserved-mbz" },
        { "v1.2 second EMAD reserved", WithByte(TwoReceivers(MemoryDescriptorLayout.V1_2), 48 + 32 + 25, 1), false, "mem-desc.emad-reserved-mbz" },
        { "v1.0 second EMAD reserved", WithByte(TwoReceivers(MemoryDescriptorLayout.V1_0), 32 + 16 + 12, 1), true, "mem-desc.emad-reserved-mbz" },
    };

    /// <summary>
    /// Cases whose header and EMADs are fine but whose composite is not (ReadHeader succeeds, Read fails):
    /// (name, bytes, v1.0 layout?, ID of the rule that refuses it).
    /// </summary>
    public static TheoryData<string, byte[], bool, string> CompositeFailures() => new()
    {
        // Composite header out of bounds.
        { "v1.0 composite offset = buffer length", WithU32(ShareV1_0, 36, 96), true, "composite.header-out-of-bounds" },
        { "v1.0 composite offset 0xFFFFFFFF", WithU32(ShareV1_0, 36, uint.MaxValue), true, "composite.header-out-of-bounds" },
        { "v1.1 composite header cut", ShareV1_1[..72], false, "composite.header-out-of-bounds" },
        { "v1.2 composite header cut", ShareV1_2[..95], false, "composite.header-out-of-bounds" },
        { "v1.2 composite offset 120", WithU32(ShareV1_2, 52, 120), false, "composite.header-out-of-bounds" },

        // Composite reserved bytes 8..15.
        { "v1.0 composite reserved byte 8", WithByte(ShareV1_0, 56, 1), true, "composite.reserved-mbz" },
        { "v1.1 composite reserved byte 15", WithByte(ShareV1_1, 79, 0x80), false, "composite.reserved-mbz" },
        { "v1.2 composite reserved byte 12", WithByte(ShareV1_2, 92, 1), false, "composite.reserved-mbz" },

        // Constituents past the buffer and huge counts.
        { "v1.0 constituent count 3", WithU32(ShareV1_0, 52, 3), true, "composite.constituents-truncated" },
        { "v1.1 last constituent cut", ShareV1_1[..111], false, "composite.constituents-truncated" },
        { "v1.2 constituent count 0xFFFFFFFF", WithU32(ShareV1_2, 84, uint.MaxValue), false, "composite.constituents-truncated" },
        { "v1.0 constituent count 0x10000000 (wraps in 32 bits)", WithU32(ShareV1_0, 52, 0x1000_0000), true, "composite.constituents-truncated" },

        // Constituent reserved bytes 12..15.
        { "v1.0 constituent 0 reserved", WithByte(ShareV1_0, 76, 1), true, "constituent.reserved-mbz" },
        { "v1.1 constituent 1 reserved", WithByte(ShareV1_1, 111, 0x80), false, "constituent.reserved-mbz" },
        { "v1.2 constituent 1 reserved", WithByte(ShareV1_2, 124, 1), false, "constituent.reserved-mbz" },
    };

    [Theory]
    [InlineData(true, 40)]  // v1.0: EMAD 32..47, reserved 40..47
    [InlineData(false, 56)] // v1.1: EMAD 48..63, reserved 56..63
    public void LegacyEmadReservedBytes_NameTheLinuxDefect_AndTheSwitchAcceptsThem(bool v1_0, int reservedAt)
    {
        var bytes = WithByte(v1_0 ? ShareV1_0 : ShareV1_1, reservedAt + 3, 0xA5); // stale TX bytes
        var refused = MemoryTransactionDescriptor.Read(bytes, v1_0);
        Assert.Equal("mem-desc.emad-reserved-mbz", refused.Rejection!.Rule);
        Assert.Contains("3383ffb7", refused.Rejection.Reason, StringComparison.Ordinal);
        Assert.Contains("arm-ffa-emad-reserved", refused.Rejection.Reason, StringComparison.Ordinal);

        var accepted = MemoryTransactionDescriptor.Read(bytes, v1_0, acceptEmadReserved: true);
        Assert.True(accepted.Ok);
        var clean = MemoryTransactionDescriptor.Read(v1_0 ? ShareV1_0 : ShareV1_1, v1_0).Value!;
        Assert.Equal(0ul, accepted.Value!.Receivers[0].Reserved);
        Assert.Equal(clean.Receivers[0], accepted.Value.Receivers[0]);
    }

    [Fact]
    public void V1_2EmadReservedBytes_AreRefused_EvenWithTheSwitch()
    {
        var result = MemoryTransactionDescriptor.Read(WithByte(ShareV1_2, 72, 1), false, acceptEmadReserved: true);
        Assert.Equal("mem-desc.emad-reserved-mbz", result.Rejection!.Rule);
        Assert.DoesNotContain("3383ffb7", result.Rejection.Reason, StringComparison.Ordinal);
    }

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
    public void ReadHeader_RejectsByItsRule(string name, byte[] bytes, bool v1_0, string rule)
    {
        var result = MemoryTransactionDescriptor.ReadHeader(bytes, v1_0);

        Assert.False(result.Ok, name);
        Assert.Null(result.Value);
        Assert.NotNull(result.Error);
        Assert.Equal(rule, result.Rejection!.Rule);
        Assert.Equal(FfaError.InvalidParameters, result.Rejection.Code);
    }

    [Theory]
    [MemberData(nameof(HeaderFailures))]
    public void Read_RejectsHeaderFailuresByTheSameRule(string name, byte[] bytes, bool v1_0, string rule)
    {
        var result = MemoryTransactionDescriptor.Read(bytes, v1_0);

        Assert.False(result.Ok, name);
        Assert.Equal(rule, result.Rejection!.Rule);
        Assert.Equal(MemoryTransactionDescriptor.ReadHeader(bytes, v1_0).Error, result.Error);
        Assert.Equal(MemoryTransactionDescriptor.ReadHeader(bytes, v1_0).Rejection, result.Rejection);
    }

    [Theory]
    [MemberData(nameof(CompositeFailures))]
    public void Read_RejectsBadComposites(string name, byte[] bytes, bool v1_0, string rule)
    {
        Assert.True(MemoryTransactionDescriptor.ReadHeader(bytes, v1_0).Ok, $"{name}: the header itself is fine");

        var result = MemoryTransactionDescriptor.Read(bytes, v1_0);

        Assert.False(result.Ok, name);
        Assert.Null(result.Value);
        Assert.Equal(rule, result.Rejection!.Rule);
        Assert.Equal(FfaError.InvalidParameters, result.Rejection.Code);
    }

    [Fact]
    public void EachCheck_HasItsOwnRule()
    {
        // One representative per check, refused by that check's rule and no other's.
        (string Rule, Rejection? Rejection)[] cases =
        [
            ("mem-desc.header-truncated", MemoryTransactionDescriptor.Read(ShareV1_0[..20], true).Rejection),
            ("mem-desc.v1-0-byte-3-mbz", MemoryTransactionDescriptor.Read(WithByte(ShareV1_0, 3, 1), true).Rejection),
            ("mem-desc.v1-0-bytes-24-27-mbz", MemoryTransactionDescriptor.Read(WithByte(ShareV1_0, 25, 1), true).Rejection),
            ("mem-desc.bytes-36-47-mbz", MemoryTransactionDescriptor.Read(WithByte(ShareV1_1, 38, 1), false).Rejection),
            ("mem-desc.emad-size-invalid", MemoryTransactionDescriptor.Read(WithU32(ShareV1_1, 24, 24), false).Rejection),
            ("mem-desc.receivers-offset-in-header", MemoryTransactionDescriptor.Read(WithU32(ShareV1_1, 32, 16), false).Rejection),
            ("mem-desc.receivers-offset-unaligned", MemoryTransactionDescriptor.Read(WithU32(ShareV1_1, 32, 52), false).Rejection),
            ("mem-desc.emads-truncated", MemoryTransactionDescriptor.Read(WithU32(ShareV1_1, 28, 9), false).Rejection),
            ("mem-desc.emad-reserved-mbz", MemoryTransactionDescriptor.Read(WithByte(ShareV1_1, 60, 1), false).Rejection),
            ("composite.header-out-of-bounds", MemoryTransactionDescriptor.Read(WithU32(ShareV1_1, 52, 112), false).Rejection),
            ("composite.reserved-mbz", MemoryTransactionDescriptor.Read(WithByte(ShareV1_1, 72, 1), false).Rejection),
            ("composite.constituents-truncated", MemoryTransactionDescriptor.Read(WithU32(ShareV1_1, 68, 4), false).Rejection),
            ("constituent.reserved-mbz", MemoryTransactionDescriptor.Read(WithByte(ShareV1_1, 92, 1), false).Rejection),
        ];

        Assert.All(cases, c => Assert.NotNull(c.Rejection));
        Assert.All(cases, c => Assert.Equal(c.Rule, c.Rejection!.Rule));
        Assert.Equal(cases.Length, cases.Select(c => c.Rejection!.Rule).Distinct().Count());
        Assert.Equal(cases.Length, cases.Select(c => c.Rejection!.Reason).Distinct().Count());
    }

    [Fact]
    public void HeaderTruncated_IsOneRuleForBothLayouts()
    {
        // The v1.0 (32-byte) and v1.1+ (48-byte) headers are one check with the layout's size.
        Assert.Equal("mem-desc.header-truncated", MemoryTransactionDescriptor.Read(ShareV1_0[..20], true).Rejection!.Rule);
        Assert.Equal("mem-desc.header-truncated", MemoryTransactionDescriptor.Read(ShareV1_1[..40], false).Rejection!.Rule);
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
            Assert.Equal("composite.header-out-of-bounds", result.Rejection!.Rule);
        }
        var huge = WithU32(composite, 4, uint.MaxValue);
        Assert.Equal("composite.constituents-truncated", CompositeMemoryRegion.Read(huge, 0).Rejection!.Rule);
        var named = CompositeMemoryRegion.Read(WithByte(composite, 8, 1), 0, "retrieve");
        Assert.Equal("composite.reserved-mbz", named.Rejection!.Rule);
        Assert.StartsWith("retrieve: ", named.Error); // the caller's name for the composite leads the reason
    }
}
