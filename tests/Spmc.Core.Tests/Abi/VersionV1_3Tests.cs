using Spmc.Abi.Ffa;
using Spmc.Abi.Smccc;
using Spmc.Core.Calls;
using Spmc.Core.Spm;
using Spmc.Core.Spm.Handlers;
using Spmc.Core.Spm.Notifications;
using Spmc.Core.Systems;
using Spmc.Core.Tests.Messaging;
using Spmc.Core.Tests.Notifications;
using Spmc.Core.Tests.Support;
using static Spmc.Core.Tests.Support.Manifests;

namespace Spmc.Core.Tests.Abi;

/// <summary>
/// FFA_VERSION at v1.3 (DEN0077 v1.3 ALP4 §13.2, tables 13.4–13.6, the outcome table and S0231): the query types in
/// w2[1:0], SMCCC INVALID_PARAMETER, the Null version while the Framework is in use (D0212) — and the 1.0–1.2 answers
/// that must not change.
/// </summary>
public class VersionV1_3Tests
{
    private const ulong V1_3 = 0x0001_0003, V1_4 = 0x0001_0004, V2_0 = 0x0002_0000;
    private const ulong InvalidParameter = 0xFFFF_FFFD, NotSupported = 0xFFFF_FFFF;

    private static SmcFrame Version(ulong requested, ulong flags) => Ffa.Frame(Ffa.VersionId, requested, flags);

    /// <summary>A bare value in w0 and w1..w17 zero (table 13.5: w1–w7 MBZ).</summary>
    private static SmcOutcome Bare(SmcOutcome o, ulong w0)
    {
        Assert.Equal(w0, o.Frame[0]);
        for (var i = 1; i < 18; i++) Assert.Equal(0ul, o.Frame[i]);
        Assert.Equal("FFA_VERSION", o.Decoded.Function);
        return o;
    }

    private static void Accepted(SmcOutcome o, ulong w0)
    {
        Bare(o, w0);
        Assert.Null(o.Decoded.Error);
        Assert.Null(o.Decoded.Rule);
    }

    private static void Refused(SmcOutcome o, ulong w0, string rule)
    {
        Bare(o, w0);
        Assert.Equal(rule, o.Decoded.Rule);
        Assert.False(string.IsNullOrWhiteSpace(o.Decoded.Reason));
    }

    /// <summary>The host at 1.3 by an explicit negotiation on the default (1.3, passthrough) system.</summary>
    private static TestSystem HostAt1_3()
    {
        var sys = TestSystem.Default();
        Accepted(sys.Call(Host, Ffa.Version(V1_3)), V1_3);
        return sys;
    }

    private static FfaVersion V(string text) => FfaVersion.TryParse(text, out var v) ? v : throw new ArgumentException(text);

    // ---- The outcome table (§13.2.2.1): the callee permits no downgrade, the Framework is not in use. ----

    [Theory]
    //          row  callee        requested before  success  w0     after
    [InlineData(1, "1.3", "1.3", "0.0", true, "1.3", "1.3")]
    [InlineData(2, "1.3", "1.3", "1.3", true, "1.3", "1.3")]
    [InlineData(3, "1.6", "1.3", "0.0", true, "1.6", "1.3")]
    [InlineData(4, "1.6", "1.3", "1.3", true, "1.6", "1.3")]
    [InlineData(5, "1.6", "1.4", "1.3", true, "1.6", "1.4")]
    [InlineData(6, "1.6", "1.5", "1.4", true, "1.6", "1.5")]
    [InlineData(7, "1.3", "1.6", null, false, "1.3", null)]
    [InlineData(8, "1.6", "2.0", null, false, "1.6", null)]
    [InlineData(9, "3.0", "2.0", null, false, "3.0", null)]
    [InlineData(10, "1.6,3.0", "2.0", null, false, "1.6", null)]
    public void OutcomeTable_RowByRow(int row, string callee, string requested, string? before, bool success, string w0, string? after)
    {
        FfaVersion[] implemented = [.. callee.Split(',').Select(V)];
        // "Not applicable": the failing rows hold whatever the negotiated version was; try the Null version and a real one.
        foreach (var negotiated in before is null ? [VersionNegotiation.Null, FfaVersion.V1_1] : new[] { V(before) })
        {
            var outcome = VersionNegotiation.Negotiate(implemented, V(requested), negotiated, inUse: false, downgradeAllowed: false);
            Assert.True(success == outcome.Negotiated, $"row {row}");
            Assert.Equal(V(w0), outcome.Output);
            Assert.Equal(after is null ? negotiated : V(after), outcome.NegotiatedAfter);
            Assert.Equal(success ? VersionRefusal.None : VersionRefusal.NoCompatibleVersion, outcome.Refusal);
        }
    }

    [Theory]
    // The rows a 1.3 SPMC can play: the callee is (1, 3). Row 1's Null version is played by a host that never negotiated.
    [InlineData(1, V1_3, false, V1_3, "1.3")]
    [InlineData(2, V1_3, true, V1_3, "1.3")]
    [InlineData(7, 0x0001_0006, false, V1_3, null)]
    [InlineData(7, 0x0001_0006, true, V1_3, null)]
    [InlineData(8, V2_0, true, V1_3, null)]       // (1, 3) is the highest incompatible version below 2.0
    [InlineData(8, 0x7FFF_FFFF, false, V1_3, null)]
    public void OutcomeTable_RowsTheDefaultSpmcPlays(int row, ulong requested, bool negotiatedBefore, ulong w0, string? after)
    {
        var sys = negotiatedBefore ? HostAt1_3() : TestSystem.Default();
        var before = sys.Endpoint(Host);
        var o = sys.Call(Host, Ffa.Version(requested));
        if (after is null)
        {
            Refused(o, w0, "version.no-compatible-version");
            Assert.Equal("NOT_SUPPORTED", o.Decoded.Error);
            Assert.Equal(before, sys.Endpoint(Host)); // "same as before"
        }
        else
        {
            Accepted(o, w0);
            Assert.Equal(after, sys.Endpoint(Host).Version.ToString());
            Assert.True(sys.Endpoint(Host).VersionNegotiated, $"row {row}");
        }
    }

    [Fact]
    public void Negotiate_HigherIncompatibleOnly_AnswersTheLowestImplemented_AndNothingImplementedIsNotSupported()
    {
        FfaVersion[] spmc = [FfaVersion.V1_3];
        Assert.Equal(FfaVersion.V1_0, VersionNegotiation.Negotiate(spmc, new FfaVersion(0, 9), FfaVersion.V1_3, false, true).Output);
        var none = VersionNegotiation.Negotiate([], FfaVersion.V1_3, FfaVersion.V1_2, false, true);
        Assert.Null(none.Output);
        Assert.Equal(VersionRefusal.NothingImplemented, none.Refusal);
        Assert.Equal(FfaVersion.V1_2, none.NegotiatedAfter);
    }

    [Fact]
    public void Negotiate_InUseOrARefusedDowngrade_IsTheNullVersion_AndChangesNothing()
    {
        FfaVersion[] spmc = [FfaVersion.V1_3];
        var inUse = VersionNegotiation.Negotiate(spmc, FfaVersion.V1_3, FfaVersion.V1_3, inUse: true, downgradeAllowed: true);
        Assert.Equal((VersionNegotiation.Null, FfaVersion.V1_3, VersionRefusal.InUse), (inUse.Output, inUse.NegotiatedAfter, inUse.Refusal));
        var downgrade = VersionNegotiation.Negotiate(spmc, FfaVersion.V1_2, FfaVersion.V1_3, inUse: false, downgradeAllowed: false);
        Assert.Equal((VersionNegotiation.Null, FfaVersion.V1_3, VersionRefusal.DowngradeRefused), (downgrade.Output, downgrade.NegotiatedAfter, downgrade.Refusal));
        var permitted = VersionNegotiation.Negotiate(spmc, FfaVersion.V1_2, FfaVersion.V1_3, inUse: false, downgradeAllowed: true);
        Assert.Equal((FfaVersion.V1_3, FfaVersion.V1_2, VersionRefusal.None), (permitted.Output, permitted.NegotiatedAfter, permitted.Refusal));
        // S0231: with the Null version negotiated, "in use" cannot stop a negotiation.
        Assert.True(VersionNegotiation.Negotiate(spmc, FfaVersion.V1_2, VersionNegotiation.Null, inUse: true, downgradeAllowed: false).Negotiated);
    }

    // ---- Query types (w2 bits[1:0]). ----

    [Theory]
    [InlineData(0x0001_0000ul, V1_3)]
    [InlineData(0x0001_0002ul, V1_3)]
    [InlineData(V1_3, V1_3)]
    [InlineData(V1_4, V1_3)]          // no compatible version: the closest incompatible one (lower)
    [InlineData(V2_0, V1_3)]
    [InlineData(0x0000_0009ul, 0x0001_0000ul)] // only higher ones: the lowest implemented, 1.0
    public void QueryCompatible_AnswersWithoutNegotiating(ulong requested, ulong w0)
    {
        var sys = TestSystem.Default();
        var before = sys.Endpoint(Host);
        Accepted(sys.Call(Host, Version(requested, 1)), w0);
        Assert.Equal(before, sys.Endpoint(Host));
        Assert.False(sys.Endpoint(Host).VersionNegotiated);
    }

    [Fact]
    public void QueryCompatible_EvenWhileInUse_AndForAVersionBelowTheNegotiatedOne()
    {
        var sys = HostAt1_3();
        sys.Map(Host, HostMemory, HostMemory + 0x1000);
        Accepted(sys.Call(Host, Version(0x0001_0001, 1)), V1_3);
        Assert.Equal("1.3", sys.Endpoint(Host).Version.ToString());
    }

    [Fact]
    public void QueryCompatible_WithoutACompatibleVersion_SaysSoInANote()
    {
        var o = TestSystem.Default().Call(Host, Version(V2_0, 1));
        Assert.Contains("closest incompatible", Assert.Single(o.Decoded.Notes!));
        Assert.Null(TestSystem.Default().Call(Host, Version(0x0001_0002, 1)).Decoded.Notes);
    }

    [Fact]
    public void QueryNegotiated_AnswersTheVersionInForce_W1IsIgnored()
    {
        var sys = TestSystem.Default();
        Accepted(sys.Call(Host, Version(0, 2)), V1_3);                    // a VM starts at the SPMC's version
        sys.Negotiate(Host, Ffa.V1_1);
        var before = sys.Endpoint(Host);
        Accepted(sys.Call(Host, Version(0, 2)), 0x0001_0001);
        Accepted(sys.Call(Host, Version(0x0001_0002, 2)), 0x0001_0001);   // w1 is SBZ for b'10: not a request
        Accepted(sys.Call(Host, Version(0x7FFF_FFFF, 2)), 0x0001_0001);
        Assert.Equal(before, sys.Endpoint(Host));
        Assert.Equal("version 1.1", sys.Call(Host, Version(0, 2)).Decoded.Result);
    }

    [Fact]
    public void QueryNegotiated_APartitionGetsItsVersion()
    {
        var sys = TestSystem.Default();
        Accepted(sys.Call(Echo, Version(0, 2)), V1_3); // its manifest version (the default: the SPMC's)
    }

    [Theory]
    [InlineData(0x0001_0003ul, 3ul)]
    [InlineData(0x0001_0002ul, 3ul)]
    [InlineData(0x0001_0002ul, 0xFFFF_FFFFul)]
    [InlineData(0ul, 7ul)]
    public void ReservedQueryType_IsSmcccInvalidParameter_AndChangesNothing(ulong requested, ulong flags)
    {
        var sys = TestSystem.Default();
        var before = sys.State.Endpoints;
        var o = sys.Call(Host, Version(requested, flags));
        Refused(o, InvalidParameter, "version.query-type-reserved");
        Assert.Equal("INVALID_PARAMETER", o.Decoded.Result);
        Assert.Equal("INVALID_PARAMETERS", o.Decoded.Error);
        Assert.Contains("SMCCC INVALID_PARAMETER", Assert.Single(o.Decoded.Notes!));
        Assert.Equal(before, sys.State.Endpoints);
    }

    [Theory]
    [InlineData(0x8001_0003ul, 0ul, true)]   // a caller that negotiated 1.3
    [InlineData(0x8000_0000ul, 0ul, true)]
    [InlineData(0x8001_0003ul, 1ul, false)]  // a query type marks a 1.3 caller
    [InlineData(0xFFFF_FFFFul, 2ul, false)]  // b'10: w1 is SBZ, but bit 31 is still checked (R0229)
    public void Bit31_AtV1_3_IsSmcccInvalidParameter(ulong requested, ulong flags, bool negotiated)
    {
        var sys = negotiated ? HostAt1_3() : TestSystem.Default();
        var before = sys.Endpoint(Host);
        Refused(sys.Call(Host, Version(requested, flags)), InvalidParameter, "version.bit31-invalid-parameter");
        Assert.Equal(before, sys.Endpoint(Host));
    }

    [Fact]
    public void W2Bits31To2_AreSbz_AndIgnored()
    {
        var sys = TestSystem.Default();
        Accepted(sys.Call(Host, Version(V1_3, 0xFFFF_FFFC)), V1_3);
        Assert.True(sys.Endpoint(Host).VersionNegotiated);
        Accepted(sys.Call(Host, Version(0, 0x8000_0002)), V1_3);
    }

    // ---- Renegotiation: the Null version while the Framework is in use (D0212); downgrades otherwise permitted. ----

    [Fact]
    public void Renegotiation_NotInUse_MayDowngradeAndUpgrade_EvenAfterOtherCalls()
    {
        var sys = HostAt1_3();
        Expect.Success(sys.Call(Host, Ffa.IdGet()));   // Hafnium's lock does not apply to a 1.3 caller: only "in use" does
        Accepted(sys.Call(Host, Ffa.Version(0x0001_0002)), V1_3);
        Assert.Equal("1.2", sys.Endpoint(Host).Version.ToString());
        Accepted(sys.Call(Host, Ffa.Version(V1_3)), V1_3);
        Assert.Equal("1.3", sys.Endpoint(Host).Version.ToString());
    }

    [Theory]
    [InlineData(0x0001_0002ul)]
    [InlineData(V1_3)]          // even the version in force: the text makes no exception
    public void RxTxMapped_IsInUse_TheNullVersion_StateUnchanged(ulong requested)
    {
        var sys = HostAt1_3();
        sys.Map(Host, HostMemory, HostMemory + 0x1000);
        var before = sys.State.Endpoints;
        var o = sys.Call(Host, Ffa.Version(requested));
        Refused(o, 0, "version.in-use");
        Assert.Equal("version 0.0", o.Decoded.Result);
        Assert.Equal("DENIED", o.Decoded.Error);
        Assert.Contains("RX/TX pair of", o.Decoded.Reason);
        Assert.Equal(before, sys.State.Endpoints);

        Expect.Success(sys.Call(Host, Ffa.RxTxUnmap()));
        Accepted(sys.Call(Host, Ffa.Version(requested)), V1_3);
        Assert.Equal(requested, sys.Endpoint(Host).Version.Encoded);
    }

    [Fact]
    public void MemoryLent_IsInUseUntilReclaimed()
    {
        var sys = new SharingSystem(HostAt1_3());
        sys.MapDefault(Host);
        var handle = sys.SendSimple(SendOp.Lend, Host, Echo, HostMemory + 0x10000);
        Expect.Success(sys.Test.Call(Host, Ffa.RxTxUnmap()));
        var o = sys.Test.Call(Host, Ffa.Version(0x0001_0002));
        Refused(o, 0, "version.in-use");
        Assert.Contains("is not reclaimed", o.Decoded.Reason);

        Expect.Success(sys.Reclaim(Host, handle));
        Accepted(sys.Test.Call(Host, Ffa.Version(0x0001_0002)), V1_3);
    }

    [Fact]
    public void MemorySharedWithAPartition_IsInUseForTheBorrowerUntilReclaimed()
    {
        var sys = new SharingSystem(HostAt1_3());
        sys.MapDefault(Host);
        var handle = sys.SendSimple(SendOp.Share, Host, Echo, HostMemory + 0x10000);
        // Echo is a 1.3 partition (its manifest version): the 1.3 rules apply to it.
        var o = sys.Test.Call(Echo, Ffa.Version(0x0001_0002));
        Refused(o, 0, "version.in-use");
        Assert.Contains("as a borrower", o.Decoded.Reason);
        Assert.Equal("1.3", sys.Test.Endpoint(Echo).Version.ToString());

        Expect.Success(sys.Reclaim(Host, handle));
        Accepted(sys.Test.Call(Echo, Ffa.Version(0x0001_0002)), V1_3);
        Assert.Equal("1.2", sys.Test.Endpoint(Echo).Version.ToString());
    }

    [Fact]
    public void NotificationsBound_AreInUseUntilUnbound()
    {
        var sys = HostAt1_3();
        Expect.Success(sys.Call(Host, Nf.BitmapCreate(Host)));
        Expect.Success(sys.Call(Host, Nf.Bind(Echo, Host, 0x1)));
        var o = sys.Call(Host, Ffa.Version(0x0001_0002));
        Refused(o, 0, "version.in-use");
        Assert.Contains("notifications of", o.Decoded.Reason);

        Expect.Success(sys.Call(Host, Nf.Unbind(Echo, Host, 0x1)));
        Accepted(sys.Call(Host, Ffa.Version(0x0001_0002)), V1_3); // a created bitmap alone is not "in use"
    }

    [Fact]
    public async Task OutstandingDirectRequest_IsInUse_UntilAnswered()
    {
        var sys = TestSystem.FromJson(RemoteJson);
        Accepted(sys.Call(Host, Ffa.Version(V1_3)), V1_3);
        using var client = sys.System.Attach(Remote);
        var wait = client.CallAsync(0, Dm.Wait());
        var request = sys.System.CallAsync(Host, Dm.Req(Host, Remote), vcpu: 0);
        await wait.WaitAsync(Dm.Limit);

        var o = sys.Call(Host, Ffa.Version(0x0001_0002), vcpu: 1);
        Refused(o, 0, "version.in-use");
        Assert.Contains("direct request", o.Decoded.Reason);

        _ = client.CallAsync(0, Dm.Resp(Remote, Host));
        await request.WaitAsync(Dm.Limit);
        Accepted(sys.Call(Host, Ffa.Version(0x0001_0002), vcpu: 1), V1_3);
    }

    [Fact]
    public void Hypervisor_IsInUseWhileAVmHasItsRxTxMapped()
    {
        // With other VMs, ID 0 is the Hypervisor: the RX/TX buffers of every VM count (D0212, second list).
        var sys = TestSystem.FromJson(WithSpmcVersion(Rich, "1.3"));
        Accepted(sys.Call(Host, Ffa.Version(V1_3)), V1_3);
        sys.Map(Vm1, Vm1Memory, Vm1Memory + 0x1000);
        var o = sys.Call(Host, Ffa.Version(0x0001_0002));
        Refused(o, 0, "version.in-use");
        Assert.Contains($"RX/TX pair of {EndpointId.Format(Vm1)} is mapped", o.Decoded.Reason);
        // VM 1 itself is a partition: its own buffers count, the host's do not.
        Accepted(sys.Call(Vm2, Ffa.Version(V1_3)), V1_3);
        Expect.Success(sys.Call(Vm1, Ffa.RxTxUnmap()));
        Accepted(sys.Call(Host, Ffa.Version(0x0001_0002)), V1_3);
    }

    [Fact]
    public void FrameworkUse_FrameworkNotificationsPending_AndAnOtherPartitionsState_Count()
    {
        var state = new SpmcState();
        Endpoint Add(ushort id) => state.Endpoints[id] = new Endpoint { Id = id, Name = $"e{id}", Vcpus = 1, Version = FfaVersion.V1_3 };
        var host = Add(Host);
        var echo = Add(Echo);
        Assert.Empty(FrameworkUse.Reasons(state, host));

        var record = new NotificationRecord(Host, true, 1);
        state.Notifications[Host] = record;
        Assert.Empty(FrameworkUse.Reasons(state, host));
        record.Framework.Set(1);
        Assert.Contains("framework notifications", Assert.Single(FrameworkUse.Reasons(state, host)));
        Assert.Empty(FrameworkUse.Reasons(state, echo));
    }

    // ---- 1.0–1.2 requests and 1.2 SPMCs: exactly today's answers. ----

    [Theory]
    [InlineData(0x0001_0002ul, 1ul)]
    [InlineData(0x0001_0001ul, 2ul)]
    [InlineData(0x0001_0000ul, 3ul)]
    public void SpmcAt1_2_IgnoresW2_AsBefore(ulong requested, ulong flags)
    {
        var sys = TestSystem.DefaultAt("1.2");
        Accepted(sys.Call(Host, Version(requested, flags)), 0x0001_0002);
        Assert.Equal(requested, sys.Endpoint(Host).Version.Encoded);
    }

    [Fact]
    public void SpmcAt1_2_Refuses1_3AndBit31_WithNotSupported_AsBefore()
    {
        var sys = TestSystem.DefaultAt("1.2");
        Refused(sys.Call(Host, Version(V1_3, 1)), NotSupported, "version.incompatible");
        Refused(sys.Call(Host, Version(0x8001_0002, 2)), NotSupported, "version.bit31-set");
        Assert.False(sys.Endpoint(Host).VersionNegotiated);
    }

    [Fact]
    public void V1_2Request_ToA1_3Spmc_KeepsHafniumsLock_AsBefore()
    {
        // A caller that never negotiated 1.3 and asks for 1.0–1.2 with w2 = 0 is a 1.0–1.2 caller: today's rules.
        var sys = TestSystem.Default();
        sys.Map(Host, HostMemory, HostMemory + 0x1000);
        var before = sys.Endpoint(Host);
        Refused(sys.Call(Host, Ffa.Version(0x0001_0002)), NotSupported, "version.locked");
        Refused(sys.Call(Host, Ffa.Version(0x0001_0000)), NotSupported, "version.locked");
        // Asking for 1.3 makes it a 1.3 caller: the v1.3 rules answer, and its mapped RX/TX means "in use".
        Refused(sys.Call(Host, Ffa.Version(V1_3)), 0, "version.in-use");
        Assert.Equal(before, sys.Endpoint(Host));
    }

    [Fact]
    public void V1_2Caller_OfA1_3Spmc_KeepsTodaysAnswers()
    {
        var sys = TestSystem.Default();
        sys.Negotiate(Host, Ffa.V1_2);
        Accepted(sys.Call(Host, Ffa.Version(0x0001_0001)), V1_3);   // renegotiation before other calls
        Expect.Success(sys.Call(Host, Ffa.IdGet()));
        Refused(sys.Call(Host, Ffa.Version(0x0001_0002)), NotSupported, "version.locked");
        Refused(sys.Call(Host, Ffa.Version(0x8001_0002)), NotSupported, "version.bit31-set");
        Refused(sys.Call(Host, Ffa.Version(0)), NotSupported, "version.incompatible");
        Accepted(sys.Call(Host, Ffa.Version(0x0001_0001)), V1_3);   // the version in force may be repeated
        Assert.Equal("1.1", sys.Endpoint(Host).Version.ToString());
    }

    [Fact]
    public void V1_2Partition_OfA1_3Spmc_KeepsTodaysAnswers()
    {
        // Rich at 1.3: SP 0x8002 stays at its manifest's 1.1 (0x8001 follows the SPMC to 1.3).
        var sys = TestSystem.FromJson(WithSpmcVersion(Rich, "1.3"));
        Assert.Equal("1.1", sys.Endpoint(Sp11).Version.ToString());
        Expect.Success(sys.Call(Sp11, Ffa.IdGet()));
        Refused(sys.Call(Sp11, Ffa.Version(0x0001_0000)), NotSupported, "version.locked");
        Accepted(sys.Call(Sp11, Ffa.Version(0x0001_0001)), V1_3);
        Assert.Equal("1.1", sys.Endpoint(Sp11).Version.ToString());
    }

    [Fact]
    public void DocExamples_HoldOnTheDefaultSystem()
    {
        // docs/ffa-1.3.md: the server's default manifest (pkvm-7.4 host; SPs at 1.3 call the SPMC directly).
        var sys = TestSystem.FromJson(DefaultJson);
        Accepted(sys.Call(Echo, Version(0, 2)), V1_3);
        Accepted(sys.Call(Echo, Version(0x0001_0001, 1)), V1_3);
        Refused(sys.Call(Echo, Version(V1_3, 3)), InvalidParameter, "version.query-type-reserved");
        Refused(sys.Call(Echo, Ffa.Version(V2_0)), V1_3, "version.no-compatible-version");
        Accepted(sys.Call(Echo, Ffa.Version(0x0001_0002)), V1_3);
        Accepted(sys.Call(Echo, Version(0, 2)), 0x0001_0002);
        sys.Map(Echo, EchoMemory, EchoMemory + 0x1000);
        Refused(sys.Call(Echo, Ffa.Version(V1_3)), 0, "version.in-use");
        var regs = Expect.Success64(sys.Call(MemorySp, Ffa.PartitionInfoGetRegs(Uuid.Nil)));
        Assert.Equal(0x0030_0000_0001_0003ul, regs.Frame[2]);
        Assert.Equal(0x0001_0002ul, regs.Frame[8]);   // echo's version in force, now 1.2
        Expect.Success(sys.Call(MemorySp, Ffa.PartitionInfoGetCount(Uuid.Nil)), w2: 4);
        // The host talks to pKVM 7.4, a 1.2 proxy: it answers FFA_VERSION itself and knows no query types.
        Assert.Equal(0x0001_0002ul, sys.Call(Host, Version(V1_3, 2)).Frame[0]);
    }

    private const ushort Remote = 0x8004;

    private const string RemoteJson = """
        {
          "proxy": "passthrough",
          "vms": [ { "id": 0, "name": "host", "vcpus": 2, "memory": [ { "base": "0x80000000", "size": "0x100000" } ] } ],
          "partitions": [
            { "id": "0x8004", "name": "remote", "behaviour": "remote", "uuids": [ "7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4a44" ],
              "properties": { "directRequestReceive": true },
              "memory": [ { "base": "0x60400000", "size": "0x100000" } ] }
          ]
        }
        """;
}
