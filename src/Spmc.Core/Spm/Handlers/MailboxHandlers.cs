using Spmc.Abi.Calls;
using Spmc.Abi.Descriptors;
using Spmc.Abi.Ffa;
using Spmc.Core.Calls;
using Spmc.Core.Manifests;
using Spmc.Core.Memory;

namespace Spmc.Core.Spm.Handlers;

/// <summary>RX/TX buffers: FFA_RXTX_MAP, FFA_RXTX_UNMAP, FFA_RX_RELEASE, FFA_RX_ACQUIRE (Hafnium api.c).</summary>
internal sealed class MailboxHandlers(SpmcContext spmc)
{
    private readonly SystemConfig _config = spmc.Config;
    private readonly PhysicalMemory _memory = spmc.Memory;
    private readonly MemoryMap _map = spmc.Map;

    public void Register(HandlerTable table)
    {
        // Hafnium implements only FFA_RXTX_MAP_64; w2[1:0] = 0 (4 KiB minimum), w2[31:16] = maximum pages for v1.2+ callers.
        table.Register<RxTxMap>(FfaFunction.RxTxMap, Callers.Any, Map, smc32: false, smc64: true,
            properties: c => c.Caller.Version >= FfaVersion.V1_2 ? _config.RxTxMaxPages << 16 : 0);
        table.Register<RxTxUnmap>(FfaFunction.RxTxUnmap, Callers.Any, Unmap);
        table.Register<RxRelease>(FfaFunction.RxRelease, Callers.Any, Release);
        table.Register<RxAcquire>(FfaFunction.RxAcquire, Callers.Hypervisor, Acquire);
    }

    /// <summary>FFA_RXTX_MAP_64: x1 = TX, x2 = RX, w3 = page count (x3[63:32] checked by the decoder). Check order as in Hafnium api_vm_configure_pages.</summary>
    private FfaAnswer Map(Call c, RxTxMap call)
    {
        var (owner, tx, rx, pages) = (c.Caller, call.Tx, call.Rx, call.PageCount);

        // The hypervisor forwards a VM's buffers with x1 = x2 = w3 = 0 and an endpoint RX/TX descriptor in its own TX.
        if (c.FromHypervisor && call.IsForwardingForm)
        {
            if (c.Caller.Mailbox is not { } hypMailbox)
                return c.Reject(MailboxRules.ForwardWithoutTx, "forwarded map: the hypervisor has no TX buffer holding an endpoint RX/TX descriptor");
            var parsed = EndpointRxTxDescriptor.Read(_memory.Read(hypMailbox.Tx, hypMailbox.Size));
            if (!parsed.Ok) return c.Reject(parsed.Rejection!.Prefixed("forwarded map"));
            var desc = parsed.Value!;
            if (!EndpointId.IsVm(desc.EndpointId) || desc.EndpointId is EndpointId.Hypervisor or EndpointId.Invalid)
                return c.Reject(MailboxRules.ForwardNotAVm, $"forwarded map: endpoint {EndpointId.Format(desc.EndpointId)} is not a VM the hypervisor can forward for");
            // Hafnium api_ffa_rxtx_map → ffa_vm_find_locked_create: the VM's record, made on demand for any VM ID
            // (declared or not); DENIED when every nwd_vms slot is taken. A new record is added only on success.
            if (spmc.VmRecordFor(desc.EndpointId) is not { } vm)
                return c.Reject(MailboxRules.ForwardNoVmSlot,
                    $"forwarded map: the SPMC holds {SpmcContext.MaxVmRecords} normal-world VM records already (Hafnium's max_vms); VM {EndpointId.Format(desc.EndpointId)} gets none");
            if (desc.Rx.Constituents.Count != 1 || desc.Tx.Constituents.Count != 1)
                return c.Reject(MailboxRules.ForwardOneConstituent, "forwarded map: RX and TX must each be one contiguous constituent");
            if (desc.Rx.Constituents[0].PageCount != desc.Tx.Constituents[0].PageCount)
                return c.Reject(MailboxRules.ForwardPageCounts, "forwarded map: RX and TX page counts differ");
            (owner, tx, rx, pages) = (vm, desc.Tx.Constituents[0].Address, desc.Rx.Constituents[0].Address, desc.Rx.Constituents[0].PageCount);
        }

        var who = EndpointId.Format(owner.Id);
        if (owner.Mailbox is not null)
            return c.Reject(MailboxRules.AlreadyMapped, $"{who} already has an RX/TX pair mapped (FFA_RXTX_UNMAP first)");
        if (pages < 1 || pages > _config.RxTxMaxPages)
            return c.Reject(MailboxRules.PageCount, $"page count {pages} is outside 1..{_config.RxTxMaxPages}");
        if (!FfaPage.IsAligned(tx) || !FfaPage.IsAligned(rx))
            return c.Reject(MailboxRules.Unaligned, $"TX 0x{tx:X} and RX 0x{rx:X} must be 4 KiB aligned");
        var size = (ulong)pages * FfaPage.Size;
        if (tx > ulong.MaxValue - size || rx > ulong.MaxValue - size)
            return c.Reject(MailboxRules.AddressOverflow, "buffer address + size overflows the address space");
        if (tx < rx + size && rx < tx + size)
            return c.Reject(MailboxRules.Overlap, "TX and RX ranges overlap");

        // Normal-world buffers outside the NWd's memory are DENIED; an SP's own buffers that it does not own
        // exclusively are INVALID_PARAMETERS (Hafnium: stage-2 mode check for SPs, NWd table check otherwise).
        var notOwned = owner.IsSecure ? MailboxRules.SpBufferNotOwned : MailboxRules.VmBufferNotOwned;
        // An undeclared VM's buffers may be any free normal-world memory (SpmcContext.WhyNotOwnedExclusively).
        if (spmc.WhyNotOwnedExclusively(owner.Id, tx, size) is { } txWhy)
            return c.Reject(notOwned, $"TX 0x{tx:X}..0x{tx + size - 1:X} is not memory {who} owns exclusively: {txWhy}");
        if (owner.IsSecure && SpBufferModeError(owner.Id, "TX", tx, size, needWrite: true) is { } txMode) return c.Reject(txMode);
        if (spmc.WhyNotOwnedExclusively(owner.Id, rx, size) is { } rxWhy)
            return c.Reject(notOwned, $"RX 0x{rx:X}..0x{rx + size - 1:X} is not memory {who} owns exclusively: {rxWhy}");
        if (owner.IsSecure && SpBufferModeError(owner.Id, "RX", rx, size, needWrite: false) is { } rxMode) return c.Reject(rxMode);

        // Mapping the pair is where Hafnium allocates (api_vm_configure_stage1: NO_MEMORY when mm_identity_map fails);
        // here the system's memory quota must have room for both buffers, which the SPMC and the proxy later write
        // on calls' behalf without a further check (PhysicalMemory.WriteOnBehalf).
        var absent = _memory.AbsentPages(tx, size) + _memory.AbsentPages(rx, size);
        if (!_memory.HasRoomFor(absent))
            return c.Reject(MailboxRules.NoMemory, $"the system's memory quota has no room for the {absent} page(s) of the RX/TX buffers not yet in memory (Spmc:Quotas)");

        _map.SetUse(tx, size, PageUse.TxBuffer);
        _map.SetUse(rx, size, PageUse.RxBuffer);
        owner.Mailbox = new Mailbox { Tx = tx, Rx = rx, Pages = pages };
        spmc.Learn(owner);
        return FfaAnswer.Success32();
    }

    /// <summary>
    /// A partition's buffer and its stage-2 mode (Hafnium api_vm_configure_pages, TX then RX): one mode over the range,
    /// and for TX write access. Normal-world buffers are checked against the other world's table only, so they are not.
    /// </summary>
    private Abi.Rules.Rejection? SpBufferModeError(ushort owner, string which, ulong address, ulong size, bool needWrite)
    {
        var mode = _map.AttributesOf(owner, [(address, size)]);
        var where = $"{which} 0x{address:X}..0x{address + size - 1:X}";
        if (!mode.Uniform)
            return MailboxRules.SpBufferMixedModes.Reject($"{where} spans pages of different modes ({(mode.AnyReadOnly != mode.AllReadOnly ? "read-only and read-write" : "device and normal memory")})");
        if (needWrite && mode.AllReadOnly)
            return MailboxRules.SpTxReadOnly.Reject($"{where} is read-only memory of {EndpointId.Format(owner)} (manifest \"access\": \"ro\"); a TX buffer must be writable");
        return null;
    }

    /// <summary>FFA_RXTX_UNMAP: w1[31:16] = the VM whose pair to unmap (hypervisor only; 0 = the caller's own).</summary>
    private FfaAnswer Unmap(Call c, RxTxUnmap call)
    {
        var id = call.Endpoint;
        if (id != 0 && !c.FromHypervisor)
            return c.Reject(MailboxRules.UnmapIdNotHypervisor, "only the hypervisor may name an endpoint in w1[31:16]; others pass 0");
        if (id != 0 && !EndpointId.IsVm(id))
            return c.Reject(MailboxRules.UnmapNotAVm, $"w1[31:16] = {EndpointId.Format(id)} is not a VM ID");
        var target = id == 0 ? c.Caller : spmc.FindEndpoint(id);
        if (target is null) return c.Reject(MailboxRules.UnmapUnknownVm, $"VM {EndpointId.Format(id)} is not in this system");
        if (target.Mailbox is not { } mailbox)
            return c.Reject(MailboxRules.UnmapNotMapped, $"{EndpointId.Format(target.Id)} has no RX/TX pair mapped");

        var size = (ulong)mailbox.Size;
        _map.SetUse(mailbox.Tx, size, PageUse.Owned);
        _map.SetUse(mailbox.Rx, size, PageUse.Owned);
        target.Mailbox = null;
        // Hafnium ffa_vm_nwd_free: the record goes once its bitmap is destroyed too.
        spmc.ForgetIfUnused(target);
        return FfaAnswer.Success32();
    }

    /// <summary>FFA_RX_RELEASE: w1[15:0] = VM ID when the hypervisor releases on a VM's behalf, else 0.</summary>
    private FfaAnswer Release(Call c, RxRelease call)
    {
        var id = call.Endpoint;
        if (id != 0 && !c.FromHypervisor)
            return c.Reject(MailboxRules.ReleaseIdNotHypervisor, "w1[15:0] must be 0 unless the hypervisor releases for a VM");
        if (id != 0 && !EndpointId.IsVm(id))
            return c.Reject(MailboxRules.ReleaseNotAVm, $"w1[15:0] = {EndpointId.Format(id)} is not a VM ID");
        var target = id == 0 ? c.Caller : spmc.FindEndpoint(id);
        if (target is null) return c.Reject(MailboxRules.ReleaseUnknownVm, $"VM {EndpointId.Format(id)} is not in this system");
        var who = EndpointId.Format(target.Id);

        switch (target.Mailbox)
        {
            case null:
                return c.Reject(MailboxRules.ReleaseNotMapped, $"{who} has no RX buffer mapped, so there is nothing to release");
            case { State: RxState.Empty }:
                return c.Reject(MailboxRules.ReleaseNotHeld, $"the RX buffer of {who} is not held by its consumer (already released)");
            // Hafnium api_release_mailbox: a full RX whose "RX buffer full" framework notification is still pending
            // stays with its consumer until FFA_NOTIFICATION_GET (SPM/hypervisor framework flags) has consumed it.
            case { State: RxState.Full } when spmc.RxFullNotificationPending(target.Id):
                return c.Reject(MailboxRules.ReleaseRxFullNotificationPending,
                    $"{who} has not retrieved the RX-full framework notification of its message (FFA_NOTIFICATION_GET with the framework flags first)");
            case { State: RxState.OtherWorldOwned } when target.IsSecure:
                return c.Reject(MailboxRules.ReleaseImpossibleState, $"the RX buffer of {who} is in an impossible state");
            case { } mailbox:
                mailbox.State = RxState.Empty;
                return FfaAnswer.Success32();
        }
    }

    /// <summary>FFA_RX_ACQUIRE: the hypervisor takes a VM's RX buffer from the SPMC before writing it (v1.1).</summary>
    private FfaAnswer Acquire(Call c, RxAcquire call)
    {
        var id = call.Endpoint;
        if (!EndpointId.IsVm(id)) return c.Reject(MailboxRules.AcquireNotAVm, $"w1[15:0] = {EndpointId.Format(id)} is not a VM ID");
        if (spmc.FindEndpoint(id) is not { } vm) return c.Reject(MailboxRules.AcquireUnknownVm, $"VM {EndpointId.Format(id)} is not in this system");
        if (vm.Mailbox is not { } mailbox) return c.Reject(MailboxRules.AcquireNotMapped, $"{EndpointId.Format(id)} has no RX buffer mapped");
        if (mailbox.State != RxState.Empty)
            return c.Reject(MailboxRules.AcquireNotEmpty, $"the RX buffer of {EndpointId.Format(id)} is {(mailbox.State == RxState.Full ? "full" : "already acquired")}");
        mailbox.State = RxState.OtherWorldOwned;
        return FfaAnswer.Success32();
    }
}
