using Spmc.Abi.Descriptors;
using Spmc.Abi.Ffa;
using Spmc.Abi.Rules;
using Spmc.Abi.Smccc;

namespace Spmc.Abi.Calls;

/// <summary>Register rules of the direct messaging ABIs.</summary>
public static class MessagingCallRules
{
    // Checked before anything else, framework messages aside (Hafnium api_ffa_msg_send_direct_req, first check).
    public static readonly Rule ReqW2Mbz = new("direct-req.w2-mbz", FfaError.InvalidParameters,
        "FFA_MSG_SEND_DIRECT_REQ: w2 is zero for a partition message (w2 bits[31:0]; bit 31 set marks a framework message)",
        "DEN0077 v1.2 table 16.6; Hafnium api_ffa_dir_msg_is_arg2_zero");
}

/// <summary>The flags word (w2) of FFA_MSG_SEND_DIRECT_REQ/RESP: bit 31 marks a framework message, bits[7:0] give its type.</summary>
public static class DirectMessageFlags
{
    public const uint Framework = 0x8000_0000;

    public static bool IsFramework(uint flags) => (flags & Framework) != 0;

    /// <summary>The framework message type (bits[7:0]), e.g. 4 = VM created, 6 = VM destroyed.</summary>
    public static byte Type(uint flags) => (byte)flags;
}

/// <summary>
/// A direct request as its receiver handles it, whichever ABI carried it (FFA_MSG_SEND_DIRECT_REQ_32/64 or
/// FFA_MSG_SEND_DIRECT_REQ2_64): who sent it, to whom, its payload, and the response that answers it.
/// </summary>
public interface IDirectRequest : IFfaCall
{
    ushort Sender { get; }
    ushort Receiver { get; }

    /// <summary>The payload registers: w3..w7 (x3..x7) for REQ, x4..x17 for REQ2.</summary>
    IReadOnlyList<ulong> Payload { get; }

    /// <summary>
    /// The response of the matching ABI and width, from the receiver back to the sender, carrying the first values
    /// of <paramref name="payload"/> that fit (cut to 32 bits for an SMC32 request).
    /// </summary>
    IFfaCall Response(IReadOnlyList<ulong> payload);
}

/// <summary>Decoding of a frame that may be any of the direct requests.</summary>
public static class DirectMessages
{
    /// <summary>The direct request <paramref name="frame"/> carries (REQ_32, REQ_64 or REQ2), or null for any other function or a frame breaking a register rule.</summary>
    public static IDirectRequest? DecodeRequest(in SmcFrame frame)
    {
        var fid = frame.FunctionId;
        if (fid == FfaFunctions.Id32(FfaFunction.MsgSendDirectReq) || fid == FfaFunctions.Id64(FfaFunction.MsgSendDirectReq))
            return DirectReq.Decode(frame) is { Ok: true } req ? req.Value : null;
        if (fid == FfaFunctions.Id64(FfaFunction.MsgSendDirectReq2))
            return DirectReq2.Decode(frame) is { Ok: true } req2 ? req2.Value : null;
        return null;
    }
}

/// <summary>Payload registers shared by the direct messaging records.</summary>
internal static class Payloads
{
    /// <summary>Registers <paramref name="first"/>.. (<paramref name="count"/> of them) as the frame's width delivers them.</summary>
    public static ulong[] Read(in SmcFrame frame, int first, int count)
    {
        var values = new ulong[count];
        for (var i = 0; i < count; i++) values[i] = Regs.Arg(frame, first + i);
        return values;
    }

    /// <summary>Writes <paramref name="values"/> from register <paramref name="first"/>, cut to 32 bits for an SMC32 frame.</summary>
    public static void Write(ref SmcFrame frame, int first, IReadOnlyList<ulong> values, int count, bool is64)
    {
        if (values.Count > count) throw new ArgumentException($"at most {count} payload registers, got {values.Count}", nameof(values));
        for (var i = 0; i < values.Count; i++) frame[first + i] = is64 ? values[i] : (uint)values[i];
    }

    /// <summary>The first values of <paramref name="values"/> that fit in <paramref name="count"/> registers, cut to 32 bits unless <paramref name="is64"/>.</summary>
    public static ulong[] Fit(IReadOnlyList<ulong> values, int count, bool is64) =>
        [.. values.Take(count).Select(v => is64 ? v : (uint)v)];

    /// <summary>True when <paramref name="a"/> and <paramref name="b"/> hold the same values, missing ones read as zero (x8..x17 not given = zero).</summary>
    public static bool SameOrZero(IReadOnlyList<ulong> a, IReadOnlyList<ulong> b)
    {
        for (var i = 0; i < Math.Max(a.Count, b.Count); i++)
            if ((i < a.Count ? a[i] : 0) != (i < b.Count ? b[i] : 0)) return false;
        return true;
    }

    /// <summary>A hash consistent with <see cref="SameOrZero"/>: trailing zeros do not count.</summary>
    public static int HashOrZero(IReadOnlyList<ulong> values)
    {
        var n = values.Count;
        while (n > 0 && values[n - 1] == 0) n--;
        return Hash([.. values.Take(n)]);
    }

    public static int Hash(IReadOnlyList<ulong> values)
    {
        var hash = new HashCode();
        foreach (var v in values) hash.Add(v);
        return hash.ToHashCode();
    }
}

/// <summary>
/// FFA_MSG_SEND_DIRECT_REQ_32/64 (DEN0077 v1.2 table 16.6; v1.3 §15.2 table 15.7): w1 = sender &lt;&lt; 16 |
/// receiver, w2 = flags (MBZ for a partition message, see <see cref="DirectMessageFlags"/>), payload w3..w7 (x3..x7
/// for SMC64). An SMC64 request also carries x8..x17 (<see cref="Extended"/>): FF-A 1.3 payload (table 15.7),
/// forwarded to the receiver only when sender and receiver are both above 1.2 (table 8.2).
/// </summary>
public sealed record DirectReq(ushort Sender, ushort Receiver, uint Flags, IReadOnlyList<ulong> Payload, bool Is64 = false)
    : IFfaCall<DirectReq>, IDirectRequest
{
    /// <summary>Payload registers: w3..w7.</summary>
    public const int PayloadCount = 5;

    public uint FunctionId => Regs.Id(FfaFunction.MsgSendDirectReq, Is64);

    public bool IsFramework => DirectMessageFlags.IsFramework(Flags);

    /// <summary>x1 bits[63:32] of an SMC64 request, kept as sent: the SPMC hands the receiver the caller's x1 unchanged, as Hafnium does (api_ffa_dir_msg_value).</summary>
    public uint X1High { get; init; }

    /// <summary>x8..x17, the registers FF-A 1.3 adds to an SMC64 request.</summary>
    public const int ExtendedCount = 10;

    /// <summary>x8..x17 of an SMC64 request as sent (empty for SMC32).</summary>
    public IReadOnlyList<ulong> Extended { get; init; } = [];

    /// <summary>True when any of x8..x17 is not zero.</summary>
    public bool HasExtendedPayload => Extended.Any(v => v != 0);

    public static ParseResult<DirectReq> Decode(in SmcFrame frame)
    {
        var x2 = Regs.Arg(frame, 2);
        var flags = (uint)x2;
        if (!DirectMessageFlags.IsFramework(flags) && flags != 0)
            return MessagingCallRules.ReqW2Mbz.Reject($"w2 must be zero for a partition message (w2 = 0x{x2:X}); bit 31 marks a framework message");
        var x1 = Regs.Arg(frame, 1);
        return new DirectReq(EndpointId.Sender(x1), EndpointId.Receiver(x1), flags, Payloads.Read(frame, 3, PayloadCount), frame.Is64)
        {
            X1High = (uint)(x1 >> 32),
            Extended = frame.Is64 ? Payloads.Read(frame, 8, ExtendedCount) : [],
        };
    }

    public SmcFrame Encode()
    {
        var frame = Regs.Frame(FunctionId, (Is64 ? (ulong)X1High << 32 : 0) | EndpointId.Pack(Sender, Receiver), Flags);
        Payloads.Write(ref frame, 3, Payload, PayloadCount, Is64);
        if (Is64) Payloads.Write(ref frame, 8, Extended, ExtendedCount, Is64);
        return frame;
    }

    /// <summary>FFA_MSG_SEND_DIRECT_RESP of this request's width, from <see cref="Receiver"/> to <see cref="Sender"/>.</summary>
    public IFfaCall Response(IReadOnlyList<ulong> payload) => Response(payload, []);

    /// <summary>
    /// As <see cref="Response(IReadOnlyList{ulong})"/>, with <paramref name="extended"/> in x8..x17 of an SMC64
    /// response (FF-A 1.3; ignored for an SMC32 request).
    /// </summary>
    public DirectResp Response(IReadOnlyList<ulong> payload, IReadOnlyList<ulong> extended) =>
        new(Receiver, Sender, 0, Payloads.Fit(payload, PayloadCount, Is64), Is64) { Extended = Is64 ? Payloads.Fit(extended, ExtendedCount, true) : [] };

    public bool Equals(DirectReq? other) => other is not null && Sender == other.Sender && Receiver == other.Receiver &&
        Flags == other.Flags && Is64 == other.Is64 && X1High == other.X1High && Payload.SequenceEqual(other.Payload) &&
        Payloads.SameOrZero(Extended, other.Extended);

    public override int GetHashCode() => HashCode.Combine(Sender, Receiver, Flags, Is64, X1High, Payloads.Hash(Payload), Payloads.HashOrZero(Extended));
}

/// <summary>
/// FFA_MSG_SEND_DIRECT_RESP_32/64 (DEN0077 v1.3 §15.3 table 15.11): w1 = sender &lt;&lt; 16 | receiver, w2 = flags
/// (MBZ for a partition message), payload w3..w7 (x3..x7 for SMC64). For SMC64 the record also carries x8..x17
/// (<see cref="Extended"/>), which a v1.2 responder must leave zero and an FF-A 1.3 one may use (table 15.11).
/// </summary>
public sealed record DirectResp(ushort Sender, ushort Receiver, uint Flags, IReadOnlyList<ulong> Payload, bool Is64 = false)
    : IFfaCall<DirectResp>
{
    /// <summary>Payload registers: w3..w7.</summary>
    public const int PayloadCount = 5;

    /// <summary>x8..x17, the registers FF-A 1.3 adds to an SMC64 response.</summary>
    public const int ExtendedCount = 10;

    public uint FunctionId => Regs.Id(FfaFunction.MsgSendDirectResp, Is64);

    public bool IsFramework => DirectMessageFlags.IsFramework(Flags);

    /// <summary>x2 bits[63:32] of an SMC64 response as sent (reserved: only w2 is the flags word).</summary>
    public uint X2High { get; init; }

    /// <summary>x2 as sent (w2 for SMC32).</summary>
    public ulong X2 => (ulong)X2High << 32 | Flags;

    /// <summary>x8..x17 of an SMC64 response as sent (empty for SMC32).</summary>
    public IReadOnlyList<ulong> Extended { get; init; } = [];

    /// <summary>True when any of x8..x17 is not zero.</summary>
    public bool HasExtendedPayload => Extended.Any(v => v != 0);

    public static ParseResult<DirectResp> Decode(in SmcFrame frame)
    {
        var x1 = Regs.Arg(frame, 1);
        var x2 = Regs.Arg(frame, 2);
        return new DirectResp(EndpointId.Sender(x1), EndpointId.Receiver(x1), (uint)x2, Payloads.Read(frame, 3, PayloadCount), frame.Is64)
        {
            X2High = (uint)(x2 >> 32),
            Extended = frame.Is64 ? Payloads.Read(frame, 8, ExtendedCount) : [],
        };
    }

    public SmcFrame Encode()
    {
        var frame = Regs.Frame(FunctionId, EndpointId.Pack(Sender, Receiver), Is64 ? X2 : Flags);
        Payloads.Write(ref frame, 3, Payload, PayloadCount, Is64);
        if (Is64) Payloads.Write(ref frame, 8, Extended, ExtendedCount, Is64);
        return frame;
    }

    /// <summary>
    /// The response as the SPMC hands it to the requester: w2 cleared for a partition message (Hafnium
    /// api_ffa_dir_msg_value) and x8..x17 dropped (a v1.2 response carries w3..w7 only).
    /// </summary>
    public DirectResp Forwarded() => Forwarded(keepExtended: false);

    /// <summary>
    /// As <see cref="Forwarded()"/>, keeping x8..x17 when <paramref name="keepExtended"/> (FF-A 1.3 table 8.2:
    /// both sides above 1.2 and both frames SMC64).
    /// </summary>
    public DirectResp Forwarded(bool keepExtended)
    {
        var extended = keepExtended && Is64 ? Extended : [];
        return IsFramework ? this with { Extended = extended } : this with { Flags = 0, X2High = 0, Extended = extended };
    }

    /// <summary>The response with every value cut to 32 bits, as the sender of a 32-bit request receives it (Hafnium api_ffa_value_copy32).</summary>
    public DirectResp As32BitValues() => this with { X2High = 0, Payload = Payloads.Fit(Payload, PayloadCount, is64: false), Extended = [] };

    public bool Equals(DirectResp? other) => other is not null && Sender == other.Sender && Receiver == other.Receiver &&
        Flags == other.Flags && Is64 == other.Is64 && X2High == other.X2High && Payload.SequenceEqual(other.Payload) &&
        Extended.SequenceEqual(other.Extended);

    public override int GetHashCode() => HashCode.Combine(Sender, Receiver, Flags, Is64, X2High, Payloads.Hash(Payload), Payloads.Hash(Extended));
}

/// <summary>
/// FFA_MSG_SEND_DIRECT_REQ2_64 (DEN0077 v1.3 §15.4 table 15.15; v1.2, SMC64 only): x1 = sender &lt;&lt; 16 |
/// receiver, x2/x3 = the UUID of the service addressed (nil: any), payload x4..x17.
/// </summary>
public sealed record DirectReq2(ushort Sender, ushort Receiver, FfaUuid Uuid, IReadOnlyList<ulong> Payload) : IFfaCall<DirectReq2>, IDirectRequest
{
    /// <summary>Payload registers: x4..x17.</summary>
    public const int PayloadCount = 14;

    public uint FunctionId => FfaFunctions.Id64(FfaFunction.MsgSendDirectReq2);

    /// <summary>x1 bits[63:32] as sent: the SPMC hands the receiver the caller's registers unchanged (Hafnium api_ffa_dir_msg_value).</summary>
    public uint X1High { get; init; }

    public static ParseResult<DirectReq2> Decode(in SmcFrame frame)
    {
        var x1 = Regs.Arg(frame, 1);
        var uuid = FfaUuid.FromRegisters64(Regs.Arg(frame, 2), Regs.Arg(frame, 3));
        return new DirectReq2(EndpointId.Sender(x1), EndpointId.Receiver(x1), uuid, Payloads.Read(frame, 4, PayloadCount))
        {
            X1High = (uint)(x1 >> 32),
        };
    }

    public SmcFrame Encode()
    {
        var (lo, hi) = Uuid.ToRegisters64();
        var frame = Regs.Frame(FunctionId, (ulong)X1High << 32 | EndpointId.Pack(Sender, Receiver), lo, hi);
        Payloads.Write(ref frame, 4, Payload, PayloadCount, is64: true);
        return frame;
    }

    /// <summary>FFA_MSG_SEND_DIRECT_RESP2_64 from <see cref="Receiver"/> to <see cref="Sender"/>.</summary>
    public IFfaCall Response(IReadOnlyList<ulong> payload) => new DirectResp2(Receiver, Sender, Payloads.Fit(payload, PayloadCount, is64: true));

    public bool Equals(DirectReq2? other) => other is not null && Sender == other.Sender && Receiver == other.Receiver &&
        Uuid == other.Uuid && X1High == other.X1High && Payload.SequenceEqual(other.Payload);

    public override int GetHashCode() => HashCode.Combine(Sender, Receiver, Uuid, X1High, Payloads.Hash(Payload));
}

/// <summary>
/// FFA_MSG_SEND_DIRECT_RESP2_64 (DEN0077 v1.3 §15.5 table 15.19; v1.2, SMC64 only): x1 = sender &lt;&lt; 16 |
/// receiver, x2/x3 reserved (SBZ: not read, encoded as zero), payload x4..x17.
/// </summary>
public sealed record DirectResp2(ushort Sender, ushort Receiver, IReadOnlyList<ulong> Payload) : IFfaCall<DirectResp2>
{
    /// <summary>Payload registers: x4..x17.</summary>
    public const int PayloadCount = 14;

    public uint FunctionId => FfaFunctions.Id64(FfaFunction.MsgSendDirectResp2);

    public static ParseResult<DirectResp2> Decode(in SmcFrame frame)
    {
        var x1 = Regs.Arg(frame, 1);
        return new DirectResp2(EndpointId.Sender(x1), EndpointId.Receiver(x1), Payloads.Read(frame, 4, PayloadCount));
    }

    public SmcFrame Encode()
    {
        var frame = Regs.Frame(FunctionId, EndpointId.Pack(Sender, Receiver));
        Payloads.Write(ref frame, 4, Payload, PayloadCount, is64: true);
        return frame;
    }

    public bool Equals(DirectResp2? other) => other is not null && Sender == other.Sender && Receiver == other.Receiver &&
        Payload.SequenceEqual(other.Payload);

    public override int GetHashCode() => HashCode.Combine(Sender, Receiver, Payloads.Hash(Payload));
}
