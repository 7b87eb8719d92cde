using Spmc.Core.Calls;
using Spmc.Core.Tests.Examples;
using Spmc.Core.Tests.Support;

namespace Spmc.Core.Tests.Sharing;

/// <summary>
/// The sender's page modes in memory sharing, on examples/manifests/memory-attributes.json (read-only and device
/// regions). Each case follows Hafnium ffa_send_check_transition in its order — constituents_get_mode (one mode over
/// every constituent), device memory not sent as Normal, device memory only lent to one borrower, the sender's
/// exclusive ownership, no zeroing of read-only memory, no RW access to read-only memory (all DENIED) — and
/// ffa_partition_retrieve_request (device memory not retrieved as Normal, DENIED). Every refusal leaves the state
/// as it was.
/// </summary>
public sealed class MemPageModeTests
{
    private const ushort Host = 0, MemorySp = 0x8001, EchoSp = 0x8002;
    // Host: read-write from 0x80000000 (RX/TX in its first two pages), read-only 0x80100000, device 0x80200000 (64 KiB each).
    private const ulong HostRw = 0x8001_0000, HostRwLast = 0x800F_F000, HostRo = 0x8010_0000, HostDevice = 0x8020_0000;
    // 0x8001: read-write 0x60000000 (its RX/TX first), read-only 0x60100000, read-only device 0x60200000 (16 KiB each).
    private const ulong SpRw = 0x6001_0000, SpRo = 0x6010_0000, SpRoDevice = 0x6020_0000;
    private const ushort NormalWb = 0x2F, DeviceNgnrne = 0x13;

    private static SharingSystem System()
    {
        var s = SharingSystem.FromJson(ExampleManifests.Json("memory-attributes.json"));
        s.MapDefault(Host);
        s.MapDefault(MemorySp);
        s.MapDefault(EchoSp);
        return s;
    }

    private static SmcOutcome Send(SharingSystem s, SendOp op, ushort sender, (ushort, byte)[] receivers, (ulong, uint)[] pages,
        ushort attributes = 0, uint flags = 0) =>
        s.Send(sender, op, SharingDescriptors.Send(sender, receivers, pages, attributes, flags));

    /// <summary>The refusal changed nothing: no transaction, and the pages' owners and attributes as before.</summary>
    private static void Unchanged(SharingSystem s, string before)
    {
        Assert.Empty(s.State.Shares);
        Assert.Equal(before, Snapshot(s));
    }

    private static string Snapshot(SharingSystem s) => string.Join(";", s.State.Memory.Select(m => m.ToString()));

    // ---- 1. constituents_get_mode: one mode over every constituent ----------------------------------------

    [Fact]
    public void Send_ReadOnlyNextToReadWrite_IsDenied_ConstituentsGetMode()
    {
        var s = System();
        var before = Snapshot(s);
        // Two constituents of different modes, and one constituent running from the read-write into the read-only region.
        Expect.Error(Send(s, SendOp.Lend, Host, [(MemorySp, Perm.RO)], [(HostRw, 1), (HostRo, 1)]), Err.Denied, "mem-send.mixed-modes");
        var o = Expect.Error(Send(s, SendOp.Lend, Host, [(MemorySp, Perm.RO)], [(HostRwLast, 2)]), Err.Denied, "mem-send.mixed-modes");
        Assert.Contains("read-only and read-write", o.Decoded.Reason);
        Unchanged(s, before);
    }

    [Fact]
    public void Send_DeviceNextToNormal_IsDenied_ConstituentsGetMode()
    {
        var s = System();
        var before = Snapshot(s);
        var o = Expect.Error(Send(s, SendOp.Lend, Host, [(MemorySp, Perm.RW)], [(HostDevice, 1), (HostRw, 1)]), Err.Denied, "mem-send.mixed-modes");
        Assert.Contains("device and normal", o.Decoded.Reason);
        // 0x8001's read-only normal and read-only device pages: same access, different type.
        Expect.Error(Send(s, SendOp.Lend, MemorySp, [(EchoSp, Perm.RO)], [(SpRo, 1), (SpRoDevice, 1)]), Err.Denied, "mem-send.mixed-modes");
        Unchanged(s, before);
    }

    [Fact]
    public void Send_ModesCheckedBeforeOwnership_ButOnlyOverTheSendersPages()
    {
        var s = System();
        // Mixed modes win over a page the sender does not own (Hafnium: constituents_get_mode comes first) ...
        Expect.Error(Send(s, SendOp.Lend, Host, [(MemorySp, Perm.RO)], [(HostRw, 1), (HostRo, 1), (SpRw, 1)]), Err.Denied, "mem-send.mixed-modes");
        // ... but another endpoint's device or read-only pages are not the sender's mode: ownership judges them.
        Expect.Error(Send(s, SendOp.Lend, Host, [(MemorySp, Perm.RW)], [(HostRw, 1), (SpRoDevice, 1)]), Err.Denied, "mem-send.not-owned-exclusively");
        Assert.Empty(s.State.Shares);
    }

    // ---- 2. device memory is not sent as Normal ----------------------------------------------------------

    [Fact]
    public void Send_DeviceMemoryWithNormalType_IsDenied()
    {
        var s = System();
        var before = Snapshot(s);
        Expect.Error(Send(s, SendOp.Share, Host, [(MemorySp, Perm.RW)], [(HostDevice, 1)], NormalWb), Err.Denied, "mem-send.device-as-normal");
        // A LEND to two borrowers gives the type too (one borrower must leave it unspecified, INVALID_PARAMETERS, checked earlier).
        Expect.Error(Send(s, SendOp.Lend, Host, [(MemorySp, Perm.RW), (EchoSp, Perm.RW)], [(HostDevice, 1)], NormalWb), Err.Denied,
            "mem-send.device-as-normal");
        Expect.Error(Send(s, SendOp.Lend, Host, [(MemorySp, Perm.RW)], [(HostDevice, 1)], NormalWb), Err.InvalidParameters,
            "mem-attributes.type-for-single-borrower");
        Unchanged(s, before);
    }

    // ---- 3. device memory is only lent, to one borrower --------------------------------------------------

    [Fact]
    public void Send_DeviceMemoryOtherThanLendToOne_IsDenied()
    {
        var s = System();
        var before = Snapshot(s);
        Expect.Error(Send(s, SendOp.Share, Host, [(MemorySp, Perm.RW)], [(HostDevice, 1)], DeviceNgnrne), Err.Denied, "mem-send.device-not-single-lend");
        Expect.Error(Send(s, SendOp.Lend, Host, [(MemorySp, Perm.RW), (EchoSp, Perm.RW)], [(HostDevice, 1)], DeviceNgnrne), Err.Denied,
            "mem-send.device-not-single-lend");
        Expect.Error(Send(s, SendOp.Donate, Host, [(MemorySp, Perm.None)], [(HostDevice, 1)]), Err.Denied, "mem-send.device-not-single-lend");
        Expect.Error(Send(s, SendOp.Share, MemorySp, [(EchoSp, Perm.RO)], [(SpRoDevice, 1)], DeviceNgnrne), Err.Denied, "mem-send.device-not-single-lend");
        Unchanged(s, before);
    }

    [Fact]
    public void Send_DeviceRulesComeBeforeOwnership()
    {
        // Hafnium checks the memory type and the device rule before the state mask: device pages already lent are
        // refused for being device memory, not for being in a transaction.
        var s = System();
        var handle = s.SendOk(Host, SendOp.Lend, SharingDescriptors.Send(Host, [(MemorySp, Perm.RW)], [(HostDevice, 1)]));
        Expect.Error(Send(s, SendOp.Share, Host, [(MemorySp, Perm.RW)], [(HostDevice, 1)], NormalWb), Err.Denied, "mem-send.device-as-normal");
        Expect.Error(Send(s, SendOp.Share, Host, [(MemorySp, Perm.RW)], [(HostDevice, 1)], DeviceNgnrne), Err.Denied, "mem-send.device-not-single-lend");
        Expect.Error(Send(s, SendOp.Lend, Host, [(EchoSp, Perm.RW)], [(HostDevice, 1)]), Err.Denied, "mem-send.not-owned-exclusively");
        Assert.Equal([handle], s.State.Shares.Select(x => x.Handle));
    }

    [Fact]
    public void DeviceMemory_LentToOne_IsRetrievedAsDeviceOrUnspecified_NeverAsNormal()
    {
        var s = System();
        var handle = s.SendOk(Host, SendOp.Lend, SharingDescriptors.Send(Host, [(MemorySp, Perm.RW)], [(HostDevice, 2)]));
        var request = SharingDescriptors.Retrieve(Host, handle, [(MemorySp, (byte)(Perm.RW | Perm.NX))], attributes: NormalWb);
        var refused = s.RetrieveRaw(MemorySp, request);
        Expect.Error(refused, Err.Denied, "mem-retrieve.device-as-normal");
        Assert.Contains("is device memory of 0x0000", refused.Decoded.Reason);
        Assert.Equal(0, s.State.Shares.Single().Receivers.Single().Retrievals);
        Assert.Equal("empty", s.State.Endpoints.Single(e => e.Id == MemorySp).Mailbox!.State.ToString().ToLowerInvariant());
        // As Device memory it is retrieved; the response carries the sender's attributes (type unspecified, as lent).
        var asDevice = SharingDescriptors.Retrieve(Host, handle, [(MemorySp, (byte)(Perm.RW | Perm.NX))], attributes: DeviceNgnrne);
        var (first, response) = s.Retrieve(MemorySp, asDevice, handle);
        Assert.True(first.Frame[0] == MemIds.RetrieveResp, first.Decoded.ToString());
        Assert.Equal(Spmc.Abi.Descriptors.Memory.MemoryType.NotSpecified, SharingDescriptors.ParseResponse(response!).Attributes.Type);
        Assert.True(s.CanWrite(MemorySp, HostDevice));
    }

    [Fact]
    public void NormalMemory_SharedAsDevice_IsNotRetrievedAsNormal()
    {
        // Hafnium ffa_partition_retrieve_request also refuses Normal when the sender gave the Device type.
        var s = System();
        var handle = s.SendOk(Host, SendOp.Share, SharingDescriptors.Send(Host, [(MemorySp, Perm.RW)], [(HostRw, 1)], DeviceNgnrne));
        var refused = s.RetrieveRaw(MemorySp, SharingDescriptors.Retrieve(Host, handle, [(MemorySp, Perm.RW)], attributes: NormalWb));
        Expect.Error(refused, Err.Denied, "mem-retrieve.device-as-normal");
        Assert.Contains("was sent as Device memory", refused.Decoded.Reason);
        s.RetrieveOk(MemorySp, Host, handle, Perm.RW);
    }

    // ---- 5. zeroing read-only memory; 6. RW access to read-only memory --------------------------------------

    [Fact]
    public void Send_ZeroingReadOnlyMemory_IsDenied()
    {
        var s = System();
        var before = Snapshot(s);
        Expect.Error(Send(s, SendOp.Lend, Host, [(MemorySp, Perm.RO)], [(HostRo, 1)], flags: 1), Err.Denied, "mem-send.zero-read-only");
        Expect.Error(Send(s, SendOp.Donate, Host, [(MemorySp, Perm.None)], [(HostRo, 1)], flags: 1), Err.Denied, "mem-send.zero-read-only");
        Unchanged(s, before);
    }

    [Fact]
    public void Send_ReadWriteAccessToReadOnlyMemory_IsDenied()
    {
        var s = System();
        var before = Snapshot(s);
        Expect.Error(Send(s, SendOp.Lend, Host, [(MemorySp, Perm.RW)], [(HostRo, 1)]), Err.Denied, "mem-send.rw-over-ro");
        Expect.Error(Send(s, SendOp.Share, Host, [(MemorySp, Perm.RO), (EchoSp, Perm.RW)], [(HostRo, 2)], NormalWb), Err.Denied, "mem-send.rw-over-ro");
        Expect.Error(Send(s, SendOp.Share, MemorySp, [(EchoSp, Perm.RW)], [(SpRo, 1)], NormalWb), Err.Denied, "mem-send.rw-over-ro");
        Unchanged(s, before);
    }

    [Fact]
    public void Reclaim_ZeroingReadOnlyMemory_IsDenied_ThenAPlainReclaimWorks()
    {
        // Hafnium ffa_memory_reclaim → ffa_retrieve_check_update: clearing needs write in the sender's original mode.
        var s = System();
        var handle = s.SendOk(Host, SendOp.Lend, SharingDescriptors.Send(Host, [(MemorySp, Perm.RO)], [(HostRo, 1)]));
        var before = Snapshot(s);
        Expect.Error(s.Reclaim(Host, handle, flags: 1), Err.Denied, "mem-reclaim.zero-read-only");
        Assert.Equal(before, Snapshot(s));
        Assert.Single(s.State.Shares);
        Expect.Success(s.Reclaim(Host, handle));
        Assert.Empty(s.State.Shares);
    }

    // ---- 5. an undeclared VM's pages keep their region's mode --------------------------------------------

    [Fact]
    public void Send_ByTheHypervisorForAnUndeclaredVm_JudgesThePagesModes_AsForTheirDeclaredOwner()
    {
        // Hafnium checks whatever VM the hypervisor names against one normal-world table, in which the NS device
        // regions are device memory (other_world.c maps them MM_MODE_D): the device and read-only rules apply to
        // an undeclared VM's pages as to the host's. Before, only the sender's own pages were looked at, and an
        // undeclared VM owns none, so these passed.
        const ushort vm5 = 0x0005;
        var s = System();
        var before = Snapshot(s);
        SmcOutcome ForVm5(SendOp op, (ushort, byte)[] receivers, (ulong, uint)[] pages, ushort attributes = 0, uint flags = 0) =>
            s.Send(Host, op, SharingDescriptors.Send(vm5, receivers, pages, attributes, flags));
        Expect.Error(ForVm5(SendOp.Lend, [(MemorySp, Perm.RO)], [(HostRw, 1), (HostRo, 1)]), Err.Denied, "mem-send.mixed-modes");
        Expect.Error(ForVm5(SendOp.Share, [(MemorySp, Perm.RW)], [(HostDevice, 1)], NormalWb), Err.Denied, "mem-send.device-as-normal");
        Expect.Error(ForVm5(SendOp.Share, [(MemorySp, Perm.RW)], [(HostDevice, 1)], DeviceNgnrne), Err.Denied, "mem-send.device-not-single-lend");
        Expect.Error(ForVm5(SendOp.Lend, [(MemorySp, Perm.RW)], [(HostRo, 1)]), Err.Denied, "mem-send.rw-over-ro");
        Expect.Error(ForVm5(SendOp.Lend, [(MemorySp, Perm.RO)], [(HostRo, 1)], flags: 1), Err.Denied, "mem-send.zero-read-only");
        Unchanged(s, before);

        // Read-only pages lent read-only pass; zeroing them on reclaim does not.
        var handle = s.SendOk(Host, SendOp.Lend, SharingDescriptors.Send(vm5, [(MemorySp, Perm.RO)], [(HostRo, 1)]));
        var lent = Snapshot(s);
        Expect.Error(s.Reclaim(Host, handle, flags: 1), Err.Denied, "mem-reclaim.zero-read-only");
        Assert.Equal(lent, Snapshot(s));
        Expect.Success(s.Reclaim(Host, handle));
        Unchanged(s, before);
    }

    [Fact]
    public void Send_ReadOnlyRules_ComeAfterOwnership()
    {
        // The zero and access checks follow the state-mask check: read-only pages already shared fail on ownership.
        var s = System();
        s.SendOk(Host, SendOp.Share, SharingDescriptors.Send(Host, [(MemorySp, Perm.RO)], [(HostRo, 1)], NormalWb));
        Expect.Error(Send(s, SendOp.Lend, Host, [(EchoSp, Perm.RW)], [(HostRo, 1)], flags: 1), Err.Denied, "mem-send.not-owned-exclusively");
    }

    [Fact]
    public void ReadOnlyMemory_SentReadOnly_IsRetrievedReadOnly()
    {
        var s = System();
        var handle = s.SendOk(Host, SendOp.Lend, SharingDescriptors.Send(Host, [(MemorySp, Perm.RO)], [(HostRo, 1)]));
        s.RetrieveOk(MemorySp, Host, handle, (byte)(Perm.RO | Perm.NX));
        Assert.True(s.CanRead(MemorySp, HostRo));
        Assert.False(s.CanWrite(MemorySp, HostRo));
        Expect.Success(s.Relinquish(MemorySp, handle));
        Expect.Success(s.Reclaim(Host, handle));
        // Reclaimed, the pages are the host's read-only memory again.
        Assert.False(s.CanWrite(Host, HostRo));
        Assert.True(s.State.Memory.Single(m => m.Base <= HostRo && HostRo < m.Base + m.Size).ReadOnly);
    }

    // ---- donation: the new owner's access ---------------------------------------------------------------

    [Fact]
    public void DonatedReadOnlyMemory_IsTheNewOwnersWithTheAccessItRetrieved()
    {
        // Hafnium ffa_partition_retrieve_request maps donated pages with the retrieved permissions
        // (ffa_memory_permissions_to_mode(permissions, sender_orig_mode) keeps only MM_MODE_D of the donor's mode):
        // a donation's data access is unspecified, so the new owner may ask RW of pages the donor could only read.
        var s = System();
        var rw = s.SendOk(Host, SendOp.Donate, SharingDescriptors.Send(Host, [(MemorySp, Perm.None)], [(HostRo, 1)]));
        s.RetrieveOk(MemorySp, Host, rw, (byte)(Perm.RW | Perm.NX));
        Assert.True(s.CanWrite(MemorySp, HostRo));
        var ro = s.SendOk(Host, SendOp.Donate, SharingDescriptors.Send(Host, [(MemorySp, Perm.None)], [(HostRo + 0x1000, 1)]));
        s.RetrieveOk(MemorySp, Host, ro, (byte)(Perm.RO | Perm.NX));
        Assert.False(s.CanWrite(MemorySp, HostRo + 0x1000));
        var pages = s.State.Memory.Where(m => m.Base >= HostRo && m.Base < HostRo + 0x2000).ToList();
        Assert.All(pages, p => Assert.Equal(MemorySp, p.Owner));
        Assert.Equal([false, true], pages.Select(p => p.ReadOnly));
    }

    [Fact]
    public void DonatedDeviceMemory_StaysDeviceMemory_AndCannotBeDonatedOnByItsNewOwner()
    {
        // Device memory cannot be donated at all (ffa_send_check_transition); the attribute stays with the pages
        // through a lend and reclaim.
        var s = System();
        var handle = s.SendOk(Host, SendOp.Lend, SharingDescriptors.Send(Host, [(MemorySp, Perm.RW)], [(HostDevice, 1)]));
        Assert.True(s.State.Memory.Single(m => m.Base <= HostDevice && HostDevice < m.Base + m.Size).Device);
        Expect.Success(s.Reclaim(Host, handle));
        Assert.True(s.State.Memory.Single(m => m.Base <= HostDevice && HostDevice < m.Base + m.Size).Device);
    }

    // ---- FFA_RXTX_MAP of a partition (api_vm_configure_pages) -------------------------------------------

    private static SharingSystem Unmapped(int maxPages = 2) => SharingSystem.FromJson(ExampleManifests.Json("memory-attributes.json")
        .Replace("\"version\": \"1.3\" }", $"\"version\": \"1.3\", \"rxtxMaxPages\": {maxPages} }}"));

    [Fact]
    public void SpRxTxMap_ReadOnlyTx_IsInvalid_ReadOnlyRxIsFine()
    {
        var s = Unmapped();
        if (s.State.Endpoints.Single(e => e.Id == MemorySp).Mailbox is not null) Expect.Success(s.Test.Call(MemorySp, Ffa.RxTxUnmap(0)));
        var before = Snapshot(s);
        var o = Expect.Error(s.Test.Call(MemorySp, Ffa.RxTxMap(SpRo, SpRw, 1)), Err.InvalidParameters, "rxtx-map.sp-tx-read-only");
        Assert.Contains("a TX buffer must be writable", o.Decoded.Reason);
        Expect.Error(s.Test.Call(MemorySp, Ffa.RxTxMap(SpRoDevice, SpRw, 1)), Err.InvalidParameters, "rxtx-map.sp-tx-read-only");
        Assert.Null(s.State.Endpoints.Single(e => e.Id == MemorySp).Mailbox);
        Assert.Equal(before, Snapshot(s));
        // RX only needs to be readable: read-only (even device) pages will do.
        Expect.Success(s.Test.Call(MemorySp, Ffa.RxTxMap(SpRw, SpRo, 1)));
        Assert.Equal("rx-buffer", ServerUse(s, SpRo));
        Assert.True(s.State.Memory.Single(m => m.Base == SpRo).ReadOnly);
    }

    [Fact]
    public void SpRxTxMap_BufferOfMixedModes_IsInvalid()
    {
        var s = Unmapped();
        if (s.State.Endpoints.Single(e => e.Id == MemorySp).Mailbox is not null) Expect.Success(s.Test.Call(MemorySp, Ffa.RxTxUnmap(0)));
        // Echo's read-write region ends where its device page begins (0x60500000): two pages across the boundary.
        Expect.Error(s.Test.Call(EchoSp, Ffa.RxTxMap(0x604F_F000, 0x6040_0000, 2)), Err.InvalidParameters, "rxtx-map.sp-buffer-mixed-modes");
        Expect.Error(s.Test.Call(EchoSp, Ffa.RxTxMap(0x6040_0000, 0x604F_F000, 2)), Err.InvalidParameters, "rxtx-map.sp-buffer-mixed-modes");
        Assert.Null(s.State.Endpoints.Single(e => e.Id == EchoSp).Mailbox);
        // A TX in device read-write memory is one mode, and writable.
        Expect.Success(s.Test.Call(EchoSp, Ffa.RxTxMap(0x6050_0000, 0x6040_0000, 1)));
    }

    [Fact]
    public void VmRxTxMap_ReadOnlyTx_IsNotCheckedByTheSpmc()
    {
        // Normal-world buffers are checked against the other world's page table only (ownership), not a stage-2 mode.
        var s = Unmapped();
        Expect.Success(s.Test.Call(Host, Ffa.RxTxMap(HostRo, HostRw, 1)));
        Assert.True(s.State.Memory.Single(m => m.Base == HostRo).ReadOnly);
        Assert.Equal("tx-buffer", ServerUse(s, HostRo));
    }

    private static string ServerUse(SharingSystem s, ulong address) =>
        s.State.Memory.Single(m => m.Base == address).Use switch
        {
            Core.Memory.PageUse.RxBuffer => "rx-buffer",
            Core.Memory.PageUse.TxBuffer => "tx-buffer",
            _ => "owned",
        };
}
