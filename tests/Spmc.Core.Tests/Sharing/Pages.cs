using Spmc.Core.Tests.Support;

namespace Spmc.Core.Tests.Sharing;

/// <summary>Endpoints and pages of the default manifest as the sharing tests use them (buffers sit in each region's first two pages).</summary>
internal static class Pages
{
    public const ushort Host = 0x0000, Sp1 = 0x8001, Sp2 = 0x8002, Sp3 = 0x8003, Spmc = 0x8000;

    /// <summary>Host page <paramref name="n"/> from 0x80100000, well away from its RX/TX at 0x80000000.</summary>
    public static ulong HostPage(int n) => 0x8010_0000UL + (ulong)n * 0x1000;

    /// <summary>Page <paramref name="n"/> of SP 0x8001's region from +64 KiB (its RX/TX are the first two pages).</summary>
    public static ulong Sp1Page(int n) => 0x6001_0000UL + (ulong)n * 0x1000;

    public static ulong Sp2Page(int n) => 0x6011_0000UL + (ulong)n * 0x1000;

    /// <summary>An address no manifest region covers.</summary>
    public const ulong Unmapped = 0x1000_0000;

    public static readonly ulong[] SendIds =
        [MemIds.Share32, MemIds.Share64, MemIds.Lend32, MemIds.Lend64, MemIds.Donate32, MemIds.Donate64];
}
