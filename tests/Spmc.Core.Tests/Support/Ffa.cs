using System.Buffers.Binary;
using System.Text;
using Spmc.Abi.Smccc;

namespace Spmc.Core.Tests.Support;

/// <summary>
/// Frame builders and register constants for the FF-A calls under test. IDs and codes are spelled out as
/// numbers from the ABI reference, not taken from the product's tables, so the tests check those tables too.
/// </summary>
public static class Ffa
{
    public const ulong Error32 = 0x8400_0060, Success32 = 0x8400_0061, Success64 = 0xC400_0061;
    public const uint V1_0 = 0x0001_0000, V1_1 = 0x0001_0001, V1_2 = 0x0001_0002;

    public const uint VersionId = 0x8400_0063, FeaturesId = 0x8400_0064, RxReleaseId = 0x8400_0065,
        RxTxMap32Id = 0x8400_0066, RxTxMap64Id = 0xC400_0066, RxTxUnmapId = 0x8400_0067,
        PartitionInfoGetId = 0x8400_0068, IdGetId = 0x8400_0069, RxAcquireId = 0x8400_0084, SpmIdGetId = 0x8400_0085,
        ConsoleLog32Id = 0x8400_008A, ConsoleLog64Id = 0xC400_008A, PartitionInfoGetRegsId = 0xC400_008B;

    public static SmcFrame Frame(params ulong[] registers) => SmcFrame.From(registers);

    public static SmcFrame Version(ulong requested) => Frame(VersionId, requested);
    public static SmcFrame Features(ulong query, ulong input = 0) => Frame(FeaturesId, query, input);
    public static SmcFrame IdGet() => Frame(IdGetId);
    public static SmcFrame SpmIdGet() => Frame(SpmIdGetId);
    public static SmcFrame RxTxMap(ulong tx, ulong rx, ulong pages) => Frame(RxTxMap64Id, tx, rx, pages);
    public static SmcFrame RxTxMap32(ulong tx, ulong rx, ulong pages) => Frame(RxTxMap32Id, tx, rx, pages);
    public static SmcFrame RxTxUnmap(ushort id = 0) => Frame(RxTxUnmapId, (ulong)id << 16);
    public static SmcFrame RxRelease(ushort vm = 0) => Frame(RxReleaseId, vm);
    public static SmcFrame RxAcquire(ushort vm) => Frame(RxAcquireId, vm);

    /// <summary>FFA_PARTITION_INFO_GET: w1..w4 = the UUID's bytes as little-endian words, w5 = flags.</summary>
    public static SmcFrame PartitionInfoGet(string uuid, ulong flags = 0)
    {
        var w = Uuid.Words32(uuid);
        return Frame(PartitionInfoGetId, w[0], w[1], w[2], w[3], flags);
    }

    public static SmcFrame PartitionInfoGetCount(string uuid) => PartitionInfoGet(uuid, 1);

    /// <summary>FFA_PARTITION_INFO_GET_REGS: x1/x2 = UUID lo/hi, x3 = tag &lt;&lt; 16 | start index.</summary>
    public static SmcFrame PartitionInfoGetRegs(string uuid, ushort start = 0, ushort tag = 0)
    {
        var (lo, hi) = Uuid.Words64(uuid);
        return Frame(PartitionInfoGetRegsId, lo, hi, ((ulong)tag << 16) | start);
    }

    /// <summary>FFA_CONSOLE_LOG_32: w1 = count, characters packed little-endian into w2..w7.</summary>
    public static SmcFrame ConsoleLog32(string text, ulong? count = null) => ConsoleLog(ConsoleLog32Id, 4, 6, text, count);

    /// <summary>FFA_CONSOLE_LOG_64: x1 = count, characters packed little-endian into x2..x17.</summary>
    public static SmcFrame ConsoleLog64(string text, ulong? count = null) => ConsoleLog(ConsoleLog64Id, 8, 16, text, count);

    private static SmcFrame ConsoleLog(uint id, int width, int registers, string text, ulong? count)
    {
        var bytes = Encoding.ASCII.GetBytes(text);
        if (bytes.Length > width * registers) throw new ArgumentException("text does not fit the registers", nameof(text));
        var padded = new byte[width * registers];
        bytes.CopyTo(padded, 0);
        var frame = Frame(id, count ?? (ulong)bytes.Length);
        for (var r = 0; r < registers; r++)
            frame[2 + r] = width == 4
                ? BinaryPrimitives.ReadUInt32LittleEndian(padded.AsSpan(r * 4))
                : BinaryPrimitives.ReadUInt64LittleEndian(padded.AsSpan(r * 8));
        return frame;
    }
}

/// <summary>UUID text to register words, independent of the product's FfaUuid (bytes in string order, little-endian words).</summary>
public static class Uuid
{
    public const string Nil = "00000000-0000-0000-0000-000000000000";

    public static byte[] Bytes(string uuid) => Convert.FromHexString(uuid.Replace("-", "", StringComparison.Ordinal));

    public static uint[] Words32(string uuid)
    {
        var b = Bytes(uuid);
        return [.. Enumerable.Range(0, 4).Select(i => BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(i * 4)))];
    }

    public static (ulong Lo, ulong Hi) Words64(string uuid)
    {
        var b = Bytes(uuid);
        return (BinaryPrimitives.ReadUInt64LittleEndian(b), BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(8)));
    }
}
