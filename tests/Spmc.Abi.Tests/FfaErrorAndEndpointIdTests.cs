using Spmc.Abi.Ffa;

namespace Spmc.Abi.Tests;

public class FfaErrorTests
{
    [Theory]
    [InlineData(FfaError.NotSupported, 0xFFFF_FFFFul, "NOT_SUPPORTED")]
    [InlineData(FfaError.InvalidParameters, 0xFFFF_FFFEul, "INVALID_PARAMETERS")]
    [InlineData(FfaError.NoMemory, 0xFFFF_FFFDul, "NO_MEMORY")]
    [InlineData(FfaError.Busy, 0xFFFF_FFFCul, "BUSY")]
    [InlineData(FfaError.Interrupted, 0xFFFF_FFFBul, "INTERRUPTED")]
    [InlineData(FfaError.Denied, 0xFFFF_FFFAul, "DENIED")]
    [InlineData(FfaError.Retry, 0xFFFF_FFF9ul, "RETRY")]
    [InlineData(FfaError.Aborted, 0xFFFF_FFF8ul, "ABORTED")]
    [InlineData(FfaError.NoData, 0xFFFF_FFF7ul, "NO_DATA")]
    [InlineData(FfaError.NotReady, 0xFFFF_FFF6ul, "NOT_READY")] // FF-A 1.3
    public void Encoding_IsTheSignedCodeAsAZeroExtendedU32(FfaError error, ulong encoded, string name)
    {
        Assert.Equal(encoded, error.Encoded());
        Assert.Equal(name, error.Name());
        Assert.Equal(error, FfaErrorNames.Decode(encoded));
        // A sign-extended register decodes the same: only the low 32 bits carry the code.
        Assert.Equal(error, FfaErrorNames.Decode(encoded | 0xFFFF_FFFF_0000_0000));
    }

    [Theory]
    [InlineData(0ul)]
    [InlineData(1ul)]
    [InlineData(0xFFFF_FFF5ul)] // -11: no FF-A status code
    [InlineData(0x8000_0000ul)]
    public void Decode_NonErrors_IsNull(ulong register) => Assert.Null(FfaErrorNames.Decode(register));

    [Fact]
    public void Name_OfAnUnknownCode_ShowsTheNumber() => Assert.Equal("ERROR(-42)", ((FfaError)(-42)).Name());
}

public class EndpointIdTests
{
    [Theory]
    [InlineData(0x0000, false)]
    [InlineData(0x0001, false)]
    [InlineData(0x7FFF, false)]
    [InlineData(0x8000, true)]
    [InlineData(0x8001, true)]
    [InlineData(0xFFFF, true)]
    public void Bit15_MeansSecure(int id, bool secure)
    {
        Assert.Equal(secure, EndpointId.IsSecure((ushort)id));
        Assert.Equal(!secure, EndpointId.IsVm((ushort)id));
    }

    [Fact]
    public void Pack_PutsSenderInBits31To16_ReceiverInBits15To0()
    {
        Assert.Equal(0x8001_0002u, EndpointId.Pack(0x8001, 0x0002));
        Assert.Equal((ushort)0x8001, EndpointId.Sender(0x8001_0002));
        Assert.Equal((ushort)0x0002, EndpointId.Receiver(0x8001_0002));
        Assert.Equal((ushort)0x8001, EndpointId.Sender(0xFFFF_FFFF_8001_0002));
    }

    [Fact]
    public void Constants_AndFormat()
    {
        Assert.Equal(0x0000, EndpointId.Hypervisor);
        Assert.Equal(0x8000, EndpointId.DefaultSpmc);
        Assert.Equal(0x7FFF, EndpointId.Invalid);
        Assert.Equal("0x8001", EndpointId.Format(0x8001));
        Assert.Equal("0x0000", EndpointId.Format(0));
    }
}
