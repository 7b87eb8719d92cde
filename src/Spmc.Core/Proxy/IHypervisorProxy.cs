using Spmc.Core.Calls;
using Spmc.Core.Manifests;
using Spmc.Core.Memory;

namespace Spmc.Core.Proxy;

/// <summary>The secure side of the machine as the proxy sees it: it takes SMCs and answers them.</summary>
public interface ISecureWorld
{
    FfaAnswer Handle(FfaRequest request);
}

/// <summary>
/// What a proxy model is given when its system is built: the configuration, the machine's memory, and the
/// secure world (a proxy that talks to the SPMC at boot, as pKVM's hyp_ffa_init does, uses it then).
/// </summary>
public sealed record ProxyContext(SystemConfig Config, PhysicalMemory Memory, MemoryMap Map, ISecureWorld Spmc);

/// <summary>One range of the host's stage 2 as the proxy tracks it ("owned", "shared-owned", "hyp", ...).</summary>
public sealed record Stage2RangeView(ulong Base, ulong Size, string State);

/// <summary>What the inspector shows of a proxy: its negotiated version, its own and the host's buffers, the stage 2.</summary>
public sealed record ProxyStateView(
    string Profile,
    string? Version,
    bool Negotiated,
    ulong? HostTx,
    ulong? HostRx,
    ulong? HypTx,
    ulong? HypRx,
    IReadOnlyList<Stage2RangeView> Stage2,
    IReadOnlyList<string> Notes);

/// <summary>
/// The hypervisor between normal-world VMs and the SPMC (pKVM's EL2 FF-A proxy). Every SMC from a VM — FF-A
/// or not — passes through <see cref="Forward"/> with x0..x17 as the VM left them; the proxy may answer
/// itself, rewrite the frame, or make its own calls to the SPMC through the secure world it is given (each is
/// shown to the user as a hop). It decides every register the VM gets back.
/// </summary>
public interface IHypervisorProxy
{
    string Profile { get; }

    FfaAnswer Forward(FfaRequest request, ISecureWorld spmc);

    /// <summary>
    /// Null when <paramref name="vm"/> may touch the range as far as the hypervisor's stage 2 goes (checked
    /// after the SPMC's own ownership rules), else why not — e.g. pages the proxy took for its own buffers.
    /// </summary>
    string? HostAccess(ushort vm, ulong address, ulong length, bool write);

    /// <summary>The proxy's state for the inspector (null for a stateless proxy).</summary>
    ProxyStateView? State { get; }

    /// <summary>The proxy's mutable state for a snapshot (null for a stateless proxy).</summary>
    Snapshots.ProxySnapshot? Export();

    /// <summary>Takes the state of a snapshot <see cref="Export"/> made for the same profile and manifest.</summary>
    void Load(Snapshots.ProxySnapshot? snapshot);
}

/// <summary>A trusted remote hypervisor model: frames reach the SPMC unchanged, with the VM's ID as the caller.</summary>
public sealed class PassthroughProxy : IHypervisorProxy
{
    public string Profile => ProxyProfiles.Passthrough;

    public FfaAnswer Forward(FfaRequest request, ISecureWorld spmc) => spmc.Handle(request);

    public string? HostAccess(ushort vm, ulong address, ulong length, bool write) => null;

    public ProxyStateView? State => null;

    public Snapshots.ProxySnapshot? Export() => null;

    public void Load(Snapshots.ProxySnapshot? snapshot)
    {
        if (snapshot is not null) throw new InvalidRequestException($"proxy: the snapshot holds '{snapshot.Profile}' state, the system's proxy is passthrough");
    }
}
