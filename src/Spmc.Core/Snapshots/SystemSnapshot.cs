using System.Text.Json;
using System.Text.Json.Serialization;
using Spmc.Abi.Calls;
using Spmc.Abi.Ffa;
using Spmc.Abi.Smccc;
using Spmc.Core.Memory;
using Spmc.Core.Proxy.Pkvm;
using Spmc.Core.Spm;
using Spmc.Core.Spm.Behaviours;
using Spmc.Core.Spm.Runtime;
using Spmc.Core.Spm.Shares;

namespace Spmc.Core.Snapshots;

/// <summary>
/// A system's complete state between calls (docs/snapshots.md): the canonical manifest it was built from, the SPMC's
/// state, the proxy model's, the memory map's ownership ranges, the resident memory pages and the counters. A new
/// system built from it (<see cref="Systems.SimulatedSystem.FromSnapshot"/>) answers every following call as the
/// original does. Deterministic: the same state gives the same document, byte for byte (<see cref="ToJson"/>).
/// </summary>
public sealed record SystemSnapshot(
    int Version,
    [property: JsonConverter(typeof(ManifestJsonConverter))] string Manifest,
    long Calls,
    long Sequence,
    long EventSequence,
    SpmcSnapshot Spmc,
    ProxySnapshot? Proxy,
    IReadOnlyList<OwnershipRange> MemoryMap,
    IReadOnlyList<MemoryPage> Pages,
    Faults.FaultsSnapshot? Faults = null)
{
    /// <summary>
    /// The document version this build writes. Version 2 holds the manifest as a JSON object; version 1 (the manifest as
    /// an escaped JSON string, otherwise the same) is still read.
    /// </summary>
    public const int CurrentVersion = 2;

    /// <summary>Whether this build reads documents of <paramref name="version"/> (1 and 2).</summary>
    public static bool IsSupported(int version) => version is 1 or CurrentVersion;

    /// <summary>The refusal of a version this build does not read.</summary>
    internal static InvalidRequestException Unsupported(int version) =>
        new($"snapshot.version: {version} is not supported (this build reads versions 1 and {CurrentVersion})");

    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
        RespectRequiredConstructorParameters = true,
        // A null where the record does not allow one (a list, a part) is refused, not loaded as a crash later.
        RespectNullableAnnotations = true,
    };

    /// <summary>The JSON form: UTF-8, fields in declaration order, every list in a fixed order (by ID, handle, address).</summary>
    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, Options);

    /// <summary>The same bytes as <see cref="ToJson"/>, written to <paramref name="stream"/> (for documents too big for one array).</summary>
    public void WriteJson(Stream stream) => JsonSerializer.Serialize(stream, this, Options);

    /// <summary>The same bytes as <see cref="ToJson"/>, written asynchronously and flushed as they are made (a response body).</summary>
    public Task WriteJsonAsync(Stream stream, CancellationToken cancel = default) => JsonSerializer.SerializeAsync(stream, this, Options, cancel);

    /// <summary>Parses the JSON form; a malformed document or another version is an <see cref="InvalidRequestException"/>.</summary>
    public static SystemSnapshot FromJson(ReadOnlySpan<byte> json)
    {
        SystemSnapshot? snapshot;
        RefuseNullsInLists(json, "snapshot");
        try
        {
            snapshot = JsonSerializer.Deserialize<SystemSnapshot>(json, Options);
        }
        catch (JsonException e)
        {
            throw new InvalidRequestException($"snapshot: not a snapshot document ({(e.Path is { } p ? $"at {p}: " : "")}{e.Message})");
        }
        if (snapshot is null) throw new InvalidRequestException("snapshot: the document is null");
        if (!IsSupported(snapshot.Version)) throw Unsupported(snapshot.Version);
        return snapshot;
    }

    /// <summary>One part of the document (e.g. <see cref="Spmc"/>) in the JSON form's spelling, for the protobuf form.</summary>
    public static byte[] PartToJson<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, Options);

    /// <summary>Parses one part written by <see cref="PartToJson"/>; a malformed part is an <see cref="InvalidRequestException"/> naming <paramref name="field"/>.</summary>
    public static T PartFromJson<T>(ReadOnlySpan<byte> json, string field)
    {
        RefuseNullsInLists(json, field);
        try
        {
            return JsonSerializer.Deserialize<T>(json, Options) ?? throw new InvalidRequestException($"{field}: null");
        }
        catch (JsonException e)
        {
            throw new InvalidRequestException($"{field}: {(e.Path is { } p ? $"at {p}: " : "")}{e.Message}");
        }
    }

    /// <summary>
    /// No list of the document holds a null (nullable annotations do not reach list elements): one is an
    /// <see cref="InvalidRequestException"/> naming <paramref name="field"/>. Malformed JSON is left to the parser.
    /// </summary>
    private static void RefuseNullsInLists(ReadOnlySpan<byte> json, string field)
    {
        var reader = new Utf8JsonReader(json);
        var inArray = new Stack<bool>();
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartArray: inArray.Push(true); break;
                    case JsonTokenType.StartObject: inArray.Push(false); break;
                    case JsonTokenType.EndArray or JsonTokenType.EndObject: inArray.Pop(); break;
                    case JsonTokenType.Null when inArray.TryPeek(out var array) && array:
                        throw new InvalidRequestException($"{field}: a list holds a null (at byte {reader.TokenStartIndex})");
                }
            }
        }
        catch (JsonException)
        {
            // The deserializer reports it with its path.
        }
    }

    /// <summary>A JSON round trip of any part (a deep copy that shares nothing with live state).</summary>
    internal static T DeepCopy<T>(T value) => JsonSerializer.Deserialize<T>(JsonSerializer.SerializeToUtf8Bytes(value, Options), Options)!;
}

/// <summary>
/// The manifest field: written as the manifest's JSON object (version 2); read from an object, or from the string
/// version 1 wrote. The record keeps the manifest's JSON text either way.
/// </summary>
internal sealed class ManifestJsonConverter : JsonConverter<string>
{
    public override string Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String) return reader.GetString()!;
        if (reader.TokenType != JsonTokenType.StartObject) throw new JsonException("manifest: an object (or, in version 1, a string)");
        using var doc = JsonDocument.ParseValue(ref reader);
        return doc.RootElement.GetRawText();
    }

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options)
    {
        using var doc = JsonDocument.Parse(value);
        doc.RootElement.WriteTo(writer);
    }
}

/// <summary>One run of pages of the memory map (<see cref="PageState"/>): [Start, End).</summary>
public sealed record OwnershipRange(ulong Start, ulong End, PageState State);

/// <summary>
/// One resident 4 KiB page: its address and its bytes (base64 in JSON). Pages never written with a non-zero byte
/// are not listed: they read as zeros.
/// </summary>
public sealed record MemoryPage(ulong Address, byte[] Bytes);

/// <summary>The SPMC's state (<see cref="SpmcState"/>) between calls, every list in ID or handle order.</summary>
public sealed record SpmcSnapshot(
    IReadOnlyList<EndpointSnapshot> Endpoints,
    IReadOnlyList<ShareState> Shares,
    ulong NextHandle,
    IReadOnlyList<NotificationSnapshot> Notifications,
    NsResInfoSnapshot? NsResInfo,
    ConsoleSnapshot Console);

/// <summary>An endpoint: its negotiated version, its mailbox and, for a partition, its run-time state.</summary>
public sealed record EndpointSnapshot(
    ushort Id,
    string Name,
    int Vcpus,
    FfaVersion Version,
    bool VersionLocked,
    bool VersionNegotiated,
    bool Learned,
    MailboxSnapshot? Mailbox,
    RuntimeSnapshot? Runtime);

public sealed record MailboxSnapshot(ulong Tx, ulong Rx, uint Pages, RxState State);

/// <summary>A partition's lifecycle, its execution contexts and its built-in behaviour's state.</summary>
public sealed record RuntimeSnapshot(PartitionLifecycle Lifecycle, IReadOnlyList<ContextSnapshot> Contexts, BehaviourSnapshot? Behaviour);

/// <summary>One execution context (<see cref="PartitionContext"/>) without its live waiters (there are none in a snapshot).</summary>
public sealed record ContextSnapshot(
    int Index,
    ContextState State,
    RunReason? Reason,
    ActiveRequest? Request,
    SmcFrame? HeldAnswer,
    ushort? WaitingFor,
    bool LenderIs64,
    bool Smc64Run,
    bool Parked64,
    string? LenderNote);

/// <summary>A built-in behaviour's state: its view of VM availability and (relay) the requests it holds per vCPU.</summary>
public sealed record BehaviourSnapshot(IReadOnlyList<VmAvailabilityEntry> Vms, IReadOnlyList<HeldRequest>? Held = null);

public sealed record VmAvailabilityEntry(ushort Vm, VmAvailabilityState State);

public sealed record HeldRequest(int Vcpu, SmcFrame Request);

/// <summary>A receiver's notification record: bitmaps from SPs and VMs (bound senders per bit), and the framework bitmap.</summary>
public sealed record NotificationSnapshot(
    ushort Receiver,
    bool Enabled,
    int Vcpus,
    int Count,
    BoundBitmapSnapshot FromSps,
    BoundBitmapSnapshot FromVms,
    ulong FrameworkPending,
    ulong FrameworkReported);

/// <summary>Pending and reported bits, and the bound bits (others are unbound).</summary>
public sealed record BoundBitmapSnapshot(NotificationBits Pending, NotificationBits Reported, IReadOnlyList<NotificationBinding> Bindings);

public sealed record NotificationBinding(int Bit, ushort Sender);

public sealed record NsResInfoSnapshot(byte[] Descriptor, ushort Target, int Written);

/// <summary>The FFA_CONSOLE_LOG log, its line counter and the unfinished line of each endpoint.</summary>
public sealed record ConsoleSnapshot(long Sequence, IReadOnlyList<ConsoleLine> Lines, IReadOnlyList<ConsolePending> Pending);

public sealed record ConsolePending(ushort Endpoint, string Text);

/// <summary>
/// A pKVM proxy model's state: the version it negotiated with the SPMC, the host's buffers, and the host stage 2
/// (null when pKVM did not initialise). Its own buffers and boot notes follow from the manifest.
/// </summary>
public sealed record ProxySnapshot(string Profile, uint HypVersion, bool Negotiated, ulong? HostTx, ulong? HostRx, IReadOnlyList<Stage2Range>? Stage2);

public sealed record Stage2Range(ulong Start, ulong End, Stage2State State, string Label);
