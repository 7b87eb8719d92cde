using Spmc.Core.Memory;

namespace Spmc.Core.Tests.Memory;

public class PhysicalMemoryTests
{
    [Fact]
    public void Read_UntouchedMemory_IsZero_AndAllocatesNothing()
    {
        var memory = new PhysicalMemory();
        Assert.All(memory.Read(0x8000_0000, 10000), b => Assert.Equal(0, b));
        Assert.Equal(0, memory.ResidentPages);
    }

    [Fact]
    public void Write_Zeros_AllocatesNothing()
    {
        var memory = new PhysicalMemory();
        memory.Write(0x1000, new byte[3 * 4096]);
        Assert.Equal(0, memory.ResidentPages);
    }

    [Fact]
    public void Write_ThenRead_RoundTrips()
    {
        var memory = new PhysicalMemory();
        memory.Write(0x1234, [1, 2, 3]);
        Assert.Equal(new byte[] { 0, 1, 2, 3, 0 }, memory.Read(0x1233, 5));
        Assert.Equal(1, memory.ResidentPages);
    }

    [Fact]
    public void Write_AcrossAPageBoundary_TouchesBothPages()
    {
        var memory = new PhysicalMemory();
        memory.Write(0x0FFC, [1, 2, 3, 4, 5, 6, 7, 8]);
        Assert.Equal(2, memory.ResidentPages);
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }, memory.Read(0x0FFC, 8));
        Assert.Equal(new byte[] { 5, 6, 7, 8 }, memory.Read(0x1000, 4));
    }

    [Fact]
    public void Write_ZerosInOnePage_DataInTheNext_AllocatesOnlyTheSecond()
    {
        var memory = new PhysicalMemory();
        var data = new byte[4096 + 16];
        data[^1] = 0xAB;
        memory.Write(0x5000, data);
        Assert.Equal(1, memory.ResidentPages);
        Assert.Equal(0xAB, memory.Read(0x6000 + 15, 1)[0]);
    }

    [Fact]
    public void Write_ManyPages_ReadsBackAcrossAllOfThem()
    {
        var memory = new PhysicalMemory();
        var data = Enumerable.Range(0, 3 * 4096 + 100).Select(i => (byte)(i * 7 + 1)).ToArray();
        memory.Write(0x10_0F00, data);
        Assert.Equal(data, memory.Read(0x10_0F00, data.Length));
        Assert.Equal(4, memory.ResidentPages); // 0x100F00..0x103F63 spans pages 0x100..0x103
    }

    [Fact]
    public void Write_NearTheTopOfTheAddressSpace_Works()
    {
        var memory = new PhysicalMemory();
        memory.Write(0xFFFF_FFFF_FFFF_F000, [9]);
        memory.Write(0xFFFF_FFFF_FFFF_FFFF, [8]);
        Assert.Equal(new byte[] { 9 }, memory.Read(0xFFFF_FFFF_FFFF_F000, 1));
        Assert.Equal(new byte[] { 8 }, memory.Read(0xFFFF_FFFF_FFFF_FFFF, 1));
        Assert.Equal(1, memory.ResidentPages);
    }

    [Fact]
    public void Clear_PartOfAPage_ZeroesOnlyThatPart()
    {
        var memory = new PhysicalMemory();
        memory.Write(0x2000, Enumerable.Repeat((byte)0xFF, 4096).ToArray());
        memory.Clear(0x2010, 0x20);
        var page = memory.Read(0x2000, 4096);
        Assert.All(page[..0x10], b => Assert.Equal(0xFF, b));
        Assert.All(page[0x10..0x30], b => Assert.Equal(0, b));
        Assert.All(page[0x30..], b => Assert.Equal(0xFF, b));
        Assert.Equal(1, memory.ResidentPages);
    }

    [Fact]
    public void Clear_WholePages_DropsThem()
    {
        var memory = new PhysicalMemory();
        memory.Write(0x2000, Enumerable.Repeat((byte)0xFF, 3 * 4096).ToArray());
        Assert.Equal(3, memory.ResidentPages);
        memory.Clear(0x2800, 0x2000); // half of page 2, all of page 3, half of page 4
        Assert.Equal(2, memory.ResidentPages);
        Assert.All(memory.Read(0x2800, 0x2000), b => Assert.Equal(0, b));
        Assert.All(memory.Read(0x2000, 0x800), b => Assert.Equal(0xFF, b));
        Assert.All(memory.Read(0x4800, 0x800), b => Assert.Equal(0xFF, b));
    }

    [Fact]
    public void Clear_OneGiB_DropsResidentPagesAndLeavesOthers()
    {
        var memory = new PhysicalMemory();
        memory.Write(0x4000_0000, [1]);
        memory.Write(0x5000_0000, [2]);
        memory.Write(0x8000_0000, [3]); // just past the cleared range
        memory.Clear(0x4000_0000, 0x4000_0000);
        Assert.Equal(1, memory.ResidentPages);
        Assert.Equal(0, memory.Read(0x4000_0000, 1)[0]);
        Assert.Equal(0, memory.Read(0x5000_0000, 1)[0]);
        Assert.Equal(3, memory.Read(0x8000_0000, 1)[0]);
    }

    [Fact]
    public void Clear_ZeroLengthOrUntouched_IsANoOp()
    {
        var memory = new PhysicalMemory();
        memory.Write(0x1000, [1]);
        memory.Clear(0x1000, 0);
        memory.Clear(0x9000, 0x1000);
        Assert.Equal(1, memory.ResidentPages);
        Assert.Equal(1, memory.Read(0x1000, 1)[0]);
    }
}
