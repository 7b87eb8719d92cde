using Spmc.Core.Systems;
using static Spmc.Core.Tests.Support.Manifests;

namespace Spmc.Core.Tests.Systems;

public class SystemRegistryTests
{
    [Fact]
    public void Create_WithoutAnId_AllocatesSequentialIds()
    {
        var registry = new SystemRegistry();
        Assert.Equal("sys-1", registry.Create(null, DefaultJson).Id);
        Assert.Equal("sys-2", registry.Create("", DefaultJson).Id);
        Assert.Equal(["sys-1", "sys-2"], registry.List().Select(s => s.Id));
    }

    [Fact]
    public void Create_SkipsAllocatedIdsAlreadyTakenByTheUser()
    {
        var registry = new SystemRegistry();
        registry.Create("sys-1", DefaultJson);
        Assert.Equal("sys-2", registry.Create(null, DefaultJson).Id);
    }

    [Fact]
    public void Create_DuplicateId_IsAConflict()
    {
        var registry = new SystemRegistry();
        registry.Create("lab", DefaultJson);
        Assert.Throws<ConflictException>(() => registry.Create("lab", DefaultJson));
    }

    [Theory]
    [InlineData("Upper")]
    [InlineData("-leading-dash")]
    [InlineData("has space")]
    [InlineData("a/b")]
    public void Create_BadId_IsAnInvalidRequest(string id) =>
        Assert.Throws<InvalidRequestException>(() => new SystemRegistry().Create(id, DefaultJson));

    [Fact]
    public void Create_InvalidManifest_IsAnInvalidRequest_AndCreatesNothing()
    {
        var registry = new SystemRegistry();
        Assert.Throws<InvalidRequestException>(() => registry.Create("x", """{ "proxy": "nope" }"""));
        Assert.Empty(registry.List());
    }

    [Fact]
    public void Create_BeyondTheQuota_IsRefused()
    {
        var registry = new SystemRegistry(maxSystems: 2);
        registry.Create(null, "{}");
        registry.Create(null, "{}");
        Assert.Throws<QuotaExceededException>(() => registry.Create(null, "{}"));
        registry.Delete("sys-1");
        registry.Create(null, "{}");
    }

    [Fact]
    public void GetAndDelete_UnknownId_IsNotFound()
    {
        var registry = new SystemRegistry();
        Assert.Throws<NotFoundException>(() => registry.Get("missing"));
        Assert.Throws<NotFoundException>(() => registry.Delete("missing"));
        var created = registry.Create("here", DefaultJson);
        Assert.Same(created, registry.Get("here"));
        registry.Delete("here");
        Assert.Throws<NotFoundException>(() => registry.Get("here"));
    }

    [Fact]
    public void Systems_DoNotShareState()
    {
        var registry = new SystemRegistry();
        var a = registry.Create("a", DefaultJson);
        var b = registry.Create("b", DefaultJson);
        a.WriteMemory(Host, HostMemory, [1, 2, 3]);
        Assert.Equal(new byte[3], b.ReadMemory(Host, HostMemory, 3));
        Assert.Equal(1, a.GetState().ResidentPages);
        Assert.Equal(0, b.GetState().ResidentPages);
    }
}
