using Spmc.Abi.Calls;
using Spmc.Abi.Ffa;
using Spmc.Core.Calls;

namespace Spmc.Core.Proxy.Pkvm;

/// <summary>
/// The boot-order failure of a built-in arm_ffa (proxyOptions.ffaDriverBuiltIn; Yeoreum Yun, "KVM: arm64: fix FF-A call
/// failure when ff-a driver is built-in", Oct 2025, not merged; Sudeep Holla's "firmware: arm_ffa: Defer probe until
/// pKVM is initialized", May 2026, not merged either). ffa_init runs at rootfs_initcall, before kvm_arm_init installs
/// pKVM and its SMC traps (HCR_EL2.TSC): the driver's whole probe reaches EL3 as ID 0, pKVM never sees its FFA_VERSION,
/// has_version_negotiated stays false, and every later trapped FF-A call but FFA_VERSION is INVALID_PARAMETERS.
/// </summary>
public sealed partial class PkvmProxy
{
    /// <summary>The driver's probe: the version it asked EL3 for, and what it did (the boot note).</summary>
    private sealed record BuiltInDriverProbe(uint Requested, string Summary);

    /// <summary>
    /// ffa_init of the same kernel's arm_ffa, straight to the SPMC as ID 0 (not shown as hops): FFA_VERSION(the FF-A version
    /// the kernel speaks, the profile's init version), FFA_ID_GET, FFA_FEATURES(FFA_RXTX_MAP_64), FFA_RXTX_MAP_64 of its
    /// own pages (PAGE_SIZE/4096 FF-A pages each), FFA_PARTITION_INFO_GET(Nil) and FFA_RX_RELEASE. Stops where the driver
    /// would (a failed version, ID or map ends its probe).
    /// </summary>
    private BuiltInDriverProbe ProbeBeforePkvm(ISecureWorld spmc, ulong tx, ulong rx)
    {
        var requested = _p.InitVersion;
        var steps = new List<string>();
        FfaAnswer Call(IFfaCall call)
        {
            var answer = spmc.Handle(new FfaRequest(HostId, 0, call.Encode()));
            steps.Add($"{Fid.Name(call.FunctionId)} → {answer.Error?.Name() ?? FfaFunctions.NameOf((uint)answer.Frame[0]) ?? $"0x{answer.Frame[0]:X}"}");
            return answer;
        }
        var version = Call(new VersionCall(requested)).Frame[0];
        BuiltInDriverProbe Done(bool mapped) => new(requested,
            $"boot (proxyOptions.ffaDriverBuiltIn): the built-in arm_ffa probed at rootfs_initcall, before kvm_arm_init installed pKVM's SMC traps, " +
            $"so these went to EL3 directly as ID 0: {string.Join(", ", steps)}" +
            (mapped ? $"; the SPMC now holds the driver's own TX 0x{tx:X} / RX 0x{rx:X} ({_p.FfaPagesPerPage} FF-A page{(_p.FfaPagesPerPage == 1 ? "" : "s")} each) as ID 0's buffers" : ""));

        if ((int)(uint)version < 0 || Major((uint)version) != 1) return Done(false);
        if (Call(new IdGet()).Error is not null) return Done(false);
        Call(new Features(Fid.RxTxMap64, 0));
        if (Call(new RxTxMap(tx, rx, _p.FfaPagesPerPage)).Error is not null) return Done(false);
        if (Call(new PartitionInfoGet(default, 0)).Error is null) Call(new RxRelease(HostId));
        return Done(true);
    }

    /// <summary>The note on a gate refusal when the built-in driver's probe is why the host never negotiated.</summary>
    private string BuiltInDriverNote() =>
        $"pKVM never saw the host's FFA_VERSION: the built-in arm_ffa negotiated {FormatVersion(_builtInProbe!.Requested)} with EL3 at " +
        "rootfs_initcall, before pKVM installed its traps (proxyOptions.ffaDriverBuiltIn), so has_version_negotiated is false and every " +
        "trapped FF-A call but FFA_VERSION is refused — what users see as failing DIRECT_REQ (TPM CRB over FF-A, EFI variables). " +
        "Unmerged fixes: hyp_ffa_init negotiating for a built-in driver (Yeoreum Yun, Oct 2025) or arm_ffa deferring its probe until " +
        "pKVM is up (Sudeep Holla, May 2026). A new FFA_VERSION from the host negotiates with pKVM, but its FFA_RXTX_MAP then meets " +
        "the driver's pages the SPMC still holds for ID 0.";
}
