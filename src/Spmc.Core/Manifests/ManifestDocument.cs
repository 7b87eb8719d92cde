using System.Text.Json;
using System.Text.Json.Serialization;

namespace Spmc.Core.Manifests;

/// <summary>
/// The JSON form of a system manifest, as users write it. Numbers (IDs, addresses, sizes) may be JSON
/// numbers or strings in hex ("0x8000") or decimal; validation turns this into a <see cref="SystemConfig"/>.
/// </summary>
public sealed class ManifestDocument
{
    public SpmcSection? Spmc { get; set; }
    /// <summary>Hypervisor proxy profile between the normal world and the SPMC.</summary>
    public string? Proxy { get; set; }
    /// <summary>Options of a pKVM proxy profile (the host kernel's page size, a built-in FF-A driver).</summary>
    public ProxyOptionsSection? ProxyOptions { get; set; }
    public List<VmSection>? Vms { get; set; }
    public List<PartitionSection>? Partitions { get; set; }

    public sealed class SpmcSection
    {
        [JsonConverter(typeof(RawNumberConverter))] public string? Id { get; set; }
        public string? Version { get; set; }
        [JsonConverter(typeof(RawNumberConverter))] public string? RxtxMaxPages { get; set; }
        /// <summary>How long a direct request or FFA_RUN waits for a remote partition before it is preempted (ms).</summary>
        [JsonConverter(typeof(RawNumberConverter))] public string? RemoteTimeoutMs { get; set; }
        /// <summary>The register contract of SMC32 answers: "smccc" (default) or "poison" (see docs/registers.md).</summary>
        public string? Registers { get; set; }
        /// <summary>Compatibility switches for known client defects, e.g. "arm-ffa-emad-reserved".</summary>
        public List<string>? Compat { get; set; }
    }

    public sealed class VmSection
    {
        [JsonConverter(typeof(RawNumberConverter))] public string? Id { get; set; }
        public string? Name { get; set; }
        [JsonConverter(typeof(RawNumberConverter))] public string? Vcpus { get; set; }
        public List<RegionSection>? Memory { get; set; }
    }

    public sealed class PartitionSection
    {
        [JsonConverter(typeof(RawNumberConverter))] public string? Id { get; set; }
        public string? Name { get; set; }
        public List<string>? Uuids { get; set; }
        /// <summary>FF-A 1.3: the UUID of the partition's image, reported in the 48-byte partition information descriptor.</summary>
        public string? ImageUuid { get; set; }
        [JsonConverter(typeof(RawNumberConverter))] public string? ExecutionContexts { get; set; }
        public string? Version { get; set; }
        public PropertiesSection? Properties { get; set; }
        public List<RegionSection>? Memory { get; set; }
        public string? Behaviour { get; set; }
    }

    public sealed class PropertiesSection
    {
        public bool DirectRequestReceive { get; set; }
        public bool DirectRequestSend { get; set; }
        public bool DirectRequest2Receive { get; set; }
        public bool DirectRequest2Send { get; set; }
        public bool IndirectMessaging { get; set; }
        public bool Notifications { get; set; }
        /// <summary>FF-A 1.3 (partition properties bit 13): the partition uses the SMC64 CPU-cycle management IDs.</summary>
        public bool Smc64CpuCycles { get; set; }
        /// <summary>The partition subscribes to VM created messages (Hafnium vm-availability-messages bit 0; properties bit 6).</summary>
        public bool VmCreatedMessages { get; set; }
        /// <summary>The partition subscribes to VM destroyed messages (Hafnium vm-availability-messages bit 1; properties bit 7).</summary>
        public bool VmDestroyedMessages { get; set; }
    }

    public sealed class ProxyOptionsSection
    {
        /// <summary>The host kernel's page size in bytes: 4096 (default) or 16384 (4 FF-A pages per kernel page).</summary>
        [JsonConverter(typeof(RawNumberConverter))] public string? PageSize { get; set; }
        /// <summary>The host's arm_ffa driver is built in and probes before pKVM installs its traps (boot-order failure).</summary>
        public bool FfaDriverBuiltIn { get; set; }
    }

    public sealed class RegionSection
    {
        [JsonConverter(typeof(RawNumberConverter))] public string? Base { get; set; }
        [JsonConverter(typeof(RawNumberConverter))] public string? Size { get; set; }
        /// <summary>The owner's access: "rw" (default) or "ro" (Hafnium memory-regions attributes: read-only).</summary>
        public string? Access { get; set; }
        /// <summary>Device memory (Hafnium device-regions) rather than normal memory.</summary>
        public bool? Device { get; set; }
    }

    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = true,
    };

    /// <summary>Reads a manifest, turning JSON syntax and shape errors into a message that names the path.</summary>
    public static ManifestDocument Parse(string json)
    {
        if (string.IsNullOrWhiteSpace(json)) throw new InvalidRequestException("manifest: empty document");
        try
        {
            return JsonSerializer.Deserialize<ManifestDocument>(json, JsonOptions)
                   ?? throw new InvalidRequestException("manifest: the document is null");
        }
        catch (JsonException e)
        {
            var path = string.IsNullOrEmpty(e.Path) ? "manifest" : "manifest" + e.Path.TrimStart('$');
            throw new InvalidRequestException($"{path}: {FirstSentence(e.Message)}");
        }
    }

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);
}

/// <summary>Reads a JSON number or string as its raw text, so validation can parse hex and name the field.</summary>
public sealed class RawNumberConverter : JsonConverter<string?>
{
    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType switch
        {
            JsonTokenType.String => reader.GetString(),
            JsonTokenType.Number => System.Text.Encoding.UTF8.GetString(reader.HasValueSequence ? System.Buffers.BuffersExtensions.ToArray(reader.ValueSequence) : reader.ValueSpan),
            JsonTokenType.Null => null,
            _ => throw new JsonException($"expected a number or a string, got {reader.TokenType}"),
        };

    public override void Write(Utf8JsonWriter writer, string? value, JsonSerializerOptions options)
    {
        if (value is null) writer.WriteNullValue();
        else writer.WriteStringValue(value);
    }
}
