using Spmc.Abi.Calls;
using Spmc.Abi.Ffa;
using Spmc.Abi.Smccc;
using Spmc.Core.Calls;

namespace Spmc.Core.Spm.Behaviours;

/// <summary>
/// VM availability messages (DEN0077 v1.2 framework messages; Hafnium <c>inc/vmapi/hf/ffa.h</c>): a framework
/// FFA_MSG_SEND_DIRECT_REQ_32 with w2 = bit 31 | 4 (VM created) or 6 (VM destroyed) and the VM ID in w5[15:0],
/// answered by a framework FFA_MSG_SEND_DIRECT_RESP_32 with w2 = bit 31 | 5 or 7 and a status in w3 (0 or an
/// FF-A error code).
/// </summary>
public static class VmAvailability
{
    /// <summary>Framework function numbers (w2 bits[7:0]).</summary>
    public const byte Created = 4, CreatedResponse = 5, Destroyed = 6, DestroyedResponse = 7;

    /// <summary>A VM availability request from <paramref name="sender"/> to <paramref name="receiver"/> about <paramref name="vm"/>.</summary>
    public static DirectReq Request(ushort sender, ushort receiver, byte function, ushort vm) =>
        new(sender, receiver, DirectMessageFlags.Framework | function, [0, 0, vm, 0, 0]);
}

/// <summary>What a partition thinks of one normal-world VM (Hafnium's vm_availability_messaging test service).</summary>
public enum VmAvailabilityState
{
    Unavailable,
    Available,
    Error,
}

/// <summary>
/// A built-in partition's per-VM state, as Hafnium's test service <c>vm_availability_messaging</c>
/// (<c>test/vmapi/primary_with_secondaries/services/dir_msg.c</c>) keeps it: Unavailable → (created) Available →
/// (destroyed) Unavailable; any other transition puts the VM in Error, where both messages keep failing. Every
/// message is answered with the matching framework response, status 0 or INVALID_PARAMETERS (when the new state is
/// Error).
/// </summary>
public sealed class VmAvailabilityStates
{
    private readonly Dictionary<ushort, VmAvailabilityState> _states = [];

    public VmAvailabilityState this[ushort vm] => _states.GetValueOrDefault(vm);

    /// <summary>Every VM's state but the default (Unavailable), in VM order, for a snapshot.</summary>
    public IReadOnlyList<Snapshots.VmAvailabilityEntry> Export() =>
        _states.Where(s => s.Value != VmAvailabilityState.Unavailable).OrderBy(s => s.Key).Select(s => new Snapshots.VmAvailabilityEntry(s.Key, s.Value)).ToList();

    public void Load(IEnumerable<Snapshots.VmAvailabilityEntry> entries)
    {
        _states.Clear();
        foreach (var e in entries) _states[e.Vm] = e.State;
    }

    /// <summary>
    /// Answers <paramref name="delivered"/> when it is a VM availability message and returns true; false for
    /// anything else (the behaviour handles it).
    /// </summary>
    public bool TryAnswer(IPartitionCpu sp, SmcFrame delivered)
    {
        if (Message.Request(delivered) is not DirectReq { IsFramework: true } request) return false;
        var function = DirectMessageFlags.Type(request.Flags);
        if (function is not (VmAvailability.Created or VmAvailability.Destroyed)) return false;
        var vm = (ushort)request.Payload[2];
        var created = function == VmAvailability.Created;
        var next = (this[vm], created) switch
        {
            (VmAvailabilityState.Unavailable, true) => VmAvailabilityState.Available,
            (VmAvailabilityState.Available, false) => VmAvailabilityState.Unavailable,
            _ => VmAvailabilityState.Error,
        };
        _states[vm] = next;
        var status = next == VmAvailabilityState.Error ? FfaError.InvalidParameters.Encoded() : 0;
        var flags = DirectMessageFlags.Framework | (created ? VmAvailability.CreatedResponse : VmAvailability.DestroyedResponse);
        // RESP_32 whatever the request's width, as the test service answers (it completes either: table 15.11).
        sp.Call(new DirectResp(sp.Id, request.Sender, flags, [status]));
        return true;
    }
}
