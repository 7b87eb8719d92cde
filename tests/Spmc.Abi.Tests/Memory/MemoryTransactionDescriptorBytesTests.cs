using System.Buffers.Binary;
using Spmc.Abi.Descriptors;
using Spmc.Abi.Descriptors.Memory;
using static Spmc.Abi.Tests.Memory.MemoryDescriptorTestSupport;

namespace Spmc.Abi.Tests.Memory;

/// <summary>
/// Descriptors written out by hand from ffa-abi.md §5.1–§5.7 (and spmc-behaviour.md §8.1), byte for byte,
/// checked against the encoder and the decoder.
/// </summary>
public class MemoryTransactionDescriptorBytesTests
{
    // Composite (§5.7): total pages 3, 2 constituents, reserved; then 0x80010000 × 1, 0x80030000 × 2.
    private const string CompositeHex =
        "03000000" + "02000000" + "0000000000000000" +
        "0000018000000000" + "01000000" + "00000000" +
        "0000038000000000" + "02000000" + "00000000";

    /// <summary>§5.1: v1.0 SHARE, 32-byte header, EMAD at 32, composite at 48.</summary>
    public static readonly byte[] ShareV1_0 = Hex(
        "0000",             // +0  sender 0x0000
        "2F",               // +2  attributes (8-bit)
        "00",               // +3  reserved
        "00000000",         // +4  flags
        "0000000000000000", // +8  handle
        "8877665544332211", // +16 tag
        "00000000",         // +24 reserved
        "01000000",         // +28 EMAD count
                            // +32 EMAD: receiver 0x8002, permissions RW (0x02), flags 0, composite offset 48, reserved
        "0280", "02", "00", "30000000", "0000000000000000",
        CompositeHex);      // +48

    /// <summary>§5.2: v1.1 SHARE, 48-byte header, 16-byte EMAD at 48, composite at 64.</summary>
    public static readonly byte[] ShareV1_1 = Hex(
        "0000",             // +0  sender
        "2F00",             // +2  attributes (16-bit)
        "00000000",         // +4  flags
        "0000000000000000", // +8  handle
        "8877665544332211", // +16 tag
        "10000000",         // +24 EMAD size 16
        "01000000",         // +28 EMAD count
        "30000000",         // +32 EMAD offset 48
        "000000000000000000000000", // +36 reserved
                                    // +48 EMAD: 0x8002 RW, composite offset 64
        "0280", "02", "00", "40000000", "0000000000000000",
        CompositeHex);      // +64

    /// <summary>§5.2/§5.3: v1.2 SHARE, 48-byte header, 32-byte EMAD at 48, composite at 80.</summary>
    public static readonly byte[] ShareV1_2 = Hex(
        "0000", "2F00", "00000000", "0000000000000000", "8877665544332211",
        "20000000",         // +24 EMAD size 32
        "01000000",         // +28 EMAD count
        "30000000",         // +32 EMAD offset 48
        "000000000000000000000000",
        // +48 EMAD: 0x8002 RW, composite offset 80, impdef (16 bytes), reserved (8 bytes)
        "0280", "02", "00", "50000000", "00000000000000000000000000000000", "0000000000000000",
        CompositeHex);      // +80

    /// <summary>
    /// v1.2 retrieve response: sender 0x0001, attributes 0x6F (normal WB inner + NS), flags = type share (0x08),
    /// handle 0x8000000000000001, receiver 0x8002 RW|NX (0x06) with an impdef value, composite at 80.
    /// </summary>
    public static readonly byte[] RetrieveResponseV1_2 = Hex(
        "0100", "6F00", "08000000", "0100000000000080", "8877665544332211",
        "20000000", "01000000", "30000000", "000000000000000000000000",
        "0280", "06", "00", "50000000",
        "000102030405060708090A0B0C0D0E0F", // impdef 0x0F0E0D0C0B0A09080706050403020100, little endian
        "0000000000000000",
        CompositeHex);

    /// <summary>v1.1 hypervisor retrieve request (pKVM reclaim): 48 bytes, zero but for the handle.</summary>
    public static readonly byte[] HypervisorRetrieveV1_1 = Hex(
        "0000", "0000", "00000000",
        "0500000000000080", // handle 0x8000000000000005
        "0000000000000000", "00000000", "00000000", "00000000", "000000000000000000000000");

    /// <summary>v1.0 retrieve request: 32-byte header + one EMAD with composite offset 0; flags = type lend.</summary>
    public static readonly byte[] RetrieveRequestV1_0 = Hex(
        "0100", "2F", "00", "10000000", "0500000000000080", "0000000000000000", "00000000", "01000000",
        "0280", "02", "00", "00000000", "0000000000000000");

    public static TheoryData<MemoryDescriptorLayout> Layouts() => [.. AllLayouts];

    private static byte[] ShareBytes(MemoryDescriptorLayout layout) => layout switch
    {
        MemoryDescriptorLayout.V1_0 => ShareV1_0,
        MemoryDescriptorLayout.V1_1 => ShareV1_1,
        _ => ShareV1_2,
    };

    [Fact]
    public void HandWrittenSamples_HaveTheSizesTheTablesGive()
    {
        Assert.Equal(32 + 16 + 48, ShareV1_0.Length);
        Assert.Equal(48 + 16 + 48, ShareV1_1.Length);
        Assert.Equal(48 + 32 + 48, ShareV1_2.Length);
        Assert.Equal(128, RetrieveResponseV1_2.Length);
        Assert.Equal(48, HypervisorRetrieveV1_1.Length);
        Assert.Equal(48, RetrieveRequestV1_0.Length);
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Share_ToBytes_IsByteExact(MemoryDescriptorLayout layout)
    {
        Assert.Equal(Convert.ToHexString(ShareBytes(layout)), Convert.ToHexString(SampleShare().ToBytes(layout)));
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Share_Write_IntoALargerBuffer_WritesOnlyTheDescriptor(MemoryDescriptorLayout layout)
    {
        var expected = ShareBytes(layout);
        var buffer = Enumerable.Repeat((byte)0xEE, expected.Length + 32).ToArray();
        SampleShare().Write(buffer, layout);
        Assert.Equal(expected, buffer[..expected.Length]);
        Assert.All(buffer[expected.Length..], b => Assert.Equal(0xEE, b));
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Share_Read_GivesTheExpectedValues(MemoryDescriptorLayout layout)
    {
        var result = MemoryTransactionDescriptor.Read(ShareBytes(layout), IsV1_0(layout));

        Assert.True(result.Ok, result.Error);
        var d = result.Value!;
        Assert.Equal(0x0000, d.Sender);
        Assert.Equal(0x2F, d.Attributes.Value);
        Assert.Equal(0u, d.Flags.Value);
        Assert.Equal(0ul, d.Handle);
        Assert.Equal(SampleTag, d.Tag);
        Assert.Equal(layout, d.Layout);
        Assert.Equal(IsV1_0(layout) || layout == MemoryDescriptorLayout.V1_1 ? 16 : 32, d.EmadSize);
        Assert.Equal(IsV1_0(layout) ? 32 : 48, d.ReceiversOffset);
        var emad = Assert.Single(d.Receivers);
        Assert.Equal(0x8002, emad.Access.Endpoint);
        Assert.Equal(0x02, emad.Access.Permissions);
        Assert.Equal(0, emad.Access.Flags);
        Assert.Equal(DataAccess.ReadWrite, emad.Access.Data);
        var compositeOffset = layout switch { MemoryDescriptorLayout.V1_0 => 48u, MemoryDescriptorLayout.V1_1 => 64u, _ => 80u };
        Assert.Equal(compositeOffset, emad.CompositeOffset);
        Assert.Equal(compositeOffset, d.CompositeOffset);
        Assert.Equal(UInt128.Zero, emad.ImplementationDefined);
        Assert.NotNull(d.Composite);
        Assert.Equal(3u, d.Composite.TotalPageCount);
        Assert.Equal([new MemoryRegionConstituent(0x8001_0000, 1), new MemoryRegionConstituent(0x8003_0000, 2)], d.Composite.Constituents);
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Share_SizeAndCompositeOffsetIn_MatchTheTables(MemoryDescriptorLayout layout)
    {
        var d = SampleShare();
        Assert.Equal(ShareBytes(layout).Length, d.Size(layout));
        Assert.Equal(layout switch { MemoryDescriptorLayout.V1_0 => 48, MemoryDescriptorLayout.V1_1 => 64, _ => 80 }, d.CompositeOffsetIn(layout));
    }

    [Fact]
    public void RetrieveResponseV1_2_IsByteExact()
    {
        var response = new MemoryTransactionDescriptor(0x0001, MemoryRegionAttributes.NormalWriteBackInner.WithNonSecure(true),
            MemoryTransactionFlags.OfType(MemoryTransactionType.Share), 0x8000_0000_0000_0001, SampleTag,
            [new EndpointMemoryAccess(MemoryAccessPermissions.Of(0x8002, DataAccess.ReadWrite, InstructionAccess.NotExecutable), 0,
                new UInt128(0x0F0E_0D0C_0B0A_0908, 0x0706_0504_0302_0100))],
            SampleComposite());

        Assert.Equal(Convert.ToHexString(RetrieveResponseV1_2), Convert.ToHexString(response.ToBytes(MemoryDescriptorLayout.V1_2)));
    }

    [Fact]
    public void RetrieveResponseV1_2_Reads()
    {
        var result = MemoryTransactionDescriptor.Read(RetrieveResponseV1_2, false);

        Assert.True(result.Ok, result.Error);
        var d = result.Value!;
        Assert.Equal(0x0001, d.Sender);
        Assert.Equal(0x6F, d.Attributes.Value);
        Assert.True(d.Attributes.NonSecure);
        Assert.Equal(MemoryType.Normal, d.Attributes.Type);
        Assert.Equal(Cacheability.WriteBack, d.Attributes.Cacheability);
        Assert.Equal(Shareability.InnerShareable, d.Attributes.Shareability);
        Assert.Equal(MemoryTransactionType.Share, d.Flags.Type);
        Assert.Equal(0x8000_0000_0000_0001ul, d.Handle);
        Assert.Equal(MemoryDescriptorLayout.V1_2, d.Layout);
        Assert.Equal(32, d.EmadSize);
        var emad = Assert.Single(d.Receivers);
        Assert.Equal(0x06, emad.Access.Permissions);
        Assert.Equal(DataAccess.ReadWrite, emad.Access.Data);
        Assert.Equal(InstructionAccess.NotExecutable, emad.Access.Instruction);
        Assert.Equal(new UInt128(0x0F0E_0D0C_0B0A_0908, 0x0706_0504_0302_0100), emad.ImplementationDefined);
        Assert.Equal(80u, emad.CompositeOffset);
        Assert.Equal(3u, d.Composite!.TotalPageCount);
        Assert.Equal(2, d.Composite.Constituents.Count);
    }

    [Fact]
    public void HypervisorRetrieveRequestV1_1_IsAccepted()
    {
        foreach (var result in new[]
                 {
                     MemoryTransactionDescriptor.ReadHeader(HypervisorRetrieveV1_1, false),
                     MemoryTransactionDescriptor.Read(HypervisorRetrieveV1_1, false),
                 })
        {
            Assert.True(result.Ok, result.Error);
            var d = result.Value!;
            Assert.Equal(0x8000_0000_0000_0005ul, d.Handle);
            Assert.Equal(0, d.Sender);
            Assert.Equal(0, d.Attributes.Value);
            Assert.Equal(0u, d.Flags.Value);
            Assert.Equal(0ul, d.Tag);
            Assert.Empty(d.Receivers);
            Assert.Null(d.Composite);
            Assert.Equal(0u, d.CompositeOffset);
            Assert.Equal(0, d.EmadSize);
            Assert.Equal(0, d.ReceiversOffset);
            Assert.Equal(MemoryDescriptorLayout.V1_1, d.Layout);
        }
    }

    [Fact]
    public void RetrieveRequestV1_0_IsByteExactAndReads()
    {
        var request = new MemoryTransactionDescriptor(0x0001, MemoryRegionAttributes.NormalWriteBackInner,
            MemoryTransactionFlags.OfType(MemoryTransactionType.Lend), 0x8000_0000_0000_0005, 0,
            [new EndpointMemoryAccess(MemoryAccessPermissions.Of(0x8002, DataAccess.ReadWrite), 0)]);
        Assert.Equal(Convert.ToHexString(RetrieveRequestV1_0), Convert.ToHexString(request.ToBytes(MemoryDescriptorLayout.V1_0)));

        var result = MemoryTransactionDescriptor.Read(RetrieveRequestV1_0, true);
        Assert.True(result.Ok, result.Error);
        Assert.Equal(MemoryTransactionType.Lend, result.Value!.Flags.Type);
        Assert.Equal(0u, result.Value.CompositeOffset);
        Assert.Null(result.Value.Composite);
        Assert.Equal(MemoryDescriptorLayout.V1_0, result.Value.Layout);
    }

    [Theory]
    [InlineData(MemoryDescriptorLayout.V1_0, 1)]
    [InlineData(MemoryDescriptorLayout.V1_0, 2)]
    [InlineData(MemoryDescriptorLayout.V1_0, 3)]
    [InlineData(MemoryDescriptorLayout.V1_1, 1)]
    [InlineData(MemoryDescriptorLayout.V1_1, 2)]
    [InlineData(MemoryDescriptorLayout.V1_1, 3)]
    [InlineData(MemoryDescriptorLayout.V1_2, 1)]
    [InlineData(MemoryDescriptorLayout.V1_2, 2)]
    [InlineData(MemoryDescriptorLayout.V1_2, 3)]
    public void EveryEmad_NamesTheCompositeRightAfterTheEmads(MemoryDescriptorLayout layout, int n)
    {
        // v1.0: 32 + 16n; v1.1: 48 + 16n; v1.2: 48 + 32n.
        var (header, emadSize) = layout switch { MemoryDescriptorLayout.V1_0 => (32, 16), MemoryDescriptorLayout.V1_1 => (48, 16), _ => (48, 32) };
        var expected = (uint)(header + emadSize * n);
        var receivers = Enumerable.Range(0, n)
            .Select(i => new EndpointMemoryAccess(MemoryAccessPermissions.Of((ushort)(0x8002 + i), DataAccess.ReadOnly), 0xDEAD)) // overwritten
            .ToArray();
        var d = SampleShare() with { Receivers = receivers };

        var bytes = d.ToBytes(layout);

        Assert.Equal((int)expected + 48, bytes.Length);
        for (var i = 0; i < n; i++)
        {
            var emad = header + i * emadSize;
            Assert.Equal((ushort)(0x8002 + i), BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(emad)));
            Assert.Equal(expected, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(emad + 4)));
        }
        // The composite header sits at that offset: total 3 pages, 2 constituents.
        Assert.Equal(3u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan((int)expected)));
        Assert.Equal(2u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan((int)expected + 4)));
        // In v1.1+ the header names the EMAD size, count and offset; v1.0 keeps +24 reserved.
        Assert.Equal(IsV1_0(layout) ? 0u : (uint)emadSize, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(24)));
        Assert.Equal((uint)n, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(28)));
        if (!IsV1_0(layout)) Assert.Equal(48u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(32)));
    }

    [Fact]
    public void RetrieveRequestWithoutComposite_KeepsCompositeOffsetZero()
    {
        var request = new MemoryTransactionDescriptor(1, MemoryRegionAttributes.NormalWriteBackInner, default, 0x42, 0,
            [new EndpointMemoryAccess(MemoryAccessPermissions.Of(0x8002, DataAccess.ReadWrite), 0)]);
        foreach (var layout in AllLayouts)
        {
            var bytes = request.ToBytes(layout);
            Assert.Equal(layout.HeaderSize() + layout.EmadSize(), bytes.Length);
            Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(layout.HeaderSize() + 4)));
        }
    }

    [Fact]
    public void ExtendedEmadSize48_IsAcceptedAndReadsThe32BytePrefix()
    {
        // A later version's 48-byte EMAD: the v1.2 fields first, 16 extension bytes after.
        var bytes = Hex(
            "0100", "2F00", "00000000", "0000000000000000", "0000000000000000",
            "30000000",         // EMAD size 48
            "01000000", "30000000", "000000000000000000000000",
            "0280", "05", "00", "60000000", "000102030405060708090A0B0C0D0E0F", "0000000000000000", "00000000000000000000000000000000",
            CompositeHex);      // +96

        var result = MemoryTransactionDescriptor.Read(bytes, false);

        Assert.True(result.Ok, result.Error);
        var d = result.Value!;
        Assert.Equal(48, d.EmadSize);
        Assert.Equal(48, d.ReceiversOffset);
        Assert.Equal(MemoryDescriptorLayout.V1_2, d.Layout);
        var emad = Assert.Single(d.Receivers);
        Assert.Equal(0x8002, emad.Access.Endpoint);
        Assert.Equal(DataAccess.ReadOnly, emad.Access.Data);
        Assert.Equal(InstructionAccess.NotExecutable, emad.Access.Instruction);
        Assert.Equal(96u, emad.CompositeOffset);
        Assert.Equal(new UInt128(0x0F0E_0D0C_0B0A_0908, 0x0706_0504_0302_0100), emad.ImplementationDefined);
        Assert.Equal(3u, d.Composite!.TotalPageCount);
    }

    [Fact]
    public void ExtendedEmadSize48_TwoReceivers_StepBy48()
    {
        var bytes = Hex(
            "0100", "2F00", "00000000", "0000000000000000", "0000000000000000",
            "30000000", "02000000", "30000000", "000000000000000000000000",
            "0280", "02", "00", "00000000", "00000000000000000000000000000000", "0000000000000000", "00000000000000000000000000000000",
            "0380", "01", "01", "00000000", "00000000000000000000000000000000", "0000000000000000", "00000000000000000000000000000000");

        var result = MemoryTransactionDescriptor.ReadHeader(bytes, false);

        Assert.True(result.Ok, result.Error);
        Assert.Equal([(ushort)0x8002, (ushort)0x8003], result.Value!.Receivers.Select(r => r.Access.Endpoint));
        Assert.Equal(MemoryAccessPermissions.NonRetrievalBorrower, result.Value.Receivers[1].Access.Flags);
    }

    [Fact]
    public void ReceiversOffsetBeyond48_IsFollowed()
    {
        // EMAD offset 64 (16-byte aligned, past the header): 16 bytes of padding, then the EMAD, then the composite at 80.
        var bytes = Hex(
            "0100", "2F00", "00000000", "0000000000000000", "0000000000000000",
            "10000000", "01000000", "40000000", "000000000000000000000000",
            "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF", // padding, not looked at
            "0280", "02", "00", "50000000", "0000000000000000",
            CompositeHex);

        var result = MemoryTransactionDescriptor.Read(bytes, false);

        Assert.True(result.Ok, result.Error);
        Assert.Equal(64, result.Value!.ReceiversOffset);
        Assert.Equal(MemoryDescriptorLayout.V1_1, result.Value.Layout);
        Assert.Equal(0x8002, Assert.Single(result.Value.Receivers).Access.Endpoint);
        Assert.Equal(2, result.Value.Composite!.Constituents.Count);
    }

    [Fact]
    public void ReadHeader_NeedsOnlyTheFirstFragment()
    {
        // The header and EMADs of the v1.2 sample, without the composite: ReadHeader succeeds, Read does not.
        var fragment = ShareV1_2[..80];
        var head = MemoryTransactionDescriptor.ReadHeader(fragment, false);
        Assert.True(head.Ok, head.Error);
        Assert.Equal(80u, head.Value!.CompositeOffset);
        Assert.False(MemoryTransactionDescriptor.Read(fragment, false).Ok);
    }
}
