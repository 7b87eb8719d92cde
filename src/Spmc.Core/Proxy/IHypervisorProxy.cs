using Spmc.Core.Calls;

namespace Spmc.Core.Proxy;

/// <summary>The secure side of the machine as the proxy sees it: it takes FF-A calls and answers them.</summary>
public interface ISecureWorld
{
    FfaAnswer Handle(FfaRequest request);
}

/// <summary>
/// The hypervisor between normal-world VMs and the SPMC (pKVM's EL2 FF-A proxy). Every frame from a VM
/// passes through <see cref="Forward"/>; it may answer itself, rewrite the frame, or issue its own calls
/// to the SPMC.
/// </summary>
public interface IHypervisorProxy
{
    string Profile { get; }

    FfaAnswer Forward(FfaRequest request, ISecureWorld spmc);
}

/// <summary>A trusted remote hypervisor model: frames reach the SPMC unchanged, with the VM's ID as the caller.</summary>
public sealed class PassthroughProxy : IHypervisorProxy
{
    public string Profile => ProxyProfiles.Passthrough;

    public FfaAnswer Forward(FfaRequest request, ISecureWorld spmc) => spmc.Handle(request);
}
