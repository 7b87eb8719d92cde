using Spmc.Abi.Ffa;

namespace Spmc.Core.Proxy.Pkvm;

/// <summary>
/// Host direct requests at EL2 (pkvm-next only): do_ffa_direct_msg of the unmerged series "KVM: arm64: Support FF-A
/// direct messaging interfaces" (Per Larsen / Sebastian Ene; v7 of 30 Aug 2026 pending, checks as read in v6 of 1 May
/// 2026). Merged releases pass REQ through unchecked and deny REQ2.
/// </summary>
public sealed partial class PkvmProxy
{
    /// <summary>
    /// FFA_MSG_SEND_DIRECT_REQ (32/64) and DIRECT_REQ2: the source endpoint (w1[31:16]) must be HOST_FFA_ID; REQ's w2
    /// must be 0 (framework messages filtered out; REQ2 has UUID bits there); then the host's x0..x17 go to the SPMC
    /// (arm_smccc_1_2_smc) and its x0..x17 come back.
    /// </summary>
    private Reply DoFfaDirectMsg(HostCall c)
    {
        // DECLARE_REG(u32, ...) reads: the source is w1 bits[31:16], the flags all of w2.
        var source = (ushort)(c.U32(1) >> 16);
        if (source != HostId)
            return Err(PkvmRules.DirectSourceNotHost, $"{Fid.Name(c.FuncId)}: source endpoint w1[31:16] = {EndpointId.Format(source)} is not the host (0)");
        if ((ushort)c.FuncId == (ushort)FfaFunction.MsgSendDirectReq && c.U32(2) != 0)
            return Err(PkvmRules.DirectReqFlags, $"{Fid.Name(c.FuncId)}: w2 = 0x{c.U32(2):X} must be 0 (no framework messages from the host)");
        return Verbatim(c.Spmc.Handle(c.Request));
    }
}
