using Spmc.Abi.Ffa;
using Spmc.Abi.Smccc;
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

    /// <summary>A call and an FFA_FEATURES query of a function this SPMC does not implement say the same why.</summary>
    [Fact]
    public void NotImplemented_GivesOneReason_ToTheCallAndToFeatures()
    {
        var sys = TestSystem.Default();
        const string Why = "FFA_MSG_SEND: the v1.0 indirect messaging ABIs are not implemented (use FFA_MSG_SEND2)";
        var query = Expect.Error(sys.Call(Echo, Ffa.Features(0x8400_006E)), Err.NotSupported, "dispatch.not-implemented");
        Assert.Equal($"FFA_FEATURES: {Why}", query.Decoded.Reason);
        var frame = new SmcFrame();
        frame[0] = 0x8400_006E;
        var call = Expect.Error(sys.Call(Echo, frame), Err.NotSupported, "dispatch.not-implemented");
        Assert.Equal(Why, call.Decoded.Reason);
    }

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

    /// <summary>Hafnium ffa_features_function: the v1.1 group is gated on FFA_VERSION_COMPILED, not on the caller's version.</summary>
    [Theory]
    [InlineData(0x8400_0085ul)] // FFA_SPM_ID_GET (v1.1)
    [InlineData(0x8400_0084ul)] // FFA_RX_ACQUIRE (v1.1, ID 0 only)
    [InlineData(0x8400_007Dul)] // FFA_NOTIFICATION_BITMAP_CREATE (v1.1)
    public void Features_V1_1FunctionToAV1_0Caller_IsReported(ulong fid)
    {
        foreach (var sys in new[] { TestSystem.Default(), TestSystem.DefaultAt("1.2"), SpmcAt("1.1") })
        {
            sys.Negotiate(Host, Ffa.V1_0);
            Expect.Success(sys.Call(Host, Ffa.Features(fid)), w2: 0);
        }
        Expect.Error(SpmcAt("1.0").Call(Host, Ffa.Features(fid)), Err.NotSupported, "dispatch.newer-than-spmc");
    }

    /// <summary>An SPMC at <paramref name="version"/> with the host and one partition (0x8001) at that version.</summary>
    private static TestSystem SpmcAt(string version) => TestSystem.FromJson($$"""
        { "spmc": { "version": "{{version}}" }, "vms": [ { "id": 0, "name": "host" } ],
          "partitions": [ { "id": "0x8001", "name": "sp", "uuids": [ "{{EchoUuid}}" ], "properties": { "directRequestReceive": true } } ] }
        """);

    /// <summary>Hafnium ffa_features_function: the v1.2 group (GET_REGS, REQ2, CONSOLE_LOG) needs FFA_VERSION_COMPILED >= 1.2 only.</summary>
    [Fact]
    public void Features_V1_2FunctionToOlderCallers_IsReported()
    {
        var sys = TestSystem.Rich();
        sys.Negotiate(Host, Ffa.V1_1);
        foreach (var fid in new ulong[] { 0xC400_008B, 0xC400_008D, 0xC400_008E, 0x8400_008A })
        {
            Expect.Success(sys.Call(Host, Ffa.Features(fid)), w2: 0);
            Expect.Success(sys.Call(Sp11, Ffa.Features(fid)), w2: 0);
            Expect.Success(sys.Call(Sp10, Ffa.Features(fid)), w2: 0);
            Expect.Success(sys.Call(Sp12, Ffa.Features(fid)), w2: 0);
        }
        var at11 = SpmcAt("1.1");
        Expect.Error(at11.Call(Host, Ffa.Features(0xC400_008B)), Err.NotSupported, "dispatch.newer-than-spmc");
        Expect.Error(at11.Call(Echo, Ffa.Features(0xC400_008D)), Err.NotSupported, "dispatch.newer-than-spmc");
    }

    [Fact]
    public void Features_RxAcquire_IsReportedOnlyToId0()
    {
        var sys = TestSystem.Rich();
        Expect.Success(sys.Call(Host, Ffa.Features(0x8400_0084)));
        Expect.Error(sys.Call(Vm1, Ffa.Features(0x8400_0084)), Err.NotSupported, "dispatch.hypervisor-only");
        Expect.Error(sys.Call(Sp12, Ffa.Features(0x8400_0084)), Err.NotSupported, "dispatch.hypervisor-only");
    }

    /// <summary>
    /// Hafnium ffa_features_function reports FFA_CONSOLE_LOG to every caller of a 1.2 SPMC, the normal world included
    /// (the call itself stays the partitions': ConsoleLogTests).
    /// </summary>
    [Theory]
    [InlineData(0x8400_008Aul)]
    [InlineData(0xC400_008Aul)]
    public void Features_ConsoleLog_IsReportedToEveryCaller(ulong fid)
    {
        var sys = TestSystem.Rich();
        Expect.Success(sys.Call(Host, Ffa.Features(fid)), w2: 0);
        Expect.Success(sys.Call(Vm1, Ffa.Features(fid)), w2: 0);
        Expect.Success(sys.Call(Sp12, Ffa.Features(fid)), w2: 0);
        Expect.Success(sys.Call(Sp10, Ffa.Features(fid)), w2: 0);
        Expect.Error(sys.Call(Host, Ffa.ConsoleLog32("hi\n")), Err.NotSupported, "dispatch.secure-only");
    }

    /// <summary>
    /// Hafnium ffa_features_function lists FFA_MSG_WAIT_32 with the ABIs every caller is told about, and
    /// NOTIFICATION_BITMAP_CREATE/DESTROY with the v1.1 group gated on its own version only: the normal world
    /// learns of MSG_WAIT and an SP of the bitmaps, though their calls answer NOT_SUPPORTED to them.
    /// </summary>
    [Fact]
    public void Features_MsgWaitAndBitmaps_AreReportedToCallersThatMayNotCallThem()
    {
        var sys = TestSystem.Rich();
        Expect.Success(sys.Call(Host, Ffa.Features(0x8400_006B)), w2: 0);
        Expect.Success(sys.Call(Vm1, Ffa.Features(0x8400_006B)), w2: 0);
        Expect.Error(sys.Call(Host, SmcFrame.From(0x8400_006B)), Err.NotSupported, "dispatch.secure-only");
        foreach (var fid in new ulong[] { 0x8400_007D, 0x8400_007E })
        {
            Expect.Success(sys.Call(Sp12, Ffa.Features(fid)), w2: 0);
            Expect.Success(sys.Call(Sp10, Ffa.Features(fid)), w2: 0);
            Expect.Success(sys.Call(Vm1, Ffa.Features(fid)), w2: 0);
        }
        Expect.Error(sys.Call(Sp12, SmcFrame.From(0x8400_007D, Vm1)), Err.NotSupported, "dispatch.hypervisor-only");
        // YIELD stays the partitions' (Hafnium: "only supported at secure virtual FF-A instance").
        Expect.Error(sys.Call(Host, Ffa.Features(0x8400_006C)), Err.NotSupported, "dispatch.secure-only");
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
        // YIELD is reported to partitions only (as Hafnium's YIELD_32); MSG_WAIT (as its SMC32 form), RUN, INTERRUPT,
        // ERROR to anyone.
        var spOnly = fid is 0xC400_006Cul;
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

    /// <summary>Hafnium ffa_features_feature: NPI, SRI and MEI look at the caller's identity, never at its version.</summary>
    [Fact]
    public void Features_FeatureIds_AreReportedToOlderCallers()
    {
        var sys = TestSystem.Rich();
        sys.Negotiate(Host, Ffa.V1_0);
        Expect.Success(sys.Call(Host, Ffa.Features(2)), w2: 8);
        Expect.Success(sys.Call(Sp10, Ffa.Features(1)), w2: 5);
        Expect.Success(sys.Call(Sp10, Ffa.Features(3)), w2: 4);
        Expect.Success(sys.Call(Sp11, Ffa.Features(1)), w2: 5);
        Expect.Error(sys.Call(Sp10, Ffa.Features(2)), Err.NotSupported, "features.sri-normal-world-only");
    }

    /// <summary>Hafnium ffa_features_feature: NPI, SRI and MEI need FFA_VERSION_COMPILED >= 1.2 (sic: not 1.1).</summary>
    [Theory]
    [InlineData("1.0")]
    [InlineData("1.1")]
    public void Features_FeatureIds1To3_NeedA1_2Spmc(string version)
    {
        var sys = SpmcAt(version);
        Expect.Error(sys.Call(Host, Ffa.Features(2)), Err.NotSupported, "features.feature-id-spmc-before-v1-2");
        Expect.Error(sys.Call(Echo, Ffa.Features(1)), Err.NotSupported, "features.feature-id-spmc-before-v1-2");
        Expect.Error(sys.Call(Echo, Ffa.Features(3)), Err.NotSupported, "features.feature-id-spmc-before-v1-2");
        Expect.Error(sys.Call(Host, Ffa.Features(4)), Err.NotSupported, "features.unknown-feature");
    }

    /// <summary>
    /// Feature 4 (notification features, FF-A 1.3): Hafnium answers any caller of a 1.3 SPMC. Here a 1.0-1.2 caller
    /// of a 1.3 SPMC gets what a 1.2 SPMC answers it (issue 13): an unknown feature.
    /// </summary>
    [Fact]
    public void Features_NotificationFeatures_AreFor13CallersOf13Spmcs()
    {
        Expect.Success(TestSystem.Default().Call(Host, Ffa.Features(4)));
        var sys = TestSystem.Default();
        sys.Negotiate(Host, Ffa.V1_2);
        Expect.Error(sys.Call(Host, Ffa.Features(4)), Err.NotSupported, "features.unknown-feature");
        Expect.Error(TestSystem.DefaultAt("1.2").Call(Host, Ffa.Features(4)), Err.NotSupported, "features.unknown-feature");
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

    /// <summary>Whom FFA_FEATURES reports a function to.</summary>
    private enum To { None, Everyone, Id0, Partitions }

    /// <summary>
    /// Hafnium's ffa_features_function (src/api.c at 21bfbdc1), applied to the ABIs this SPMC implements, for a caller
    /// at the SPMC's own version. Rows marked "Spmc" are this SPMC's additions, which Hafnium answers NOT_SUPPORTED.
    /// </summary>
    private static To HafniumReports(uint fid, bool spmc13) => fid switch
    {
        // Every caller, whatever the version (the first case group).
        0x8400_0060 or 0x8400_0061 or 0xC400_0061 or 0x8400_0062 or 0x8400_0063 or 0x8400_0064 or 0x8400_0065
            or 0x8400_0067 or 0x8400_0068 or 0x8400_0069 or 0x8400_006B or 0x8400_006D or 0x8400_0071 or 0xC400_0071
            or 0x8400_0072 or 0xC400_0072 or 0x8400_0073 or 0xC400_0073 or 0x8400_0075 or 0x8400_0076 or 0x8400_0077
            or 0x8400_007A or 0x8400_007B or 0x8400_006F or 0xC400_006F or 0x8400_0070 or 0xC400_0070 => To.Everyone,
        // FF-A 1.1 group (FFA_VERSION_COMPILED >= 1.1): SPM_ID_GET, BITMAP_CREATE/DESTROY, BIND, UNBIND, SET, GET, MSG_SEND2.
        0x8400_0085 or 0x8400_007D or 0x8400_007E or 0x8400_007F or 0x8400_0080 or 0x8400_0081 or 0x8400_0082 or 0x8400_0086 => To.Everyone,
        0x8400_0084 => To.Id0,               // RX_ACQUIRE: the hypervisor only
        0xC400_0083 => To.Id0,               // NOTIFICATION_INFO_GET_64: vm_is_primary
        0x8400_0083 => To.Id0,               // Spmc: NOTIFICATION_INFO_GET_32 (Hafnium implements the SMC64 form only)
        // FF-A 1.2 group (FFA_VERSION_COMPILED >= 1.2): CONSOLE_LOG, PARTITION_INFO_GET_REGS, REQ2, RESP2.
        0x8400_008A or 0xC400_008A or 0xC400_008B or 0xC400_008D or 0xC400_008E => To.Everyone,
        0x8400_006C => To.Partitions,        // YIELD_32
        0xC400_0066 => To.Everyone,          // RXTX_MAP_64 (w2 by the caller's version)
        0x8400_0074 or 0xC400_0074 => To.Everyone, // MEM_RETRIEVE_REQ (with the NS bit declared)
        // FF-A 1.3 (FFA_VERSION_COMPILED >= 1.3).
        0xC400_008F when spmc13 => To.Id0,   // NS_RES_INFO_GET: a VM ID, and the only normal-world caller of Hafnium's SPMC is ID 0
        0x8400_0090 or 0xC400_0090 when spmc13 => To.Partitions, // ABORT: a v1.3 SP
        // Spmc: the SMC64 CPU-cycle IDs and the extended notifications of FF-A 1.3.
        0xC400_0060 or 0xC400_0062 or 0xC400_006B or 0xC400_006D when spmc13 => To.Everyone,
        0xC400_006C when spmc13 => To.Partitions,
        0xC400_0094 or 0xC400_0095 or 0xC400_0096 or 0xC400_0097 when spmc13 => To.Everyone,
        // RXTX_MAP_32, MSG_SEND, MSG_POLL, MEM_OP_PAUSE/RESUME, NORMAL_WORLD_RESUME, SECONDARY_EP_REGISTER (not
        // implemented here), MEM_PERM_GET/SET (S-EL0 partitions only; ours are S-EL1), EL3_INTR_HANDLE.
        _ => To.None,
    };

    private static IEnumerable<uint> EveryFunctionId() =>
        FfaFunctions.All.SelectMany(f => new[] { f.Since32 is null ? 0u : f.Id32, f.Since64 is null ? 0u : f.Id64 }).Where(id => id != 0);

    /// <summary>One FFA_FEATURES query against the table; input bit 1 (NS bit handled) for MEM_RETRIEVE_REQ, ignored elsewhere.</summary>
    private static void AnswersAsHafnium(TestSystem sys, ushort caller, uint fid, bool spmc13, uint rxtxW2)
    {
        var o = sys.Call(caller, Ffa.Features(fid, 0b10));
        var reported = HafniumReports(fid, spmc13) switch
        {
            To.Everyone => true,
            To.Id0 => caller == Host,
            To.Partitions => caller >= 0x8000,
            _ => false,
        };
        if (!reported)
        {
            Expect.Error(o, Err.NotSupported);
            return;
        }
        var w2 = fid switch
        {
            0xC400_0066 => rxtxW2,
            0x8400_0074 or 0xC400_0074 => 0b110u,
            _ => 0u,
        };
        Assert.True(o.Decoded.Error is null, $"FFA_FEATURES(0x{fid:X8}) from 0x{caller:X4}: {o.Decoded.Error} {o.Decoded.Rule}");
        Expect.Success(o, w2: w2);
    }

    /// <summary>
    /// The whole function table of a 1.2 SPMC (Rich: SPs at 1.2, 1.1 and 1.0) against Hafnium's ffa_features_function:
    /// only the SPMC's version, the caller's identity and, for RXTX_MAP_64's w2, the caller's version count. The host
    /// at 1.0 gets the same as at 1.2 (but RXTX_MAP_64's maximum).
    /// </summary>
    [Fact]
    public void Features_A1_2Spmc_AnswersEveryFunctionAsHafnium()
    {
        var sys = TestSystem.Rich();
        var host10 = TestSystem.Rich();
        host10.Negotiate(Host, Ffa.V1_0);
        foreach (var fid in EveryFunctionId())
        {
            AnswersAsHafnium(sys, Host, fid, spmc13: false, rxtxW2: 2u << 16);
            AnswersAsHafnium(host10, Host, fid, spmc13: false, rxtxW2: 0);
            AnswersAsHafnium(sys, Vm1, fid, spmc13: false, rxtxW2: 2u << 16);
            AnswersAsHafnium(sys, Sp12, fid, spmc13: false, rxtxW2: 2u << 16);
            AnswersAsHafnium(sys, Sp11, fid, spmc13: false, rxtxW2: 0);
            AnswersAsHafnium(sys, Sp10, fid, spmc13: false, rxtxW2: 0);
        }
    }

    /// <summary>The same for a 1.3 SPMC and its 1.3 callers (the default system), with this SPMC's 1.3 additions.</summary>
    [Fact]
    public void Features_A1_3Spmc_AnswersEveryFunctionAsHafnium()
    {
        var sys = TestSystem.Default();
        foreach (var fid in EveryFunctionId())
        {
            AnswersAsHafnium(sys, Host, fid, spmc13: true, rxtxW2: 1u << 16);
            AnswersAsHafnium(sys, Echo, fid, spmc13: true, rxtxW2: 1u << 16);
            AnswersAsHafnium(sys, Notifier, fid, spmc13: true, rxtxW2: 1u << 16);
        }
    }
}
