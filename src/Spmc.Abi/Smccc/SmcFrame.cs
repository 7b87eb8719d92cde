using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Spmc.Abi.Smccc;

/// <summary>The 18 general-purpose registers x0..x17 that SMCCC 1.2 passes in both directions.</summary>
[InlineArray(Count)]
public struct Registers
{
    public const int Count = 18;
    private ulong _x0;
}

/// <summary>
/// One SMCCC 1.2 register frame (x0..x17). x0 holds the function ID on entry and the result on exit.
/// A value type with no behaviour beyond register access: codecs and handlers live elsewhere.
/// </summary>
[JsonConverter(typeof(SmcFrameJsonConverter))]
public struct SmcFrame
{
    private Registers _x;

    public ulong this[int index]
    {
        readonly get => _x[index];
        set => _x[index] = value;
    }

    /// <summary>Builds a frame from up to 18 values; missing registers are zero.</summary>
    public static SmcFrame From(ReadOnlySpan<ulong> values)
    {
        if (values.Length > Registers.Count)
            throw new ArgumentException($"a frame has at most {Registers.Count} registers, got {values.Length}", nameof(values));
        var frame = new SmcFrame();
        for (var i = 0; i < values.Length; i++) frame[i] = values[i];
        return frame;
    }

    public static SmcFrame From(params ulong[] values) => From(values.AsSpan());

    public readonly ulong[] ToArray()
    {
        var result = new ulong[Registers.Count];
        for (var i = 0; i < Registers.Count; i++) result[i] = _x[i];
        return result;
    }

    /// <summary>Function ID as the callee decodes it: the low 32 bits of x0.</summary>
    public readonly uint FunctionId => (uint)_x[0];

    /// <summary>True for the SMC64 calling convention (function ID bit 30): arguments are x1..x17, else w1..w7.</summary>
    public readonly bool Is64 => new SmcccFunctionId(FunctionId).Is64Bit;

    /// <summary>The 32-bit view of register <paramref name="index"/> (wN).</summary>
    public readonly uint W(int index) => (uint)_x[index];

    /// <summary>
    /// The view of the frame an SMC32 callee has: only w0..w7 carry arguments (SMCCC 1.2 §2.6), so the
    /// upper halves of x0..x7 are dropped and x8..x17 are not arguments at all.
    /// </summary>
    public readonly SmcFrame As32BitArguments()
    {
        var frame = new SmcFrame();
        for (var i = 0; i < 8; i++) frame[i] = (uint)_x[i];
        return frame;
    }

    /// <summary>x0: the function ID of a call, the result of an answer.</summary>
    public readonly ulong X0 => _x[0];

    /// <summary>The same frame with x0 = <paramref name="x0"/>.</summary>
    public readonly SmcFrame WithX0(ulong x0)
    {
        var frame = this;
        frame._x[0] = x0;
        return frame;
    }

    /// <summary>
    /// The registers an SMC32 caller gets back (SMCCC 1.2 §2.6): w0..w7 of <paramref name="result"/> zero-extended,
    /// and x8..x17 preserved, i.e. as the caller sent them in <paramref name="input"/>.
    /// </summary>
    public static SmcFrame Smc32Result(SmcFrame result, SmcFrame input)
    {
        var frame = new SmcFrame();
        for (var i = 0; i < 8; i++) frame[i] = (uint)result[i];
        for (var i = 8; i < Registers.Count; i++) frame[i] = input[i];
        return frame;
    }

    public readonly bool ExtendedRegistersAreZero()
    {
        for (var i = 8; i < Registers.Count; i++)
            if (_x[i] != 0) return false;
        return true;
    }

    public override readonly string ToString()
    {
        var parts = new string[Registers.Count];
        for (var i = 0; i < Registers.Count; i++) parts[i] = $"x{i}=0x{_x[i]:X}";
        return string.Join(' ', parts);
    }
}

/// <summary>A frame in JSON is the array of its 18 registers.</summary>
public sealed class SmcFrameJsonConverter : JsonConverter<SmcFrame>
{
    public override SmcFrame Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        SmcFrame.From(JsonSerializer.Deserialize<ulong[]>(ref reader, options) ?? throw new JsonException("a frame is an array of registers"));

    public override void Write(Utf8JsonWriter writer, SmcFrame value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        foreach (var x in value.ToArray()) writer.WriteNumberValue(x);
        writer.WriteEndArray();
    }
}
