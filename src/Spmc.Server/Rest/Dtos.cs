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

/// <summary>Bytes written as the caller before the call: give exactly one of <c>hex</c> or <c>data</c> (base64).</summary>
public sealed class MemoryWriteDto
{
    /// <summary>Where the bytes go ("0x..." hex or decimal), in the caller's view of memory.</summary>
    [JsonConverter(typeof(RawNumberConverter))] public string? Address { get; set; }
    /// <summary>The bytes as base64 (at most 1 MiB); or give hex instead.</summary>
    public string? Data { get; set; }
    /// <summary>The bytes as hex, two digits per byte ("48656c6c6f"; spaces ignored); or give data (base64) instead.</summary>
    public string? Hex { get; set; }
}

/// <summary>Bytes read as the caller after the call.</summary>
public sealed class MemoryReadDto
{
    /// <summary>Where to read ("0x..." hex or decimal), in the caller's view of memory.</summary>
    [JsonConverter(typeof(RawNumberConverter))] public string? Address { get; set; }
    /// <summary>How many bytes, at most 1 MiB.</summary>
    [JsonConverter(typeof(RawNumberConverter))] public string? Length { get; set; }
}

/// <summary>One read of the request, taken after the call: the bytes, or why the caller could not read them.</summary>
/// <param name="Address">The address read (hex).</param>
/// <param name="Data">The bytes as base64; null when the read was refused.</param>
/// <param name="Hex">The same bytes as hex, two lowercase digits per byte; null when the read was refused.</param>
/// <param name="Error">Why the caller could not read there (e.g. not its memory); null when it could.</param>
public sealed record MemoryReadResultDto(string Address, string? Data, string? Hex, string? Error);

/// <summary>The decoded answer; for an error, <c>rule</c> is the stable ID of the rule that failed (docs/rules.md).</summary>
/// <param name="Function">The function called, by name (e.g. "FFA_VERSION"), or its ID in hex when unknown.</param>
/// <param name="Width">"SMC32" or "SMC64" (bit 30 of the function ID).</param>
/// <param name="Result">What the answer means in one line (e.g. "FFA_SUCCESS_32", "version 1.2").</param>
/// <param name="Error">The FF-A error's name (e.g. "INVALID_PARAMETERS"); null when the call succeeded.</param>
/// <param name="Reason">Why, in one line with this call's values; wording may change: match on rule.</param>
/// <param name="Rule">The stable ID of the rule that answered the error (docs/rules.md), e.g. "rxtx-map.overlap"; null on success.</param>
/// <param name="Hops">The frames a hypervisor proxy sent to the SPMC for this call, in order (none for a partition's call).</param>
/// <param name="Notes">Remarks about the call (e.g. registers poisoned, a fault injected).</param>
public sealed record DecodedDto(string Function, string Width, string Result, string? Error, string? Reason, string? Rule,
    IReadOnlyList<HopDto> Hops, IReadOnlyList<string> Notes);

/// <summary>A frame the hypervisor proxy sent to the SPMC, as the caller it used, and the SPMC's answer.</summary>
/// <param name="Caller">The endpoint ID the proxy called as (hex).</param>
/// <param name="Request">The registers the proxy sent (hex).</param>
/// <param name="Answer">The SPMC's answer registers (hex).</param>
/// <param name="Decoded">The SPMC's answer decoded.</param>
public sealed record HopDto(string Caller, IReadOnlyList<string> Request, IReadOnlyList<string> Answer, DecodedDto Decoded);

/// <summary>The answer: 18 registers to write back, the reads, and the decoded view.</summary>
/// <param name="X">x0..x17 to write back to the caller (hex).</param>
/// <param name="Reads">The request's reads, in order, taken after the call.</param>
/// <param name="Decoded">The answer decoded: function, result, error and the rule that failed, the proxy's hops.</param>
/// <param name="Events">Signals the call raised (interrupts to deliver, messages), in order.</param>
public sealed record SmcResponseDto(IReadOnlyList<string> X, IReadOnlyList<MemoryReadResultDto> Reads, DecodedDto Decoded,
    IReadOnlyList<SystemEventDto> Events);

/// <summary>A signal raised by the call: kind (ScheduleReceiverInterrupt, NotificationPendingInterrupt, IndirectMessage), the endpoint it is about.</summary>
/// <param name="Sequence">The event's number in its system (1, 2, ...).</param>
/// <param name="Kind">ScheduleReceiverInterrupt, NotificationPendingInterrupt or IndirectMessage.</param>
/// <param name="Endpoint">The endpoint the event is for (hex ID).</param>
/// <param name="Vcpu">The vCPU it targets; null when any.</param>
/// <param name="Delayed">True when the interrupt is to be delivered later (e.g. on the receiver's next run), not now.</param>
/// <param name="Detail">What raised it, in one line.</param>
public sealed record SystemEventDto(long Sequence, string Kind, string Endpoint, uint? Vcpu, bool Delayed, string Detail);

/// <summary>Create a system: an optional ID and its manifest, or a snapshot document instead of the manifest.</summary>
public sealed class CreateSystemDto
{
    /// <summary>1-63 characters of a-z 0-9 . _ -; allocated ("sys-N") when absent.</summary>
    public string? Id { get; set; }
    /// <summary>The system manifest (docs/manifests.md).</summary>
    public JsonElement? Manifest { get; set; }
    /// <summary>Instead of the manifest: a snapshot document (docs/snapshots.md, as GET .../snapshot returns it); the system starts in its state.</summary>
    public JsonElement? Snapshot { get; set; }
    /// <summary>Record every call to {Spmc:Traces:Directory}/{id}.jsonl (the trace format, docs/traces.md).</summary>
    public bool? Record { get; set; }
    /// <summary>Give the system's token the debug capability: it may then read and write memory as the SPMC (docs/security.md).</summary>
    public bool? Debug { get; set; }
}

/// <summary>A range of memory.</summary>
/// <param name="Base">The first address (hex).</param>
/// <param name="Size">Its size in bytes (hex).</param>
public sealed record RegionDto(string Base, string Size);

/// <summary>A normal-world VM of the manifest.</summary>
/// <param name="Id">Its FF-A ID (hex; 0x0000 is the host).</param>
/// <param name="Name">Its name in the manifest.</param>
/// <param name="Vcpus">How many vCPUs it has.</param>
/// <param name="Memory">Its memory ranges.</param>
public sealed record VmDto(string Id, string Name, int Vcpus, IReadOnlyList<RegionDto> Memory);

/// <summary>A secure partition of the manifest.</summary>
/// <param name="Id">Its FF-A ID (hex, 0x8001...).</param>
/// <param name="Name">Its name in the manifest.</param>
/// <param name="Uuids">The UUIDs it answers to (FFA_PARTITION_INFO_GET).</param>
/// <param name="ExecutionContexts">How many execution contexts it has (1 for a UP partition, else one per CPU).</param>
/// <param name="FfaVersion">The FF-A version it was built for ("1.2").</param>
/// <param name="Properties">Its partition properties as FFA_PARTITION_INFO_GET reports them (hex bits).</param>
/// <param name="PropertyNames">The same properties by name (e.g. DirectRequestReceive).</param>
/// <param name="Memory">Its memory ranges.</param>
/// <param name="Behaviour">What runs it: a built-in behaviour ("echo", "memory", ...) or "remote" (a client attaches); null when none.</param>
public sealed record PartitionDto(string Id, string Name, IReadOnlyList<string> Uuids, int ExecutionContexts, string FfaVersion,
    string Properties, IReadOnlyList<string> PropertyNames, IReadOnlyList<RegionDto> Memory, string? Behaviour);

/// <summary>A system's configuration; <c>recording</c> is the file its trace is recorded to (null when it is not).</summary>
/// <param name="Id">The system's ID (the {id} of its routes).</param>
/// <param name="SpmcId">The SPMC's FF-A ID (hex).</param>
/// <param name="FfaVersion">The SPMC's FF-A version ("1.3").</param>
/// <param name="ProxyProfile">The hypervisor proxy between VMs and the SPMC ("passthrough", "pkvm-7.4", ...).</param>
/// <param name="Vms">The normal-world VMs of the manifest.</param>
/// <param name="Partitions">The secure partitions of the manifest.</param>
/// <param name="Manifest">The manifest in canonical form (every default filled in); POST it to create the same system.</param>
/// <param name="Recording">The file the system's trace is recorded to; null when it is not recorded.</param>
/// <param name="Token">Only in the answer to its creation, in mode tokens: the bearer token that opens the system (docs/security.md). Absent otherwise.</param>
public sealed record SystemDto(string Id, string SpmcId, string FfaVersion, string ProxyProfile, IReadOnlyList<VmDto> Vms,
    IReadOnlyList<PartitionDto> Partitions, JsonElement Manifest, string? Recording = null,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? Token = null);

/// <summary>Bytes read from simulated memory, as base64 (<c>data</c>) and as hex (<c>hex</c>).</summary>
/// <param name="Address">The address read (hex).</param>
/// <param name="Length">How many bytes.</param>
/// <param name="Data">The bytes as base64.</param>
/// <param name="Hex">The same bytes as hex, two lowercase digits per byte.</param>
public sealed record MemoryDto(string Address, int Length, string Data, string Hex);

/// <summary>Bytes to write: exactly one of <c>hex</c> or <c>data</c> (base64), at most 1 MiB.</summary>
public sealed class MemoryWriteBodyDto
{
    /// <summary>The bytes as base64 (at most 1 MiB); or give hex instead.</summary>
    public string? Data { get; set; }
    /// <summary>The bytes as hex, two digits per byte ("48656c6c6f"; spaces ignored); or give data (base64) instead.</summary>
    public string? Hex { get; set; }
}

/// <summary>An endpoint's RX/TX buffer pair (FFA_RXTX_MAP).</summary>
/// <param name="Tx">The TX buffer's address (hex).</param>
/// <param name="Rx">The RX buffer's address (hex).</param>
/// <param name="Pages">Each buffer's size in 4 KiB pages.</param>
/// <param name="State">The RX buffer's state: "empty", "full" (the endpoint owns it until FFA_RX_RELEASE) or "other-world-owned".</param>
public sealed record MailboxDto(string Tx, string Rx, uint Pages, string State);

/// <summary>An endpoint as the SPMC holds it; <c>learned</c> marks a VM the SPMC learned when the hypervisor named it (not in the manifest).</summary>
/// <param name="Id">Its FF-A ID (hex).</param>
/// <param name="Kind">"vm" (normal world) or "sp" (secure partition).</param>
/// <param name="Name">Its name in the manifest.</param>
/// <param name="Vcpus">Its vCPUs (VM) or execution contexts (partition).</param>
/// <param name="FfaVersion">The FF-A version it uses: the one it negotiated, else the manifest's.</param>
/// <param name="VersionNegotiated">True once it has called FFA_VERSION.</param>
/// <param name="VersionLocked">True once a call other than FFA_VERSION fixed its version (a later FFA_VERSION cannot change it).</param>
/// <param name="Mailbox">Its RX/TX buffers; null when none is mapped.</param>
/// <param name="Learned">True for a VM the SPMC learned when the hypervisor named it (not in the manifest).</param>
public sealed record EndpointStateDto(string Id, string Kind, string Name, int Vcpus, string FfaVersion, bool VersionNegotiated,
    bool VersionLocked, MailboxDto? Mailbox, bool Learned);

/// <summary>A run of pages of one state; <c>access</c> is "rw" or "ro" and <c>device</c> marks device memory (as in the manifest).</summary>
/// <param name="Base">The first address (hex).</param>
/// <param name="Size">Its size in bytes (hex).</param>
/// <param name="Owner">The endpoint that owns the pages (hex ID).</param>
/// <param name="Secure">True for secure memory.</param>
/// <param name="Use">"owned", "rx-buffer" or "tx-buffer".</param>
/// <param name="Share">The handle of the memory transaction the pages are in (hex); null when in none.</param>
/// <param name="Access">"rw" or "ro", as in the manifest.</param>
/// <param name="Device">True for device memory (as in the manifest).</param>
public sealed record OwnedRangeDto(string Base, string Size, string Owner, bool Secure, string Use, string? Share, string Access, bool Device);

/// <summary>A receiver of a memory transaction: what it was sent, what it holds, how often it retrieved.</summary>
/// <param name="Id">The receiver's FF-A ID (hex).</param>
/// <param name="SentDataAccess">The data access the sender gave it ("ro", "rw", ...).</param>
/// <param name="SentInstructionAccess">The instruction access the sender gave it ("nx", "x", ...).</param>
/// <param name="State">"not-retrieved", "retrieving" (a fragmented retrieve answer in progress) or "retrieved".</param>
/// <param name="GrantedDataAccess">The data access it holds after retrieving.</param>
/// <param name="GrantedInstructionAccess">The instruction access it holds after retrieving.</param>
/// <param name="Retrievals">How many times it has retrieved the memory.</param>
public sealed record ShareReceiverDto(string Id, string SentDataAccess, string SentInstructionAccess, string State, string GrantedDataAccess,
    string GrantedInstructionAccess, int Retrievals);

/// <summary>One memory transaction: who sent what to whom, who holds it, which ranges, and fragments pending.</summary>
/// <param name="Handle">The transaction's handle (hex), as FFA_SUCCESS returned it.</param>
/// <param name="Operation">"share", "lend" or "donate".</param>
/// <param name="Sender">The sender's FF-A ID (hex).</param>
/// <param name="Attributes">The memory region attributes of the descriptor (hex).</param>
/// <param name="Flags">The descriptor's flags (hex).</param>
/// <param name="Tag">The sender's tag (hex).</param>
/// <param name="Receivers">Each receiver and its state.</param>
/// <param name="Ranges">The constituent ranges: in the state view the first 64; from .../shares/{handle} the page asked for.</param>
/// <param name="TotalPages">The pages in all ranges.</param>
/// <param name="SendingComplete">True once every fragment of the descriptor has been sent.</param>
/// <param name="ReceivedBytes">The descriptor bytes received so far.</param>
/// <param name="TotalBytes">The descriptor's whole length.</param>
/// <param name="Fragments">The fragments received so far.</param>
/// <param name="HypervisorRetrieveInProgress">True while the hypervisor's retrieve request is being answered in fragments.</param>
/// <param name="RangeCount">How many constituent ranges the transaction has (Ranges may list fewer).</param>
/// <param name="RangesOffset">The index of Ranges' first item among them.</param>
public sealed record MemoryShareDto(string Handle, string Operation, string Sender, string Attributes, string Flags, string Tag,
    IReadOnlyList<ShareReceiverDto> Receivers, IReadOnlyList<RegionDto> Ranges, ulong TotalPages, bool SendingComplete, int ReceivedBytes,
    int TotalBytes, int Fragments, bool HypervisorRetrieveInProgress, int RangeCount, int RangesOffset);

/// <summary>A page of the memory map (GET .../memory-map?offset=&amp;limit=).</summary>
/// <param name="Total">How many ranges the memory map has.</param>
/// <param name="Offset">The index of Ranges' first item.</param>
/// <param name="Ranges">Memory ownership, by run of pages of one state, in address order.</param>
public sealed record MemoryMapPageDto(int Total, int Offset, IReadOnlyList<OwnedRangeDto> Ranges);

/// <summary>A line a partition wrote with FFA_CONSOLE_LOG.</summary>
/// <param name="Sequence">The line's number in the system's console log.</param>
/// <param name="Endpoint">The partition that wrote it (hex ID).</param>
/// <param name="Text">The line, without its newline.</param>
public sealed record ConsoleLineDto(long Sequence, string Endpoint, string Text);

/// <summary>What the SPMC holds for one system.</summary>
/// <param name="Id">The system's ID.</param>
/// <param name="SpmcId">The SPMC's FF-A ID (hex).</param>
/// <param name="FfaVersion">The SPMC's FF-A version.</param>
/// <param name="ProxyProfile">The hypervisor proxy between VMs and the SPMC.</param>
/// <param name="Calls">How many SMCs the system has answered since it was created or reset.</param>
/// <param name="Endpoints">Every endpoint: version, mailbox.</param>
/// <param name="Partitions">The secure partitions' configuration.</param>
/// <param name="Memory">Memory ownership, by run of pages of one state: the first 1024 (all of them: .../memory-map).</param>
/// <param name="ResidentPages">Pages of simulated memory that hold data (copy-on-write: untouched pages take no room).</param>
/// <param name="Console">The console log, oldest first.</param>
/// <param name="ConsolePending">Per partition (hex ID), text logged without its newline yet.</param>
/// <param name="Shares">Memory transactions not yet reclaimed.</param>
/// <param name="Proxy">The hypervisor proxy's state; null for passthrough.</param>
/// <param name="Runtime">Each partition's execution contexts and lifecycle state.</param>
/// <param name="Notifications">Endpoints with notifications enabled or framework notifications pending.</param>
/// <param name="Faults">The fault rules (docs/faults.md) with their counters.</param>
/// <param name="MemoryRangeCount">How many ranges the memory map has (Memory may list fewer).</param>
public sealed record SystemStateDto(string Id, string SpmcId, string FfaVersion, string ProxyProfile, long Calls,
    IReadOnlyList<EndpointStateDto> Endpoints, IReadOnlyList<PartitionDto> Partitions, IReadOnlyList<OwnedRangeDto> Memory,
    int ResidentPages, IReadOnlyList<ConsoleLineDto> Console, IReadOnlyDictionary<string, string> ConsolePending,
    IReadOnlyList<MemoryShareDto> Shares, ProxyStateDto? Proxy, IReadOnlyList<PartitionRuntimeDto> Runtime,
    IReadOnlyList<NotificationStateDto> Notifications, IReadOnlyList<FaultRuleDto> Faults, int MemoryRangeCount);

/// <summary>
/// A fault rule to add (docs/faults.md): the function (FFA_MEM_SHARE for both widths, FFA_MEM_SHARE_64 or an ID),
/// optional caller / receiver / handle (hex or decimal strings), at most one of nth, every, next, probability (with
/// seed), and exactly one action: error (an FF-A error name), delay: true, fragment (bytes), abort: true or stage2: true.
/// </summary>
/// <param name="Function">The function it matches: a name (FFA_MEM_SHARE: both widths; FFA_MEM_SHARE_64: one) or a function ID.</param>
/// <param name="Error">The action "answer this FF-A error", by name (e.g. "BUSY", "NO_MEMORY").</param>
/// <param name="Caller">Only calls from this endpoint (hex or decimal ID).</param>
/// <param name="Receiver">Only direct requests or FFA_RUN to this receiver (hex or decimal ID).</param>
/// <param name="Handle">Only calls about this memory handle, a retrieve request's descriptor included (hex or decimal).</param>
/// <param name="Nth">Fire only on the nth matching call (1 = the first).</param>
/// <param name="Every">Fire on every kth matching call.</param>
/// <param name="Next">Fire on the next n matching calls.</param>
/// <param name="Probability">Fire on each matching call with this probability (0..1], drawn from seed.</param>
/// <param name="Seed">The seed of probability's generator: the same seed fires on the same calls.</param>
/// <param name="Delay">The action "the partition overruns its time slice": the caller gets FFA_INTERRUPT at once (direct requests, FFA_RUN).</param>
/// <param name="Fragment">The action "cut the retrieve response at this many bytes" (FFA_MEM_RETRIEVE_REQ; a multiple of 16, 16..65536).</param>
/// <param name="Abort">The action "the receiver aborts" (direct requests, FFA_RUN; an FF-A 1.3 SPMC).</param>
/// <param name="Stage2">The action "the pKVM model's stage-2 step fails" (the host's share, lend, FFA_MEM_FRAG_TX, reclaim; pKVM profiles).</param>
public sealed record FaultRuleBodyDto(string? Function, string? Error = null, string? Caller = null, string? Receiver = null, string? Handle = null,
    long? Nth = null, long? Every = null, long? Next = null, double? Probability = null, ulong? Seed = null,
    bool? Delay = null, long? Fragment = null, bool? Abort = null, bool? Stage2 = null);

/// <summary>
/// A fault rule with its ID and counters: matching calls seen and calls it fired on. <c>action</c>: error, delay,
/// fragment, abort or stage2 (<c>error</c> set for an error rule, <c>fragment</c> for a fragment rule).
/// </summary>
/// <param name="Id">The rule's ID in its system (for DELETE .../faults/{ruleId}).</param>
/// <param name="Function">The function it matches.</param>
/// <param name="Action">What it does when it fires: "error", "delay", "fragment", "abort" or "stage2".</param>
/// <param name="Error">For "error": the FF-A error it answers; null otherwise.</param>
/// <param name="Fragment">For "fragment": the size the retrieve response is cut at; null otherwise.</param>
/// <param name="Caller">The caller it is limited to (hex); null for any.</param>
/// <param name="Receiver">The receiver it is limited to (hex); null for any.</param>
/// <param name="Handle">The memory handle it is limited to (hex); null for any.</param>
/// <param name="When">When it fires: "always", "nth", "every", "next" or "probability".</param>
/// <param name="Nth">For "nth": which matching call.</param>
/// <param name="Every">For "every": the period.</param>
/// <param name="Next">For "next": how many calls.</param>
/// <param name="Probability">For "probability": the chance per matching call.</param>
/// <param name="Seed">For "probability": the generator's seed.</param>
/// <param name="Matched">Matching calls seen.</param>
/// <param name="Hits">Calls it fired on.</param>
public sealed record FaultRuleDto(int Id, string Function, string Action, string? Error, int? Fragment, string? Caller, string? Receiver, string? Handle, string When,
    long? Nth, long? Every, long? Next, double? Probability, ulong? Seed, long Matched, long Hits);

/// <summary>
/// What runs a partition, the state of each execution context (off, waiting, running, blocked, preempted, aborted) and
/// the partition's lifecycle state (FF-A 1.3: started, starting, stopping, aborted).
/// </summary>
/// <param name="Id">The partition's FF-A ID (hex).</param>
/// <param name="Driver">Who runs it, in words (e.g. "its 'echo' behaviour", "its attached client").</param>
/// <param name="Attached">For a remote partition: true while a client is attached (PartitionHost.Attach).</param>
/// <param name="Contexts">Its execution contexts.</param>
/// <param name="Lifecycle">started, starting, stopping or aborted (FF-A 1.3).</param>
public sealed record PartitionRuntimeDto(string Id, string Driver, bool Attached, IReadOnlyList<ContextDto> Contexts, string Lifecycle);

/// <summary>One execution context of a partition.</summary>
/// <param name="Index">The context's index (the vCPU it runs on).</param>
/// <param name="State">off, waiting, running, blocked, preempted or aborted.</param>
/// <param name="RunningFor">Why it runs: DirectRequest, DirectRequest2 or Run; null when not running.</param>
/// <param name="RequestFrom">The endpoint whose direct request it handles (hex); null when none.</param>
/// <param name="AnswerHeld">True when its answer is held until the caller resumes it.</param>
/// <param name="WaitingFor">The endpoint it waits on for an answer (hex); null when none.</param>
public sealed record ContextDto(int Index, string State, string? RunningFor, string? RequestFrom, bool AnswerHeld, string? WaitingFor);

/// <summary>
/// An endpoint's notifications: bindings (bit → sender), pending bitmaps (hex, bit n = notification n, up to 384 bits
/// with FF-A 1.3 extended notifications) and how many notifications each bitmap holds (64 unless extended).
/// </summary>
/// <param name="Receiver">The endpoint the notifications are for (hex ID).</param>
/// <param name="Enabled">True once its bitmap was created (FFA_NOTIFICATION_BITMAP_CREATE, or a partition's at boot).</param>
/// <param name="BoundToSps">Notification number → the partition bound to it (FFA_NOTIFICATION_BIND).</param>
/// <param name="BoundToVms">Notification number → the VM bound to it.</param>
/// <param name="PendingFromSps">Pending notifications set by partitions (hex bitmap).</param>
/// <param name="PendingFromVms">Pending notifications set by VMs (hex bitmap).</param>
/// <param name="PendingFramework">Pending framework notifications (hex bitmap; bit 0: RX buffer full).</param>
/// <param name="Count">How many notifications each bitmap holds (64 unless extended).</param>
public sealed record NotificationStateDto(string Receiver, bool Enabled, IReadOnlyDictionary<string, string> BoundToSps,
    IReadOnlyDictionary<string, string> BoundToVms, string PendingFromSps, string PendingFromVms, string PendingFramework, int Count);

/// <summary>A run of the host's stage-2 pages as the proxy tracks them.</summary>
/// <param name="Base">The first address (hex).</param>
/// <param name="Size">Its size in bytes (hex).</param>
/// <param name="State">The pages' state in the proxy's view (e.g. shared with the SPMC).</param>
public sealed record Stage2RangeDto(string Base, string Size, string State);

/// <summary>The hypervisor proxy's state (pKVM profiles).</summary>
/// <param name="Profile">The proxy profile ("pkvm-7.4", ...).</param>
/// <param name="FfaVersion">The version the host negotiated through it; null before FFA_VERSION.</param>
/// <param name="Negotiated">True once the host negotiated a version.</param>
/// <param name="HostTx">The host's TX buffer (hex); null when not mapped.</param>
/// <param name="HostRx">The host's RX buffer (hex); null when not mapped.</param>
/// <param name="HypTx">The hypervisor's own TX buffer towards the SPMC (hex); null when none.</param>
/// <param name="HypRx">The hypervisor's own RX buffer (hex); null when none.</param>
/// <param name="Stage2">The host's stage-2 pages the proxy changed (shared or lent away): the first 1024 runs.</param>
/// <param name="Notes">Remarks about the proxy's state.</param>
/// <param name="Stage2Count">How many runs the proxy tracks (Stage2 may list fewer).</param>
public sealed record ProxyStateDto(string Profile, string? FfaVersion, bool Negotiated, string? HostTx, string? HostRx, string? HypTx,
    string? HypRx, IReadOnlyList<Stage2RangeDto> Stage2, IReadOnlyList<string> Notes, int Stage2Count);

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
