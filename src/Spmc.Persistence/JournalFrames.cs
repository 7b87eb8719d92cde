using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;

namespace Spmc.Persistence;

/// <summary>
/// The journal's framing: each entry is <c>[length u32 LE][CRC-32 of the payload u32 LE][payload]</c>, the payload one
/// trace entry line (docs/traces.md) in UTF-8. A frame is appended whole; a crash can leave only a torn last frame
/// (short, or its CRC wrong), which a reader recognises and drops.
/// </summary>
public static class JournalFrames
{
    public const int HeaderBytes = 8;

    /// <summary>
    /// No entry is this big: a call writes at most 16 x 1 MiB (32 MiB as hex) and its read data is not journaled
    /// (PersistentStore), so an entry stays well below it. A larger length read back is a torn or corrupt header;
    /// <see cref="Append"/> refuses to write one (it would read back as torn and cut everything after it).
    /// </summary>
    public const int MaxPayload = 64 << 20;

    public static void Append(Stream to, ReadOnlySpan<byte> payload)
    {
        if (payload.Length is 0 or > MaxPayload)
            throw new ArgumentOutOfRangeException(nameof(payload), payload.Length, $"a journal entry is 1..{MaxPayload} bytes");
        Span<byte> header = stackalloc byte[HeaderBytes];
        BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)payload.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], Crc32.HashToUInt32(payload));
        to.Write(header);
        to.Write(payload);
    }

    /// <summary>
    /// The frames of <paramref name="data"/> in order, and where the valid ones end: <c>End</c> = data.Length when the
    /// whole buffer is frames, else the offset of the first frame that is short or fails its CRC (the torn tail).
    /// </summary>
    public static (List<ReadOnlyMemory<byte>> Frames, long End) Read(ReadOnlyMemory<byte> data)
    {
        var frames = new List<ReadOnlyMemory<byte>>();
        var at = 0;
        var span = data.Span;
        while (at < data.Length)
        {
            if (data.Length - at < HeaderBytes) break;
            var length = BinaryPrimitives.ReadUInt32LittleEndian(span[at..]);
            var crc = BinaryPrimitives.ReadUInt32LittleEndian(span[(at + 4)..]);
            // A zero length is never written (every entry is a JSON line), and 8 zero bytes would pass the CRC check
            // (CRC-32 of nothing is 0): a zero-filled tail must read as torn, not as an empty entry.
            if (length == 0 || length > MaxPayload || data.Length - at - HeaderBytes < length) break;
            var payload = data.Slice(at + HeaderBytes, (int)length);
            if (Crc32.HashToUInt32(payload.Span) != crc) break;
            frames.Add(payload);
            at += HeaderBytes + (int)length;
        }
        return (frames, at);
    }

    /// <summary>
    /// Whether the bad frame at <paramref name="end"/> (where <see cref="Read"/> stopped) is a torn tail: it reaches the
    /// end of the data (cut short, or its declared extent ends at or past the end), or nothing but zeros follows (a file
    /// the file system extended before a crash). Anything else is corruption with entries after it.
    /// </summary>
    public static bool IsTornTail(ReadOnlySpan<byte> data, long end)
    {
        if (end >= data.Length) return true;
        var rest = data[(int)end..];
        if (rest.Length < HeaderBytes || !rest.ContainsAnyExcept((byte)0)) return true;
        var length = BinaryPrimitives.ReadUInt32LittleEndian(rest);
        return length != 0 && (long)HeaderBytes + length >= rest.Length;
    }
}

/// <summary>Durable file operations: fsync of a file and of a directory (so a create, rename or delete survives a crash).</summary>
internal static partial class DurableFiles
{
    /// <summary>Writes <paramref name="path"/> atomically: a temporary file, fsync, rename, fsync of the directory.</summary>
    public static void WriteAtomically(string path, Action<Stream> write, bool sync)
    {
        var temp = path + ".tmp";
        using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
        {
            write(file);
            file.Flush(flushToDisk: sync);
        }
        File.Move(temp, path, overwrite: true);
        if (sync) SyncDirectory(Path.GetDirectoryName(path)!);
    }

    /// <summary>fsync(2) of a directory on Unix (its entries: created, renamed, deleted files); nothing elsewhere.</summary>
    public static void SyncDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return;
        var fd = Open(directory, 0 /* O_RDONLY */);
        if (fd < 0) throw new IOException($"cannot open directory '{directory}' to sync it (errno {Marshal.GetLastPInvokeError()})");
        try
        {
            if (Fsync(fd) != 0) throw new IOException($"fsync of directory '{directory}' failed (errno {Marshal.GetLastPInvokeError()})");
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
