using Spmc.Abi.Descriptors;
using Spmc.Abi.Ffa;
using Spmc.Core.Manifests;
using Spmc.Core.Tests.Support;

namespace Spmc.Core.Tests.Manifests;

public class ManifestValidatorTests
{
    private const string U1 = "11111111-2222-3333-4444-555555555501";
    private const string U2 = "11111111-2222-3333-4444-555555555502";

    /// <summary>One partition; <paramref name="extra"/> is spliced into its object, replacing nothing.</summary>
    private static string OneSp(string extra = "", string id = "\"0x8001\"", string uuids = $"\"{U1}\"",
        string properties = """{ "directRequestReceive": true }""", string top = "") => $$"""
        { {{top}} "partitions": [ { "id": {{id}}, "name": "sp", "uuids": [ {{uuids}} ], "properties": {{properties}} {{extra}} } ] }
        """;

    private static string Fails(string json) =>
        Assert.Throws<InvalidRequestException>(() => ManifestValidator.Validate(json)).Message;

    private static void FailsNaming(string json, params string[] fragments)
    {
        var message = Fails(json);
        foreach (var fragment in fragments) Assert.Contains(fragment, message);
    }

    [Fact]
    public void DefaultManifest_IsValid()
    {
        var config = ManifestValidator.Validate(Support.Manifests.DefaultJson);
        Assert.Equal(0x8000, config.SpmcId);
        Assert.Equal(FfaVersion.V1_3, config.Version);
        Assert.Equal(RegisterContract.Smccc, config.Registers);
        Assert.Equal(1u, config.RxTxMaxPages);
        Assert.Equal("pkvm-7.4", config.ProxyProfile);
        var host = Assert.Single(config.Vms);
        Assert.Equal(0, host.Id);
        Assert.Equal(4, host.Vcpus);
        Assert.Equal([0x8001, 0x8002, 0x8003], config.Partitions.Select(p => (int)p.Id));
        Assert.Equal(2, config.Partitions[2].Uuids.Count);
        Assert.Equal(2, config.Partitions[2].ExecutionContexts);
        Assert.All(config.Partitions, p => Assert.Equal((PartitionProperties)Support.Manifests.DefaultSpProperties, p.Properties));
    }

    [Fact]
    public void EmptyDocument_GetsDefaults()
    {
        var config = ManifestValidator.Validate("{}");
        Assert.Equal(0x8000, config.SpmcId);
        Assert.Equal(FfaVersion.V1_3, config.Version);
        Assert.Equal(RegisterContract.Smccc, config.Registers);
        Assert.Equal(1u, config.RxTxMaxPages);
        Assert.Equal("passthrough", config.ProxyProfile);
        Assert.Empty(config.Vms);
        Assert.Empty(config.Partitions);
    }

    [Fact]
    public void Partition_DefaultsToSpmcVersionAndOneContext_VmToOneVcpu()
    {
        var config = ManifestValidator.Validate($$"""
            { "spmc": { "version": "1.1" },
              "vms": [ { "id": 1, "name": "vm" } ],
              "partitions": [ { "id": "0x8001", "name": "sp", "uuids": [ "{{U1}}" ], "properties": { "directRequestReceive": true } } ] }
            """);
        Assert.Equal(FfaVersion.V1_1, config.Partitions[0].Version);
        Assert.Equal(1, config.Partitions[0].ExecutionContexts);
        Assert.Equal(1, config.Vms[0].Vcpus);
        Assert.Empty(config.Partitions[0].Memory);
    }

    [Theory]
    [InlineData("32769")]          // JSON number, decimal
    [InlineData("\"32769\"")]      // decimal string
    [InlineData("\"0x8001\"")]     // hex string
    [InlineData("\"0X8001\"")]
    public void Ids_AcceptHexAndDecimal(string id) =>
        Assert.Equal(0x8001, ManifestValidator.Validate(OneSp(id: id)).Partitions[0].Id);

    [Fact]
    public void RegionNumbers_AcceptHexAndDecimal()
    {
        var config = ManifestValidator.Validate(OneSp(""", "memory": [ { "base": 1610612736, "size": "4096" }, { "base": "0x60010000", "size": 8192 } ]"""));
        Assert.Equal([new MemoryRange(0x6000_0000, 0x1000), new MemoryRange(0x6001_0000, 0x2000)], config.Partitions[0].Memory);
    }

    [Fact]
    public void SpmcSection_IsApplied()
    {
        var config = ManifestValidator.Validate("""{ "spmc": { "id": "0x8100", "version": "1.1", "rxtxMaxPages": 4 } }""");
        Assert.Equal(0x8100, config.SpmcId);
        Assert.Equal(FfaVersion.V1_1, config.Version);
        Assert.Equal(4u, config.RxTxMaxPages);
    }

    [Fact]
    public void DuplicatePartitionIds_AreRejected() => FailsNaming($$"""
        { "partitions": [
            { "id": "0x8001", "name": "a", "uuids": [ "{{U1}}" ], "properties": { "directRequestReceive": true } },
            { "id": 32769, "name": "b", "uuids": [ "{{U2}}" ], "properties": { "directRequestReceive": true } } ] }
        """, "partitions[1].id", "duplicate", "0x8001");

    [Fact]
    public void DuplicateVmIds_AreRejected() => FailsNaming("""
        { "vms": [ { "id": 1, "name": "a" }, { "id": "0x1", "name": "b" } ] }
        """, "vms[1].id", "duplicate");

    [Theory]
    [InlineData("\"0x0001\"")]
    [InlineData("\"0x7FFF\"")]
    [InlineData("0")]
    public void PartitionIdWithoutBit15_IsRejected(string id) => FailsNaming(OneSp(id: id), "partitions[0].id", "bit 15");

    [Theory]
    [InlineData("\"0x8000\"")]
    [InlineData("\"0x8001\"")]
    [InlineData("\"0xFFFF\"")]
    public void VmIdWithBit15_IsRejected(string id) => FailsNaming($$"""{ "vms": [ { "id": {{id}}, "name": "vm" } ] }""", "vms[0].id", "bit 15");

    [Fact]
    public void VmId_InvalidSentinel_IsRejected() => FailsNaming("""{ "vms": [ { "id": "0x7FFF", "name": "vm" } ] }""", "vms[0].id");

    [Fact]
    public void PartitionId_EqualToSpmcId_IsRejected() => FailsNaming(OneSp(id: "\"0x8000\""), "partitions[0].id", "SPMC");

    [Theory]
    [InlineData("\"0xFFC0\"")]
    [InlineData("\"0xFFFF\"")]
    public void PartitionId_InSpmdRange_IsRejected(string id) => FailsNaming(OneSp(id: id), "partitions[0].id");

    [Theory]
    [InlineData("\"0x10000\"")]
    [InlineData("\"-1\"")]
    [InlineData("\"abc\"")]
    [InlineData("\"\"")]
    [InlineData("1.5")]
    public void PartitionId_NotA16BitNumber_IsRejected(string id) => FailsNaming(OneSp(id: id), "partitions[0].id");

    [Fact]
    public void PartitionId_Missing_IsRequired() => FailsNaming($$"""
        { "partitions": [ { "name": "a", "uuids": [ "{{U1}}" ], "properties": { "directRequestReceive": true } } ] }
        """, "partitions[0].id", "required");

    [Fact]
    public void SpmcId_WithoutBit15_IsRejected() => FailsNaming("""{ "spmc": { "id": "0x0001" } }""", "spmc.id");

    [Fact]
    public void Name_IsRequired() => FailsNaming("""{ "vms": [ { "id": 1 } ] }""", "vms[0].name", "required");

    [Fact]
    public void OverlappingMemory_AcrossEndpoints_IsRejected() => FailsNaming($$"""
        { "vms": [ { "id": 0, "name": "host", "memory": [ { "base": "0x80000000", "size": "0x10000" } ] } ],
          "partitions": [ { "id": "0x8001", "name": "sp", "uuids": [ "{{U1}}" ], "properties": { "directRequestReceive": true },
                            "memory": [ { "base": "0x8000F000", "size": "0x2000" } ] } ] }
        """, "partitions[0].memory[0]", "overlaps", "vms[0].memory[0]");

    [Fact]
    public void OverlappingMemory_BetweenPartitions_IsRejected() => FailsNaming($$"""
        { "partitions": [
            { "id": "0x8001", "name": "a", "uuids": [ "{{U1}}" ], "properties": { "directRequestReceive": true },
              "memory": [ { "base": "0x60000000", "size": "0x100000" } ] },
            { "id": "0x8002", "name": "b", "uuids": [ "{{U2}}" ], "properties": { "directRequestReceive": true },
              "memory": [ { "base": "0x600FF000", "size": "0x1000" } ] } ] }
        """, "partitions[1].memory[0]", "overlaps", "partitions[0].memory[0]");

    [Fact]
    public void OverlappingMemory_WithinOneEndpoint_IsRejected() => FailsNaming(
        OneSp(""", "memory": [ { "base": "0x60000000", "size": "0x2000" }, { "base": "0x60001000", "size": "0x1000" } ]"""),
        "partitions[0].memory[1]", "overlaps");

    [Fact]
    public void AdjacentMemory_IsAccepted() =>
        Assert.Equal(2, ManifestValidator.Validate(
            OneSp(""", "memory": [ { "base": "0x60000000", "size": "0x1000" }, { "base": "0x60001000", "size": "0x1000" } ]""")).Partitions[0].Memory.Count);

    [Fact]
    public void UnalignedBase_IsRejected() =>
        FailsNaming(OneSp(""", "memory": [ { "base": "0x60000800", "size": "0x1000" } ]"""), "partitions[0].memory[0].base", "aligned");

    [Fact]
    public void UnalignedSize_IsRejected() =>
        FailsNaming(OneSp(""", "memory": [ { "base": "0x60000000", "size": "0x1800" } ]"""), "partitions[0].memory[0].size");

    [Fact]
    public void ZeroSize_IsRejected() =>
        FailsNaming(OneSp(""", "memory": [ { "base": "0x60000000", "size": 0 } ]"""), "partitions[0].memory[0].size");

    [Fact]
    public void RegionOverflowingTheAddressSpace_IsRejected() =>
        FailsNaming(OneSp(""", "memory": [ { "base": "0xFFFFFFFFFFFFF000", "size": "0x2000" } ]"""), "partitions[0].memory[0]", "overflow");

    [Fact]
    public void RegionEndingExactlyAtTheTop_IsAccepted() =>
        Assert.Single(ManifestValidator.Validate(OneSp(""", "memory": [ { "base": "0xFFFFFFFFFFFFE000", "size": "0x1000" } ]""")).Partitions[0].Memory);

    [Fact]
    public void RegionWithoutBase_IsRejected() =>
        FailsNaming(OneSp(""", "memory": [ { "size": "0x1000" } ]"""), "partitions[0].memory[0].base", "required");

    [Theory]
    [InlineData("not-a-uuid")]
    [InlineData("1111111122223333444455555555550")]
    [InlineData("11111111-2222-3333-4444-55555555550Z")]
    public void MalformedUuid_IsRejected(string uuid) => FailsNaming(OneSp(uuids: $"\"{uuid}\""), "partitions[0].uuids[0]", "not a UUID");

    [Fact]
    public void NilUuid_IsRejected() =>
        FailsNaming(OneSp(uuids: $"\"{U1}\", \"00000000-0000-0000-0000-000000000000\""), "partitions[0].uuids[1]", "nil");

    [Fact]
    public void DuplicateUuid_IsRejected() =>
        FailsNaming(OneSp(uuids: $"\"{U1}\", \"{U1.ToUpperInvariant()}\""), "partitions[0].uuids[1]", "duplicate");

    [Fact]
    public void MoreThanFourUuids_IsRejected()
    {
        var five = string.Join(", ", Enumerable.Range(1, 5).Select(i => $"\"11111111-2222-3333-4444-55555555550{i}\""));
        FailsNaming(OneSp(uuids: five), "partitions[0].uuids", "at most 4");
    }

    [Fact]
    public void FourUuids_AreAccepted()
    {
        var four = string.Join(", ", Enumerable.Range(1, 4).Select(i => $"\"11111111-2222-3333-4444-55555555550{i}\""));
        Assert.Equal(4, ManifestValidator.Validate(OneSp(uuids: four)).Partitions[0].Uuids.Count);
    }

    [Fact]
    public void NoUuid_IsRejected() => FailsNaming(OneSp(uuids: ""), "partitions[0].uuids", "at least one");

    [Theory]
    [InlineData("1.4")]
    [InlineData("2.0")]
    [InlineData("x")]
    [InlineData("1")]
    [InlineData("0.9")]
    public void BadSpmcVersion_IsRejected(string version) =>
        FailsNaming($$"""{ "spmc": { "version": "{{version}}" } }""", "spmc.version");

    [Theory]
    [InlineData("1.4")]
    [InlineData("2.0")]
    [InlineData("x")]
    public void BadPartitionVersion_IsRejected(string version) =>
        FailsNaming(OneSp($", \"version\": \"{version}\""), "partitions[0].version");

    [Theory]
    [InlineData("smccc", RegisterContract.Smccc)]
    [InlineData("poison", RegisterContract.Poison)]
    public void RegisterContract_IsParsedAndRoundTrips(string text, RegisterContract expected)
    {
        var config = ManifestValidator.Validate($$"""{ "spmc": { "registers": "{{text}}" } }""");
        Assert.Equal(expected, config.Registers);
        Assert.Equal(text, ManifestValidator.ToDocument(config).Spmc!.Registers);
    }

    [Theory]
    [InlineData("SMCCC")]
    [InlineData("1")]
    [InlineData("preserve")]
    public void BadRegisterContract_IsRejected(string text) =>
        FailsNaming($$"""{ "spmc": { "registers": "{{text}}" } }""", "spmc.registers", "smccc or poison");

    [Fact]
    public void ImageUuidAndSmc64CpuCycles_AreParsedForA13Partition()
    {
        var config = ManifestValidator.Validate(OneSp(""", "imageUuid": "11111111-2222-3333-4444-555555555555" """,
            properties: """{ "directRequestReceive": true, "smc64CpuCycles": true }"""));
        var sp = Assert.Single(config.Partitions);
        Assert.Equal("11111111-2222-3333-4444-555555555555", sp.ImageUuid.ToString());
        Assert.True(sp.Properties.HasFlag(PartitionProperties.Smc64CpuCycles));
        var doc = ManifestValidator.ToDocument(config).Partitions![0];
        Assert.Equal("11111111-2222-3333-4444-555555555555", doc.ImageUuid);
        Assert.True(doc.Properties!.Smc64CpuCycles);
    }

    [Fact]
    public void ImageUuid_Malformed_IsRejected() =>
        FailsNaming(OneSp(""", "imageUuid": "nope" """), "partitions[0].imageUuid", "not a UUID");

    [Fact]
    public void ImageUuidAndSmc64CpuCycles_NeedA13Partition()
    {
        FailsNaming(OneSp(""", "version": "1.2", "imageUuid": "11111111-2222-3333-4444-555555555555" """), "partitions[0].imageUuid", "1.3");
        FailsNaming(OneSp(""", "version": "1.2" """, properties: """{ "directRequestReceive": true, "smc64CpuCycles": true }"""),
            "partitions[0].properties", "1.3");
    }

    [Fact]
    public void CompatSwitches_AreParsed_AndRoundTrip()
    {
        var config = ManifestValidator.Validate("""{ "spmc": { "compat": [ "arm-ffa-emad-reserved" ] } }""");
        Assert.Equal(CompatSwitches.ArmFfaEmadReserved, config.Compat);
        Assert.Equal(["arm-ffa-emad-reserved"], ManifestValidator.ToDocument(config).Spmc!.Compat!);
        Assert.Equal(CompatSwitches.None, ManifestValidator.Validate("{}").Compat);
        Assert.Null(ManifestValidator.ToDocument(ManifestValidator.Validate("{}")).Spmc!.Compat);
    }

    [Theory]
    [InlineData("""[ "emad" ]""", "spmc.compat[0]", "arm-ffa-emad-reserved")]
    [InlineData("""[ null ]""", "spmc.compat[0]", "not a compatibility switch")]
    [InlineData("""[ "arm-ffa-emad-reserved", "arm-ffa-emad-reserved" ]""", "spmc.compat", "at most 1")]
    public void BadCompatSwitches_AreRejected(string list, string field, string fragment) =>
        FailsNaming($$"""{ "spmc": { "compat": {{list}} } }""", field, fragment);

    [Fact]
    public void ProxyOptions_AreParsedForAPkvmProfile_AndRoundTrip()
    {
        var config = ManifestValidator.Validate(WithProxyOptions("pkvm-7.4", """{ "pageSize": "0x4000", "ffaDriverBuiltIn": true }"""));
        Assert.Equal(new ProxyOptions(16384, true), config.Proxy);
        var again = ManifestValidator.Validate(ManifestValidator.ToDocument(config));
        Assert.Equal(config.Proxy, again.Proxy);
        Assert.Equal(ProxyOptions.Default, ManifestValidator.Validate(Support.Manifests.DefaultJson).Proxy);
    }

    [Theory]
    [InlineData("pkvm-7.4", """{ "pageSize": 8192 }""", "proxyOptions.pageSize", "4096 or 16384")]
    [InlineData("pkvm-7.4", """{ "pageSize": "x" }""", "proxyOptions.pageSize", "not a number")]
    [InlineData("passthrough", """{ "pageSize": 16384 }""", "proxyOptions", "pKVM profiles only")]
    [InlineData("passthrough", """{ "ffaDriverBuiltIn": true }""", "proxyOptions", "pKVM profiles only")]
    public void BadProxyOptions_AreRejected(string proxy, string options, string field, string fragment) =>
        FailsNaming(WithProxyOptions(proxy, options), field, fragment);

    private static string WithProxyOptions(string proxy, string options)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(Support.Manifests.DefaultJson)!.AsObject();
        node["proxy"] = proxy;
        node["proxyOptions"] = System.Text.Json.Nodes.JsonNode.Parse(options);
        return node.ToJsonString();
    }

    [Fact]
    public void VmAvailabilitySubscriptions_AreParsed_AndNeedDirectRequestReceive()
    {
        var config = ManifestValidator.Validate(OneSp(properties: """{ "directRequestReceive": true, "vmCreatedMessages": true, "vmDestroyedMessages": true }"""));
        var caps = Assert.Single(config.Partitions).Capabilities;
        Assert.True(caps.VmCreatedMessages && caps.VmDestroyedMessages);
        Assert.True(ManifestValidator.ToDocument(config).Partitions![0].Properties!.VmDestroyedMessages);
        FailsNaming(OneSp(properties: """{ "directRequestSend": true, "vmCreatedMessages": true }"""), "partitions[0].properties", "directRequestReceive");
    }

    [Fact]
    public void PartitionVersionAboveSpmc_IsRejected() =>
        FailsNaming(OneSp(", \"version\": \"1.2\"", top: """ "spmc": { "version": "1.1" }, """), "partitions[0].version", "above");

    [Fact]
    public void NoMessagingMethod_IsRejected() =>
        FailsNaming(OneSp(properties: """{ "notifications": true }"""), "partitions[0].properties", "messaging");

    [Fact]
    public void MissingProperties_IsRejectedAsNoMessagingMethod() => FailsNaming($$"""
        { "partitions": [ { "id": "0x8001", "name": "sp", "uuids": [ "{{U1}}" ] } ] }
        """, "partitions[0].properties");

    [Theory]
    [InlineData("directRequest2Receive")]
    [InlineData("directRequest2Send")]
    public void DirectRequest2_WithAV1_1Partition_IsRejected(string property) =>
        FailsNaming(OneSp(", \"version\": \"1.1\"", properties: $$"""{ "directRequestReceive": true, "{{property}}": true }"""),
            "partitions[0].properties", "1.2");

    [Fact]
    public void DirectRequest2_WithAV1_2Partition_IsAccepted() =>
        Assert.True(ManifestValidator.Validate(OneSp(", \"version\": \"1.2\"", properties: """{ "directRequest2Receive": true }"""))
            .Partitions[0].Capabilities.DirectRequest2Receive);

    [Theory]
    [InlineData("indirectMessaging")]
    [InlineData("notifications")]
    public void V1_1Features_WithAV1_0Partition_AreRejected(string property) =>
        FailsNaming(OneSp(", \"version\": \"1.0\"", properties: $$"""{ "directRequestReceive": true, "{{property}}": true }"""),
            "partitions[0].properties", "1.1");

    [Fact]
    public void UnknownField_IsRejectedWithItsPath() =>
        FailsNaming(OneSp(properties: """{ "directRequestRecieve": true }"""), "manifest.partitions[0].properties.directRequestRecieve");

    [Fact]
    public void UnknownTopLevelField_IsRejectedWithItsName() =>
        FailsNaming("""{ "partitons": [] }""", "manifest.partitons");

    [Fact]
    public void WrongJsonType_IsRejectedWithItsPath() =>
        FailsNaming(OneSp(id: "true"), "manifest.partitions[0].id");

    [Theory]
    [InlineData("{")]
    [InlineData("{ \"vms\": [ }")]
    [InlineData("[]")]
    [InlineData("not json")]
    public void MalformedJson_IsRejected(string json) => Assert.StartsWith("manifest", Fails(json));

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("null")]
    public void EmptyOrNullDocument_IsRejected(string json) => Assert.StartsWith("manifest", Fails(json));

    [Fact]
    public void UnknownProxyProfile_IsRejected() => FailsNaming("""{ "proxy": "pkvm-9.9" }""", "proxy", "pkvm-9.9");

    [Theory]
    [InlineData("0")]
    [InlineData("65")]
    public void RxTxMaxPages_OutOfRange_IsRejected(string pages) =>
        FailsNaming($$"""{ "spmc": { "rxtxMaxPages": {{pages}} } }""", "spmc.rxtxMaxPages");

    [Theory]
    [InlineData("0")]
    [InlineData("65")]
    public void Vcpus_OutOfRange_AreRejected(string count)
    {
        FailsNaming($$"""{ "vms": [ { "id": 1, "name": "vm", "vcpus": {{count}} } ] }""", "vms[0].vcpus");
        FailsNaming(OneSp($", \"executionContexts\": {count}"), "partitions[0].executionContexts");
    }

    [Fact]
    public void MoreThan64Partitions_AreRejected() => FailsNaming(Support.Manifests.Many(65 * 4), "partitions", "at most 64");

    [Fact]
    public void SixtyFourPartitions_AreAccepted() => Assert.Equal(64, ManifestValidator.Validate(Support.Manifests.Many(64 * 4)).Partitions.Count);

    [Fact]
    public void MoreThan64Vms_AreRejected()
    {
        var vms = string.Join(", ", Enumerable.Range(1, 65).Select(i => $$"""{ "id": {{i}}, "name": "vm{{i}}" }"""));
        FailsNaming($$"""{ "vms": [ {{vms}} ] }""", "vms", "at most 64");
    }

    [Fact]
    public void OverlongName_IsRejected() =>
        FailsNaming($$"""{ "vms": [ { "id": 1, "name": "{{new string('n', 65)}}" } ] }""", "vms[0].name");

    [Fact]
    public void EveryError_IsReported_NotJustTheFirst() => FailsNaming($$"""
        { "spmc": { "version": "3.0" },
          "vms": [ { "id": "0x8005", "name": "vm" } ],
          "partitions": [ { "id": "0x0005", "name": "sp", "uuids": [ "{{U1}}" ], "properties": { "directRequestReceive": true } } ] }
        """, "spmc.version", "vms[0].id", "partitions[0].id");

    [Fact]
    public void ToDocument_RoundTripsThroughValidation()
    {
        var config = ManifestValidator.Validate(Support.Manifests.Rich);
        var again = ManifestValidator.Validate(ManifestValidator.ToDocument(config).ToJson());
        Assert.Equal(config.SpmcId, again.SpmcId);
        Assert.Equal(config.Version, again.Version);
        Assert.Equal(config.RxTxMaxPages, again.RxTxMaxPages);
        Assert.Equal(config.Vms.Select(v => (v.Id, v.Name, v.Vcpus, v.Memory.Count)), again.Vms.Select(v => (v.Id, v.Name, v.Vcpus, v.Memory.Count)));
        Assert.Equal(config.Partitions.Select(p => (p.Id, p.Version, p.Properties, p.ExecutionContexts, p.Uuids[0])),
            again.Partitions.Select(p => (p.Id, p.Version, p.Properties, p.ExecutionContexts, p.Uuids[0])));
    }

    [Fact]
    public void Properties_FollowPartitionVersion()
    {
        var config = ManifestValidator.Validate(Support.Manifests.Rich);
        Assert.Equal((PartitionProperties)0x70F, config.Partitions[0].Properties); // v1.2, every capability
        Assert.Equal((PartitionProperties)0x10D, config.Partitions[1].Properties); // v1.1: direct recv, indirect, notifications
        Assert.Equal((PartitionProperties)0x103, config.Partitions[2].Properties); // v1.0: direct recv + send
    }
}
