using Spmc.Abi.Smccc;

namespace Spmc.Abi.Tests;

public class SmcccFunctionIdTests
{
    [Theory]
    [InlineData(0x8400_0060u)] // FFA_ERROR_32: first FF-A number
    [InlineData(0x8400_0063u)] // FFA_VERSION
    [InlineData(0x8400_008Bu)]
    [InlineData(0x8400_00FFu)] // last number of the FF-A 1.2 range
    [InlineData(0xC400_0060u)] // 64-bit range start
    [InlineData(0xC400_00FFu)] // 64-bit range end
    [InlineData(0x8401_0063u)] // SVE "no live state" hint (bit 16) is not part of the decode
    [InlineData(0xC401_008Bu)]
    public void IsFfa_InsideTheRange(uint id) => Assert.True(new SmcccFunctionId(id).IsFfa);

    [Theory]
    [InlineData(0x8400_005Fu)] // one below the range (TRNG and PSCI live below)
    [InlineData(0x8400_0100u)] // one above
    [InlineData(0x8400_0000u)] // PSCI_VERSION
    [InlineData(0xC400_005Fu)]
    [InlineData(0xC400_0100u)]
    [InlineData(0x0400_0063u)] // yielding (standard) call: FF-A IDs are all fast calls
    [InlineData(0x4400_0063u)]
    [InlineData(0x8500_0063u)] // owner 5: standard hypervisor service
    [InlineData(0x8300_0063u)] // owner 3: OEM
    [InlineData(0xC200_0001u)] // SiP
    [InlineData(0x8402_0063u)] // bits[23:17] must be zero for fast calls
    [InlineData(0x8480_0063u)]
    [InlineData(0x8000_0000u)] // SMCCC_VERSION
    public void IsFfa_OutsideTheRange(uint id) => Assert.False(new SmcccFunctionId(id).IsFfa);

    [Fact]
    public void Canonical_MasksOnlyTheSveHintBit()
    {
        Assert.Equal(0x8400_0063u, new SmcccFunctionId(0x8401_0063).Canonical);
        Assert.Equal(0xC400_008Bu, new SmcccFunctionId(0xC401_008B).Canonical);
        Assert.Equal(0x8400_0063u, new SmcccFunctionId(0x8400_0063).Canonical);
        Assert.Equal(0x8402_0063u, new SmcccFunctionId(0x8403_0063).Canonical);
        Assert.Equal(1u << 16, SmcccFunctionId.SveHintMask);
    }

    [Fact]
    public void Fields_DecodeFastCallWidthOwnerAndNumber()
    {
        var id = new SmcccFunctionId(0xC400_008B);
        Assert.True(id.IsFastCall);
        Assert.True(id.Is64Bit);
        Assert.Equal(OwningEntity.StandardSecureService, id.Owner);
        Assert.Equal(0x8B, id.Number);

        var psci = new SmcccFunctionId(0x8400_0000);
        Assert.False(psci.Is64Bit);
        Assert.Equal(OwningEntity.StandardSecureService, psci.Owner);

        var sip = new SmcccFunctionId(0xC200_0001);
        Assert.Equal(OwningEntity.SiP, sip.Owner);
        Assert.Equal(1, sip.Number);

        var yielding = new SmcccFunctionId(0x0400_0063);
        Assert.False(yielding.IsFastCall);
        Assert.False(yielding.Is64Bit);

        Assert.Equal(OwningEntity.ArmArchitecture, new SmcccFunctionId(0x8000_0000).Owner);
        Assert.Equal(OwningEntity.StandardHypervisorService, new SmcccFunctionId(0x8500_0063).Owner);
    }

    [Fact]
    public void Constants_MatchSmccc()
    {
        Assert.Equal(0x8000_0000u, SmcccFunctionId.SmcccVersion);
        Assert.Equal(0x0001_0002u, SmcccFunctionId.Version1_2);
        Assert.Equal(0xFFFF_FFFF_FFFF_FFFFul, SmcccFunctionId.NotSupported);
    }
}
