using Spmc.Abi.Descriptors;
using Spmc.Abi.Ffa;
using Spmc.Abi.Smccc;

namespace Spmc.Abi.Calls;

/// <summary>
/// FFA_MSG_SEND2 (DEN0077 v1.3 §15.1 table 15.3; v1.1 §7.2), SMC32 only: w1[31:16] = the VM the hypervisor sends for
/// (0 from any other caller, or when it sends as itself), w1[15:0] reserved (kept in <see cref="ReservedW1"/>), w2 =
/// flags (bit 1 = delay the schedule-receiver interrupt). The message itself is in the sender's TX buffer
/// (<see cref="IndirectMessageHeader"/>).
/// The decoder checks nothing: whether w1[31:16] may be non-zero depends on the caller, and Hafnium reads neither
/// w1[15:0] nor, for a partition sender, any flag but bit 1; the SPMC judges both.
/// </summary>
public sealed record MsgSend2(ushort SenderVm, uint Flags, ushort ReservedW1 = 0) : IFfaCall<MsgSend2>
{
    public const uint DelaySriFlag = 1u << 1;

    public uint FunctionId => FfaFunctions.Id32(FfaFunction.MsgSend2);
    public bool DelaySri => (Flags & DelaySriFlag) != 0;

    /// <summary>All of w1 as the caller wrote it.</summary>
    public uint W1 => EndpointId.Pack(SenderVm, ReservedW1);

    public static ParseResult<MsgSend2> Decode(in SmcFrame frame) =>
        new MsgSend2(EndpointId.Sender(frame.W(1)), frame.W(2), EndpointId.Receiver(frame.W(1)));

    public SmcFrame Encode() => Regs.Frame(FunctionId, W1, Flags);
}
