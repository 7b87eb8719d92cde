using Spmc.Core.Tests.Support;
using static Spmc.Core.Tests.Support.Manifests;

namespace Spmc.Core.Tests.Abi;

/// <summary>FFA_ID_GET and FFA_SPM_ID_GET (spmc-behaviour.md §5).</summary>
public class IdGetTests
{
    [Theory]
    [InlineData(Host)]
    [InlineData(Vm1)]
    [InlineData(Vm2)]
    [InlineData(Sp12)]
    [InlineData(Sp10)]
    public void IdGet_ReturnsTheCallersId(ushort caller)
    {
        var o = Expect.Success(TestSystem.Rich().Call(caller, Ffa.IdGet()), w2: caller, w3: 0);
        Assert.Equal("FFA_ID_GET", o.Decoded.Function);
        for (var i = 3; i < 8; i++) Assert.Equal(0ul, o.Frame[i]);
    }

    [Theory]
    [InlineData(Host)]
    [InlineData(Vm1)]
    [InlineData(Sp12)]
    [InlineData(Sp11)]
    public void SpmIdGet_ReturnsTheSpmcId(ushort caller) =>
        Expect.Success(TestSystem.Rich().Call(caller, Ffa.SpmIdGet()), w2: 0x8000);

    [Fact]
    public void SpmIdGet_ReturnsTheConfiguredSpmcId()
    {
        var sys = TestSystem.FromJson("""{ "spmc": { "id": "0x8100" }, "vms": [ { "id": 0, "name": "host" } ] }""");
        Expect.Success(sys.Call(Host, Ffa.SpmIdGet()), w2: 0x8100);
    }

    [Fact]
    public void SpmIdGet_V1_0Caller_GetsTheSpmcId()
    {
        // Hafnium api_ffa_spm_id_get checks FFA_VERSION_COMPILED only, not the caller's version.
        var sys = TestSystem.Rich();
        sys.Negotiate(Host, Ffa.V1_0);
        Expect.Success(sys.Call(Host, Ffa.SpmIdGet()), w2: 0x8000);
        Expect.Success(sys.Call(Sp10, Ffa.SpmIdGet()), w2: 0x8000);
    }

    [Fact]
    public void SpmIdGet_SpmcAt1_0_IsNotSupported()
    {
        var sys = TestSystem.FromJson("""{ "spmc": { "version": "1.0" }, "vms": [ { "id": 0, "name": "host" } ] }""");
        Expect.Error(sys.Call(Host, Ffa.SpmIdGet()), Err.NotSupported, "dispatch.newer-than-spmc");
        Expect.Success(sys.Call(Host, Ffa.IdGet()), w2: 0);
    }
}
