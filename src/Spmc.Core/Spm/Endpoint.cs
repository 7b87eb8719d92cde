using Spmc.Abi.Ffa;
using Spmc.Core.Manifests;
using Spmc.Core.Spm.Runtime;

namespace Spmc.Core.Spm;

/// <summary>Who owns an endpoint's RX buffer (Hafnium's mailbox states).</summary>
public enum RxState
{
    /// <summary>The producer (the SPMC) owns it and may write.</summary>
    Empty,
    /// <summary>The consumer owns it: something was written and not yet released.</summary>
    Full,
    /// <summary>The hypervisor took it with FFA_RX_ACQUIRE to write into a VM's RX itself.</summary>
    OtherWorldOwned,
}

/// <summary>An RX/TX buffer pair registered with FFA_RXTX_MAP.</summary>
public sealed class Mailbox
{
    public required ulong Tx { get; init; }
    public required ulong Rx { get; init; }
    public required uint Pages { get; init; }
    public RxState State { get; set; } = RxState.Empty;

    public int Size => (int)(Pages * FfaPage.Size);
}

/// <summary>The SPMC's view of one FF-A endpoint: its negotiated version and its mailbox.</summary>
public sealed class Endpoint
{
    public required ushort Id { get; init; }
    public required string Name { get; init; }
    public required int Vcpus { get; init; }
    public PartitionConfig? Partition { get; init; }

    /// <summary>The version the SPMC formats data for this endpoint in.</summary>
    public required FfaVersion Version { get; set; }

    /// <summary>
    /// Set once the endpoint made any other FF-A call: from then on FFA_VERSION may only repeat the same
    /// version (Hafnium `ffa_version_negotiated`, handler.c).
    /// </summary>
    public bool VersionLocked { get; set; }

    /// <summary>True once the endpoint called FFA_VERSION successfully.</summary>
    public bool VersionNegotiated { get; set; }

    public Mailbox? Mailbox { get; set; }

    /// <summary>A secure partition's execution contexts and what drives them; null for VMs.</summary>
    public PartitionRuntime? Runtime { get; init; }

    public bool IsSecure => EndpointId.IsSecure(Id);

    /// <summary>
    /// True for a normal-world VM the manifest does not declare, whose record the SPMC created when the hypervisor
    /// named it (forwarded FFA_RXTX_MAP or FFA_NOTIFICATION_BITMAP_CREATE: Hafnium `ffa_vm_find_locked_create`). It
    /// lives while its RX/TX pair is mapped or its notification bitmap exists (`ffa_vm_nwd_free`), never calls itself
    /// (Hafnium only ever sees ID 0 from the normal world) and owns no memory of its own.
    /// </summary>
    public bool Learned { get; init; }
}
