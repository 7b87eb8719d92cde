namespace Spmc.Clients.Tests;

/// <summary>What the discover → echo → share → reclaim examples print (Python and .NET print the same steps).</summary>
internal static class ExampleSteps
{
    /// <summary>Asserts the ten lines of a passing run, its system named <paramref name="prefix"/>-PID.</summary>
    public static void AssertPassed(string[] lines, string prefix)
    {
        Assert.Equal(10, lines.Length);
        Assert.Matches($@"^system {prefix}-\d+: 0x8001 echo \(echo\), 0x8002 memory \(memory\), 0x8003 notifier \(notifier\)$", lines[0]);
        Assert.Equal("1. FFA_VERSION 1.2: version 1.2", lines[1]);
        Assert.Equal("2. FFA_RXTX_MAP_64: TX 0x80001000, RX 0x80002000, 1 page", lines[2]);
        Assert.Equal("3. FFA_PARTITION_INFO_GET (nil UUID): 4 entries: 0x8001 7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4a01, " +
                     "0x8002 7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4a02, 0x8003 7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4a03, " +
                     "0x8003 7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4a04", lines[3]);
        Assert.Equal("4. direct request to 0x8001 (echo): FFA_MSG_SEND_DIRECT_RESP_32, payload 0x11 0x22 0x33", lines[4]);
        Assert.Equal("5. FFA_MEM_SHARE_32: 1 page at 0x80100000 (0xA5 bytes) to 0x8002, handle 0x1", lines[5]);
        Assert.Equal("6. direct request to 0x8002 (memory): retrieve, check, write: status 0, 1 page retrieved, " +
                     "checked 0xA5, the host now reads 0x5A", lines[6]);
        Assert.Equal("7. FFA_MEM_RECLAIM: handle 0x1 reclaimed, no share left", lines[7]);
        Assert.Equal("8. FFA_RXTX_UNMAP: done", lines[8]);
        Assert.Matches($@"^8 of 8 steps passed; system {prefix}-\d+ deleted$", lines[9]);
    }
}
