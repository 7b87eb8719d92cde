using Spmc.Core.Tests.Support;
using static Spmc.Core.Tests.Support.Manifests;

namespace Spmc.Core.Tests.Abi;

/// <summary>FFA_FEATURES (spmc-behaviour.md §4, ffa-abi.md §4).</summary>
public class FeaturesTests
{
    [Theory]
    [InlineData(0x8400_0060ul)] // FFA_ERROR_32
    [InlineData(0x8400_0061ul)] // FFA_SUCCESS_32
    [InlineData(0xC400_0061ul)] // FFA_SUCCESS_64
    [InlineData(0x8400_0063ul)] // FFA_VERSION
    [InlineData(0x8400_0064ul)] // FFA_FEATURES
    [InlineData(0x8400_0065ul)] // FFA_RX_RELEASE
    [InlineData(0x8400_0067ul)] // FFA_RXTX_UNMAP
    [InlineData(0x8400_0068ul)] // FFA_PARTITION_INFO_GET
    [InlineData(0x8400_0069ul)] // FFA_ID_GET
    [InlineData(0x8400_0084ul)] // FFA_RX_ACQUIRE (to ID 0)
    [InlineData(0x8400_0085ul)] // FFA_SPM_ID_GET
    [InlineData(0xC400_008Bul)] // FFA_PARTITION_INFO_GET_REGS
    public void Features_ImplementedFunction_Succeeds(ulong fid)
    {
        var o = Expect.Success(TestSystem.Default().Call(Host, Ffa.Features(fid)), w2: 0, w3: 0);
        Assert.Equal("FFA_FEATURES", o.Decoded.Function);
    }

    [Theory]
    [InlineData(0x8400_0064ul)]
    [InlineData(0x8400_0069ul)]
    [InlineData(0x8400_008Aul)] // FFA_CONSOLE_LOG_32
    [InlineData(0xC400_008Aul)] // FFA_CONSOLE_LOG_64
    [InlineData(0xC400_008Bul)]
    public void Features_ImplementedFunction_SucceedsForPartitions(ulong fid) =>
        Expect.Success(TestSystem.Default().Call(Echo, Ffa.Features(fid)), w2: 0);

    [Fact]
    public void Features_RxTxMap32_IsNotSupported() =>
        Expect.Error(TestSystem.Default().Call(Host, Ffa.Features(0x8400_0066)), Err.NotSupported, "dispatch.not-implemented");

    [Fact]
    public void Features_RxTxMap64_ReportsMaxPagesToV1_2Callers()
    {
        // w2 bits[1:0] = 0 (4 KiB minimum), bits[31:16] = maximum buffer size in pages.
        Expect.Success(TestSystem.Default().Call(Host, Ffa.Features(0xC400_0066)), w2: 1u << 16, w3: 0);
        Expect.Success(TestSystem.Rich().Call(Host, Ffa.Features(0xC400_0066)), w2: 2u << 16);
        Expect.Success(TestSystem.Rich().Call(Sp12, Ffa.Features(0xC400_0066)), w2: 2u << 16);
    }

    [Fact]
    public void Features_RxTxMap64_ReportsZeroToV1_1Callers()
    {
        var sys = TestSystem.Rich();
        sys.Negotiate(Host, Ffa.V1_1);
        Expect.Success(sys.Call(Host, Ffa.Features(0xC400_0066)), w2: 0);
        Expect.Success(sys.Call(Sp11, Ffa.Features(0xC400_0066)), w2: 0); // v1.1 partition by manifest
        Expect.Success(sys.Call(Sp10, Ffa.Features(0xC400_0066)), w2: 0);
    }

    [Theory]
    [InlineData(0x8400_0085ul)] // FFA_SPM_ID_GET (v1.1)
    [InlineData(0x8400_0084ul)] // FFA_RX_ACQUIRE (v1.1)
    public void Features_V1_1FunctionToAV1_0Caller_IsNotSupported(ulong fid)
    {
        var sys = TestSystem.Default();
        sys.Negotiate(Host, Ffa.V1_0);
        Expect.Error(sys.Call(Host, Ffa.Features(fid)), Err.NotSupported, "dispatch.newer-than-caller");
    }

    [Fact]
    public void Features_V1_2FunctionToAV1_1Caller_IsNotSupported()
    {
        var sys = TestSystem.Rich();
        sys.Negotiate(Host, Ffa.V1_1);
        Expect.Error(sys.Call(Host, Ffa.Features(0xC400_008B)), Err.NotSupported, "dispatch.newer-than-caller");
        Expect.Error(sys.Call(Sp11, Ffa.Features(0xC400_008B)), Err.NotSupported, "dispatch.newer-than-caller");
        Expect.Success(sys.Call(Sp12, Ffa.Features(0xC400_008B)));
    }

    [Fact]
    public void Features_RxAcquire_IsReportedOnlyToId0()
    {
        var sys = TestSystem.Rich();
        Expect.Success(sys.Call(Host, Ffa.Features(0x8400_0084)));
        Expect.Error(sys.Call(Vm1, Ffa.Features(0x8400_0084)), Err.NotSupported, "dispatch.hypervisor-only");
        Expect.Error(sys.Call(Sp12, Ffa.Features(0x8400_0084)), Err.NotSupported, "dispatch.hypervisor-only");
    }

    [Theory]
    [InlineData(0x8400_008Aul)]
    [InlineData(0xC400_008Aul)]
    public void Features_ConsoleLog_IsReportedOnlyToPartitions(ulong fid)
    {
        var sys = TestSystem.Rich();
        Expect.Error(sys.Call(Host, Ffa.Features(fid)), Err.NotSupported, "dispatch.secure-only");
        Expect.Error(sys.Call(Vm1, Ffa.Features(fid)), Err.NotSupported, "dispatch.secure-only");
        Expect.Success(sys.Call(Sp12, Ffa.Features(fid)));
    }

    [Theory]
    [InlineData(0x8400_006Aul, "dispatch.not-implemented")]  // FFA_MSG_POLL (v1.0 legacy)
    [InlineData(0x8400_006Eul, "dispatch.not-implemented")]  // FFA_MSG_SEND (v1.0 legacy)
    [InlineData(0x8400_0078ul, "dispatch.not-implemented")]  // FFA_MEM_OP_PAUSE
    [InlineData(0x8400_0000ul, "features.not-ffa-function")] // PSCI_VERSION: not an FF-A ID
    [InlineData(0x8400_00F0ul, "features.not-ffa-function")] // undefined FF-A number
    [InlineData(0xC400_0063ul, "features.not-ffa-function")] // FFA_VERSION has no SMC64 form
    [InlineData(0x8400_008Bul, "features.not-ffa-function")] // PARTITION_INFO_GET_REGS has no SMC32 form
    [InlineData(0x8401_0063ul, "features.not-ffa-function")] // the SVE hint is not part of an ID to query
    [InlineData(0xFFFF_FFFFul, "features.not-ffa-function")]
    public void Features_UnknownOrUnimplementedFunction_IsNotSupported(ulong fid, string rule) =>
        Expect.Error(TestSystem.Default().Call(Host, Ffa.Features(fid)), Err.NotSupported, rule);

    [Theory]
    [InlineData(0xC400_0060ul)] // FFA_ERROR_64
    [InlineData(0xC400_0062ul)] // FFA_INTERRUPT_64
    [InlineData(0xC400_006Bul)] // FFA_MSG_WAIT_64
    [InlineData(0xC400_006Cul)] // FFA_YIELD_64
    [InlineData(0xC400_006Dul)] // FFA_RUN_64
    public void Features_Smc64CpuCycleIds_AreReportedTo13CallersOnly(ulong fid)
    {
        var sys = TestSystem.Default();
        // MSG_WAIT and YIELD are the partitions' (dispatch.secure-only for the host); RUN, INTERRUPT, ERROR anyone's.
        var spOnly = fid is 0xC400_006Bul or 0xC400_006Cul;
        if (spOnly) Expect.Error(sys.Call(Host, Ffa.Features(fid)), Err.NotSupported, "dispatch.secure-only");
        else Expect.Success(sys.Call(Host, Ffa.Features(fid)));
        Expect.Success(sys.Call(Echo, Ffa.Features(fid)));
        // 1.0-1.2 callers: NOT_SUPPORTED as before.
        Expect.Error(TestSystem.DefaultAt("1.2").Call(Host, Ffa.Features(fid)), Err.NotSupported, "dispatch.newer-than-spmc");
        var at12 = TestSystem.Default();
        at12.Negotiate(Host, 0x1_0002);
        Expect.Error(at12.Call(Host, Ffa.Features(fid)), Err.NotSupported, "dispatch.newer-than-caller");
    }

    [Theory]
    [InlineData(0x8400_007Cul)] // FFA_NORMAL_WORLD_RESUME: the SPMC sends it to the SPMD, no one calls it here
    [InlineData(0xC400_007Cul)]
    public void Features_NormalWorldResume_IsNotImplemented(ulong fid)
    {
        Expect.Error(TestSystem.Default().Call(Host, Ffa.Features(fid)), Err.NotSupported, "dispatch.not-implemented");
        Expect.Error(TestSystem.Default().Call(Echo, Ffa.Features(fid)), Err.NotSupported, "dispatch.not-implemented");
    }

    [Fact]
    public void Features_IgnoresInputPropertiesForFunctions() =>
        Expect.Success(TestSystem.Default().Call(Host, Ffa.Features(0x8400_0069, 0xFFFF)));

    [Fact]
    public void Features_NpiAndMei_AreReportedToPartitionsOnly()
    {
        var sys = TestSystem.Default();
        Expect.Success(sys.Call(Echo, Ffa.Features(1)), w2: 5, w3: 0); // NPI
        Expect.Success(sys.Call(Echo, Ffa.Features(3)), w2: 4, w3: 0); // MEI
        Expect.Error(sys.Call(Host, Ffa.Features(1)), Err.NotSupported, "features.npi-secure-only");
        Expect.Error(sys.Call(Host, Ffa.Features(3)), Err.NotSupported, "features.mei-secure-only");
    }

    [Fact]
    public void Features_Sri_IsReportedToTheNormalWorldOnly()
    {
        var sys = TestSystem.Rich();
        Expect.Success(sys.Call(Host, Ffa.Features(2)), w2: 8, w3: 0);
        Expect.Success(sys.Call(Vm1, Ffa.Features(2)), w2: 8);
        Expect.Error(sys.Call(Sp12, Ffa.Features(2)), Err.NotSupported, "features.sri-normal-world-only");
    }

    [Theory]
    [InlineData(0x0000_0101ul)]
    [InlineData(0x0000_8002ul)]
    [InlineData(0x7FFF_FF02ul)]
    [InlineData(0x4000_0001ul)]
    public void Features_FeatureIdWithBits30To8Set_IsNotSupported(ulong feature)
    {
        var sys = TestSystem.Default();
        Expect.Error(sys.Call(Host, Ffa.Features(feature)), Err.NotSupported, "features.feature-id-bits-mbz");
        Expect.Error(sys.Call(Echo, Ffa.Features(feature)), Err.NotSupported, "features.feature-id-bits-mbz");
    }

    [Fact]
    public void Features_FeatureIdWithNonZeroInput_IsNotSupported()
    {
        var sys = TestSystem.Default();
        Expect.Error(sys.Call(Host, Ffa.Features(2, 1)), Err.NotSupported, "features.feature-id-input-mbz");
        Expect.Error(sys.Call(Echo, Ffa.Features(1, 0x100)), Err.NotSupported, "features.feature-id-input-mbz");
    }

    [Fact]
    public void Features_FeatureIdBeforeV1_1_IsNotSupported()
    {
        // Feature IDs are v1.1: a v1.0 caller (negotiated, or a v1.0 partition by manifest) gets none.
        var sys = TestSystem.Rich();
        sys.Negotiate(Host, Ffa.V1_0);
        Expect.Error(sys.Call(Host, Ffa.Features(2)), Err.NotSupported, "features.feature-id-before-v1-1");
        Expect.Error(sys.Call(Sp10, Ffa.Features(1)), Err.NotSupported, "features.feature-id-before-v1-1");
        Expect.Success(sys.Call(Sp11, Ffa.Features(1)), w2: 5);

        var old = TestSystem.FromJson("""{ "spmc": { "version": "1.0" }, "vms": [ { "id": 0, "name": "host" } ] }""");
        Expect.Error(old.Call(Host, Ffa.Features(2)), Err.NotSupported, "features.feature-id-before-v1-1");
    }

    [Theory]
    [InlineData(0ul)]
    [InlineData(0xFFul)]
    public void Features_UnknownFeatureId_IsNotSupported(ulong feature)
    {
        var sys = TestSystem.Default();
        Expect.Error(sys.Call(Host, Ffa.Features(feature)), Err.NotSupported, "features.unknown-feature");
        Expect.Error(sys.Call(Echo, Ffa.Features(feature)), Err.NotSupported, "features.unknown-feature");
    }

    [Fact]
    public void Features_Smc32_IgnoresUpperHalfOfTheQuery()
    {
        var sys = TestSystem.Default();
        Expect.Success(sys.Call(Host, Ffa.Features(0xFFFF_FFFF_0000_0000 | 0xC400_0066)), w2: 1u << 16);
    }
}
