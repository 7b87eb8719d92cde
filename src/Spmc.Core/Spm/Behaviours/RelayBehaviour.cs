using Spmc.Abi.Calls;
using Spmc.Abi.Ffa;
using Spmc.Abi.Smccc;
using Spmc.Core.Calls;

namespace Spmc.Core.Spm.Behaviours;

/// <summary>
/// A behaviour that may leave its context blocked in a call chain: when a call it makes is answered later (a direct
/// request to an attached remote partition), it returns from <see cref="IPartitionBehaviour.Run"/> without giving
/// the cycles back, and the SPMC calls <see cref="Resume"/> with that answer when it arrives.
/// </summary>
public interface IResumableBehaviour : IPartitionBehaviour
{
    void Resume(IPartitionCpu sp, FfaAnswer answer);
}

/// <summary>
/// `relay`: forwards a direct request to another partition and waits for its answer, so its context sits BLOCKED
/// in a call chain while the other partition holds the request — modelled on the receiver SP of Hafnium's
/// <c>secure_interrupts.sp_blocked</c> (<c>sp_fwd_sleep_cmd</c>: forward to a companion SP and wait).
/// Payload: [0] the partition to forward to; the rest is forwarded, shifted down by one (REQ: w4..w7 → w3..w6 of
/// an FFA_MSG_SEND_DIRECT_REQ of the request's width; REQ2: x5..x17 → x4..x16 of a REQ2 with the nil UUID).
/// Answer: the forwarded request's response payload (w3..w7, or x4..x17 for RESP2); when it fails or the target
/// gives the cycles back otherwise, [0] the function ID it returned (FFA_ERROR_32, FFA_YIELD …), [1] w1, [2] w2
/// (the error code) — as Hafnium's test services report a failed forward.
/// </summary>
public sealed class RelayBehaviour : IResumableBehaviour, IBehaviourState
{
    private readonly VmAvailabilityStates _vms = new();
    private readonly Dictionary<int, IDirectRequest> _held = [];

    public string Name => Behaviours.Relay;

    /// <summary>The VM states and, per vCPU, the request held while its forward is pending (as its encoded frame).</summary>
    public Snapshots.BehaviourSnapshot Export() =>
        new(_vms.Export(), _held.OrderBy(h => h.Key).Select(h => new Snapshots.HeldRequest(h.Key, h.Value.Encode())).ToList());

    public void Load(Snapshots.BehaviourSnapshot snapshot)
    {
        _vms.Load(snapshot.Vms);
        _held.Clear();
        foreach (var h in snapshot.Held ?? [])
            _held[h.Vcpu] = DirectMessages.DecodeRequest(h.Request) ?? throw new InvalidRequestException($"behaviour.held[{h.Vcpu}]: not a direct request");
    }

    public void Run(IPartitionCpu sp, SmcFrame delivered)
    {
        if (_vms.TryAnswer(sp, delivered)) return;
        if (Message.Request(delivered) is not { } request) { Message.Wait(sp); return; }
        var target = (ushort)request.Payload[0];
        var rest = request.Payload.Skip(1).ToArray();
        IFfaCall forward = request switch
        {
            DirectReq req => new DirectReq(sp.Id, target, 0, [.. rest, 0], req.Is64),
            _ => new DirectReq2(sp.Id, target, FfaUuid.Nil, [.. rest, 0]),
        };
        var answer = sp.Call(forward);
        if (answer.IsPending)
        {
            // Blocked in the call chain (the SPMC marked the context): answered by Resume when the target responds.
            _held[sp.Vcpu] = request;
            return;
        }
        Answer(sp, request, answer);
    }

    public void Resume(IPartitionCpu sp, FfaAnswer answer)
    {
        if (_held.Remove(sp.Vcpu, out var request)) Answer(sp, request, answer);
    }

    private static void Answer(IPartitionCpu sp, IDirectRequest request, FfaAnswer answer)
    {
        var frame = answer.Frame;
        var fid = (uint)frame.FunctionId;
        var first = fid == FfaFunctions.Id64(FfaFunction.MsgSendDirectResp2) ? 4
            : fid == FfaFunctions.Id32(FfaFunction.MsgSendDirectResp) || fid == FfaFunctions.Id64(FfaFunction.MsgSendDirectResp) ? 3
            : -1;
        var payload = first < 0 ? [fid, frame[1], frame[2]] : Enumerable.Range(first, 18 - first).Select(i => frame[i]).ToArray();
        Message.Respond(sp, request, payload);
    }
}
