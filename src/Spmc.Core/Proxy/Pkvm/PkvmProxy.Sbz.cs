using Spmc.Abi.Ffa;

namespace Spmc.Core.Proxy.Pkvm;

/// <summary>
/// 3e9df0b0 "KVM: arm64: Enforce strict SBZ checks in the FF-A proxy" (L7.4, 7/7 of the notification series v9):
/// ffa_check_unused_args_sbz(ctxt, first_reg) refuses a host call with any register from the ABI's first unused one
/// up to x7 — x17 for an SMC64 call once hyp_ffa_version ≥ 1.2 (the predicate Will Deacon asked for in review of v5:
/// FF-A 1.1 makes only x4..x7 MBZ) — non-zero, with FFA_ERROR(INVALID_PARAMETERS) and no EL3 call.
/// </summary>
public sealed partial class PkvmProxy
{
    /// <summary>
    /// The first argument register the FF-A 1.2 tables leave unused for the calls the host makes through the proxy,
    /// handled at EL2 or forwarded (null: not checked — FFA_VERSION, whose answer has no FFA_ERROR form; FFA_SUCCESS
    /// and CONSOLE_LOG, whose registers are all payload; DIRECT_REQ2, which uses x1..x17; SP-only and undefined IDs).
    /// From the FF-A tables, not from 3e9df0b0: its per-ABI call sites were not readable (i14 digest §7.1).
    /// </summary>
    public static int? FirstUnusedRegister(uint functionId)
    {
        if (FfaFunctions.NameOf(functionId) is null) return null; // an ID not defined in this width passes unchecked
        return (FfaFunction)(ushort)functionId switch
        {
            FfaFunction.Error => 3,                     // w1 target, w2 error code
            FfaFunction.Features => 3,                  // w1 function/feature ID, w2 input properties
            FfaFunction.RxRelease => 1,                 // w1 VM ID is the hypervisor's to set, MBZ from an endpoint
            FfaFunction.RxTxMap => 4,                   // x1 TX, x2 RX, w3 page count
            FfaFunction.RxTxUnmap => 2,                 // w1 endpoint ID
            FfaFunction.PartitionInfoGet => 6,          // w1..w4 UUID, w5 flags
            FfaFunction.IdGet or FfaFunction.SpmIdGet => 1,
            FfaFunction.Run => 2,                       // w1 target endpoint/vCPU
            FfaFunction.MsgSendDirectReq or FfaFunction.MsgSendDirectResp => 8, // w1 endpoints, w2 flags, x3..x7 payload
            FfaFunction.MemShare or FfaFunction.MemLend => 5, // w1 length, w2 fragment length, x3 address, w4 page count
            FfaFunction.MemFragTx => 5,                 // w1/w2 handle, w3 fragment length, w4 sender
            FfaFunction.MemReclaim => 4,                // w1/w2 handle, w3 flags
            FfaFunction.NormalWorldResume => 1,
            FfaFunction.NotificationBitmapCreate => 3,  // w1 VM ID, w2 vCPU count
            FfaFunction.NotificationBitmapDestroy => 2, // w1 VM ID
            FfaFunction.NotificationBind or FfaFunction.NotificationUnbind or FfaFunction.NotificationSet => 5, // w1, w2, w3/w4 bitmap
            FfaFunction.NotificationGet => 3,           // w1 receiver/vCPU, w2 flags
            FfaFunction.NotificationInfoGet => 1,
            FfaFunction.RxAcquire => 2,                 // w1 VM ID
            FfaFunction.MsgSend2 => 3,                  // w1 sender, w2 flags
            FfaFunction.SecondaryEpRegister => 2,       // x1 entry point
            FfaFunction.El3IntrHandle => 1,
            _ => null,
        };
    }

    /// <summary>The last register 3e9df0b0 checks: x17 for SMC64 once hyp_ffa_version ≥ 1.2, else x7.</summary>
    private int LastSbzRegister(uint functionId) => (functionId & 0x4000_0000) != 0 && _hypVersion >= 0x1_0002 ? 17 : 7;

    /// <summary>
    /// Null when the release has no strict SBZ checks or the host left the call's unused registers zero, else the
    /// proxy's INVALID_PARAMETERS naming the first non-zero register.
    /// </summary>
    private Reply? SbzRefusal(HostCall c)
    {
        if (!_p.StrictSbz || FirstUnusedRegister(c.FuncId) is not { } first) return null;
        var last = LastSbzRegister(c.FuncId);
        for (var i = first; i <= last; i++)
        {
            if (c.U64(i) == 0) continue;
            return Err(PkvmRules.StrictSbz,
                $"{Fid.Name(c.FuncId)}: x{i} = 0x{c.U64(i):X} must be zero: the ABI leaves x{first}.. unused, checked up to x{last} " +
                (last == 17 ? "(an SMC64 call with hyp_ffa_version 1.2)" : (c.FuncId & 0x4000_0000) != 0
                    ? $"(an SMC64 call, but hyp_ffa_version {FormatVersion(_hypVersion)} is below 1.2: x8..x17 are not checked)"
                    : "(an SMC32 call)"));
        }
        return null;
    }
}
