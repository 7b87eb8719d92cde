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

    /// <summary>Who may access pages that are part of a memory transaction, from the share states.</summary>
    public IShareAccess ShareAccess { get; } = new Shares.ShareAccess(state);

    public Endpoint? FindEndpoint(ushort id) => State.Endpoints.GetValueOrDefault(id);

    /// <summary>Records an event; the owning system takes them after each call, in order.</summary>
    public void Raise(SystemEvent e) => State.Events.Add(e);

    /// <summary>Writes <paramref name="bytes"/> at the start of an endpoint's RX buffer, zeroes the rest and marks it full.</summary>
    public void FillRx(Endpoint endpoint, ReadOnlySpan<byte> bytes)
    {
        var mailbox = endpoint.Mailbox ?? throw new InvalidOperationException("no RX buffer");
        Memory.Write(mailbox.Rx, bytes);
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
    /// "other world" VM), and another VM only while its notification bitmap exists or the hypervisor has forwarded its
    /// RX/TX pair (`ffa_vm_nwd_alloc`/`ffa_vm_nwd_free`). Unlike Hafnium we know VMs from the manifest only.
    /// </summary>
    public Endpoint? KnownToSpmc(ushort id)
    {
        if (FindEndpoint(id) is not { } endpoint) return null;
        if (endpoint.IsSecure || id == EndpointId.Hypervisor) return endpoint;
        var created = State.Notifications.TryGetValue(id, out var record) && record.Enabled;
        return created || endpoint.Mailbox is not null ? endpoint : null;
    }

    /// <summary>True while an "RX buffer full" framework notification is pending for the endpoint (blocks FFA_RX_RELEASE).</summary>
    public bool RxFullNotificationPending(ushort id) =>
        State.Notifications.TryGetValue(id, out var record) && record.Framework.Pending != 0;
}
