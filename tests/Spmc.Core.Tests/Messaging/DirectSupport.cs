using Spmc.Abi.Smccc;
using Spmc.Core.Calls;
using Spmc.Core.Systems;
using Spmc.Core.Tests.Support;

namespace Spmc.Core.Tests.Messaging;

/// <summary>Direct messaging and run-time frames with IDs spelled out as numbers (ffa-abi.md §1.5, §1.7).</summary>
public static class Dm
{
    public const ulong Req32 = 0x8400_006F, Req64 = 0xC400_006F, Resp32 = 0x8400_0070, Resp64 = 0xC400_0070,
        Req2Id = 0xC400_008D, Resp2Id = 0xC400_008E, MsgWait = 0x8400_006B, Yield = 0x8400_006C, Run = 0x8400_006D, Interrupt = 0x8400_0062,
        MsgWait64 = 0xC400_006B, Yield64 = 0xC400_006C, Run64 = 0xC400_006D, Interrupt64 = 0xC400_0062, Abort32 = 0x8400_0090, Abort64 = 0xC400_0090;

    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(10);

    public static ulong W1(ushort sender, ushort receiver) => (ulong)sender << 16 | receiver;

    /// <summary>REQ_32/REQ_64: w1 = sender &lt;&lt; 16 | receiver, w2, payload in w3..w7.</summary>
    public static SmcFrame Req(ushort sender, ushort receiver, bool smc64 = false, ulong w2 = 0, params ulong[] payload)
    {
        var f = SmcFrame.From(smc64 ? Req64 : Req32, W1(sender, receiver), w2);
        for (var i = 0; i < payload.Length; i++) f[3 + i] = payload[i];
        return f;
    }

    /// <summary>REQ2: x2/x3 = UUID, payload x4..x17.</summary>
    public static SmcFrame Req2(ushort sender, ushort receiver, string uuid = Uuid.Nil, params ulong[] payload)
    {
        var (lo, hi) = Uuid.Words64(uuid);
        var f = SmcFrame.From(Req2Id, W1(sender, receiver), lo, hi);
        for (var i = 0; i < payload.Length; i++) f[4 + i] = payload[i];
        return f;
    }

    public static SmcFrame Resp(ushort sender, ushort receiver, bool smc64 = false, params ulong[] payload)
    {
        var f = SmcFrame.From(smc64 ? Resp64 : Resp32, W1(sender, receiver));
        for (var i = 0; i < payload.Length; i++) f[3 + i] = payload[i];
        return f;
    }

    public static SmcFrame Resp2(ushort sender, ushort receiver, params ulong[] payload)
    {
        var f = SmcFrame.From(Resp2Id, W1(sender, receiver));
        for (var i = 0; i < payload.Length; i++) f[4 + i] = payload[i];
        return f;
    }

    public static SmcFrame Wait() => SmcFrame.From(MsgWait);
    public static SmcFrame YieldFrame(ulong w2 = 0, ulong w3 = 0) => SmcFrame.From(Yield, 0, w2, w3);
    public static SmcFrame RunFrame(ushort id, ushort vcpu = 0, bool smc64 = false) => SmcFrame.From(smc64 ? Run64 : Run, W1(id, vcpu));

    /// <summary>FFA_ABORT_32/64: w2 = an IMPLEMENTATION DEFINED code, the rest zero.</summary>
    public static SmcFrame AbortFrame(ulong code = 0, bool smc64 = false) => SmcFrame.From(smc64 ? Abort64 : Abort32, 0, code);

    /// <summary>REQ_64 with x3..x17 all set (FF-A 1.3 payload).</summary>
    public static SmcFrame Req64Full(ushort sender, ushort receiver, ulong[] payload) => Req(sender, receiver, smc64: true, payload: payload);

    /// <summary>RESP_64 with x3..x17 all set (FF-A 1.3 payload).</summary>
    public static SmcFrame Resp64Full(ushort sender, ushort receiver, ulong[] payload) => Resp(sender, receiver, smc64: true, payload: payload);

    /// <summary>Every partition's contexts, for "nothing changed" checks.</summary>
    public static string Contexts(this TestSystem sys) => Contexts(sys.System);

    public static string Contexts(SimulatedSystem system) =>
        string.Join("\n", system.GetState().Partitions.Select(p => $"{p.Config.Id:X4} {p.Driver} {p.Attached}: {string.Join("; ", p.Contexts)}"));

    /// <summary>
    /// Runs the call and checks it failed with <paramref name="error"/> by the rule with ID <paramref name="rule"/>
    /// and left every context as it was.
    /// </summary>
    public static SmcOutcome Fails(this TestSystem sys, ushort caller, SmcFrame frame, Err error, string rule, uint vcpu = 0)
    {
        var before = sys.Contexts();
        var o = Expect.Error(sys.Call(caller, frame, vcpu), error, rule);
        Assert.Equal(before, sys.Contexts());
        return o;
    }

    public static SmcOutcome Answer(SmcOutcome o, ulong x0)
    {
        Assert.True(o.Frame[0] == x0 && o.Decoded.Error is null, $"expected x0 = 0x{x0:X}, got x0 = 0x{o.Frame[0]:X} x2 = 0x{o.Frame[2]:X}; {o.Decoded}");
        return o;
    }

    public static Task<SmcOutcome> CallAsync(this SimulatedSystem system, ushort caller, SmcFrame frame, uint vcpu = 0) =>
        system.CallAsync(new SmcCall(caller, vcpu, Conduit.Smc, frame));
}
