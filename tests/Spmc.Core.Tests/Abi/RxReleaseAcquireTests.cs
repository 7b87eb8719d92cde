using Spmc.Abi.Ffa;
using Spmc.Core.Calls;
using Spmc.Core.Manifests;
using Spmc.Core.Memory;
using Spmc.Core.Spm;
using Spmc.Core.Tests.Notifications;
using Spmc.Core.Tests.Support;
using static Spmc.Core.Tests.Support.Manifests;

namespace Spmc.Core.Tests.Abi;

/// <summary>FFA_RX_RELEASE and FFA_RX_ACQUIRE: the RX ownership state machine (spmc-behaviour.md §6.3).</summary>
public class RxReleaseAcquireTests
{
    private static TestSystem WithFullRx(ushort caller, ulong memory)
    {
        var sys = TestSystem.Rich();
        sys.Map(caller, memory, memory + 0x1000);
        Expect.Success(sys.Call(caller, Ffa.PartitionInfoGet(Uuid.Nil)));
        Assert.Equal(RxState.Full, sys.Endpoint(caller).Mailbox!.State);
        return sys;
    }

    /// <summary>Rich system with the host's pair mapped and VM 1's pair forwarded by the host.</summary>
    private static TestSystem WithForwardedVm1()
    {
        var sys = TestSystem.Rich();
        sys.Map(Host, HostMemory, HostMemory + 0x1000);
        Expect.Success(sys.Call(Host, Ffa.RxTxMap(0, 0, 0),
            writes: [new MemoryWrite(HostMemory, Descriptors.EndpointRxTx(Vm1, tx: Vm1Memory, rx: Vm1Memory + 0x1000))]));
        return sys;
    }

    [Fact]
    public void RxRelease_Empty_IsDenied()
    {
        var sys = TestSystem.Default();
        sys.Map(Host, HostMemory, HostMemory + 0x1000);
        var o = Expect.Error(sys.Call(Host, Ffa.RxRelease()), Err.Denied, "rx-release.not-held");
        Assert.Equal("FFA_RX_RELEASE", o.Decoded.Function);
    }

    [Fact]
    public void RxRelease_NotMapped_IsDenied()
    {
        var sys = TestSystem.Default();
        Expect.Error(sys.Call(Host, Ffa.RxRelease()), Err.Denied, "rx-release.not-mapped");
        Expect.Error(sys.Call(Echo, Ffa.RxRelease()), Err.Denied, "rx-release.not-mapped");
    }

    [Theory]
    [InlineData(Host, HostMemory)]
    [InlineData(Vm1, Vm1Memory)]
    [InlineData(Sp12, Sp12Memory)]
    [InlineData(Sp10, Sp10Memory)]
    public void RxRelease_AfterPartitionInfoGet_SucceedsOnce_ThenIsDenied(ushort caller, ulong memory)
    {
        var sys = WithFullRx(caller, memory);
        Expect.Success(sys.Call(caller, Ffa.RxRelease()));
        Assert.Equal(RxState.Empty, sys.Endpoint(caller).Mailbox!.State);
        Expect.Error(sys.Call(caller, Ffa.RxRelease()), Err.Denied, "rx-release.not-held");
    }

    [Theory]
    [InlineData(0x0001)]
    [InlineData(0x8001)]
    [InlineData(0xFFFF)]
    public void RxRelease_PartitionPassingAnId_IsInvalid(ushort id)
    {
        var sys = WithFullRx(Sp12, Sp12Memory);
        Expect.Error(sys.Call(Sp12, Ffa.RxRelease(id)), Err.InvalidParameters, "rx-release.id-not-hypervisor");
        Assert.Equal(RxState.Full, sys.Endpoint(Sp12).Mailbox!.State);
    }

    [Fact]
    public void RxRelease_VmOtherThanId0PassingAnId_IsInvalid()
    {
        var sys = WithFullRx(Vm1, Vm1Memory);
        Expect.Error(sys.Call(Vm1, Ffa.RxRelease(Vm1)), Err.InvalidParameters, "rx-release.id-not-hypervisor");
        Expect.Error(sys.Call(Vm2, Ffa.RxRelease(Vm1)), Err.InvalidParameters, "rx-release.id-not-hypervisor");
        Assert.Equal(RxState.Full, sys.Endpoint(Vm1).Mailbox!.State);
    }

    [Fact]
    public void RxRelease_Id0ForAVm_ReleasesThatVmsRx()
    {
        var sys = WithFullRx(Vm1, Vm1Memory);
        Expect.Success(sys.Call(Host, Ffa.RxRelease(Vm1)));
        Assert.Equal(RxState.Empty, sys.Endpoint(Vm1).Mailbox!.State);
        Expect.Error(sys.Call(Host, Ffa.RxRelease(Vm1)), Err.Denied, "rx-release.not-held");
    }

    [Fact]
    public void RxRelease_Id0ForAPartition_IsInvalid()
    {
        var sys = WithFullRx(Sp12, Sp12Memory);
        Expect.Error(sys.Call(Host, Ffa.RxRelease(Sp12)), Err.InvalidParameters, "rx-release.not-a-vm");
        Assert.Equal(RxState.Full, sys.Endpoint(Sp12).Mailbox!.State);
    }

    [Fact]
    public void RxRelease_Id0ForAnUnknownVm_IsInvalid() =>
        Expect.Error(TestSystem.Rich().Call(Host, Ffa.RxRelease(0x0005)), Err.InvalidParameters, "rx-release.unknown-vm");

    [Fact]
    public void RxAcquire_ByAPartition_IsNotSupported()
    {
        var sys = WithForwardedVm1();
        Expect.Error(sys.Call(Sp12, Ffa.RxAcquire(Vm1)), Err.NotSupported, "dispatch.hypervisor-only");
        Assert.Equal(RxState.Empty, sys.Endpoint(Vm1).Mailbox!.State);
    }

    [Fact]
    public void RxAcquire_ByAVmOtherThanId0_IsNotSupported()
    {
        var sys = WithForwardedVm1();
        Expect.Error(sys.Call(Vm2, Ffa.RxAcquire(Vm1)), Err.NotSupported, "dispatch.hypervisor-only");
        Expect.Error(sys.Call(Vm1, Ffa.RxAcquire(Vm1)), Err.NotSupported, "dispatch.hypervisor-only");
        Assert.Equal(RxState.Empty, sys.Endpoint(Vm1).Mailbox!.State);
    }

    [Fact]
    public void RxAcquire_ForAPartitionId_IsNotSupported()
    {
        var sys = TestSystem.Rich();
        sys.Map(Sp12, Sp12Memory, Sp12Memory + 0x1000);
        Expect.Error(sys.Call(Host, Ffa.RxAcquire(Sp12)), Err.NotSupported, "rx-acquire.not-a-vm");
    }

    [Fact]
    public void RxAcquire_UnknownVm_IsInvalid() => Expect.Error(TestSystem.Rich().Call(Host, Ffa.RxAcquire(0x0005)), Err.InvalidParameters, "rx-acquire.unknown-vm");

    [Fact]
    public void RxAcquire_VmWithoutRx_IsInvalid() => Expect.Error(TestSystem.Rich().Call(Host, Ffa.RxAcquire(Vm2)), Err.InvalidParameters, "rx-acquire.not-mapped");

    [Fact]
    public void RxAcquire_FullRx_IsDenied()
    {
        var sys = WithForwardedVm1();
        Expect.Success(sys.Call(Vm1, Ffa.PartitionInfoGet(Uuid.Nil)));
        Expect.Error(sys.Call(Host, Ffa.RxAcquire(Vm1)), Err.Denied, "rx-acquire.not-empty");
        Assert.Equal(RxState.Full, sys.Endpoint(Vm1).Mailbox!.State);
    }

    [Fact]
    public void RxAcquire_Twice_IsDenied()
    {
        var sys = WithForwardedVm1();
        Expect.Success(sys.Call(Host, Ffa.RxAcquire(Vm1)));
        Expect.Error(sys.Call(Host, Ffa.RxAcquire(Vm1)), Err.Denied, "rx-acquire.not-empty");
    }

    [Fact]
    public void RxAcquire_ThenWritersGetBusy_UntilId0ReleasesIt()
    {
        var sys = WithForwardedVm1();
        var o = Expect.Success(sys.Call(Host, Ffa.RxAcquire(Vm1)));
        Assert.Equal("FFA_RX_ACQUIRE", o.Decoded.Function);
        Assert.Equal(RxState.OtherWorldOwned, sys.Endpoint(Vm1).Mailbox!.State);

        Expect.Error(sys.Call(Vm1, Ffa.PartitionInfoGet(Uuid.Nil)), Err.Busy, "partition-info-get.rx-busy");
        Expect.Success(sys.Call(Vm1, Ffa.PartitionInfoGetCount(Uuid.Nil)), w2: 3); // count-only does not need RX

        Expect.Success(sys.Call(Host, Ffa.RxRelease(Vm1)));
        Assert.Equal(RxState.Empty, sys.Endpoint(Vm1).Mailbox!.State);
        Expect.Success(sys.Call(Vm1, Ffa.PartitionInfoGet(Uuid.Nil)), w2: 3);
    }

    [Fact]
    public void RxAcquire_VmMappedByItself_CanBeAcquired()
    {
        var sys = TestSystem.Rich();
        sys.Map(Vm2, Vm2Memory, Vm2Memory + 0x1000);
        Expect.Success(sys.Call(Host, Ffa.RxAcquire(Vm2)));
    }

    [Fact]
    public void RxAcquire_V1_0Hypervisor_AcquiresAsAnyHypervisor()
    {
        // Hafnium api_ffa_rx_acquire checks the caller's identity and the VM, not the caller's version.
        var sys = TestSystem.Rich();
        sys.Negotiate(Host, Ffa.V1_0);
        sys.Map(Vm1, Vm1Memory, Vm1Memory + 0x1000);
        Expect.Success(sys.Call(Host, Ffa.RxAcquire(Vm1)));
        Assert.Equal(RxState.OtherWorldOwned, sys.Endpoint(Vm1).Mailbox!.State);
    }

    [Fact]
    public void RxRelease_WhileTheRxFullNotificationIsPending_IsDenied_UntilItIsRetrieved()
    {
        // Hafnium api_release_mailbox: the receiver consumes the "RX buffer full" notification first.
        var sys = TestSystem.Rich();
        sys.Map(Host, HostMemory, HostMemory + 0x1000);
        sys.Map(Sp12, Sp12Memory, Sp12Memory + 0x1000);
        Expect.Success(sys.Call(Host, Nf.MsgSend2(), writes: [new MemoryWrite(HostMemory, Nf.Message(Host, Sp12, [1, 2, 3]))]));
        Expect.Error(sys.Call(Sp12, Ffa.RxRelease()), Err.Denied, "rx-release.rx-full-notification-pending");
        Assert.Equal(RxState.Full, sys.Endpoint(Sp12).Mailbox!.State);
    }

    [Fact]
    public void RxRelease_PartitionRxHeldByTheHypervisor_IsAborted()
    {
        // No ABI puts a partition's RX in that state (FFA_RX_ACQUIRE takes VMs only); if it were, the invariant is broken.
        var config = ManifestValidator.Validate(Rich);
        var spmc = new PartitionManager(config, new PhysicalMemory(), new MemoryMap(config));
        spmc.FindEndpoint(Sp12)!.Mailbox = new Mailbox { Tx = Sp12Memory, Rx = Sp12Memory + 0x1000, Pages = 1, State = RxState.OtherWorldOwned };
        var answer = spmc.Handle(new FfaRequest(Sp12, 0, Ffa.RxRelease()));
        Assert.Equal(FfaError.Aborted, answer.Error);
        Assert.Equal("rx-release.impossible-state", answer.Rule);
        Assert.Equal(RxState.OtherWorldOwned, spmc.FindEndpoint(Sp12)!.Mailbox!.State);
    }
}
