using Spmc.Abi.Descriptors;
using Spmc.Abi.Ffa;
using Spmc.Abi.Rules;
using Spmc.Abi.Smccc;

namespace Spmc.Abi.Calls;

/// <summary>
/// One FF-A call (or return) as a typed value: the registers decoded once, by the call's own
/// <see cref="IFfaCall{TSelf}.Decode"/>, and encoded once, by <see cref="Encode"/>. The register count follows the
/// calling convention: an SMC32 call carries w1..w7, an SMC64 call x1..x17 (SMCCC 1.2 §2.6; FF-A 1.3 §11.1.2).
/// Decoders check the bits the spec marks SBZ/MBZ for that ABI and nothing that needs state.
/// </summary>
public interface IFfaCall
{
    /// <summary>The function ID this value is encoded with (its width included).</summary>
    uint FunctionId { get; }

    /// <summary>The register frame: x0 = <see cref="FunctionId"/>, arguments as the ABI places them, the rest zero.</summary>
    SmcFrame Encode();
}

/// <summary>A call that can be decoded from a frame whose function ID is one of its own.</summary>
public interface IFfaCall<TSelf> : IFfaCall where TSelf : IFfaCall<TSelf>
{
    /// <summary>
    /// Decodes <paramref name="frame"/>, whose x0 is one of this ABI's function IDs: the record, or the rejection of
    /// the first register rule it breaks. For SMC32 only w1..w7 are read.
    /// </summary>
    static abstract ParseResult<TSelf> Decode(in SmcFrame frame);
}

/// <summary>
/// Register helpers shared by the decoders and encoders: the argument view a frame's width gives, function IDs, frame
/// building and MBZ checks. Decoders of single-width ABIs read <see cref="SmcFrame.W"/> (SMC32) or x registers
/// (SMC64) directly.
/// </summary>
public static class Regs
{
    /// <summary>Argument register <paramref name="index"/> as the convention of <paramref name="frame"/> delivers it (wN for SMC32).</summary>
    public static ulong Arg(in SmcFrame frame, int index) => frame.Is64 ? frame[index] : frame.W(index);

    /// <summary>The function ID of <paramref name="function"/> in the given width.</summary>
    public static uint Id(FfaFunction function, bool is64) => is64 ? FfaFunctions.Id64(function) : FfaFunctions.Id32(function);

    /// <summary>
    /// A 64-bit value that travels as two 32-bit halves, <paramref name="low"/> in the first register and
    /// <paramref name="high"/> in the second (a notification bitmap, a yield timeout): only the w view of each counts.
    /// Encoders write the halves as <c>(uint)value, value &gt;&gt; 32</c>.
    /// </summary>
    public static ulong Join(ulong low, ulong high) => (uint)low | (ulong)(uint)high << 32;

    /// <summary>A frame with x0 = <paramref name="functionId"/> and x1.. = <paramref name="args"/>.</summary>
    public static SmcFrame Frame(uint functionId, params ReadOnlySpan<ulong> args)
    {
        var frame = new SmcFrame();
        frame[0] = functionId;
        for (var i = 0; i < args.Length; i++) frame[i + 1] = args[i];
        return frame;
    }

    /// <summary>
    /// The first of registers <paramref name="from"/>..<paramref name="to"/> (as the width delivers them) that is not
    /// zero, rejected by <paramref name="rule"/>; null when all are zero.
    /// </summary>
    public static Rejection? MustBeZero(in SmcFrame frame, int from, int to, Rule rule)
    {
        for (var i = from; i <= to; i++)
        {
            var value = Arg(frame, i);
            if (value != 0) return rule.Reject($"{(frame.Is64 ? 'x' : 'w')}{i} must be zero ({(frame.Is64 ? 'x' : 'w')}{i} = 0x{value:X})");
        }
        return null;
    }
}
