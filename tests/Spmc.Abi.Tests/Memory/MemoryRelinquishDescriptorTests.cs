using Spmc.Abi.Descriptors.Memory;
using Spmc.Abi.Ffa;
using static Spmc.Abi.Tests.Memory.MemoryDescriptorTestSupport;

namespace Spmc.Abi.Tests.Memory;

public class MemoryRelinquishDescriptorTests
{
    // §5.9: u64 handle | u32 flags | u32 endpoint count | u16 endpoint IDs[].
    private static readonly byte[] OneEndpoint = Hex(
        "EFCDAB8967452301", // handle 0x0123456789ABCDEF
        "01000000",         // flags: zero memory after relinquish
        "01000000",         // endpoint count 1
        "0280");            // 0x8002

    private static readonly byte[] ThreeEndpoints = Hex(
        "0100000000000080", // handle 0x8000000000000001
        "02000000",         // flags: time slicing
        "03000000",         // endpoint count 3
        "0280", "0380", "0100");

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(0)]
    public void RoundTrips(int count)
    {
        var endpoints = Enumerable.Range(0, count).Select(i => (ushort)(0x8002 + i * 0x101)).ToArray();
        var original = new MemoryRelinquishDescriptor(0xFEDC_BA98_7654_3210, MemoryRelinquishDescriptor.ZeroMemory | MemoryRelinquishDescriptor.TimeSlicing, endpoints);
        var bytes = original.ToBytes();
        Assert.Equal(16 + 2 * count, bytes.Length);
        Assert.Equal(original.Size, bytes.Length);

        var parsed = MemoryRelinquishDescriptor.Read(bytes);

        Assert.True(parsed.Ok, parsed.Error);
        Assert.Equal(original.Handle, parsed.Value!.Handle);
        Assert.Equal(original.Flags, parsed.Value.Flags);
        Assert.Equal(endpoints, parsed.Value.Endpoints);
        Assert.Equal(bytes, parsed.Value.ToBytes());
    }

    [Fact]
    public void OneEndpoint_IsByteExact()
    {
        var descriptor = new MemoryRelinquishDescriptor(0x0123_4567_89AB_CDEF, MemoryRelinquishDescriptor.ZeroMemory, [0x8002]);
        Assert.Equal(OneEndpoint, descriptor.ToBytes());

        var parsed = MemoryRelinquishDescriptor.Read(OneEndpoint);
        Assert.True(parsed.Ok, parsed.Error);
        Assert.Equal(0x0123_4567_89AB_CDEFul, parsed.Value!.Handle);
        Assert.Equal(MemoryRelinquishDescriptor.ZeroMemory, parsed.Value.Flags);
        Assert.Equal(new ushort[] { 0x8002 }, parsed.Value.Endpoints);
    }

    [Fact]
    public void ThreeEndpoints_AreByteExact()
    {
        var descriptor = new MemoryRelinquishDescriptor(0x8000_0000_0000_0001, MemoryRelinquishDescriptor.TimeSlicing, [0x8002, 0x8003, 0x0001]);
        Assert.Equal(ThreeEndpoints, descriptor.ToBytes());

        var parsed = MemoryRelinquishDescriptor.Read(ThreeEndpoints);
        Assert.True(parsed.Ok, parsed.Error);
        Assert.Equal(0x8000_0000_0000_0001ul, parsed.Value!.Handle);
        Assert.Equal(MemoryRelinquishDescriptor.TimeSlicing, parsed.Value.Flags);
        Assert.Equal(new ushort[] { 0x8002, 0x8003, 0x0001 }, parsed.Value.Endpoints);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(15)]
    public void ShorterThanTheHeader_Fails(int length)
    {
        var result = MemoryRelinquishDescriptor.Read(OneEndpoint.AsSpan(0, length));
        Assert.False(result.Ok);
        Assert.Equal("relinquish-desc.header-truncated", result.Rejection!.Rule);
        Assert.Equal(FfaError.InvalidParameters, result.Rejection.Code);
        Assert.Null(result.Value);
    }

    [Fact]
    public void CountLargerThanTheBuffer_Fails()
    {
        var result = MemoryRelinquishDescriptor.Read(WithU32(OneEndpoint, 12, 2));
        Assert.False(result.Ok);
        Assert.Equal("relinquish-desc.endpoints-truncated", result.Rejection!.Rule);
        Assert.Equal(FfaError.InvalidParameters, result.Rejection.Code);
    }

    [Fact]
    public void CountTruncatedMidEndpoint_Fails()
    {
        var result = MemoryRelinquishDescriptor.Read(ThreeEndpoints.AsSpan(0, ThreeEndpoints.Length - 1));
        Assert.False(result.Ok);
        Assert.Equal("relinquish-desc.endpoints-truncated", result.Rejection!.Rule);
    }

    [Fact]
    public void HugeCount_FailsWithoutAllocating()
    {
        var bytes = WithU32(OneEndpoint, 12, uint.MaxValue);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var result = MemoryRelinquishDescriptor.Read(bytes);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.False(result.Ok);
        Assert.Equal("relinquish-desc.endpoints-truncated", result.Rejection!.Rule);
        Assert.True(allocated < 64 * 1024, $"allocated {allocated} bytes");
    }

    [Fact]
    public void HeaderAndEndpointErrors_HaveDistinctRules()
    {
        var shortError = MemoryRelinquishDescriptor.Read(new byte[8]).Rejection;
        var countError = MemoryRelinquishDescriptor.Read(WithU32(OneEndpoint, 12, 5)).Rejection;
        Assert.NotNull(shortError);
        Assert.NotNull(countError);
        Assert.Equal("relinquish-desc.header-truncated", shortError.Rule);
        Assert.Equal("relinquish-desc.endpoints-truncated", countError.Rule);
        Assert.NotEqual(shortError.Reason, countError.Reason);
    }
}
