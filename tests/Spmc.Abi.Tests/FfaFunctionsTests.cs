using Spmc.Abi.Ffa;

namespace Spmc.Abi.Tests;

public class FfaFunctionsTests
{
    [Theory]
    [InlineData(0x8400_0060u, "FFA_ERROR_32")]
    [InlineData(0xC400_0060u, "FFA_ERROR_64")]
    [InlineData(0x8400_0061u, "FFA_SUCCESS_32")]
    [InlineData(0xC400_0061u, "FFA_SUCCESS_64")]
    [InlineData(0x8400_0063u, "FFA_VERSION")]
    [InlineData(0x8400_0064u, "FFA_FEATURES")]
    [InlineData(0x8400_0065u, "FFA_RX_RELEASE")]
    [InlineData(0x8400_0066u, "FFA_RXTX_MAP_32")]
    [InlineData(0xC400_0066u, "FFA_RXTX_MAP_64")]
    [InlineData(0x8400_0067u, "FFA_RXTX_UNMAP")]
    [InlineData(0x8400_0068u, "FFA_PARTITION_INFO_GET")]
    [InlineData(0x8400_0069u, "FFA_ID_GET")]
    [InlineData(0x8400_0084u, "FFA_RX_ACQUIRE")]
    [InlineData(0x8400_0085u, "FFA_SPM_ID_GET")]
    [InlineData(0x8400_008Au, "FFA_CONSOLE_LOG_32")]
    [InlineData(0xC400_008Au, "FFA_CONSOLE_LOG_64")]
    [InlineData(0xC400_008Bu, "FFA_PARTITION_INFO_GET_REGS")]
    [InlineData(0xC400_008Du, "FFA_MSG_SEND_DIRECT_REQ2")]
    [InlineData(0x8401_0063u, "FFA_VERSION")] // SVE hint ignored
    public void NameOf_NamesEachWidth(uint id, string name) => Assert.Equal(name, FfaFunctions.NameOf(id));

    [Theory]
    [InlineData(0xC400_0063u)] // FFA_VERSION has no SMC64 form
    [InlineData(0xC400_0068u)] // PARTITION_INFO_GET has no SMC64 form
    [InlineData(0x8400_008Bu)] // PARTITION_INFO_GET_REGS has no SMC32 form
    [InlineData(0x8400_008Du)] // DIRECT_REQ2 has no SMC32 form
    [InlineData(0x8400_00F0u)] // in the FF-A range but undefined
    [InlineData(0x8400_0091u)]
    [InlineData(0x8400_0000u)] // PSCI
    [InlineData(0x8000_0000u)] // SMCCC_VERSION
    [InlineData(0x0400_0063u)] // yielding call
    [InlineData(0u)]
    public void NameOf_NonFunctions_IsNull(uint id) => Assert.Null(FfaFunctions.NameOf(id));

    [Fact]
    public void Ids_AreFastCallsOfOwner4()
    {
        Assert.Equal(0x8400_0063u, FfaFunctions.Id32(FfaFunction.Version));
        Assert.Equal(0xC400_0066u, FfaFunctions.Id64(FfaFunction.RxTxMap));
        var info = FfaFunctions.Get(FfaFunction.PartitionInfoGetRegs);
        Assert.Equal(0x8400_008Bu, info.Id32);
        Assert.Equal(0xC400_008Bu, info.Id64);
    }

    [Fact]
    public void Table_HasOneEntryPerNumber_EachWithAtLeastOneWidth()
    {
        Assert.Equal(FfaFunctions.All.Count, FfaFunctions.All.Select(f => f.Function).Distinct().Count());
        Assert.All(FfaFunctions.All, f => Assert.True(f.Since32 is not null || f.Since64 is not null, f.Name));
        Assert.All(FfaFunctions.All, f => Assert.StartsWith("FFA_", f.Name));
        Assert.All(FfaFunctions.All, f => Assert.InRange((int)f.Function, 0x60, 0xFF));
    }

    [Theory]
    [InlineData(FfaFunction.Version, 0, -1)]
    [InlineData(FfaFunction.RxTxMap, 0, 0)]
    [InlineData(FfaFunction.SpmIdGet, 1, -1)]
    [InlineData(FfaFunction.RxAcquire, 1, -1)]
    [InlineData(FfaFunction.NotificationInfoGet, 1, 1)]
    [InlineData(FfaFunction.ConsoleLog, 2, 2)]
    [InlineData(FfaFunction.PartitionInfoGetRegs, -1, 2)]
    [InlineData(FfaFunction.MsgSendDirectReq2, -1, 2)]
    [InlineData(FfaFunction.Run, 0, 3)]
    public void Since_RecordsTheVersionEachWidthAppeared(FfaFunction function, int minor32, int minor64)
    {
        var info = FfaFunctions.Get(function);
        Assert.Equal(minor32 < 0 ? null : new FfaVersion(1, (ushort)minor32), info.Since32);
        Assert.Equal(minor64 < 0 ? null : new FfaVersion(1, (ushort)minor64), info.Since64);
        Assert.Equal(info.Since32, info.Since(false));
        Assert.Equal(info.Since64, info.Since(true));
    }

    [Fact]
    public void Find_UnknownNumber_IsNull()
    {
        Assert.Null(FfaFunctions.Find(0xF0));
        Assert.Null(FfaFunctions.Find(0x5F));
        Assert.Equal("FFA_VERSION", FfaFunctions.Find(0x63)!.Name);
    }

    [Fact]
    public void WidthName_KeepsBareNameForSingleWidthFunctions()
    {
        Assert.Equal("FFA_VERSION", FfaFunctions.Get(FfaFunction.Version).WidthName(false));
        Assert.Equal("FFA_RXTX_MAP_64", FfaFunctions.Get(FfaFunction.RxTxMap).WidthName(true));
        Assert.Equal("FFA_RXTX_MAP_32", FfaFunctions.Get(FfaFunction.RxTxMap).WidthName(false));
    }
}
