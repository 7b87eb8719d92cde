using Spmc.Core.Calls;
using Spmc.Core.Manifests;
using Spmc.Core.Memory;
using Spmc.Core.Tests.Support;

namespace Spmc.Core.Tests.Examples;

/// <summary>
/// examples/manifests/memory-attributes.json: regions a manifest marks read-only (<c>"access": "ro"</c>, Hafnium
/// memory-regions attributes without W) and device memory (<c>"device": true</c>, Hafnium device-regions). The owner
/// keeps read access and loses write access to its read-only pages; the memory map reports both attributes to the
/// memory-sharing rules (<see cref="MemoryMap.AttributesOf"/>).
/// </summary>
public sealed class MemoryAttributesTests
{
    private const ushort Host = 0, MemorySp = 0x8001, EchoSp = 0x8002;
    private const ulong HostRw = 0x8000_0000, HostRo = 0x8010_0000, HostDevice = 0x8020_0000;
    private const ulong SpRo = 0x6010_0000, SpRoDevice = 0x6020_0000, EchoDevice = 0x6050_0000;

    private static SystemConfig Config() => ManifestValidator.Validate(ExampleManifests.Json("memory-attributes.json"));

    [Fact]
    public void Manifest_CarriesAccessAndDevice_AndWritesThemBack()
    {
        var config = Config();
        var host = config.Vms.Single().Memory;
        Assert.Equal([false, true, false], host.Select(r => r.ReadOnly));
        Assert.Equal([false, false, true], host.Select(r => r.Device));
        var sp = config.Partitions[0].Memory[2];
        Assert.True(sp.ReadOnly && sp.Device);
        var again = ManifestValidator.Validate(ManifestValidator.ToDocument(config));
        Assert.Equal(config.Partitions.SelectMany(p => p.Memory), again.Partitions.SelectMany(p => p.Memory));
        Assert.Equal(config.Vms.SelectMany(v => v.Memory), again.Vms.SelectMany(v => v.Memory));
    }

    [Theory]
    [InlineData("\"access\": \"rx\"", "partitions[0].memory[1].access: 'rx' is not an access (expected rw or ro)")]
    [InlineData("\"access\": \"RO\"", "partitions[0].memory[1].access: 'RO' is not an access (expected rw or ro)")]
    public void Manifest_RefusesAnUnknownAccess(string access, string error)
    {
        var json = ExampleManifests.Json("memory-attributes.json").Replace(
            "{ \"base\": \"0x60100000\", \"size\": \"0x4000\", \"access\": \"ro\" }", $"{{ \"base\": \"0x60100000\", \"size\": \"0x4000\", {access} }}");
        var e = Assert.Throws<InvalidRequestException>(() => ManifestValidator.Validate(json));
        Assert.Contains(error, e.Message);
    }

    [Fact]
    public void Manifest_TheMemoryBehavioursFirstRegion_IsNormalReadWrite()
    {
        var json = ExampleManifests.Json("memory-attributes.json").Replace(
            "{ \"base\": \"0x60000000\", \"size\": \"0x100000\" }", "{ \"base\": \"0x60000000\", \"size\": \"0x100000\", \"access\": \"ro\" }");
        var e = Assert.Throws<InvalidRequestException>(() => ManifestValidator.Validate(json));
        Assert.Contains("partitions[0].behaviour: 'memory' maps its RX/TX in its first region, which must be normal read-write memory", e.Message);
    }

    [Fact]
    public void Owner_ReadsItsReadOnlyMemory_ButCannotWriteIt()
    {
        var sys = ExampleManifests.Load("memory-attributes.json");
        Assert.Equal(16, sys.System.ReadMemory(Host, HostRo, 16).Length);
        var e = Assert.Throws<AccessDeniedException>(() => sys.System.WriteMemory(Host, HostRo + 0x20, [1, 2, 3]));
        Assert.Contains("is read-only memory of 0x0000 (its manifest region says access \"ro\")", e.Message);
        Assert.Throws<AccessDeniedException>(() => sys.System.WriteMemory(MemorySp, SpRo, [1]));
        Assert.Throws<AccessDeniedException>(() => sys.System.WriteMemory(MemorySp, SpRoDevice, [1]));
        // A write that is part of a call is refused the same way, before the call runs.
        Assert.Throws<AccessDeniedException>(() => sys.Call(Host, Ffa.IdGet(), writes: [new MemoryWrite(HostRo, [0xFF])]));
        Assert.Equal(new byte[16], sys.Peek(HostRo, 16));
        // Read-write and device memory the owner writes as any other.
        sys.System.WriteMemory(Host, HostRw, [1]);
        sys.System.WriteMemory(Host, HostDevice, [2]);
        sys.System.WriteMemory(EchoSp, EchoDevice, [3]);
        Assert.Equal([1, 2, 3], new[] { sys.Peek(HostRw, 1)[0], sys.Peek(HostDevice, 1)[0], sys.Peek(EchoDevice, 1)[0] });
    }

    [Fact]
    public void MemoryMap_ReportsTheAttributesToTheSharingRules()
    {
        var map = new MemoryMap(Config());
        Assert.Equal(new RangeAttributes(false, false, false), map.AttributesOf(HostRw, 0x2000));
        Assert.Equal(new RangeAttributes(true, false, false, true), map.AttributesOf(HostRo, 0x1000));
        Assert.Equal(new RangeAttributes(false, true, true), map.AttributesOf(HostDevice, 0x1000));
        Assert.Equal(new RangeAttributes(true, true, true, true), map.AttributesOf(SpRoDevice, 0x4000));
        Assert.True(map.AttributesOf(SpRoDevice, 0x4000).Uniform);
        // A range running from read-only normal into read-only device memory: some device pages, not all — mixed modes.
        var mixed = map.AttributesOf(SpRo, 0x10_4000);
        Assert.Equal(new RangeAttributes(true, true, false, false), mixed); // the gap between the regions is no memory
        Assert.False(mixed.Uniform);
    }
}
