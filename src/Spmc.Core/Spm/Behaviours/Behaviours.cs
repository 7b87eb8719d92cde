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

/// <summary>The behaviour names a manifest may give a partition.</summary>
public static class Behaviours
{
    public const string Echo = "echo", Memory = "memory", Notifier = "notifier", Remote = "remote";
    public static readonly IReadOnlyList<string> Names = [Echo, Memory, Notifier, Remote];

    /// <summary>The built-in behaviour for a name; null for "remote" and for no behaviour.</summary>
    public static IPartitionBehaviour? Create(string? name) => name switch
    {
        Echo => new EchoBehaviour(),
        Memory => new MemoryBehaviour(),
        Notifier => new NotifierBehaviour(),
        _ => null,
    };
}

/// <summary>The registers of a delivered message and the helpers behaviours share to answer it.</summary>
internal static class Message
{
    public static readonly uint Req32 = FfaFunctions.Id32(FfaFunction.MsgSendDirectReq), Req64 = FfaFunctions.Id64(FfaFunction.MsgSendDirectReq),
        Resp32 = FfaFunctions.Id32(FfaFunction.MsgSendDirectResp), Resp64 = FfaFunctions.Id64(FfaFunction.MsgSendDirectResp),
        Req2 = FfaFunctions.Id64(FfaFunction.MsgSendDirectReq2), Resp2 = FfaFunctions.Id64(FfaFunction.MsgSendDirectResp2),
        MsgWait = FfaFunctions.Id32(FfaFunction.MsgWait), NotificationSet = FfaFunctions.Id32(FfaFunction.NotificationSet);

    public static bool IsRequest(SmcFrame f) => (uint)f[0] == Req32 || (uint)f[0] == Req64 || (uint)f[0] == Req2;
    public static bool IsReq2(SmcFrame f) => (uint)f[0] == Req2;
    public static bool Is32(SmcFrame f) => (uint)f[0] == Req32;

    /// <summary>Payload word <paramref name="i"/>: w3.. for REQ (w3..w7), x4.. for REQ2 (x4..x17).</summary>
    public static ulong Payload(SmcFrame f, int i)
    {
        var first = IsReq2(f) ? 4 : 3;
        var last = IsReq2(f) ? 17 : 7;
        return first + i <= last ? f[first + i] : 0;
    }

    public static int PayloadCount(SmcFrame f) => IsReq2(f) ? 14 : 5;

    /// <summary>Answers the request with a response of the matching kind and width carrying <paramref name="payload"/>.</summary>
    public static FfaAnswer Respond(IPartitionCpu sp, SmcFrame request, params ulong[] payload)
    {
        var sender = EndpointId.Sender(request[1]);
        var frame = new SmcFrame();
        frame[0] = IsReq2(request) ? Resp2 : Is32(request) ? Resp32 : Resp64;
        frame[1] = (ulong)sp.Id << 16 | sender;
        var first = IsReq2(request) ? 4 : 3;
        for (var i = 0; i < payload.Length && i < PayloadCount(request); i++)
            frame[first + i] = Is32(request) ? (uint)payload[i] : payload[i];
        return sp.Call(frame);
    }

    public static FfaAnswer Wait(IPartitionCpu sp) => sp.Call(SmcFrame.From(MsgWait));
}

/// <summary>`echo`: answers every direct request with the same payload (REQ → RESP, REQ2 → RESP2, same width).</summary>
public sealed class EchoBehaviour : IPartitionBehaviour
{
    public string Name => Behaviours.Echo;

    public void Run(IPartitionCpu sp, SmcFrame delivered)
    {
        if (!Message.IsRequest(delivered)) { Message.Wait(sp); return; }
        var payload = new ulong[Message.PayloadCount(delivered)];
        for (var i = 0; i < payload.Length; i++) payload[i] = Message.Payload(delivered, i);
        Message.Respond(sp, delivered, payload);
    }
}

/// <summary>
/// `notifier`: sets notifications when asked. Payload: [0] receiver ID, [1] bitmap bits[31:0], [2] bitmap
/// bits[63:32], [3] FFA_NOTIFICATION_SET flags (w2). Answers [0] status (0, or the FF-A error code of the SET),
/// [1] receiver, [2] and [3] the bitmap as asked.
/// </summary>
public sealed class NotifierBehaviour : IPartitionBehaviour
{
    public string Name => Behaviours.Notifier;

    public void Run(IPartitionCpu sp, SmcFrame delivered)
    {
        if (!Message.IsRequest(delivered)) { Message.Wait(sp); return; }
        var receiver = (ushort)Message.Payload(delivered, 0);
        ulong lo = (uint)Message.Payload(delivered, 1), hi = (uint)Message.Payload(delivered, 2);
        var flags = (uint)Message.Payload(delivered, 3);
        var set = sp.Call(SmcFrame.From(Message.NotificationSet, (ulong)sp.Id << 16 | receiver, flags, lo, hi));
        Message.Respond(sp, delivered, set.Error is { } e ? e.Encoded() : 0, receiver, lo, hi);
    }
}
