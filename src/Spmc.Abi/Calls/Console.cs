using System.Buffers.Binary;
using Spmc.Abi.Descriptors;
using Spmc.Abi.Ffa;
using Spmc.Abi.Smccc;

namespace Spmc.Abi.Calls;

/// <summary>
/// FFA_CONSOLE_LOG (DEN0077 v1.3 §13.12, v1.2): w1/x1 = the character count; the characters tightly packed,
/// little-endian, from w2/x2: SMC32 carries w2..w7 (24 characters), SMC64 x2..x17 (128; x2..x7, 48, before v1.2
/// ALP1 extended it). <see cref="Characters"/> holds every character register of the width, whatever the count;
/// the count is checked by the callee, whose limit can depend on the caller's version.
/// </summary>
public sealed record ConsoleLog(ulong Count, ReadOnlyMemory<byte> Characters, bool Is64 = false) : IFfaCall<ConsoleLog>
{
    public const int FirstCharacterRegister = 2;
    public const int MaxCharacters32 = 24;
    public const int MaxCharacters64 = 128;

    /// <summary>SMC64 before v1.2 ALP1 carried characters in x2..x7 only.</summary>
    public const int MaxCharacters64Before1_2 = 48;

    public uint FunctionId => Regs.Id(FfaFunction.ConsoleLog, Is64);

    /// <summary>A call logging <paramref name="characters"/> (count = their length).</summary>
    public static ConsoleLog Of(ReadOnlySpan<byte> characters, bool is64)
    {
        var max = is64 ? MaxCharacters64 : MaxCharacters32;
        if (characters.Length > max)
            throw new ArgumentException($"{characters.Length} characters do not fit one SMC{(is64 ? 64 : 32)} FFA_CONSOLE_LOG (at most {max})", nameof(characters));
        var padded = new byte[max];
        characters.CopyTo(padded);
        return new ConsoleLog((ulong)characters.Length, padded, is64);
    }

    public static ParseResult<ConsoleLog> Decode(in SmcFrame frame)
    {
        var width = frame.Is64 ? 8 : 4;
        var chars = new byte[frame.Is64 ? MaxCharacters64 : MaxCharacters32];
        for (var r = 0; r < chars.Length / width; r++)
        {
            var value = Regs.Arg(frame, FirstCharacterRegister + r);
            if (frame.Is64) BinaryPrimitives.WriteUInt64LittleEndian(chars.AsSpan(r * width), value);
            else BinaryPrimitives.WriteUInt32LittleEndian(chars.AsSpan(r * width), (uint)value);
        }
        return new ConsoleLog(Regs.Arg(frame, 1), chars, frame.Is64);
    }

    public SmcFrame Encode()
    {
        var width = Is64 ? 8 : 4;
        var max = Is64 ? MaxCharacters64 : MaxCharacters32;
        if (Characters.Length > max)
            throw new InvalidOperationException($"{Characters.Length} character bytes do not fit the SMC{(Is64 ? 64 : 32)} character registers ({max})");
        var padded = new byte[max];
        Characters.Span.CopyTo(padded);
        var args = new ulong[1 + max / width];
        args[0] = Count;
        for (var r = 0; r < max / width; r++)
            args[1 + r] = Is64 ? BinaryPrimitives.ReadUInt64LittleEndian(padded.AsSpan(r * width)) : BinaryPrimitives.ReadUInt32LittleEndian(padded.AsSpan(r * width));
        return Regs.Frame(FunctionId, args);
    }

    /// <summary>Value equality over the character bytes (a record compares a memory by reference).</summary>
    public bool Equals(ConsoleLog? other) =>
        other is not null && Count == other.Count && Is64 == other.Is64 && Characters.Span.SequenceEqual(other.Characters.Span);

    public override int GetHashCode() => HashCode.Combine(Count, Is64, Characters.Length);
}
