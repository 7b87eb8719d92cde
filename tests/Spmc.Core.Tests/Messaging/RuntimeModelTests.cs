using Spmc.Core.Spm.Runtime;
using Spmc.Core.Tests.Support;
using static Spmc.Core.Tests.Messaging.Dm;
using static Spmc.Core.Tests.Support.Manifests;

namespace Spmc.Core.Tests.Messaging;

/// <summary>FFA_MSG_WAIT, FFA_YIELD, FFA_RUN and FFA_INTERRUPT from callers that do not drive a partition.</summary>
public sealed class RuntimeModelTests
{
    [Fact]
    public void RuntimeAbis_FromPlainCallerAsBuiltinSp_AreDenied()
    {
        var sys = TestSystem.Default();
        sys.Fails(Echo, Wait(), Err.Denied, "runtime.driver-only");
        sys.Fails(Echo, YieldFrame(), Err.Denied, "runtime.driver-only");
        sys.Fails(MemorySp, Wait(), Err.Denied, "runtime.driver-only");
        sys.Fails(Notifier, Wait(), Err.Denied, "runtime.driver-only", vcpu: 1);
    }

    [Fact]
    public void RuntimeAbis_FromPlainCallerAsPartitionWithoutBehaviour_AreDenied()
    {
        var sys = TestSystem.FromJson(WithProxy(Rich, "passthrough"));
        sys.Fails(Sp12, Wait(), Err.Denied, "runtime.driver-only");
        sys.Fails(Sp12, YieldFrame(), Err.Denied, "runtime.driver-only");
        sys.Fails(Sp12, Resp(Sp12, Host), Err.Denied, "runtime.driver-only");
        Assert.All(sys.State.Partitions.SelectMany(p => p.Contexts), c => Assert.Equal(ContextState.Off, c.State));
    }

    [Fact]
    public void MsgWait_WithNonZeroRegisters_IsInvalidBeforeTheDriverCheck()
    {
        var sys = TestSystem.Default();
        sys.Fails(Echo, Ffa.Frame(MsgWait, 1), Err.InvalidParameters, "msg-wait.reserved-mbz");
        sys.Fails(Echo, Ffa.Frame(MsgWait, 0, 2), Err.InvalidParameters, "msg-wait.flags-reserved"); // w2 bits[31:1]
        sys.Fails(Echo, Ffa.Frame(Yield, 0, 0, 0, 0, 1), Err.InvalidParameters, "yield.reserved-mbz");
    }

    [Fact]
    public void MsgWaitAndYield_FromHost_AreNotSupported()
    {
        var sys = TestSystem.Default();
        sys.Fails(Host, Wait(), Err.NotSupported, "dispatch.secure-only");
        sys.Fails(Host, YieldFrame(), Err.NotSupported, "dispatch.secure-only");
    }

    [Fact]
    public void Interrupt_IsNotACall()
    {
        var sys = TestSystem.Default();
        sys.Fails(Host, Ffa.Frame(Interrupt), Err.NotSupported, "dispatch.return-value");
        // Whatever its registers and whoever sends it.
        var o = sys.Fails(Echo, Ffa.Frame(Interrupt, (ulong)Echo << 16, 5, 6, 7), Err.NotSupported, "dispatch.return-value");
        Assert.Equal("FFA_INTERRUPT: a return value (the partition was preempted), not a call", o.Decoded.Reason);
    }

    [Fact]
    public void Run_UnknownTarget_IsInvalid()
    {
        var sys = TestSystem.Default();
        sys.Fails(Host, RunFrame(0x8009), Err.InvalidParameters, "run.target-unknown");
        sys.Fails(Host, RunFrame(Host), Err.InvalidParameters, "run.target-unknown"); // VMs are not run by the SPMC
    }

    [Fact]
    public void Run_VcpuOutOfRange_IsInvalid()
    {
        var sys = TestSystem.Default();
        sys.Fails(Host, RunFrame(Echo, 1), Err.InvalidParameters, "run.vcpu-out-of-range");
        sys.Fails(Host, RunFrame(Notifier, 2), Err.InvalidParameters, "run.vcpu-out-of-range");
    }

    [Fact]
    public void Run_OffPartition_IsInvalid()
    {
        var sys = TestSystem.FromJson(WithProxy(Rich, "passthrough"));
        sys.Fails(Host, RunFrame(Sp12), Err.InvalidParameters, "run.not-booted");
        sys.Fails(Host, RunFrame(Sp10, 1), Err.InvalidParameters, "run.not-booted");
    }

    [Fact]
    public void Run_ItselfOrWaitingFromSp()
    {
        var sys = TestSystem.Default();
        sys.Fails(Echo, RunFrame(Echo), Err.InvalidParameters, "run.self");
        sys.Fails(Echo, RunFrame(MemorySp), Err.Denied, "run.sp-resumes-only"); // an SP may only resume preempted or blocked contexts
    }

    [Fact]
    public void Run_WaitingEcho_AnswersMsgWait()
    {
        var sys = TestSystem.Default();
        var o = Answer(sys.Call(Host, RunFrame(Echo)), MsgWait);
        Assert.Equal("FFA_MSG_WAIT_32", o.Decoded.Result);
        Answer(sys.Call(Host, RunFrame(Notifier, 1)), MsgWait);
        Assert.All(sys.State.Partitions.SelectMany(p => p.Contexts), c => Assert.Equal(ContextState.Waiting, c.State));
        // Still takes messages afterwards.
        Answer(sys.Call(Host, Req(Host, Echo, payload: 1)), Resp32);
    }
}
