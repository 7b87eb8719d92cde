using Spmc.Core.Tests.Support;
using static Spmc.Core.Tests.Support.Manifests;

namespace Spmc.Core.Tests.Abi;

/// <summary>FFA_VERSION (spmc-behaviour.md §3): a bare version or a bare NOT_SUPPORTED in w0.</summary>
public class VersionTests
{
    /// <summary>A bare NOT_SUPPORTED in w0, refused by the rule with ID <paramref name="rule"/>.</summary>
    private static void AssertRefused(Spmc.Core.Calls.SmcOutcome o, string rule)
    {
        Assert.Equal(0xFFFF_FFFFul, o.Frame[0]);
        for (var i = 1; i < 8; i++) Assert.Equal(0ul, o.Frame[i]);
        Assert.Equal("NOT_SUPPORTED", o.Decoded.Error);
        Assert.Equal("NOT_SUPPORTED", o.Decoded.Result);
        Assert.Equal("FFA_VERSION", o.Decoded.Function);
        Assert.False(string.IsNullOrWhiteSpace(o.Decoded.Reason));
        Assert.Equal(rule, o.Decoded.Rule);
    }

    [Theory]
    [InlineData(Ffa.V1_0)]
    [InlineData(Ffa.V1_1)]
    [InlineData(Ffa.V1_2)]
    public void Version_Compatible_ReturnsTheSpmcVersion_NotTheRequestedOne(uint requested)
    {
        var sys = TestSystem.DefaultAt("1.2");
        var o = sys.Call(Host, Ffa.Version(requested));
        Assert.Equal(0x0001_0002ul, o.Frame[0]);
        for (var i = 1; i < 8; i++) Assert.Equal(0ul, o.Frame[i]);
        Assert.Null(o.Decoded.Error);
        Assert.Null(o.Decoded.Reason);
        Assert.Equal("FFA_VERSION", o.Decoded.Function);
        Assert.Equal("version 1.2", o.Decoded.Result);
        var host = sys.Endpoint(Host);
        Assert.Equal(requested, host.Version.Encoded);
        Assert.True(host.VersionNegotiated);
    }

    [Fact]
    public void Version_SpmcAt1_1_Answers1_1()
    {
        var sys = TestSystem.FromJson("""{ "spmc": { "version": "1.1" }, "vms": [ { "id": 0, "name": "host" } ] }""");
        Assert.Equal(0x0001_0001ul, sys.Call(Host, Ffa.Version(Ffa.V1_0)).Frame[0]);
    }

    [Theory]
    [InlineData(0x8000_0000ul)]
    [InlineData(0x8001_0002ul)]
    [InlineData(0xFFFF_FFFFul)]
    public void Version_Bit31Set_IsNotSupported(ulong requested) =>
        AssertRefused(TestSystem.DefaultAt("1.2").Call(Host, Ffa.Version(requested)), "version.bit31-set");

    [Theory]
    [InlineData(0x0000_0000ul)] // 0.0
    [InlineData(0x0000_0001ul)] // 0.1
    [InlineData(0x0000_0009ul)]
    [InlineData(0x0002_0000ul)] // 2.0
    [InlineData(0x0FFF_FFFFul)]
    public void Version_MajorMismatch_IsNotSupported(ulong requested) =>
        AssertRefused(TestSystem.DefaultAt("1.2").Call(Host, Ffa.Version(requested)), "version.incompatible");

    [Theory]
    [InlineData(0x0001_0003ul)] // 1.3: Hafnium refuses a minor above its own rather than downgrading
    [InlineData(0x0001_FFFFul)]
    public void Version_MinorAboveSpmc_IsNotSupported(ulong requested)
    {
        var sys = TestSystem.DefaultAt("1.2");
        AssertRefused(sys.Call(Host, Ffa.Version(requested)), "version.incompatible");
        Assert.False(sys.Endpoint(Host).VersionNegotiated);
        Assert.Equal("1.2", sys.Endpoint(Host).Version.ToString());
    }

    [Fact]
    public void Version_AfterOtherCall_DifferentVersionIsNotSupported()
    {
        var sys = TestSystem.DefaultAt("1.2");
        Expect.Success(sys.Call(Host, Ffa.IdGet()));
        Assert.True(sys.Endpoint(Host).VersionLocked);
        AssertRefused(sys.Call(Host, Ffa.Version(Ffa.V1_1)), "version.locked");
        Assert.Equal("1.2", sys.Endpoint(Host).Version.ToString());
    }

    [Fact]
    public void Version_AfterOtherCall_SameVersionStillSucceeds()
    {
        var sys = TestSystem.DefaultAt("1.2");
        sys.Negotiate(Host, Ffa.V1_1);
        Expect.Success(sys.Call(Host, Ffa.IdGet()));
        Assert.Equal(0x0001_0002ul, sys.Call(Host, Ffa.Version(Ffa.V1_1)).Frame[0]);
        AssertRefused(sys.Call(Host, Ffa.Version(Ffa.V1_2)), "version.locked");
        AssertRefused(sys.Call(Host, Ffa.Version(Ffa.V1_0)), "version.locked");
        Assert.Equal("1.1", sys.Endpoint(Host).Version.ToString());
    }

    [Fact]
    public void Version_AfterOtherCall_TheDefaultVersionCanStillBeRequested()
    {
        var sys = TestSystem.DefaultAt("1.2");
        Expect.Success(sys.Call(Host, Ffa.IdGet()));
        Assert.Equal(0x0001_0002ul, sys.Call(Host, Ffa.Version(Ffa.V1_2)).Frame[0]);
    }

    [Fact]
    public void Version_AfterAFailedCall_IsLockedToo()
    {
        // The lock follows any handled FF-A call (Hafnium's ffa_version_negotiated), not only successful ones.
        var sys = TestSystem.DefaultAt("1.2");
        Expect.Error(sys.Call(Host, Ffa.RxRelease()), Err.Denied, "rx-release.not-mapped");
        AssertRefused(sys.Call(Host, Ffa.Version(Ffa.V1_1)), "version.locked");
    }

    [Fact]
    public void Version_BeforeOtherCalls_CanBeRenegotiated()
    {
        var sys = TestSystem.DefaultAt("1.2");
        sys.Negotiate(Host, Ffa.V1_0);
        sys.Negotiate(Host, Ffa.V1_1);
        sys.Negotiate(Host, Ffa.V1_2);
        sys.Negotiate(Host, Ffa.V1_1);
        Assert.Equal("1.1", sys.Endpoint(Host).Version.ToString());
        Assert.False(sys.Endpoint(Host).VersionLocked);
    }

    [Fact]
    public void Version_RefusedRequest_KeepsTheNegotiatedVersion()
    {
        var sys = TestSystem.DefaultAt("1.2");
        sys.Negotiate(Host, Ffa.V1_1);
        AssertRefused(sys.Call(Host, Ffa.Version(0x0001_0003)), "version.incompatible");
        Assert.Equal("1.1", sys.Endpoint(Host).Version.ToString());
    }

    [Fact]
    public void Version_IsPerEndpoint()
    {
        var sys = TestSystem.Rich();
        sys.Negotiate(Host, Ffa.V1_0);
        Expect.Success(sys.Call(Host, Ffa.IdGet())); // host locked at 1.0
        sys.Negotiate(Vm1, Ffa.V1_1);                 // other VMs are unaffected
        sys.Negotiate(Sp12, Ffa.V1_1);
        Assert.Equal("1.0", sys.Endpoint(Host).Version.ToString());
        Assert.Equal("1.1", sys.Endpoint(Vm1).Version.ToString());
        Assert.Equal("1.2", sys.Endpoint(Vm2).Version.ToString());
        Assert.Equal("1.1", sys.Endpoint(Sp12).Version.ToString());
        Assert.False(sys.Endpoint(Vm1).VersionLocked);
        // The host's lock does not stop VM 1 from changing its own version.
        sys.Negotiate(Vm1, Ffa.V1_2);
    }

    [Fact]
    public void Version_PartitionDefault_IsItsManifestVersion()
    {
        var sys = TestSystem.Rich();
        Assert.Equal("1.2", sys.Endpoint(Sp12).Version.ToString());
        Assert.Equal("1.1", sys.Endpoint(Sp11).Version.ToString());
        Assert.Equal("1.0", sys.Endpoint(Sp10).Version.ToString());
        Assert.Equal("1.2", sys.Endpoint(Host).Version.ToString());
        // The default version is in force without any FFA_VERSION call: FFA_FEATURES(RXTX_MAP_64) reports the
        // maximum buffer size to v1.2 callers only (Hafnium ffa_features_function).
        Expect.Success(sys.Call(Sp10, Ffa.Features(0xC400_0066)), w2: 0);
        Expect.Success(sys.Call(Sp11, Ffa.Features(0xC400_0066)), w2: 0);
        Expect.Success(sys.Call(Sp12, Ffa.Features(0xC400_0066)), w2: 2u << 16);
    }

    [Fact]
    public void Version_PartitionMayRaiseItsVersionBeforeOtherCalls()
    {
        var sys = TestSystem.Rich();
        sys.Negotiate(Sp10, Ffa.V1_2);
        Expect.Success(sys.Call(Sp10, Ffa.SpmIdGet()), w2: 0x8000);
    }
}
