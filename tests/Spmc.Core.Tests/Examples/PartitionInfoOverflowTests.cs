using Spmc.Core.Calls;
using Spmc.Core.Tests.Support;

namespace Spmc.Core.Tests.Examples;

/// <summary>
/// examples/manifests/partition-info-overflow.json: 44 partitions with 4 UUIDs each. A v1.2+ caller gets one
/// descriptor per UUID (176): 4224 bytes at 24 bytes each, more than one 4 KiB RX page, so FFA_PARTITION_INFO_GET
/// answers NO_MEMORY (Hafnium api_ffa_partition_info_get: the descriptors must fit the caller's RX buffer) while the
/// count-only query and FFA_PARTITION_INFO_GET_REGS, which pages through registers, still reach every entry.
/// </summary>
public sealed class PartitionInfoOverflowTests
{
    private const ushort Host = 0, FirstSp = 0x8001;
    private const ulong Tx = 0x8000_0000, Rx = 0x8000_1000;
    private const int Partitions = 44, UuidsEach = 4;

    private static TestSystem Sys(uint version)
    {
        var sys = ExampleManifests.Load("partition-info-overflow.json");
        sys.Negotiate(Host, version);
        sys.Map(Host, Tx, Rx);
        return sys;
    }

    [Fact]
    public void V1_2Caller_EveryUuid_DoesNotFitOneRxPage()
    {
        var sys = Sys(Ffa.V1_2);
        var before = sys.Endpoint(Host).Mailbox;
        var o = Expect.Error(sys.Call(Host, Ffa.PartitionInfoGet(Uuid.Nil)), Err.NoMemory, "partition-info-get.rx-too-small");
        Assert.Contains("176 descriptors of 24 bytes", o.Decoded.Reason);
        Assert.Equal(before, sys.Endpoint(Host).Mailbox); // the RX buffer stays the caller's, empty
    }

    [Fact]
    public void CountOnly_StillCountsEveryEntry()
    {
        var sys = Sys(Ffa.V1_2);
        Expect.Success(sys.Call(Host, Ffa.PartitionInfoGetCount(Uuid.Nil)), w2: Partitions * UuidsEach);
    }

    [Fact]
    public void V1_1Caller_OneEntryPerPartition_Fits()
    {
        var sys = Sys(Ffa.V1_1);
        Expect.Success(sys.Call(Host, Ffa.PartitionInfoGet(Uuid.Nil)), w2: Partitions, w3: 24);
    }

    [Fact]
    public void OneUuid_Fits()
    {
        var sys = Sys(Ffa.V1_2);
        Expect.Success(sys.Call(Host, Ffa.PartitionInfoGet("5a5a0007-0000-4000-8000-000000000003")), w2: 1, w3: 24);
    }

    [Fact]
    public void GetRegs_PagesThroughEveryEntry_AndRefusesAStartPastTheEnd()
    {
        var sys = Sys(Ffa.V1_2);
        var ids = new List<ushort>();
        for (var start = 0; ;)
        {
            var o = Expect.Success64(sys.Call(Host, Ffa.PartitionInfoGetRegs(Uuid.Nil, start: (ushort)start)));
            int last = (ushort)o.Frame[2], current = (ushort)(o.Frame[2] >> 16);
            Assert.Equal(Partitions * UuidsEach - 1, last);
            for (var i = start; i <= current; i++) ids.Add((ushort)o.Frame[3 + (i - start) * 3]);
            if (current == last) break;
            start = current + 1;
        }
        Assert.Equal(Enumerable.Range(0, Partitions).SelectMany(p => Enumerable.Repeat((ushort)(FirstSp + p), UuidsEach)), ids);
        Expect.Error(sys.Call(Host, Ffa.PartitionInfoGetRegs(Uuid.Nil, start: Partitions * UuidsEach)), Err.InvalidParameters, "partition-info-get-regs.start-index");
        Expect.Error(sys.Call(Host, Ffa.PartitionInfoGetRegs(Uuid.Nil, start: 5, tag: 1)), Err.Retry, "partition-info-get-regs.tag-not-current");
    }
}
