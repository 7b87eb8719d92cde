using System.Text.Json;
using System.Text.Json.Serialization;
using Spmc.Core.Manifests;

namespace Spmc.Server.Rest;

// REST bodies. Registers, IDs and addresses are strings: "0x..." hex or decimal in, "0x..." hex out, because
// JSON numbers above 2^53 lose precision in browsers and Swagger UI.

/// <summary>One trapped SMC/HVC.</summary>
public sealed class SmcRequestDto
{
    /// <summary>FF-A endpoint ID of the caller ("0x0" = the host VM; "0x8001" = a secure partition).</summary>
    [JsonConverter(typeof(RawNumberConverter))] public string? Caller { get; set; }
    /// <summary>vCPU (or SP execution context) index.</summary>
    [JsonConverter(typeof(RawNumberConverter))] public string? Vcpu { get; set; }
    /// <summary>"smc" (default) or "hvc".</summary>
    public string? Conduit { get; set; }
    /// <summary>x0..x17; missing registers are zero.</summary>
    [JsonConverter(typeof(RawNumberListConverter))] public List<string?>? X { get; set; }
    /// <summary>Memory written as the caller before the call (e.g. the TX buffer).</summary>
    public List<MemoryWriteDto>? Writes { get; set; }
    /// <summary>Memory read as the caller after the call (e.g. the RX buffer).</summary>
    public List<MemoryReadDto>? Reads { get; set; }
}

public sealed class MemoryWriteDto
{
    [JsonConverter(typeof(RawNumberConverter))] public string? Address { get; set; }
    /// <summary>Base64.</summary>
    public string? Data { get; set; }
}

public sealed class MemoryReadDto
{
    [JsonConverter(typeof(RawNumberConverter))] public string? Address { get; set; }
    /// <summary>Bytes, at most 1 MiB.</summary>
    [JsonConverter(typeof(RawNumberConverter))] public string? Length { get; set; }
}

public sealed record MemoryReadResultDto(string Address, string? Data, string? Error);

/// <summary>The decoded answer; for an error, <see cref="Rule"/> is the stable ID of the rule that failed (docs/rules.md).</summary>
public sealed record DecodedDto(string Function, string Width, string Result, string? Error, string? Reason, string? Rule,
    IReadOnlyList<HopDto> Hops, IReadOnlyList<string> Notes);

/// <summary>A frame the hypervisor proxy sent to the SPMC, as the caller it used, and the SPMC's answer.</summary>
public sealed record HopDto(string Caller, IReadOnlyList<string> Request, IReadOnlyList<string> Answer, DecodedDto Decoded);

/// <summary>The answer: 18 registers to write back, the reads, and the decoded view.</summary>
public sealed record SmcResponseDto(IReadOnlyList<string> X, IReadOnlyList<MemoryReadResultDto> Reads, DecodedDto Decoded,
    IReadOnlyList<SystemEventDto> Events);

/// <summary>A signal raised by the call: kind (ScheduleReceiverInterrupt, NotificationPendingInterrupt, IndirectMessage), the endpoint it is about.</summary>
public sealed record SystemEventDto(long Sequence, string Kind, string Endpoint, uint? Vcpu, bool Delayed, string Detail);

/// <summary>Create a system: an optional ID and its manifest, or a snapshot document instead of the manifest.</summary>
public sealed class CreateSystemDto
{
    /// <summary>1-63 characters of a-z 0-9 . _ -; allocated ("sys-N") when absent.</summary>
    public string? Id { get; set; }
    /// <summary>The system manifest (see README "Manifests").</summary>
    public JsonElement? Manifest { get; set; }
    /// <summary>Instead of the manifest: a snapshot document (docs/snapshots.md, as GET .../snapshot returns it); the system starts in its state.</summary>
    public JsonElement? Snapshot { get; set; }
    /// <summary>Record every call to {Spmc:Traces:Directory}/{id}.jsonl (the trace format, docs/traces.md).</summary>
    public bool? Record { get; set; }
}

public sealed record RegionDto(string Base, string Size);

public sealed record VmDto(string Id, string Name, int Vcpus, IReadOnlyList<RegionDto> Memory);

public sealed record PartitionDto(string Id, string Name, IReadOnlyList<string> Uuids, int ExecutionContexts, string FfaVersion,
    string Properties, IReadOnlyList<string> PropertyNames, IReadOnlyList<RegionDto> Memory, string? Behaviour);

/// <summary>A system's configuration; <c>recording</c> is the file its trace is recorded to (null when it is not).</summary>
public sealed record SystemDto(string Id, string SpmcId, string FfaVersion, string ProxyProfile, IReadOnlyList<VmDto> Vms,
    IReadOnlyList<PartitionDto> Partitions, JsonElement Manifest, string? Recording = null);

public sealed record MemoryDto(string Address, int Length, string Data);

public sealed class MemoryWriteBodyDto
{
    /// <summary>Base64 bytes to write (at most 1 MiB).</summary>
    public string? Data { get; set; }
}

public sealed record MailboxDto(string Tx, string Rx, uint Pages, string State);

/// <summary>An endpoint as the SPMC holds it; <c>learned</c> marks a VM the SPMC learned when the hypervisor named it (not in the manifest).</summary>
public sealed record EndpointStateDto(string Id, string Kind, string Name, int Vcpus, string FfaVersion, bool VersionNegotiated,
    bool VersionLocked, MailboxDto? Mailbox, bool Learned);

/// <summary>A run of pages of one state; <c>access</c> is "rw" or "ro" and <c>device</c> marks device memory (as in the manifest).</summary>
public sealed record OwnedRangeDto(string Base, string Size, string Owner, bool Secure, string Use, string? Share, string Access, bool Device);

public sealed record ShareReceiverDto(string Id, string SentDataAccess, string SentInstructionAccess, string State, string GrantedDataAccess,
    string GrantedInstructionAccess, int Retrievals);

/// <summary>One memory transaction: who sent what to whom, who holds it, which ranges, and fragments pending.</summary>
public sealed record MemoryShareDto(string Handle, string Operation, string Sender, string Attributes, string Flags, string Tag,
    IReadOnlyList<ShareReceiverDto> Receivers, IReadOnlyList<RegionDto> Ranges, ulong TotalPages, bool SendingComplete, int ReceivedBytes,
    int TotalBytes, int Fragments, bool HypervisorRetrieveInProgress);

public sealed record ConsoleLineDto(long Sequence, string Endpoint, string Text);

public sealed record SystemStateDto(string Id, string SpmcId, string FfaVersion, string ProxyProfile, long Calls,
    IReadOnlyList<EndpointStateDto> Endpoints, IReadOnlyList<PartitionDto> Partitions, IReadOnlyList<OwnedRangeDto> Memory,
    int ResidentPages, IReadOnlyList<ConsoleLineDto> Console, IReadOnlyDictionary<string, string> ConsolePending,
    IReadOnlyList<MemoryShareDto> Shares, ProxyStateDto? Proxy, IReadOnlyList<PartitionRuntimeDto> Runtime,
    IReadOnlyList<NotificationStateDto> Notifications, IReadOnlyList<FaultRuleDto> Faults);

/// <summary>
/// A fault rule to add (docs/faults.md): the function (FFA_MEM_SHARE for both widths, FFA_MEM_SHARE_64 or an ID),
/// optional caller / receiver / handle (hex or decimal strings), at most one of nth, every, next, probability (with
/// seed), and exactly one action: error (an FF-A error name), delay: true, fragment (bytes), abort: true or stage2: true.
/// </summary>
public sealed record FaultRuleBodyDto(string? Function, string? Error = null, string? Caller = null, string? Receiver = null, string? Handle = null,
    long? Nth = null, long? Every = null, long? Next = null, double? Probability = null, ulong? Seed = null,
    bool? Delay = null, long? Fragment = null, bool? Abort = null, bool? Stage2 = null);

/// <summary>
/// A fault rule with its ID and counters: matching calls seen and calls it fired on. <c>action</c>: error, delay,
/// fragment, abort or stage2 (<c>error</c> set for an error rule, <c>fragment</c> for a fragment rule).
/// </summary>
public sealed record FaultRuleDto(int Id, string Function, string Action, string? Error, int? Fragment, string? Caller, string? Receiver, string? Handle, string When,
    long? Nth, long? Every, long? Next, double? Probability, ulong? Seed, long Matched, long Hits);

/// <summary>
/// What runs a partition, the state of each execution context (off, waiting, running, blocked, preempted, aborted) and
/// the partition's lifecycle state (FF-A 1.3: started, starting, stopping, aborted).
/// </summary>
public sealed record PartitionRuntimeDto(string Id, string Driver, bool Attached, IReadOnlyList<ContextDto> Contexts, string Lifecycle);

public sealed record ContextDto(int Index, string State, string? RunningFor, string? RequestFrom, bool AnswerHeld, string? WaitingFor);

/// <summary>
/// An endpoint's notifications: bindings (bit → sender), pending bitmaps (hex, bit n = notification n, up to 384 bits
/// with FF-A 1.3 extended notifications) and how many notifications each bitmap holds (64 unless extended).
/// </summary>
public sealed record NotificationStateDto(string Receiver, bool Enabled, IReadOnlyDictionary<string, string> BoundToSps,
    IReadOnlyDictionary<string, string> BoundToVms, string PendingFromSps, string PendingFromVms, string PendingFramework, int Count);

public sealed record Stage2RangeDto(string Base, string Size, string State);

public sealed record ProxyStateDto(string Profile, string? FfaVersion, bool Negotiated, string? HostTx, string? HostRx, string? HypTx,
    string? HypRx, IReadOnlyList<Stage2RangeDto> Stage2, IReadOnlyList<string> Notes);

/// <summary>Reads an array whose items may be JSON numbers or strings, keeping each item's raw text.</summary>
public sealed class RawNumberListConverter : JsonConverter<List<string?>?>
{
    private static readonly RawNumberConverter Item = new();

    public override List<string?>? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Null) return null;
        if (reader.TokenType != JsonTokenType.StartArray) throw new JsonException($"expected an array, got {reader.TokenType}");
        var list = new List<string?>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray) list.Add(Item.Read(ref reader, typeof(string), options));
        return list;
    }

    public override void Write(Utf8JsonWriter writer, List<string?>? value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        foreach (var v in value ?? []) Item.Write(writer, v, options);
        writer.WriteEndArray();
    }
}
