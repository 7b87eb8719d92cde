using Spmc.Abi.Calls;
using Spmc.Abi.Ffa;
using Spmc.Abi.Smccc;
using Spmc.Core.Calls;

namespace Spmc.Core.Spm.Behaviours;

/// <summary>
/// What a built-in behaviour sees of its partition: SMCs issued as that partition on the execution context
/// that was given the message (checked by the SPMC exactly as anyone else's), and memory the partition may
/// access under the SPMC's rules.
/// </summary>
public interface IPartitionCpu
{
    ushort Id { get; }
    int Vcpu { get; }
    FfaVersion Version { get; }
    FfaAnswer Call(SmcFrame frame);

    /// <summary>Issues <paramref name="call"/> as the partition (its <see cref="IFfaCall.Encode"/> frame).</summary>
    FfaAnswer Call(IFfaCall call) => Call(call.Encode());

    Mailbox? Mailbox { get; }
    /// <summary>Null when the partition may not read there (the reason is recorded).</summary>
    byte[]? Read(ulong address, int length);
    bool Write(ulong address, ReadOnlySpan<byte> data);
    /// <summary>The first region of memory the partition owns (from its manifest).</summary>
    ulong MemoryBase { get; }
    ulong MemorySize { get; }
}

/// <summary>
/// A partition's code: called when its execution context is given cycles (a direct request, or FFA_RUN) and
/// runs until it gives them back with a direct response or FFA_MSG_WAIT, as an SP's message loop does.
/// </summary>
public interface IPartitionBehaviour
{
    string Name { get; }
    void Run(IPartitionCpu sp, SmcFrame delivered);
}

/// <summary>A built-in behaviour's state between messages, saved in and restored from a snapshot.</summary>
public interface IBehaviourState
{
    Snapshots.BehaviourSnapshot Export();
    void Load(Snapshots.BehaviourSnapshot snapshot);
}

/// <summary>The behaviour names a manifest may give a partition.</summary>
public static class Behaviours
{
    public const string Echo = "echo", Memory = "memory", Notifier = "notifier", Relay = "relay", Remote = "remote";
    public static readonly IReadOnlyList<string> Names = [Echo, Memory, Notifier, Relay, Remote];

    /// <summary>The built-in behaviour for a name; null for "remote" and for no behaviour.</summary>
    public static IPartitionBehaviour? Create(string? name) => name switch
    {
        Echo => new EchoBehaviour(),
        Memory => new MemoryBehaviour(),
        Notifier => new NotifierBehaviour(),
        Relay => new RelayBehaviour(),
        _ => null,
    };
}

/// <summary>How behaviours read a delivered message and answer it, through the typed calls of Spmc.Abi.</summary>
internal static class Message
{
    /// <summary>The direct request <paramref name="delivered"/> carries (REQ_32/64 or REQ2), or null (FFA_RUN: nothing to answer).</summary>
    public static IDirectRequest? Request(SmcFrame delivered) => DirectMessages.DecodeRequest(delivered);

    /// <summary>Answers the request with a response of the matching kind and width carrying <paramref name="payload"/>.</summary>
    public static FfaAnswer Respond(IPartitionCpu sp, IDirectRequest request, params ulong[] payload) => sp.Call(request.Response(payload));

    public static FfaAnswer Wait(IPartitionCpu sp) => sp.Call(new MsgWait());
}

/// <summary>
/// `echo`: answers every direct request with the same payload (REQ → RESP, REQ2 → RESP2, same width; an SMC64
/// REQ's x8..x17 too, as the SPMC delivered them). One command: a REQ with w3 = <see cref="AbortCommand"/> makes
/// an FF-A 1.3 echo partition call FFA_ABORT (same width, w2 = the request's w4), which never completes; an older
/// one echoes it like any other payload.
/// </summary>
public sealed class EchoBehaviour : IPartitionBehaviour, IBehaviourState
{
    public Snapshots.BehaviourSnapshot Export() => new(_vms.Export());

    public void Load(Snapshots.BehaviourSnapshot snapshot) => _vms.Load(snapshot.Vms);

    /// <summary>w3 of a direct request that asks the echo partition to abort (FF-A 1.3 FFA_ABORT).</summary>
    public const uint AbortCommand = 0xFFA0_AB07;

    public string Name => Behaviours.Echo;

    private readonly VmAvailabilityStates _vms = new();

    public void Run(IPartitionCpu sp, SmcFrame delivered)
    {
        if (_vms.TryAnswer(sp, delivered)) return;
        if (Message.Request(delivered) is not { } request) { Message.Wait(sp); return; }
        if (request is DirectReq { } req && req.Payload[0] == AbortCommand && sp.Version >= FfaVersion.V1_3)
        {
            // FFA_ABORT does not complete: the SPMC answers the sender ABORTED and the partition never runs again.
            if (sp.Call(new Abort(req.Payload[1], req.Is64)).Error is null) return;
        }
        if (request is DirectReq { Is64: true } req64) { sp.Call(req64.Response(req64.Payload, req64.Extended)); return; }
        Message.Respond(sp, request, [.. request.Payload]);
    }
}

/// <summary>
/// `notifier`: sets notifications when asked. Payload: [0] receiver ID, [1] bitmap bits[31:0], [2] bitmap
/// bits[63:32], [3] FFA_NOTIFICATION_SET flags (w2). Answers [0] status (0, or the FF-A error code of the SET),
/// [1] receiver, [2] and [3] the bitmap as asked.
/// </summary>
public sealed class NotifierBehaviour : IPartitionBehaviour, IBehaviourState
{
    public Snapshots.BehaviourSnapshot Export() => new(_vms.Export());

    public void Load(Snapshots.BehaviourSnapshot snapshot) => _vms.Load(snapshot.Vms);

    public string Name => Behaviours.Notifier;

    private readonly VmAvailabilityStates _vms = new();

    public void Run(IPartitionCpu sp, SmcFrame delivered)
    {
        if (_vms.TryAnswer(sp, delivered)) return;
        if (Message.Request(delivered) is not { } request) { Message.Wait(sp); return; }
        var payload = request.Payload;
        var receiver = (ushort)payload[0];
        uint lo = (uint)payload[1], hi = (uint)payload[2];
        var flags = (uint)payload[3];
        var set = sp.Call(new NotificationSet(sp.Id, receiver, flags, (ulong)hi << 32 | lo));
        Message.Respond(sp, request, set.Error is { } e ? e.Encoded() : 0, receiver, lo, hi);
    }
}
