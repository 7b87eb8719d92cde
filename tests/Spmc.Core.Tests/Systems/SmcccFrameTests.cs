using Spmc.Abi.Ffa;
using Spmc.Abi.Smccc;
using Spmc.Core.Calls;
using Spmc.Core.Manifests;
using Spmc.Core.Memory;
using Spmc.Core.Proxy;
using Spmc.Core.Spm;
using Spmc.Core.Tests.Support;
using static Spmc.Core.Tests.Support.Manifests;

namespace Spmc.Core.Tests.Systems;

/// <summary>The SMCCC layer of <c>SimulatedSystem.Call</c>: function-ID routing, register widths, memory around the call.</summary>
public class SmcccFrameTests
{
    [Theory]
    [InlineData(0x8400_0000ul)] // PSCI_VERSION
    [InlineData(0xC200_0001ul)] // a SiP call
    [InlineData(0x8400_005Ful)] // just below the FF-A range
    [InlineData(0x8400_0100ul)] // just above the FF-A range
    [InlineData(0x0400_0063ul)] // FFA_VERSION's number as a yielding call
    [InlineData(0x8500_0063ul)] // owner 5
    [InlineData(0x8402_0063ul)] // bits[23:17] set
    [InlineData(0x8000_0001ul)] // SMCCC_ARCH_FEATURES is not simulated
    public void NonFfaFunctionId_AnswersMinusOneInX0(ulong fid)
    {
        var sys = TestSystem.Default();
        var o = sys.Call(Host, Ffa.Frame(fid, 1, 2, 3, 4, 5, 6, 7));
        Assert.Equal(0xFFFF_FFFF_FFFF_FFFFul, o.Frame[0]);
        for (var i = 1; i < 8; i++) Assert.Equal(0ul, o.Frame[i]);
        Assert.Equal("NOT_SUPPORTED", o.Decoded.Error);
        Assert.Equal("NOT_SUPPORTED", o.Decoded.Result);
        Assert.False(string.IsNullOrWhiteSpace(o.Decoded.Reason));
        Assert.Equal("smccc.unknown-function", o.Decoded.Rule);
        Assert.Equal((fid & 0x4000_0000) != 0 ? "SMC64" : "SMC32", o.Decoded.Width);
    }

    [Fact]
    public void SmcccVersion_Answers1_2()
    {
        var o = TestSystem.Default().Call(Host, Ffa.Frame(0x8000_0000));
        Assert.Equal(0x0001_0002ul, o.Frame[0]);
        Assert.Equal(0ul, o.Frame[1]);
        Assert.Equal("SMCCC_VERSION", o.Decoded.Function);
        Assert.Equal("SMC32", o.Decoded.Width);
        Assert.Null(o.Decoded.Error);
    }

    /// <summary>The decoded view names the function called and x0 of the answer, whatever the function ID space.</summary>
    [Theory]
    [InlineData(0x8000_0000ul, 0x1_0002ul, "SMCCC_VERSION", "0x10002")]
    [InlineData(0xC200_0001ul, ulong.MaxValue, "SMCCC 0xC2000001", "NOT_SUPPORTED")]
    [InlineData(0xC200_0001ul, 5ul, "SMCCC 0xC2000001", "0x5")]
    [InlineData(0x8400_0063ul, 0x1_0002ul, "FFA_VERSION", "version 1.2")]      // SMC32 FFA_VERSION: a bare version in w0
    [InlineData(0x8400_0063ul, 0xFFFF_FFFFul, "FFA_VERSION", "NOT_SUPPORTED")] // ... or NOT_SUPPORTED (-1)
    [InlineData(0x8400_0063ul, 0x8400_0060ul, "FFA_VERSION", "FFA_ERROR_32")]  // a function ID is still named
    [InlineData(0xC400_0063ul, 0x1_0002ul, "FFA_VERSION", "0x10002")]          // no bare version for SMC64
    [InlineData(0x8400_0069ul, 0x8400_0061ul, "FFA_ID_GET", "FFA_SUCCESS_32")]
    [InlineData(0x8400_0069ul, 0x1234ul, "FFA_ID_GET", "0x1234")]
    [InlineData(0x8400_00F0ul, 0x8400_0060ul, "FF-A 0x840000F0", "FFA_ERROR_32")]
    public void Decode_NamesTheFunctionAndTheResult(ulong fid, ulong x0, string function, string result)
    {
        var decoded = SpmcPort.Decode(new FfaRequest(Host, 0, SmcFrame.From(fid)), new FfaAnswer(SmcFrame.From(x0)));
        Assert.Equal(function, decoded.Function);
        Assert.Equal(result, decoded.Result);
        Assert.Equal((fid & 0x4000_0000) != 0 ? "SMC64" : "SMC32", decoded.Width);
        Assert.Null(decoded.Error);
        Assert.Null(decoded.Reason);
        Assert.Null(decoded.Rule);
        Assert.Null(decoded.Notes);
        Assert.Null(decoded.Hops);
    }

    [Fact]
    public void Decode_CarriesTheRejectionTheNoteAndTheHops()
    {
        var request = new FfaRequest(Host, 0, SmcFrame.From(0x8400_0066));
        var answer = FfaAnswer.Fail(DispatchRules.NotImplemented.Reject("FFA_RXTX_MAP: why")) with { Note = "a note" };
        List<Hop> hops = [new Hop(Host, request.Args, answer.Frame, SpmcPort.Decode(request, answer))];
        var decoded = SpmcPort.Decode(request, answer, hops);
        Assert.Equal(("FFA_RXTX_MAP", "SMC32", "FFA_ERROR_32"), (decoded.Function, decoded.Width, decoded.Result));
        Assert.Equal(("NOT_SUPPORTED", "FFA_RXTX_MAP: why", "dispatch.not-implemented"), (decoded.Error, decoded.Reason, decoded.Rule));
        Assert.Equal(["a note"], decoded.Notes!);
        Assert.Same(hops, decoded.Hops);
    }

    [Fact]
    public void CallerThatIsNoEndpoint_IsRefusedByTheSpmc()
    {
        // The system refuses such a frame before the SPMC (HTTP 400); the SPMC's own rule guards its other callers.
        var config = ManifestValidator.Validate(Rich);
        var spmc = new PartitionManager(config, new PhysicalMemory(), new MemoryMap(config));
        var answer = spmc.Handle(new FfaRequest(0x0042, 0, SmcFrame.From(0x8400_0069)));
        Assert.Equal(FfaError.InvalidParameters, answer.Error);
        Assert.Equal("dispatch.unknown-caller", answer.Rule);
    }

    [Fact]
    public void UnknownFfaNumberInRange_IsFfaErrorNotSupported()
    {
        var o = Expect.Error(TestSystem.Default().Call(Host, Ffa.Frame(0x8400_00F0)), Err.NotSupported, "dispatch.undefined-function");
        Assert.Contains("840000F0", o.Decoded.Function);
        Assert.Equal("SMC32", o.Decoded.Width);
    }

    [Theory]
    [InlineData(0xC400_0063ul, "FFA_VERSION")]              // FFA_VERSION has no SMC64 form
    [InlineData(0xC400_0069ul, "FFA_ID_GET")]
    [InlineData(0xC400_0068ul, "FFA_PARTITION_INFO_GET")]
    [InlineData(0x8400_008Bul, "FFA_PARTITION_INFO_GET_REGS")] // SMC64-only function called as SMC32
    public void UndefinedWidthOfAFunction_IsNotSupported(ulong fid, string name)
    {
        var o = Expect.Error(TestSystem.Default().Call(Host, Ffa.Frame(fid)), Err.NotSupported, "dispatch.undefined-width");
        Assert.Equal(name, o.Decoded.Function);
        Assert.Equal((fid & 0x4000_0000) != 0 ? "SMC64" : "SMC32", o.Decoded.Width);
    }

    [Fact]
    public void Smc64FormOfFfaVersion_DoesNotNegotiate()
    {
        var sys = TestSystem.Default();
        var o = sys.Call(Host, Ffa.Frame(0xC400_0063, Ffa.V1_1));
        Assert.Equal(Ffa.Error32, o.Frame[0]);
        Assert.Equal(Err.NotSupported.Code, o.Frame[2]);
        Assert.Equal("dispatch.undefined-width", o.Decoded.Rule);
        Assert.Equal("1.3", sys.Endpoint(Host).Version.ToString()); // the SPMC's version until negotiated
        Assert.False(sys.Endpoint(Host).VersionNegotiated);
    }

    [Fact]
    public void NotImplementedFfaFunction_IsNotSupported() =>
        Expect.Error(TestSystem.Default().Call(Host, Ffa.Frame(0x8400_0088, 0x6000_0000)), Err.NotSupported, "dispatch.not-implemented"); // FFA_MEM_PERM_GET_32

    [Fact]
    public void Smc32_IgnoresTheUpperHalfOfArguments()
    {
        var sys = TestSystem.Default();
        var o = sys.Call(Host, Ffa.Version(0xFFFF_FFFF_0001_0001));
        Assert.Equal(0x0001_0003ul, o.Frame[0]);
        Assert.Equal("1.1", sys.Endpoint(Host).Version.ToString());
    }

    [Fact]
    public void Smc32_IgnoresTheUpperHalfOfTheFunctionId()
    {
        var o = TestSystem.Default().Call(Echo, Ffa.Frame(0xFFFF_FFFF_0000_0000 | Ffa.IdGetId));
        Expect.Success(o, w2: Echo);
        Assert.Equal("FFA_ID_GET", o.Decoded.Function);
    }

    [Fact]
    public void SveHintBit_IsIgnored()
    {
        var sys = TestSystem.Default();
        var o = sys.Call(Host, Ffa.Frame(0x8401_0063, Ffa.V1_1));
        Assert.Equal(0x0001_0003ul, o.Frame[0]);
        Assert.Equal("FFA_VERSION", o.Decoded.Function);
        Expect.Success(sys.Call(Host, Ffa.Frame(0x8401_0069)), w2: 0);
    }

    [Fact]
    public void Smc32_ResultsAreZeroExtended()
    {
        var sys = TestSystem.Default();
        var error = sys.Call(Host, Ffa.RxRelease());
        Assert.Equal(0x0000_0000_FFFF_FFFAul, error.Frame[2]);
        Assert.Equal(0x0000_0000_8400_0060ul, error.Frame[0]);
        Assert.Equal("rx-release.not-mapped", error.Decoded.Rule);
        var version = sys.Call(Host, Ffa.Version(0x8000_0000));
        Assert.Equal(0x0000_0000_FFFF_FFFFul, version.Frame[0]);
        Assert.Equal("version.bit31-set", version.Decoded.Rule);
    }

    [Fact]
    public void Smc32_PreservesX8ToX17()
    {
        var frame = Ffa.IdGet();
        for (var i = 8; i < 18; i++) frame[i] = 0xA5A5_0000_0000_0000ul | (uint)i;
        var o = TestSystem.Default().Call(Echo, frame);
        Expect.Success(o, w2: Echo);
        for (var i = 8; i < 18; i++) Assert.Equal(0xA5A5_0000_0000_0000ul | (uint)i, o.Frame[i]);
        for (var i = 3; i < 8; i++) Assert.Equal(0ul, o.Frame[i]);
    }

    [Fact]
    public void Smc32_UnknownFunction_PreservesX8ToX17()
    {
        var frame = Ffa.Frame(0x8400_0000);
        frame[9] = 42;
        Assert.Equal(42ul, TestSystem.Default().Call(Host, frame).Frame[9]);
    }

    [Fact]
    public void Smc64_ZeroesUnusedResultRegisters()
    {
        var frame = Ffa.RxTxMap(HostMemory, HostMemory + 0x1000, 1);
        for (var i = 4; i < 18; i++) frame[i] = 0xDEAD_BEEF_0000_0000ul | (uint)i;
        var o = Expect.Success(TestSystem.Default().Call(Host, frame));
        for (var i = 1; i < 18; i++) Assert.Equal(0ul, o.Frame[i]);
    }

    [Fact]
    public void Smc64_ErrorZeroesUnusedResultRegisters()
    {
        var frame = Ffa.RxTxMap(HostMemory, HostMemory, 1);
        for (var i = 4; i < 18; i++) frame[i] = ulong.MaxValue;
        var o = Expect.Error(TestSystem.Default().Call(Host, frame), Err.InvalidParameters, "rxtx-map.overlap");
        for (var i = 3; i < 18; i++) Assert.Equal(0ul, o.Frame[i]);
    }

    [Fact]
    public void Hvc_BehavesLikeSmc()
    {
        var o = TestSystem.Default().Call(Host, Ffa.IdGet(), conduit: Conduit.Hvc);
        Expect.Success(o, w2: 0);
    }

    [Fact]
    public void UnknownCaller_IsAnInvalidRequest()
    {
        var sys = TestSystem.Default();
        Assert.Throws<InvalidRequestException>(() => sys.Call(0x0005, Ffa.IdGet()));
        Assert.Throws<InvalidRequestException>(() => sys.Call(0x8000, Ffa.IdGet())); // the SPMC is not a caller
        Assert.Throws<InvalidRequestException>(() => sys.Call(0x8004, Ffa.IdGet()));
        Assert.Equal(0, sys.State.Calls);
    }

    [Theory]
    [InlineData(Host, 4u)]     // the host has 4 vCPUs
    [InlineData(Echo, 1u)]     // one execution context
    [InlineData(Notifier, 2u)] // two execution contexts
    [InlineData(Host, uint.MaxValue)]
    public void VcpuOutOfRange_IsAnInvalidRequest(ushort caller, uint vcpu)
    {
        var sys = TestSystem.Default();
        Assert.Throws<InvalidRequestException>(() => sys.Call(caller, Ffa.IdGet(), vcpu));
        Assert.Equal(0, sys.State.Calls);
    }

    [Theory]
    [InlineData(Host, 3u)]
    [InlineData(Notifier, 1u)]
    public void LastVcpu_IsAccepted(ushort caller, uint vcpu) => Expect.Success(TestSystem.Default().Call(caller, Ffa.IdGet(), vcpu), w2: caller);

    [Fact]
    public void WriteOutsideTheCallersMemory_IsAccessDenied_AndChangesNothing()
    {
        var sys = TestSystem.Default();
        MemoryWrite[] writes = [new(HostMemory, [1, 2, 3]), new(EchoMemory, [4, 5, 6])];
        Assert.Throws<AccessDeniedException>(() => sys.Call(Host, Ffa.RxTxMap(HostMemory, HostMemory + 0x1000, 1), writes: writes));
        Assert.Equal(new byte[3], sys.Peek(HostMemory, 3));
        Assert.Equal(new byte[3], sys.Peek(EchoMemory, 3));
        var state = sys.State;
        Assert.Equal(0, state.Calls);
        Assert.Equal(0, state.ResidentPages);
        Assert.Null(sys.Endpoint(Host).Mailbox); // the call itself never ran
        Assert.False(sys.Endpoint(Host).VersionLocked);
    }

    [Theory]
    [InlineData(0x1000_0000ul)]                // no region there
    [InlineData(0x8FFF_FFFEul)]                // straddles the end of the host's memory
    [InlineData(0xFFFF_FFFF_FFFF_FFFFul)]      // wraps around
    public void WriteToMemoryNobodyOwnsOrPastTheEnd_IsAccessDenied(ulong address)
    {
        var sys = TestSystem.Default();
        Assert.Throws<AccessDeniedException>(() => sys.Call(Host, Ffa.IdGet(), writes: [new MemoryWrite(address, [1, 2, 3, 4])]));
        Assert.Equal(0, sys.State.Calls);
    }

    [Fact]
    public void PartitionWritingItsOwnRxBuffer_IsAccessDenied()
    {
        var sys = TestSystem.Default();
        sys.Map(Echo, EchoMemory, EchoMemory + 0x1000);
        Assert.Throws<AccessDeniedException>(() => sys.Call(Echo, Ffa.IdGet(), writes: [new MemoryWrite(EchoMemory + 0x1000, [1])]));
        sys.Call(Echo, Ffa.IdGet(), writes: [new MemoryWrite(EchoMemory, [1])]); // TX is writable
    }

    [Fact]
    public void TooManyMemoryOperations_IsAnInvalidRequest()
    {
        var sys = TestSystem.Default();
        var writes = Enumerable.Range(0, 17).Select(i => new MemoryWrite(HostMemory + (ulong)i, [1])).ToArray();
        Assert.Throws<InvalidRequestException>(() => sys.Call(Host, Ffa.IdGet(), writes: writes));
        var reads = Enumerable.Range(0, 17).Select(i => new MemoryReadRequest(HostMemory, 1)).ToArray();
        Assert.Throws<InvalidRequestException>(() => sys.Call(Host, Ffa.IdGet(), reads: reads));
        Assert.Equal(0, sys.State.Calls);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData((1 << 20) + 1)]
    public void ReadLengthOutOfRange_IsAnInvalidRequest(int length)
    {
        var sys = TestSystem.Default();
        Assert.Throws<InvalidRequestException>(() => sys.Call(Host, Ffa.IdGet(), reads: [new MemoryReadRequest(HostMemory, length)]));
        Assert.Equal(0, sys.State.Calls);
    }

    [Fact]
    public void WritesApplyBeforeTheCall_ReadsAfterIt()
    {
        var sys = TestSystem.Default();
        var o = sys.Call(Host, Ffa.IdGet(), writes: [new MemoryWrite(HostMemory + 0x10, [7, 8, 9])],
            reads: [new MemoryReadRequest(HostMemory + 0x10, 3), new MemoryReadRequest(HostMemory + 0x20, 2)]);
        Assert.Equal(2, o.Reads.Count);
        Assert.Equal(new byte[] { 7, 8, 9 }, o.Reads[0].Data);
        Assert.Null(o.Reads[0].Error);
        Assert.Equal(HostMemory + 0x10, o.Reads[0].Address);
        Assert.Equal(new byte[2], o.Reads[1].Data);
        Assert.Equal(1, sys.State.Calls);
    }

    [Fact]
    public void ReadOfMemoryTheCallerMayNotRead_IsAPerReadError_AndTheCallStillRuns()
    {
        var sys = TestSystem.Default();
        var o = sys.Call(Host, Ffa.IdGet(), reads:
            [new MemoryReadRequest(EchoMemory, 4), new MemoryReadRequest(HostMemory, 4), new MemoryReadRequest(0x1000_0000, 4)]);
        Expect.Success(o, w2: 0);
        Assert.Null(o.Reads[0].Data);
        Assert.False(string.IsNullOrWhiteSpace(o.Reads[0].Error));
        Assert.Equal(new byte[4], o.Reads[1].Data);
        Assert.Null(o.Reads[1].Error);
        Assert.Null(o.Reads[2].Data);
        Assert.NotNull(o.Reads[2].Error);
        Assert.Equal(1, sys.State.Calls);
    }

    [Fact]
    public void ReadMemory_AsTheSpmc_ReadsAnyEndpoint_OthersOnlyTheirOwn()
    {
        var sys = TestSystem.Default();
        sys.System.WriteMemory(Echo, EchoMemory, [1, 2]);
        Assert.Equal(new byte[] { 1, 2 }, sys.System.ReadMemory(0x8000, EchoMemory, 2));
        Assert.Equal(new byte[] { 1, 2 }, sys.System.ReadMemory(Echo, EchoMemory, 2));
        Assert.Throws<AccessDeniedException>(() => sys.System.ReadMemory(Host, EchoMemory, 2));
        Assert.Throws<AccessDeniedException>(() => sys.System.WriteMemory(Host, EchoMemory, [1]));
        Assert.Throws<InvalidRequestException>(() => sys.System.ReadMemory(0x0042, HostMemory, 1));
    }

    [Fact]
    public void EveryCall_IsCounted_EvenWhenItFails()
    {
        var sys = TestSystem.Default();
        sys.Call(Host, Ffa.IdGet());
        sys.Call(Host, Ffa.RxRelease());
        sys.Call(Host, Ffa.Frame(0x8400_0000));
        Assert.Equal(3, sys.State.Calls);
    }
}
