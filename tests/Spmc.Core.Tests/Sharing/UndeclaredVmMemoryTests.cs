using System.Text.Json;
using Spmc.Core.Calls;
using Spmc.Core.Tests.Support;
using static Spmc.Core.Tests.Sharing.Pages;

namespace Spmc.Core.Tests.Sharing;

/// <summary>
/// Memory transactions naming a VM the manifest does not declare (default system: only the host, ID 0, is declared).
/// Hafnium's SPMC needs no VM record for them: its `from` is always the other world (ID 0);
/// ffa_memory_send_validate only checks that a normal-world sender is not secure, and api_ffa_mem_send's receiver loop
/// looks up secure receivers only. An undeclared VM owns nothing of its own: the pages it sends are normal-world
/// memory the hypervisor vouches for, checked as Hafnium checks them against its one normal-world table
/// (ffa_send_check_transition: owned and exclusive, else DENIED).
/// </summary>
public class UndeclaredVmMemoryTests
{
    private const ushort Vm5 = 0x0005, Vm6 = 0x0006;

    private static string Snapshot(SharingSystem s) =>
        JsonSerializer.Serialize(new { Endpoints = s.State.Endpoints.Select(e => e with { VersionLocked = false }), s.State.Memory, s.State.Shares });

    [Theory]
    [InlineData(SendOp.Share)]
    [InlineData(SendOp.Lend)]
    [InlineData(SendOp.Donate)]
    public void Send_FromAnUndeclaredVm_ByTheHypervisor_IsAccepted_WithoutARecord(SendOp op)
    {
        var s = SharingSystem.Default();
        var handle = s.SendOk(Host, op, SharingDescriptors.Simple(op, Vm5, Sp1, HostPage(0)));
        var share = Assert.Single(s.State.Shares);
        Assert.Equal(handle, share.Handle);
        Assert.Equal(Vm5, share.Sender);
        Assert.DoesNotContain(s.State.Endpoints, e => e.Id == Vm5); // no record is made
    }

    [Fact]
    public void Send_FromAnUndeclaredVm_RetrieveRelinquishReclaim_RoundTrip()
    {
        var s = SharingSystem.Default();
        var handle = s.SendOk(Host, SendOp.Lend, SharingDescriptors.Simple(SendOp.Lend, Vm5, Sp1, HostPage(0)));
        s.RetrieveOk(Sp1, Vm5, handle, Perm.RW | Perm.NX);
        Assert.True(s.CanWrite(Sp1, HostPage(0)));
        Expect.Success(s.Relinquish(Sp1, handle));
        // The hypervisor reclaims for the VM (MemoryChecks.ActsFor: ID 0 acts for any VM).
        Expect.Success(s.Reclaim(Host, handle));
        Assert.Empty(s.State.Shares);
    }

    [Fact]
    public void Send_SamePagesByTwoUndeclaredVms_SecondIsDenied()
    {
        // One normal-world table: a page in a transaction is not exclusive any more, whoever sends it next.
        var s = SharingSystem.Default();
        s.SendOk(Host, SendOp.Share, SharingDescriptors.Simple(SendOp.Share, Vm5, Sp1, HostPage(0)));
        var before = Snapshot(s);
        Expect.Error(s.Send(Host, SendOp.Share, SharingDescriptors.Simple(SendOp.Share, Vm6, Sp1, HostPage(0))), Err.Denied, "mem-send.not-owned-exclusively");
        Expect.Error(s.Send(Host, SendOp.Share, SharingDescriptors.Simple(SendOp.Share, Host, Sp1, HostPage(0))), Err.Denied, "mem-send.not-owned-exclusively");
        Assert.Equal(before, Snapshot(s));
    }

    [Theory]
    [InlineData(0x6001_0000UL)]  // SP 0x8001's memory: secure
    [InlineData(Unmapped)]       // no region covers it
    [InlineData(0x8000_1000UL)]  // the host's RX buffer
    public void Send_FromAnUndeclaredVm_OfMemoryThatIsNotFreeNormalWorldMemory_IsDenied(ulong address)
    {
        var s = SharingSystem.Default();
        var before = Snapshot(s);
        Expect.Error(s.Send(Host, SendOp.Lend, SharingDescriptors.Simple(SendOp.Lend, Vm5, Sp1, address)), Err.Denied, "mem-send.not-owned-exclusively");
        Assert.Equal(before, Snapshot(s));
    }

    [Fact]
    public void Send_FromAnUndeclaredVm_OfALearnedVmsRxTxBuffer_IsDenied()
    {
        var s = SharingSystem.Default();
        Expect.Success(s.Test.Call(Host, Ffa.RxTxMap(0, 0, 0),
            writes: [new MemoryWrite(s.Tx(Host), Descriptors.EndpointRxTx(Vm6, tx: HostPage(8), rx: HostPage(9)))]));
        var before = Snapshot(s);
        Expect.Error(s.Send(Host, SendOp.Share, SharingDescriptors.Simple(SendOp.Share, Vm5, Sp1, HostPage(9))), Err.Denied, "mem-send.not-owned-exclusively");
        Assert.Equal(before, Snapshot(s));
    }

    [Fact]
    public void Send_AsAnUndeclaredVm_ByItself_IsRefused()
    {
        // Only the hypervisor calls for the normal world: an ID the system has no endpoint for is no caller (the
        // system refuses the request itself; a learned VM's own calls get dispatch.unknown-caller, UndeclaredVmTests).
        var s = SharingSystem.Default();
        Assert.Throws<InvalidRequestException>(() => s.Test.Call(Vm5, Ffa.IdGet()));
    }

    [Fact]
    public void Share_WithAnUndeclaredVmAmongSeveralReceivers_IsAccepted()
    {
        // api_ffa_mem_send: VM receivers are not looked up; several receivers may include VMs for SHARE.
        var s = SharingSystem.Default();
        var d = SharingDescriptors.Send(Host, [(Sp1, Perm.RW), (Vm5, Perm.RW)], [(HostPage(0), 1)], SendOp.Share.ValidAttributes(2));
        s.SendOk(Host, SendOp.Share, d);
        Assert.Equal([Sp1, Vm5], Assert.Single(s.State.Shares).Receivers.Select(r => r.Id));
    }

    [Fact]
    public void Lend_ToAnUndeclaredVm_IsDeniedForItsDirection_NotForBeingUnknown()
    {
        // ffa_memory_is_send_valid: a normal-world LEND goes to SPs only → DENIED (not INVALID_PARAMETERS "unknown").
        var s = SharingSystem.Default();
        var before = Snapshot(s);
        var d = SharingDescriptors.Send(Host, [(Sp1, Perm.RW), (Vm5, Perm.RW)], [(HostPage(0), 1)], SendOp.Lend.ValidAttributes(2));
        Expect.Error(s.Send(Host, SendOp.Lend, d), Err.Denied, "mem-send.nwd-lend-to-vm");
        Assert.Equal(before, Snapshot(s));
    }

    [Fact]
    public void Send_ToASecureIdOfNoPartition_StaysInvalid()
    {
        var s = SharingSystem.Default();
        Expect.Error(s.Send(Host, SendOp.Lend, SharingDescriptors.Simple(SendOp.Lend, Vm5, 0x8009, HostPage(0))), Err.InvalidParameters, "mem-send.receiver-unknown");
    }
}
