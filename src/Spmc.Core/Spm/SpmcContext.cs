using Spmc.Abi.Ffa;
using Spmc.Core.Calls;
using Spmc.Core.Manifests;
using Spmc.Core.Memory;

namespace Spmc.Core.Spm;

/// <summary>
/// What every ABI handler works with: the system's configuration, its physical memory and ownership map, and the
/// SPMC's state — plus the few operations several ABI families share (finding an endpoint, writing an RX buffer,
/// raising an event). Handlers get it through their constructor; nothing here holds state of its own.
/// </summary>
internal sealed class SpmcContext(SystemConfig config, PhysicalMemory memory, MemoryMap map, SpmcState state)
{
    public SystemConfig Config { get; } = config;
    public PhysicalMemory Memory { get; } = memory;
    public MemoryMap Map { get; } = map;
    public SpmcState State { get; } = state;

    /// <summary>Constituents one memory transaction may describe (0: no bound).</summary>
    public int MaxConstituents { get; init; }

    /// <summary>Who may access pages that are part of a memory transaction, from the share states.</summary>
    public IShareAccess ShareAccess { get; } = new Shares.ShareAccess(state);

    public Endpoint? FindEndpoint(ushort id) => State.Endpoints.GetValueOrDefault(id);

    /// <summary>What a fault rule armed for the call being dispatched (docs/faults.md); empty otherwise.</summary>
    public FaultHooks Faults { get; } = new();

    /// <summary>Records an event; the owning system takes them after each call, in order.</summary>
    public void Raise(SystemEvent e) => State.Events.Add(e);

    /// <summary>Writes <paramref name="bytes"/> at the start of an endpoint's RX buffer, zeroes the rest and marks it full.</summary>
    public void FillRx(Endpoint endpoint, ReadOnlySpan<byte> bytes)
    {
        var mailbox = endpoint.Mailbox ?? throw new InvalidOperationException("no RX buffer");
        Memory.WriteOnBehalf(mailbox.Rx, bytes);
        // The producer zeroes the unused tail of RX (FF-A v1.3 §4.10, Hafnium).
        Memory.Clear(mailbox.Rx + (ulong)bytes.Length, (ulong)(mailbox.Size - bytes.Length));
        mailbox.State = RxState.Full;
    }

    /// <summary>Null when the endpoint's RX buffer may be written by the SPMC now, else why not (BUSY).</summary>
    public static string? RxBusyReason(Endpoint endpoint) => endpoint.Mailbox switch
    {
        null => $"{EndpointId.Format(endpoint.Id)} has no RX buffer mapped (FFA_RXTX_MAP first)",
        { State: RxState.Full } => $"the RX buffer of {EndpointId.Format(endpoint.Id)} is full (FFA_RX_RELEASE it first)",
        { State: RxState.OtherWorldOwned } => $"the RX buffer of {EndpointId.Format(endpoint.Id)} is held by the hypervisor (FFA_RX_ACQUIRE)",
        _ => null,
    };

    /// <summary>
    /// The endpoints Hafnium's SPMC has a record of (`ffa_vm_find_locked`): every SP, the hypervisor (ID 0, Hafnium's
    /// "other world" VM), and another VM only while its notification bitmap exists or its RX/TX pair is mapped
    /// (`ffa_vm_nwd_alloc`/`ffa_vm_nwd_free`). A declared VM without either has no record, as in Hafnium; an
    /// undeclared one (<see cref="Endpoint.Learned"/>) is in <see cref="SpmcState.Endpoints"/> only while it has one.
    /// </summary>
    public Endpoint? KnownToSpmc(ushort id)
    {
        if (FindEndpoint(id) is not { } endpoint) return null;
        if (endpoint.IsSecure || id == EndpointId.Hypervisor) return endpoint;
        var created = State.Notifications.TryGetValue(id, out var record) && record.Enabled;
        return created || endpoint.Mailbox is not null ? endpoint : null;
    }

    /// <summary>
    /// How many normal-world VM records the SPMC holds at most: Hafnium's `max_vms`, the size of its `nwd_vms` table,
    /// 16 on its SPMC test platforms (hafnium-project-reference BUILD.gn: secure_aem_v8a_fvp_vhe, secure_qemu_aarch64).
    /// The hypervisor (ID 0) is not in that table and does not count.
    /// </summary>
    public const int MaxVmRecords = 16;

    /// <summary>
    /// The normal-world VM records held now: every VM but ID 0 that <see cref="KnownToSpmc"/> — declared or learned —
    /// because Hafnium would hold a `nwd_vms` slot for each of them.
    /// </summary>
    public int VmRecordCount => State.Endpoints.Values.Count(e => !e.IsSecure && e.Id != EndpointId.Hypervisor && KnownToSpmc(e.Id) is not null);

    /// <summary>
    /// Hafnium `ffa_vm_find_locked_create` / `ffa_vm_nwd_alloc` for a VM ID other than 0: the VM's record if the SPMC
    /// has one; else, when a slot is free, the declared VM's endpoint or — for an undeclared VM — a new
    /// <see cref="Endpoint.Learned"/> endpoint that is <b>not yet added</b>: the caller adds it with <see cref="Learn"/>
    /// once the call succeeds, so that an error leaves the state unchanged (Hafnium keeps a slot it took even when the
    /// map then fails; we do not model that leak). Null when all <see cref="MaxVmRecords"/> slots are taken.
    /// </summary>
    public Endpoint? VmRecordFor(ushort id)
    {
        if (KnownToSpmc(id) is { } known) return known;
        if (VmRecordCount >= MaxVmRecords) return null;
        if (FindEndpoint(id) is { } declared) return declared;
        // Hafnium's slot: vCPU count MAX_CPUS (here the hypervisor's), the other world's boot-time (compiled) version.
        return new Endpoint
        {
            Id = id,
            Name = $"vm-{id:x4}",
            Vcpus = FindEndpoint(EndpointId.Hypervisor)?.Vcpus ?? 1,
            Version = Config.Version,
            Learned = true,
        };
    }

    /// <summary>Adds an endpoint <see cref="VmRecordFor"/> made (no-op for one already in the state).</summary>
    public void Learn(Endpoint endpoint) => State.Endpoints.TryAdd(endpoint.Id, endpoint);

    /// <summary>
    /// Hafnium `ffa_vm_nwd_free`: a learned VM whose RX/TX pair is unmapped and whose notification bitmap is destroyed
    /// loses its record and disappears from the state (its notification record with it). Declared VMs stay endpoints;
    /// their record is the <see cref="KnownToSpmc"/> view.
    /// </summary>
    public void ForgetIfUnused(Endpoint endpoint)
    {
        if (!endpoint.Learned || KnownToSpmc(endpoint.Id) is not null) return;
        State.Endpoints.Remove(endpoint.Id);
        State.Notifications.Remove(endpoint.Id);
    }

    /// <summary>
    /// Null when <paramref name="owner"/> may use [address, address + length) as its own exclusively (an RX/TX buffer,
    /// or pages it sends), else why not. A declared endpoint must own the pages in the memory map. An undeclared VM
    /// owns nothing of its own: its memory is normal-world memory the hypervisor vouches for, i.e. any non-secure page
    /// of the system not in a transaction and not an RX/TX buffer — Hafnium checks every normal-world page against
    /// one table (the other world's), whichever VM the hypervisor names.
    /// </summary>
    public string? WhyNotOwnedExclusively(ushort owner, ulong address, ulong length) =>
        IsUndeclaredVm(owner)
            ? Map.WhyNotFreeNormalWorld(address, length)
            : Map.WhyNotOwnedExclusively(owner, address, length);

    /// <summary>
    /// The sender's mode over the pages it sends (read-only, device), for the memory-sharing rules: a declared
    /// endpoint's own pages; for an undeclared VM, the normal-world pages it may send under
    /// <see cref="WhyNotOwnedExclusively"/> keep the attributes of the region that holds them, so the device and
    /// read-only rules judge them as they would for the region's declared owner.
    /// </summary>
    public RangeAttributes SenderModeOf(ushort sender, IEnumerable<(ulong Address, ulong Length)> ranges) =>
        IsUndeclaredVm(sender) ? Map.AttributesOfNormalWorld(ranges) : Map.AttributesOf(sender, ranges);

    /// <summary>
    /// Ends a transaction the sender takes back (FFA_MEM_RECLAIM, also on an aborted sender's behalf): its pages
    /// leave it, keeping owner and use, and its handle is forgotten. Zeroing, if asked, is the caller's.
    /// </summary>
    public void Reclaim(Shares.ShareState share)
    {
        foreach (var k in share.Constituents) Map.SetShare(k.Address, k.ByteLength, null);
        State.Shares.Remove(share.Handle);
    }

    private bool IsUndeclaredVm(ushort id) => !EndpointId.IsSecure(id) && Config.Vms.All(v => v.Id != id);

    /// <summary>True while an "RX buffer full" framework notification is pending for the endpoint (blocks FFA_RX_RELEASE).</summary>
    public bool RxFullNotificationPending(ushort id) =>
        State.Notifications.TryGetValue(id, out var record) && record.Framework.Pending != 0;
}

/// <summary>
/// A fault rule's request to the SPMC for one call (set by the system before dispatch, cleared after): the hook that
/// acts takes it, so only the call's own outermost delivery or retrieve sees it, and says what it did.
/// </summary>
internal sealed class FaultHooks
{
    private string? _delay;
    private int? _fragment;

    /// <summary>What the hook did, for the answer's notes (null while it has not acted).</summary>
    public string? Applied { get; set; }

    public void Arm(string? delay, int? fragment) => (_delay, _fragment, Applied) = (delay, fragment, null);

    public void Disarm() => (_delay, _fragment) = (null, null);

    /// <summary>The delay rule's description, once: the partition the call lends its cycles to is preempted.</summary>
    public string? TakeDelay()
    {
        var d = _delay;
        _delay = null;
        return d;
    }

    /// <summary>The fragment size, once: the first fragment of the retrieve response carries at most this many bytes.</summary>
    public int? TakeFragment()
    {
        var f = _fragment;
        _fragment = null;
        return f;
    }
}
