using Spmc.Abi.Descriptors;
using Spmc.Abi.Smccc;
using Spmc.Core.Calls;
using Spmc.Core.Spm;
using Spmc.Core.Tests.Support;
using static Spmc.Core.Tests.Support.Manifests;

namespace Spmc.Core.Tests.Notifications;

/// <summary>
/// FFA_NS_RES_INFO_GET (DEN0077 v1.3 §13.13, BETA): which NS PAS regions partitions reach, written to the host's RX
/// buffer in chunks, with the retrieval rules of table 13.70.
/// </summary>
public class NsResInfoGetTests
{
    private const ulong Id = 0xC400_008F, TargetValid = 1, Continue = 1 << 4, SpmcId = 0x8000;

    /// <summary>Where the host's shared pages live (well above its TX/RX pair).</summary>
    private const ulong Shared = HostMemory + 0x10_0000;

    private static SmcFrame Call(ulong flags = 0, ulong x1 = 0) => Ffa.Frame(Id, x1, flags);

    private static (uint Written, uint Remaining) Sizes(SmcOutcome o)
    {
        Expect.Success64(o);
        return ((uint)(o.Frame[2] >> 32), (uint)o.Frame[2]);
    }

    /// <summary>Calls as the host and reads its whole RX back.</summary>
    private static SmcOutcome Get(SharingSystem s, SmcFrame frame) =>
        s.Test.Call(Host, frame, reads: [new MemoryReadRequest(s.Rx(Host), s.BufferSize(Host))]);

    private static ResourceInfoDescriptor Descriptor(byte[] bytes)
    {
        var parsed = ResourceInfoDescriptor.Read(bytes);
        Assert.True(parsed.Ok, parsed.Error);
        return parsed.Value!;
    }

    /// <summary>The default system, every buffer mapped, the host's page at <see cref="Shared"/> shared with echo and retrieved RW.</summary>
    private static SharingSystem WithEchoBorrowing(int pages = 1)
    {
        var s = SharingSystem.Default();
        var constituents = Enumerable.Range(0, pages).Select(i => (Shared + (ulong)i * 0x2000, 1u)).ToArray();
        var handle = s.SendOk(Host, SendOp.Share.Id(), SharingDescriptors.Send(Host, [(Echo, Perm.RW)], constituents, SendOp.Share.ValidAttributes()));
        s.RetrieveOk(Echo, Host, handle, Perm.RW);
        return s;
    }

    private static AddressMapDescriptor HostRx(SharingSystem s) => new(s.Rx(Host), 1, 0x30, (ushort)SpmcId, RegionAccessType.Indirect);
    private static AddressMapDescriptor HostTx(SharingSystem s) => new(s.Tx(Host), 1, 0x10, (ushort)SpmcId, RegionAccessType.Indirect);

    [Fact]
    public void Start_ListsBorrowedPagesDirect_AndNormalWorldBuffersIndirect()
    {
        var s = WithEchoBorrowing();
        var o = Get(s, Call());
        Assert.Equal((64u, 0u), Sizes(o));
        var d = Descriptor(o.Reads[0].Data!);
        Assert.Equal([new AddressMapDescriptor(Shared, 1, 0x33, Echo, RegionAccessType.Direct), HostRx(s), HostTx(s)], d.Regions);
        Assert.Equal(16u, BitConverter.ToUInt32(o.Reads[0].Data!, 0));
        Assert.Equal(16u, BitConverter.ToUInt32(o.Reads[0].Data!, 8));
        Assert.Equal(RxState.Full, s.Test.Endpoint(Host).Mailbox!.State); // the host owns RX now (FFA_RX_RELEASE it)
    }

    [Fact]
    public void Target_ListsThatPartitionsRegions_AndTheIndirectOnesWhenItUsesIndirectMessaging()
    {
        var s = WithEchoBorrowing();
        var echo = Descriptor(Get(s, Call(TargetValid, Echo)).Reads[0].Data!);
        Assert.Equal([new AddressMapDescriptor(Shared, 1, 0x33, Echo, RegionAccessType.Direct), HostRx(s), HostTx(s)], echo.Regions);
        Expect.Success(s.Call(Host, MemIds.RxRelease));
        var memory = Descriptor(Get(s, Call(TargetValid, MemorySp)).Reads[0].Data!);
        Assert.Equal([HostRx(s), HostTx(s)], memory.Regions);
    }

    [Fact]
    public void TargetIdWithoutTheValidFlag_IsIgnored()
    {
        var s = WithEchoBorrowing();
        Assert.Equal((64u, 0u), Sizes(Get(s, Call(0, x1: 0xFFFF_FFFF_0000_8002))));
    }

    [Fact]
    public void NothingAccessible_AnswersZero_AndWritesNothing()
    {
        // Nothing shared and no normal-world buffer mapped: R0254.
        var s = SharingSystem.Default(map: true, Echo);
        var o = s.Test.Call(Host, Call());
        Assert.Equal((0u, 0u), Sizes(o));
        Assert.Contains(o.Decoded.Notes ?? [], n => n.Contains("R0254"));
    }

    [Fact]
    public void PagesNotRetrievedYet_AreNotListed()
    {
        var s = SharingSystem.Default();
        s.SendSimple(SendOp.Lend, Host, Echo, Shared);
        var d = Descriptor(Get(s, Call()).Reads[0].Data!);
        Assert.Equal([HostRx(s), HostTx(s)], d.Regions);
    }

    [Fact]
    public void AnOverflowingDescriptor_IsRetrievedInChunks_WithContinue()
    {
        // 300 borrowed pages + the host's two buffers: 16 + 302 * 16 = 4848 bytes, more than the 4 KiB RX buffer.
        var s = WithEchoBorrowing(300);
        var first = Get(s, Call());
        Assert.Equal((4096u, 752u), Sizes(first));
        Assert.Contains(first.Decoded.Notes ?? [], n => n.Contains("continue"));
        var bytes = first.Reads[0].Data!.ToList();

        // The RX buffer is the host's until it releases it: RETRY, and the retrieval is kept.
        Expect.Error(s.Test.Call(Host, Call(Continue)), Err.Retry, "ns-res-info-get.rx-not-owned");
        // A continue for other parameters finds no retrieval in progress (table 13.70: 0/0) and writes nothing.
        Expect.Success(s.Call(Host, MemIds.RxRelease));
        Assert.Equal((0u, 0u), Sizes(s.Test.Call(Host, Call(Continue | TargetValid, Echo))));

        var second = Get(s, Call(Continue));
        Assert.Equal((752u, 0u), Sizes(second));
        bytes.AddRange(second.Reads[0].Data![..752]);
        Assert.All(second.Reads[0].Data![752..], b => Assert.Equal(0, b)); // the tail of RX is zeroed
        var d = Descriptor([.. bytes]);
        Assert.Equal(302, d.Regions.Count);
        Assert.Equal(new AddressMapDescriptor(Shared + 299 * 0x2000, 1, 0x33, Echo, RegionAccessType.Direct), d.Regions[299]);
        Assert.Equal(HostTx(s), d.Regions[^1]);

        // Done: a further continue finds nothing in progress.
        Expect.Success(s.Call(Host, MemIds.RxRelease));
        Assert.Equal((0u, 0u), Sizes(s.Test.Call(Host, Call(Continue))));
    }

    [Fact]
    public void ARetrievalInProgress_IsPartOfTheStateDocument()
    {
        var s = WithEchoBorrowing(300);
        Assert.Equal((4096u, 752u), Sizes(s.Test.Call(Host, Call())));
        using var doc = System.Text.Json.JsonDocument.Parse(System.Text.Json.JsonSerializer.Serialize(s.System.SpmcState));
        var retrieval = doc.RootElement.GetProperty("NsResInfo");
        Assert.Equal(4096, retrieval.GetProperty("Written").GetInt32());
        Assert.Equal(0, retrieval.GetProperty("Target").GetInt32());
    }

    [Fact]
    public void Start_RestartsARetrievalInProgress()
    {
        var s = WithEchoBorrowing(300);
        Assert.Equal((4096u, 752u), Sizes(s.Test.Call(Host, Call())));
        Expect.Success(s.Call(Host, MemIds.RxRelease));
        Assert.Equal((4096u, 752u), Sizes(s.Test.Call(Host, Call())));
    }

    [Fact]
    public void RxNotMapped_IsRetry()
    {
        var s = WithEchoBorrowing();
        Expect.Success(s.Call(Host, Ffa.RxTxUnmapId));
        Expect.Error(s.Test.Call(Host, Call()), Err.Retry, "ns-res-info-get.rx-not-mapped");
    }

    [Fact]
    public void Errors_LeaveARetrievalInProgressAsItWas()
    {
        var s = WithEchoBorrowing(300);
        Assert.Equal((4096u, 752u), Sizes(s.Test.Call(Host, Call())));
        Expect.Error(s.Test.Call(Host, Call()), Err.Retry, "ns-res-info-get.rx-not-owned"); // a start while RX is full
        Expect.Error(s.Test.Call(Host, Call(1 << 2)), Err.InvalidParameters, "ns-res-info-get.resource-type");
        Expect.Error(s.Test.Call(Host, Call(TargetValid, 0x8009)), Err.InvalidParameters, "ns-res-info-get.invalid-target");
        Expect.Success(s.Call(Host, MemIds.RxRelease));
        Assert.Equal((752u, 0u), Sizes(s.Test.Call(Host, Call(Continue))));
    }

    [Theory]
    [InlineData(1ul << 2)]
    [InlineData(3ul << 2)]
    public void ReservedResourceTypes_AreInvalid(ulong flags) =>
        Expect.Error(WithEchoBorrowing().Test.Call(Host, Call(flags)), Err.InvalidParameters, "ns-res-info-get.resource-type");

    [Theory]
    [InlineData(0x0000ul)] // valid flag with ID 0 (Hafnium)
    [InlineData(0x8009ul)] // no such partition
    [InlineData(0x0001ul)] // a VM
    public void InvalidTargets_AreInvalid(ulong target) =>
        Expect.Error(WithEchoBorrowing().Test.Call(Host, Call(TargetValid, target)), Err.InvalidParameters, "ns-res-info-get.invalid-target");

    [Fact]
    public void OnlyTheHypervisorAt13_MayCallIt()
    {
        Expect.Error(TestSystem.Default().Call(Echo, Call()), Err.NotSupported, "dispatch.hypervisor-only");
        Expect.Error(TestSystem.DefaultAt("1.2").Call(Host, Call()), Err.NotSupported, "dispatch.newer-than-spmc");
        var sys = TestSystem.Default();
        sys.Negotiate(Host, Ffa.V1_2);
        Expect.Error(sys.Call(Host, Call()), Err.NotSupported, "dispatch.newer-than-caller");
        Expect.Error(TestSystem.Default().Call(Host, Ffa.Frame(0x8400_008F)), Err.NotSupported, "dispatch.undefined-width");
    }

    [Fact]
    public void FfaFeatures_ReportsIt_ToA13Host()
    {
        Expect.Success(TestSystem.Default().Call(Host, Ffa.Features(Id)));
        Expect.Error(TestSystem.Default().Call(Echo, Ffa.Features(Id)), Err.NotSupported, "dispatch.hypervisor-only");
    }
}
