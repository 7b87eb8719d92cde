using Spmc.Core.Calls;
using Spmc.Core.Spm;
using Spmc.Core.Tests.Support;
using static Spmc.Core.Tests.Support.Manifests;

namespace Spmc.Core.Tests.Abi;

/// <summary>FFA_PARTITION_INFO_GET (spmc-behaviour.md §7).</summary>
public class PartitionInfoGetTests
{
    private const ulong HostRx = HostMemory + 0x1000;

    /// <summary>The default system with the host's RX/TX mapped, the host at <paramref name="version"/> (1.2 unless given: the answers v1.3 must not change).</summary>
    private static TestSystem DefaultMapped(uint version = Ffa.V1_2)
    {
        var sys = TestSystem.Default();
        sys.Negotiate(Host, version);
        sys.Map(Host, HostMemory, HostRx);
        return sys;
    }

    private static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(p => p)];

    [Fact]
    public void PartitionInfoGet_NilUuid_ListsEveryServiceInManifestOrder_ForAV1_2Caller()
    {
        var sys = DefaultMapped();
        var o = Expect.Success(sys.Call(Host, Ffa.PartitionInfoGet(Uuid.Nil), reads: TestSystem.ReadBack(HostRx, 96)), w2: 4, w3: 24);
        Assert.Equal("FFA_PARTITION_INFO_GET", o.Decoded.Function);
        Assert.Equal(Concat(
            PartitionInfo.V1_1(Echo, 1, DefaultSpProperties, EchoUuid),
            PartitionInfo.V1_1(MemorySp, 1, DefaultSpProperties, MemorySpUuid),
            PartitionInfo.V1_1(Notifier, 2, DefaultSpProperties, NotifierUuid1),
            PartitionInfo.V1_1(Notifier, 2, DefaultSpProperties, NotifierUuid2)), o.Reads[0].Data);
        Assert.Equal(RxState.Full, sys.Endpoint(Host).Mailbox!.State);
    }

    [Fact]
    public void PartitionInfoGet_V1_1Caller_GetsOneEntryPerPartition()
    {
        var sys = DefaultMapped(Ffa.V1_1);
        var o = Expect.Success(sys.Call(Host, Ffa.PartitionInfoGet(Uuid.Nil), reads: TestSystem.ReadBack(HostRx, 72)), w2: 3, w3: 24);
        // v1.1 defines no REQ2 bits (9, 10), so 0x30D becomes 0x10D.
        Assert.Equal(Concat(
            PartitionInfo.V1_1(Echo, 1, 0x10D, EchoUuid),
            PartitionInfo.V1_1(MemorySp, 1, 0x10D, MemorySpUuid),
            PartitionInfo.V1_1(Notifier, 2, 0x10D, NotifierUuid1)), o.Reads[0].Data);
    }

    [Fact]
    public void PartitionInfoGet_V1_0Caller_Gets8ByteDescriptors_PropertiesMaskedToBits2To0_AndW3Zero()
    {
        var sys = DefaultMapped(Ffa.V1_0);
        var o = Expect.Success(sys.Call(Host, Ffa.PartitionInfoGet(Uuid.Nil), reads: TestSystem.ReadBack(HostRx, 32)), w2: 3, w3: 0);
        Assert.Equal(Concat(
            PartitionInfo.V1_0(Echo, 1, 0x5),
            PartitionInfo.V1_0(MemorySp, 1, 0x5),
            PartitionInfo.V1_0(Notifier, 2, 0x5),
            new byte[8]), o.Reads[0].Data);
    }

    [Fact]
    public void PartitionInfoGet_SpecificUuid_ReturnsItsPartitionWithAZeroUuidField()
    {
        var sys = DefaultMapped();
        var o = Expect.Success(sys.Call(Host, Ffa.PartitionInfoGet(NotifierUuid2), reads: TestSystem.ReadBack(HostRx, 48)), w2: 1, w3: 24);
        Assert.Equal(Concat(PartitionInfo.V1_1(Notifier, 2, DefaultSpProperties, null), new byte[24]), o.Reads[0].Data);
    }

    [Fact]
    public void PartitionInfoGet_SpecificSecondUuid_V1_1Caller_StillFindsThePartition()
    {
        var sys = DefaultMapped(Ffa.V1_1);
        var o = Expect.Success(sys.Call(Host, Ffa.PartitionInfoGet(NotifierUuid2), reads: TestSystem.ReadBack(HostRx, 24)), w2: 1, w3: 24);
        Assert.Equal(PartitionInfo.V1_1(Notifier, 2, 0x10D, null), o.Reads[0].Data);
    }

    [Fact]
    public void PartitionInfoGet_UnknownUuid_IsInvalid_EvenForTheCountOnlyForm()
    {
        var sys = DefaultMapped();
        Expect.Error(sys.Call(Host, Ffa.PartitionInfoGet(UnknownUuid)), Err.InvalidParameters, "partition-info-get.unknown-uuid");
        Expect.Error(sys.Call(Host, Ffa.PartitionInfoGetCount(UnknownUuid)), Err.InvalidParameters, "partition-info-get.unknown-uuid");
        Assert.Equal(RxState.Empty, sys.Endpoint(Host).Mailbox!.State);
    }

    [Fact]
    public void PartitionInfoGet_CountOnly_NeedsNoRxBuffer()
    {
        var sys = TestSystem.Default();
        sys.Negotiate(Host, Ffa.V1_2);
        Expect.Success(sys.Call(Host, Ffa.PartitionInfoGetCount(Uuid.Nil)), w2: 4, w3: 0);
        Expect.Success(sys.Call(Host, Ffa.PartitionInfoGetCount(NotifierUuid1)), w2: 1, w3: 0);
        Assert.Null(sys.Endpoint(Host).Mailbox);
    }

    [Fact]
    public void PartitionInfoGet_CountOnly_CountsWhatAFullCallReturns()
    {
        var sys = DefaultMapped(Ffa.V1_1);
        Expect.Success(sys.Call(Host, Ffa.PartitionInfoGetCount(Uuid.Nil)), w2: 3, w3: 0);
        Expect.Success(sys.Call(Host, Ffa.PartitionInfoGet(Uuid.Nil)), w2: 3);
    }

    [Fact]
    public void PartitionInfoGet_CountOnly_LeavesAFullRxAlone()
    {
        var sys = DefaultMapped();
        Expect.Success(sys.Call(Host, Ffa.PartitionInfoGet(Uuid.Nil)));
        var before = sys.Peek(HostRx, 4096);
        Expect.Success(sys.Call(Host, Ffa.PartitionInfoGetCount(EchoUuid)), w2: 1);
        Assert.Equal(RxState.Full, sys.Endpoint(Host).Mailbox!.State);
        Assert.Equal(before, sys.Peek(HostRx, 4096));
    }

    [Theory]
    [InlineData(0xFFFFul)]
    [InlineData(0x2ul)]
    [InlineData(0x3ul)]
    [InlineData(0x8000_0000ul)]
    public void PartitionInfoGet_FlagsBits31To1_AreInvalid(ulong flags)
    {
        var sys = DefaultMapped();
        Expect.Error(sys.Call(Host, Ffa.PartitionInfoGet(Uuid.Nil, flags)), Err.InvalidParameters, "partition-info-get.flags-mbz");
        Assert.Equal(RxState.Empty, sys.Endpoint(Host).Mailbox!.State);
    }

    [Fact]
    public void PartitionInfoGet_Smc32_IgnoresUpperHalvesOfTheRegisters()
    {
        var sys = DefaultMapped();
        var frame = Ffa.PartitionInfoGet(EchoUuid, 0xFFFF_FFFF_0000_0000);
        for (var i = 1; i <= 4; i++) frame[i] |= 0xABCD_0000_0000_0000;
        Expect.Success(sys.Call(Host, frame), w2: 1);
    }

    [Fact]
    public void PartitionInfoGet_WithoutRx_IsBusy()
    {
        var sys = TestSystem.Default();
        Expect.Error(sys.Call(Host, Ffa.PartitionInfoGet(Uuid.Nil)), Err.Busy, "partition-info-get.rx-busy");
        Expect.Error(sys.Call(Echo, Ffa.PartitionInfoGet(Uuid.Nil)), Err.Busy, "partition-info-get.rx-busy");
    }

    [Fact]
    public void PartitionInfoGet_SecondCallWithoutRelease_IsBusy()
    {
        var sys = DefaultMapped();
        Expect.Success(sys.Call(Host, Ffa.PartitionInfoGet(Uuid.Nil)));
        Expect.Error(sys.Call(Host, Ffa.PartitionInfoGet(Uuid.Nil)), Err.Busy, "partition-info-get.rx-busy");
        Expect.Success(sys.Call(Host, Ffa.RxRelease()));
        Expect.Success(sys.Call(Host, Ffa.PartitionInfoGet(EchoUuid)), w2: 1);
    }

    [Fact]
    public void PartitionInfoGet_NormalWorldNeverSeesTheSendBits()
    {
        var sys = TestSystem.Rich();
        sys.Map(Host, HostMemory, HostRx);
        var o = Expect.Success(sys.Call(Host, Ffa.PartitionInfoGet(Sp12Uuid), reads: TestSystem.ReadBack(HostRx, 24)), w2: 1);
        Assert.Equal(PartitionInfo.V1_1(Sp12, 1, 0x30D, null), o.Reads[0].Data); // 0x70F without bits 1 and 10

        sys.Map(Vm1, Vm1Memory, Vm1Memory + 0x1000);
        o = Expect.Success(sys.Call(Vm1, Ffa.PartitionInfoGet(Sp10Uuid), reads: TestSystem.ReadBack(Vm1Memory + 0x1000, 24)), w2: 1);
        Assert.Equal(PartitionInfo.V1_1(Sp10, 2, 0x101, null), o.Reads[0].Data); // v1.0 SP: AArch64 | direct receive
    }

    [Fact]
    public void PartitionInfoGet_PartitionsSeeTheSendBits()
    {
        var sys = TestSystem.Rich();
        sys.Map(Sp12, Sp12Memory, Sp12Memory + 0x1000);
        var o = Expect.Success(sys.Call(Sp12, Ffa.PartitionInfoGet(Uuid.Nil), reads: TestSystem.ReadBack(Sp12Memory + 0x1000, 72)), w2: 3, w3: 24);
        Assert.Equal(Concat(
            PartitionInfo.V1_1(Sp12, 1, 0x70F, Sp12Uuid),
            PartitionInfo.V1_1(Sp11, 1, 0x10D, Sp11Uuid),
            PartitionInfo.V1_1(Sp10, 2, 0x103, Sp10Uuid)), o.Reads[0].Data);
    }

    [Fact]
    public void PartitionInfoGet_PropertiesFollowTheCallersVersion()
    {
        var sys = TestSystem.Rich();
        sys.Map(Sp11, Sp11Memory, Sp11Memory + 0x1000); // a v1.1 partition
        var o = Expect.Success(sys.Call(Sp11, Ffa.PartitionInfoGet(Sp12Uuid), reads: TestSystem.ReadBack(Sp11Memory + 0x1000, 24)), w2: 1);
        Assert.Equal(PartitionInfo.V1_1(Sp12, 1, 0x10F, null), o.Reads[0].Data);

        sys.Map(Sp10, Sp10Memory, Sp10Memory + 0x1000); // a v1.0 partition
        o = Expect.Success(sys.Call(Sp10, Ffa.PartitionInfoGet(Sp12Uuid), reads: TestSystem.ReadBack(Sp10Memory + 0x1000, 8)), w2: 1, w3: 0);
        Assert.Equal(PartitionInfo.V1_0(Sp12, 1, 0x7), o.Reads[0].Data);
    }

    [Fact]
    public void PartitionInfoGet_ZeroesTheUnusedTailOfRx()
    {
        var sys = DefaultMapped();
        var garbage = Enumerable.Repeat((byte)0xAA, 4096).ToArray();
        var o = Expect.Success(sys.Call(Host, Ffa.PartitionInfoGet(Uuid.Nil),
            writes: [new MemoryWrite(HostRx, garbage)], reads: TestSystem.ReadBack(HostRx, 4096)), w2: 4);
        var rx = o.Reads[0].Data!;
        Assert.Equal(PartitionInfo.V1_1(Echo, 1, DefaultSpProperties, EchoUuid), rx[..24]);
        Assert.All(rx[96..], b => Assert.Equal(0, b));
    }

    [Fact]
    public void PartitionInfoGet_ZeroesTheWholeTailOfATwoPageRx()
    {
        var sys = TestSystem.Rich();
        sys.Map(Host, HostMemory, HostMemory + 0x2000, 2);
        var garbage = Enumerable.Repeat((byte)0x55, 8192).ToArray();
        var o = Expect.Success(sys.Call(Host, Ffa.PartitionInfoGet(Sp11Uuid),
            writes: [new MemoryWrite(HostMemory + 0x2000, garbage)], reads: TestSystem.ReadBack(HostMemory + 0x2000, 8192)), w2: 1);
        Assert.All(o.Reads[0].Data![24..], b => Assert.Equal(0, b));
    }

    [Fact]
    public void PartitionInfoGet_MoreDescriptorsThanRxHolds_IsNoMemory()
    {
        var sys = TestSystem.FromJson(Many(172)); // 172 * 24 = 4128 > 4096
        sys.Map(Host, HostMemory, HostRx);
        Expect.Error(sys.Call(Host, Ffa.PartitionInfoGet(Uuid.Nil)), Err.NoMemory, "partition-info-get.rx-too-small");
        Assert.Equal(RxState.Empty, sys.Endpoint(Host).Mailbox!.State);
        Expect.Success(sys.Call(Host, Ffa.PartitionInfoGetCount(Uuid.Nil)), w2: 172);
        Expect.Success(sys.Call(Host, Ffa.PartitionInfoGet(ManyUuid(42, 3))), w2: 1);
    }

    [Fact]
    public void PartitionInfoGet_DescriptorsFillingRxExactlyFit()
    {
        var sys = TestSystem.FromJson(Many(170)); // 170 * 24 = 4080 <= 4096
        sys.Negotiate(Host, Ffa.V1_2);
        sys.Map(Host, HostMemory, HostRx);
        var o = Expect.Success(sys.Call(Host, Ffa.PartitionInfoGet(Uuid.Nil), reads: TestSystem.ReadBack(HostRx, 4096)), w2: 170, w3: 24);
        var rx = o.Reads[0].Data!;
        Assert.Equal(PartitionInfo.V1_1(0x802B, 1, 0x101, ManyUuid(42, 1)), rx[(169 * 24)..(170 * 24)]);
        Assert.All(rx[4080..], b => Assert.Equal(0, b));
    }

    [Fact]
    public void PartitionInfoGet_ManyServices_FitForAV1_1CallerOrABiggerRx()
    {
        var sys = TestSystem.FromJson(Many(172));
        sys.Negotiate(Host, Ffa.V1_1);
        sys.Map(Host, HostMemory, HostRx);
        Expect.Success(sys.Call(Host, Ffa.PartitionInfoGet(Uuid.Nil)), w2: 43); // one per partition

        var big = TestSystem.FromJson(Many(172, rxtxMaxPages: 2));
        big.Negotiate(Host, Ffa.V1_2);
        big.Map(Host, HostMemory, HostMemory + 0x2000, 2);
        Expect.Success(big.Call(Host, Ffa.PartitionInfoGet(Uuid.Nil)), w2: 172);
    }

    [Fact]
    public void PartitionInfoGet_DoesNotListVms()
    {
        var sys = TestSystem.Rich();
        sys.Map(Host, HostMemory, HostRx);
        var o = Expect.Success(sys.Call(Host, Ffa.PartitionInfoGet(Uuid.Nil), reads: TestSystem.ReadBack(HostRx, 72)), w2: 3);
        var ids = Enumerable.Range(0, 3).Select(i => BitConverter.ToUInt16(o.Reads[0].Data!, i * 24)).ToArray();
        Assert.Equal(new ushort[] { Sp12, Sp11, Sp10 }, ids);
    }
}
