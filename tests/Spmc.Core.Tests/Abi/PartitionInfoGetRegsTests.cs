using Spmc.Core.Spm;
using Spmc.Core.Tests.Support;
using static Spmc.Core.Tests.Support.Manifests;

namespace Spmc.Core.Tests.Abi;

/// <summary>FFA_PARTITION_INFO_GET_REGS (v1.2, SMC64): descriptors in x3..x17, never through RX.</summary>
public class PartitionInfoGetRegsTests
{
    /// <summary>The default system with the host at 1.2: the answers v1.3 must not change.</summary>
    private static TestSystem At1_2()
    {
        var sys = TestSystem.Default();
        sys.Negotiate(Host, Ffa.V1_2);
        return sys;
    }

    private static ulong X2(int last, int current, int tag = 0, int size = 24) =>
        (uint)last | ((ulong)current << 16) | ((ulong)tag << 32) | ((ulong)size << 48);

    private static void AssertEntry(Spmc.Core.Calls.SmcOutcome o, int slot, ushort id, ushort contexts, uint properties, string? uuid)
    {
        var reg = 3 + slot * 3;
        Assert.Equal(PartitionInfo.Word0(id, contexts, properties), o.Frame[reg]);
        var (lo, hi) = uuid is null ? (0ul, 0ul) : Uuid.Words64(uuid);
        Assert.Equal(lo, o.Frame[reg + 1]);
        Assert.Equal(hi, o.Frame[reg + 2]);
    }

    [Fact]
    public void PartitionInfoGetRegs_NilUuid_PacksEveryEntry()
    {
        var o = Expect.Success64(At1_2().Call(Host, Ffa.PartitionInfoGetRegs(Uuid.Nil)));
        Assert.Equal("FFA_PARTITION_INFO_GET_REGS", o.Decoded.Function);
        Assert.Equal("SMC64", o.Decoded.Width);
        Assert.Equal(X2(last: 3, current: 3), o.Frame[2]);
        AssertEntry(o, 0, Echo, 1, DefaultSpProperties, EchoUuid);
        AssertEntry(o, 1, MemorySp, 1, DefaultSpProperties, MemorySpUuid);
        AssertEntry(o, 2, Notifier, 2, DefaultSpProperties, NotifierUuid1);
        AssertEntry(o, 3, Notifier, 2, DefaultSpProperties, NotifierUuid2);
        for (var i = 15; i < 18; i++) Assert.Equal(0ul, o.Frame[i]);
    }

    [Fact]
    public void PartitionInfoGetRegs_SpecificUuid_HasAZeroUuid()
    {
        var o = Expect.Success64(At1_2().Call(Host, Ffa.PartitionInfoGetRegs(MemorySpUuid)));
        Assert.Equal(X2(last: 0, current: 0), o.Frame[2]);
        AssertEntry(o, 0, MemorySp, 1, DefaultSpProperties, null);
        for (var i = 6; i < 18; i++) Assert.Equal(0ul, o.Frame[i]);
    }

    [Fact]
    public void PartitionInfoGetRegs_MoreThanFiveEntries_Paginate()
    {
        var sys = TestSystem.FromJson(Many(7));
        sys.Negotiate(Host, Ffa.V1_2);
        var first = Expect.Success64(sys.Call(Host, Ffa.PartitionInfoGetRegs(Uuid.Nil)));
        Assert.Equal(X2(last: 6, current: 4), first.Frame[2]);
        for (var i = 0; i < 5; i++)
            AssertEntry(first, i, (ushort)(0x8001 + i / 4), 1, 0x101, ManyUuid(i / 4, i % 4));

        var second = Expect.Success64(sys.Call(Host, Ffa.PartitionInfoGetRegs(Uuid.Nil, start: 5)));
        Assert.Equal(X2(last: 6, current: 6), second.Frame[2]);
        AssertEntry(second, 0, 0x8002, 1, 0x101, ManyUuid(1, 1));
        AssertEntry(second, 1, 0x8002, 1, 0x101, ManyUuid(1, 2));
        for (var i = 9; i < 18; i++) Assert.Equal(0ul, second.Frame[i]);

        Expect.Error(sys.Call(Host, Ffa.PartitionInfoGetRegs(Uuid.Nil, start: 7)), Err.InvalidParameters, "partition-info-get-regs.start-index");
    }

    [Fact]
    public void PartitionInfoGetRegs_StartInTheMiddle_ReturnsFromThere()
    {
        var o = Expect.Success64(At1_2().Call(Host, Ffa.PartitionInfoGetRegs(Uuid.Nil, start: 2)));
        Assert.Equal(X2(last: 3, current: 3), o.Frame[2]);
        AssertEntry(o, 0, Notifier, 2, DefaultSpProperties, NotifierUuid1);
        AssertEntry(o, 1, Notifier, 2, DefaultSpProperties, NotifierUuid2);
        for (var i = 9; i < 18; i++) Assert.Equal(0ul, o.Frame[i]);
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 1)]
    [InlineData(0, 0xFFFF)]
    public void PartitionInfoGetRegs_NonZeroTag_IsRetry(ushort start, ushort tag) =>
        Expect.Error(At1_2().Call(Host, Ffa.PartitionInfoGetRegs(Uuid.Nil, start, tag)), Err.Retry, "partition-info-get-regs.tag-not-current");

    [Theory]
    [InlineData(4)]
    [InlineData(0xFFFF)]
    public void PartitionInfoGetRegs_StartIndexNotBelowTheCount_IsInvalid(ushort start) =>
        Expect.Error(At1_2().Call(Host, Ffa.PartitionInfoGetRegs(Uuid.Nil, start)), Err.InvalidParameters, "partition-info-get-regs.start-index");

    [Fact]
    public void PartitionInfoGetRegs_UnknownUuid_IsInvalid() =>
        Expect.Error(At1_2().Call(Host, Ffa.PartitionInfoGetRegs(UnknownUuid)), Err.InvalidParameters, "partition-info-get-regs.unknown-uuid");

    [Fact]
    public void PartitionInfoGetRegs_UpperBitsOfX3_AreInvalid()
    {
        var frame = Ffa.PartitionInfoGetRegs(Uuid.Nil);
        frame[3] = 0x1_0000_0000;
        Expect.Error(At1_2().Call(Host, frame), Err.InvalidParameters, "partition-info-get-regs.x3-high-mbz");
    }

    /// <summary>
    /// Hafnium api_ffa_partition_info_get_regs has no caller-version gate: a v1.0 or v1.1 caller is answered, with
    /// one entry per partition (api_ffa_fill_partitions_info_array: several UUIDs per partition are v1.2). Hafnium
    /// HEAD packs 48-byte entries for every caller (4e80e890); here a 1.0-1.2 caller keeps the 24-byte entries a 1.2
    /// SPMC (Hafnium before 4e80e890) gives it, from a 1.2 and a 1.3 SPMC alike (issue 13).
    /// </summary>
    [Theory]
    [InlineData(Ffa.V1_1, "1.3")]
    [InlineData(Ffa.V1_0, "1.3")]
    [InlineData(Ffa.V1_1, "1.2")]
    [InlineData(Ffa.V1_0, "1.2")]
    public void PartitionInfoGetRegs_PreV1_2Caller_GetsOneEntryPerPartition_In24Bytes(uint version, string spmc)
    {
        var sys = spmc == "1.3" ? TestSystem.Default() : TestSystem.DefaultAt(spmc);
        sys.Negotiate(Host, version);
        var o = Expect.Success64(sys.Call(Host, Ffa.PartitionInfoGetRegs(Uuid.Nil)));
        Assert.Equal(X2(last: 2, current: 2), o.Frame[2]);
        (ushort Id, ushort Contexts, string Uuid)[] expected = [(Echo, 1, EchoUuid), (MemorySp, 1, MemorySpUuid), (Notifier, 2, NotifierUuid1)];
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i].Id | (ulong)expected[i].Contexts << 16, o.Frame[3 + i * 3] & 0xFFFF_FFFF);
            var (lo, hi) = Uuid.Words64(expected[i].Uuid);
            Assert.Equal(lo, o.Frame[4 + i * 3]);
            Assert.Equal(hi, o.Frame[5 + i * 3]);
        }
        for (var i = 12; i < 18; i++) Assert.Equal(0ul, o.Frame[i]);
    }

    [Fact]
    public void PartitionInfoGetRegs_PreV1_2Partitions_AreAnswered()
    {
        var sys = TestSystem.Rich();
        foreach (var caller in new[] { Sp11, Sp10 })
        {
            var o = Expect.Success64(sys.Call(caller, Ffa.PartitionInfoGetRegs(Uuid.Nil)));
            Assert.Equal(X2(last: 2, current: 2), o.Frame[2]);
            Assert.Equal((ulong)Sp10 | 2ul << 16, o.Frame[9] & 0xFFFF_FFFF);
        }
    }

    [Fact]
    public void PartitionInfoGetRegs_Smc32Form_IsNotSupported()
    {
        var frame = Ffa.PartitionInfoGetRegs(Uuid.Nil);
        frame[0] = 0x8400_008B;
        Expect.Error(At1_2().Call(Host, frame), Err.NotSupported, "dispatch.undefined-width");
    }

    [Fact]
    public void PartitionInfoGetRegs_PartitionsSeeTheSendBits_NormalWorldDoesNot()
    {
        var sys = TestSystem.Rich();
        AssertEntry(Expect.Success64(sys.Call(Sp12, Ffa.PartitionInfoGetRegs(Sp12Uuid))), 0, Sp12, 1, 0x70F, null);
        AssertEntry(Expect.Success64(sys.Call(Host, Ffa.PartitionInfoGetRegs(Sp12Uuid))), 0, Sp12, 1, 0x30D, null);
    }

    [Fact]
    public void PartitionInfoGetRegs_DoesNotUseRx()
    {
        var sys = At1_2();
        Expect.Success64(sys.Call(Host, Ffa.PartitionInfoGetRegs(Uuid.Nil)));   // no RX mapped
        sys.Map(Host, HostMemory, HostMemory + 0x1000);
        Expect.Success(sys.Call(Host, Ffa.PartitionInfoGet(Uuid.Nil)));         // RX now full
        Expect.Success64(sys.Call(Host, Ffa.PartitionInfoGetRegs(Uuid.Nil)));
        Assert.Equal(RxState.Full, sys.Endpoint(Host).Mailbox!.State);
    }

    [Fact]
    public void PartitionInfoGetRegs_InputJunkDoesNotLeakIntoTheAnswer()
    {
        var frame = Ffa.PartitionInfoGetRegs(EchoUuid);
        for (var i = 4; i < 18; i++) frame[i] = 0xFEED_0000_0000_0000ul | (uint)i;
        var o = Expect.Success64(At1_2().Call(Host, frame));
        for (var i = 6; i < 18; i++) Assert.Equal(0ul, o.Frame[i]);
    }
}
