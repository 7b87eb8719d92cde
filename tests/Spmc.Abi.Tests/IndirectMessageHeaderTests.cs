using Spmc.Abi.Descriptors;
using Spmc.Abi.Ffa;

namespace Spmc.Abi.Tests;

/// <summary>The FFA_MSG_SEND2 partition message header (ffa-abi.md §5.10).</summary>
public class IndirectMessageHeaderTests
{
    private static readonly FfaUuid Uuid = FfaUuid.Parse("a1a2a3a4-b1b2-c1c2-d1d2-d3d4d5d6d7d8");

    private static readonly IndirectMessageHeader Sample = new(0, 0, 0x28, 0x8002, 0x0001, 0x123, 0, Uuid);

    // flags, reserved, offset 0x28, receiver 0x8002 then sender 0x0001, size 0x123.
    private static readonly byte[] V1_1Bytes =
    [
        0, 0, 0, 0, 0, 0, 0, 0, 0x28, 0, 0, 0, 0x02, 0x80, 0x01, 0x00, 0x23, 0x01, 0, 0,
    ];

    // v1.2 adds a reserved u32 and the UUID's 16 bytes in string order.
    private static readonly byte[] V1_2Bytes =
    [
        .. V1_1Bytes, 0, 0, 0, 0,
        0xa1, 0xa2, 0xa3, 0xa4, 0xb1, 0xb2, 0xc1, 0xc2, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8,
    ];

    [Fact]
    public void Sizes_Are20BeforeV1_2And40From()
    {
        Assert.Equal(20, IndirectMessageHeader.SizeV1_1);
        Assert.Equal(40, IndirectMessageHeader.SizeV1_2);
        Assert.Equal(20, IndirectMessageHeader.SizeFor(FfaVersion.V1_0));
        Assert.Equal(20, IndirectMessageHeader.SizeFor(FfaVersion.V1_1));
        Assert.Equal(40, IndirectMessageHeader.SizeFor(FfaVersion.V1_2));
        Assert.Equal(40, IndirectMessageHeader.SizeFor(FfaVersion.V1_3));
    }

    [Fact]
    public void Write_V1_1_IsByteExact_AndTouchesOnly20Bytes()
    {
        var buffer = Enumerable.Repeat((byte)0xEE, 48).ToArray();
        Sample.Write(buffer, FfaVersion.V1_1);
        Assert.Equal(V1_1Bytes, buffer[..20]);
        Assert.All(buffer[20..], b => Assert.Equal(0xEE, b));
    }

    [Fact]
    public void Write_V1_2_IsByteExact_AndTouchesOnly40Bytes()
    {
        var buffer = Enumerable.Repeat((byte)0xEE, 48).ToArray();
        Sample.Write(buffer, FfaVersion.V1_2);
        Assert.Equal(V1_2Bytes, buffer[..40]);
        Assert.All(buffer[40..], b => Assert.Equal(0xEE, b));
    }

    [Fact]
    public void Write_DestinationTooSmall_Throws()
    {
        Assert.Throws<ArgumentException>(() => Sample.Write(new byte[19], FfaVersion.V1_1));
        Assert.Throws<ArgumentException>(() => Sample.Write(new byte[39], FfaVersion.V1_2));
    }

    [Fact]
    public void Read_V1_2_RoundTrips()
    {
        var read = IndirectMessageHeader.Read(V1_2Bytes, FfaVersion.V1_2);
        Assert.True(read.Ok);
        Assert.Equal(Sample, read.Value);
    }

    [Fact]
    public void Read_V1_1_IgnoresTheBytesAfter20()
    {
        // What follows a v1.1 header is payload, never a UUID.
        var read = IndirectMessageHeader.Read(V1_2Bytes, FfaVersion.V1_1);
        Assert.True(read.Ok);
        Assert.Equal(Sample with { Uuid = FfaUuid.Nil }, read.Value);
    }

    [Fact]
    public void Read_KeepsReservedFieldsAsWritten()
    {
        var bytes = (byte[])V1_2Bytes.Clone();
        bytes[0] = 1;
        bytes[4] = 2;
        bytes[20] = 3;
        var read = IndirectMessageHeader.Read(bytes, FfaVersion.V1_2).Value;
        Assert.Equal((1u, 2u, 3u), (read.Flags, read.Reserved1, read.Reserved2));
    }

    [Theory]
    [InlineData(19, "1.1")]
    [InlineData(0, "1.1")]
    [InlineData(39, "1.2")]
    [InlineData(20, "1.2")]
    public void Read_TooShort_Fails(int length, string version)
    {
        var layout = FfaVersion.TryParse(version, out var v) ? v : default;
        var read = IndirectMessageHeader.Read(new byte[length], layout);
        Assert.False(read.Ok);
        Assert.Equal("msg-header.truncated", read.Rejection!.Rule);
        Assert.Equal(FfaError.InvalidParameters, read.Rejection.Code);
        // What the layout needs, and no more, is enough.
        Assert.True(IndirectMessageHeader.Read(new byte[version == "1.1" ? 20 : 40], layout).Ok);
    }

    [Fact]
    public void For_PutsThePayloadRightAfterTheHeader()
    {
        var v11 = IndirectMessageHeader.For(0x8001, 0x0000, 5, FfaVersion.V1_1, Uuid);
        Assert.Equal(new IndirectMessageHeader(0, 0, 20, 0x0000, 0x8001, 5, 0, FfaUuid.Nil), v11);
        var v12 = IndirectMessageHeader.For(0x8001, 0x0000, 5, FfaVersion.V1_2, Uuid);
        Assert.Equal(new IndirectMessageHeader(0, 0, 40, 0x0000, 0x8001, 5, 0, Uuid), v12);
    }

    [Fact]
    public void RandomHeaders_RoundTripInBothLayouts()
    {
        var random = new Random(1234);
        for (var i = 0; i < 200; i++)
        {
            var uuid = new byte[16];
            random.NextBytes(uuid);
            var h = new IndirectMessageHeader((uint)random.Next(), (uint)random.Next(), (uint)random.Next(), (ushort)random.Next(),
                (ushort)random.Next(), (uint)random.Next(), (uint)random.Next(), FfaUuid.FromBytes(uuid));
            var buffer = new byte[40];
            h.Write(buffer, FfaVersion.V1_2);
            Assert.Equal(h, IndirectMessageHeader.Read(buffer, FfaVersion.V1_2).Value);
            h.Write(buffer, FfaVersion.V1_1);
            Assert.Equal(h with { Reserved2 = 0, Uuid = FfaUuid.Nil }, IndirectMessageHeader.Read(buffer, FfaVersion.V1_1).Value);
        }
    }
}
