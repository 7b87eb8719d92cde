using System.Globalization;
using Spmc.Abi.Ffa;
using Spmc.V1;

namespace Spmc.Cli;

/// <summary>A command line the CLI cannot use (exit code 2), with a message naming the bad value.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>Parses the values users type: numbers (hex or decimal), FF-A versions, function names, hex bytes.</summary>
public static class Values
{
    /// <summary>"0x8001", "32769", "1.2" (an FF-A version, packed as major &lt;&lt; 16 | minor).</summary>
    public static ulong Register(string text, string what)
    {
        if (text.Contains('.'))
            return FfaVersion.TryParse(text, out var version) ? version.Encoded : throw new UsageException($"{what}: '{text}' is not a version like 1.2");
        return Number(text, what);
    }

    /// <summary>A 64-bit number: "0x..." hex or decimal ('_' allowed as a separator).</summary>
    public static ulong Number(string text, string what)
    {
        var t = text.Trim().Replace("_", "");
        var ok = t.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.TryParse(t.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value)
            : ulong.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out value);
        return ok ? value : throw new UsageException($"{what}: '{text}' is not a number (hex 0x... or decimal)");
    }

    public static uint Number32(string text, string what)
    {
        var value = Number(text, what);
        return value <= uint.MaxValue ? (uint)value : throw new UsageException($"{what}: {text} does not fit in 32 bits");
    }

    /// <summary>A 16-bit endpoint ID.</summary>
    public static ushort Endpoint(string text, string what)
    {
        var value = Number(text, what);
        return value <= ushort.MaxValue ? (ushort)value : throw new UsageException($"{what}: {text} is not a 16-bit endpoint ID");
    }

    private static readonly Dictionary<string, uint> Smccc = new(StringComparer.OrdinalIgnoreCase)
    {
        ["SMCCC_VERSION"] = 0x8000_0000,
        ["SMCCC_ARCH_FEATURES"] = 0x8000_0001,
    };

    /// <summary>
    /// A function ID from its FF-A name — with or without the FFA_ prefix, any case, with or without the _32/_64
    /// suffix (without it: the SMC32 form when there is one) — or an SMCCC name, or a number.
    /// </summary>
    public static uint Function(string text)
    {
        if (text.Length > 0 && char.IsDigit(text[0])) return Number32(text, "function");
        if (Smccc.TryGetValue(text, out var smccc)) return smccc;
        var name = text.ToUpperInvariant().Replace('-', '_');
        if (!name.StartsWith("FFA_", StringComparison.Ordinal)) name = "FFA_" + name;
        bool? is64 = null;
        if (name.EndsWith("_32", StringComparison.Ordinal)) { is64 = false; name = name[..^3]; }
        else if (name.EndsWith("_64", StringComparison.Ordinal)) { is64 = true; name = name[..^3]; }
        var info = FfaFunctions.All.FirstOrDefault(f => f.Name == name)
            ?? throw new UsageException($"function: '{text}' is no FF-A function name (e.g. FFA_VERSION, MEM_SHARE_64) or number");
        var wide = is64 ?? info.Since32 is null;
        if (info.Since(wide) is null)
            throw new UsageException($"function: {info.Name} has no {(wide ? "SMC64" : "SMC32")} form");
        return wide ? info.Id64 : info.Id32;
    }

    /// <summary>
    /// A fault rule's function and action: an FF-A error name (the server checks it), or "delay", "abort", "stage2"
    /// or "fragment:N" (docs/faults.md).
    /// </summary>
    public static FaultRuleSpec FaultAction(string function, string action)
    {
        var spec = new FaultRuleSpec { Function = function };
        var a = action.Trim().ToLowerInvariant();
        switch (a)
        {
            case "delay": spec.Delay = true; break;
            case "abort": spec.Abort = true; break;
            case "stage2": spec.Stage2 = true; break;
            case "fragment": throw new UsageException("action: fragment needs a size, e.g. fragment:256");
            default:
                if (a.StartsWith("fragment:", StringComparison.Ordinal))
                {
                    var size = Number(a["fragment:".Length..], "action: fragment size");
                    spec.Fragment = size <= int.MaxValue ? (long)size : throw new UsageException($"action: fragment size {size} is too large (at most 65536)");
                }
                else spec.Error = action.Trim();
                break;
        }
        return spec;
    }

    /// <summary>The most bytes a memory write or a descriptor may have (the service's limit).</summary>
    public const int MaxBytes = 1 << 20;

    /// <summary>The most JSON a snapshot restore or create takes in one gRPC message (the service's receive limit, less room).</summary>
    public const int MaxSnapshotBytes = (8 << 20) - (64 << 10);

    /// <summary>A file's bytes, refused (usage error) above <paramref name="max"/> before it is read.</summary>
    public static async Task<byte[]> ReadFileAsync(string path, long max, string what, CancellationToken ct)
    {
        var length = new FileInfo(path).Length;   // FileNotFoundException is an IOException: a usage error
        if (length > max) throw new UsageException($"{what}: {path} has {length} bytes, more than the {max} allowed");
        return await File.ReadAllBytesAsync(path, ct);
    }

    /// <summary>
    /// A snapshot document for restore or create. One above the gRPC request limit is refused here with the way
    /// around it, rather than by the service after it was sent.
    /// </summary>
    public static async Task<string> ReadSnapshotAsync(string path, CancellationToken ct)
    {
        var length = new FileInfo(path).Length;
        if (length > MaxSnapshotBytes)
            throw new UsageException($"snapshot: {path} has {length} bytes; one gRPC request takes at most {MaxSnapshotBytes}. " +
                "Send it over REST (curl -X POST .../api/v1/systems/ID/restore -H 'content-type: application/json' --data-binary @FILE) " +
                "or with the streaming RPCs (docs/snapshots.md)");
        return await File.ReadAllTextAsync(path, ct);
    }

    /// <summary>Hex bytes ("0a0b0c", "0a 0b 0c", "0x0a0b"), whitespace and ':' ignored.</summary>
    public static byte[] Hex(string text, string what)
    {
        var t = new string(text.Where(c => !char.IsWhiteSpace(c) && c != ':').ToArray());
        if (t.StartsWith("0x", StringComparison.OrdinalIgnoreCase)) t = t[2..];
        try { return Convert.FromHexString(t); }
        catch (FormatException) { throw new UsageException($"{what}: not an even number of hex digits"); }
    }
}
