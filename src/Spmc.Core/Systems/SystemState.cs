using Spmc.Abi.Descriptors;
using Spmc.Abi.Descriptors.Memory;
using Spmc.Abi.Ffa;
using Spmc.Core.Faults;
using Spmc.Core.Manifests;
using Spmc.Core.Memory;
using Spmc.Core.Proxy;
using Spmc.Core.Spm;
using Spmc.Core.Spm.Notifications;
using Spmc.Core.Spm.Runtime;
using Spmc.Core.Spm.Shares;

namespace Spmc.Core.Systems;

/// <summary>
/// A snapshot of one system for the inspector: plain values, safe to hand out after the lock is released. Its long
/// lists are bounded (<see cref="StateLimits"/>): <see cref="Memory"/> holds the first ranges of
/// <see cref="MemoryRangeCount"/>, each share the first of its constituents; the paged views give the rest.
/// </summary>
public sealed record SystemState(
    string Id,
    ushort SpmcId,
    FfaVersion Version,
    string ProxyProfile,
    long Calls,
    IReadOnlyList<EndpointView> Endpoints,
    IReadOnlyList<PartitionView> Partitions,
    IReadOnlyList<MemoryRegionView> Memory,
    int ResidentPages,
    IReadOnlyList<ConsoleLine> Console,
    IReadOnlyDictionary<ushort, string> ConsolePending,
    IReadOnlyList<ShareView> Shares,
    ProxyStateView? Proxy,
    IReadOnlyList<NotificationView> Notifications,
    long Events,
    IReadOnlyList<FaultRuleView> Faults,
    int MemoryRangeCount = 0,
    int Stage2RangeCount = 0);

/// <summary>How much of the long lists the state view holds, and the largest page the paged views give.</summary>
public static class StateLimits
{
    /// <summary>Constituents listed per share in the state view (all of them: <see cref="SimulatedSystem.GetShare"/>).</summary>
    public const int ListedConstituents = 64;

    /// <summary>Memory-map ranges (and the proxy's stage-2 runs) listed in the state view (all of them: <see cref="SimulatedSystem.GetMemoryMap"/>).</summary>
    public const int ListedRanges = 1024;

    /// <summary>The largest page (limit) of a paged view.</summary>
    public const int MaxPage = 4096;

    /// <summary>Checks a page request: offset from 0, limit 1..<see cref="MaxPage"/>; the message names the field.</summary>
    public static void Check(int offset, int limit)
    {
        if (offset < 0) throw new InvalidRequestException($"offset: {offset} is negative");
        if (limit is < 1 or > MaxPage) throw new InvalidRequestException($"limit: {limit} is not between 1 and {MaxPage}");
    }
}

/// <summary>A page of the memory map: <see cref="Ranges"/> starts at index <see cref="Offset"/> of <see cref="Total"/> ranges.</summary>
public sealed record MemoryMapPage(int Total, int Offset, IReadOnlyList<MemoryRegionView> Ranges);

/// <summary>
/// One memory transaction as the inspector shows it: <see cref="Constituents"/> is a page of its
/// <see cref="ConstituentCount"/> constituents, starting at index <see cref="ConstituentsOffset"/>.
/// </summary>
public sealed record ShareView(
    ulong Handle,
    MemoryOperation Operation,
    ushort Sender,
    MemoryRegionAttributes Attributes,
    uint Flags,
    ulong Tag,
    IReadOnlyList<ShareReceiverView> Receivers,
    IReadOnlyList<MemoryRegionConstituent> Constituents,
    bool SendingComplete,
    int ReceivedBytes,
    int TotalBytes,
    int Fragments,
    bool HypervisorRetrieveInProgress,
    int ConstituentCount = 0,
    ulong TotalPages = 0,
    int ConstituentsOffset = 0);

public sealed record ShareReceiverView(ushort Id, MemoryAccessPermissions Sent, RetrieveState State, DataAccess GrantedData,
    InstructionAccess GrantedInstruction, int Retrievals, int? ResponseDelivered, int? ResponseTotal);

public sealed record MailboxView(ulong Tx, ulong Rx, uint Pages, RxState State);

/// <summary>
/// One endpoint. <see cref="Learned"/>: a normal-world VM the manifest does not declare, known to the SPMC while the
/// hypervisor keeps its RX/TX pair mapped or its notification bitmap created (false for declared endpoints).
/// </summary>
public sealed record EndpointView(ushort Id, bool Secure, string Name, int Vcpus, FfaVersion Version, bool VersionNegotiated, bool VersionLocked, MailboxView? Mailbox,
    bool Learned = false);

public sealed record PartitionView(PartitionConfig Config, PartitionProperties Properties, string Driver, bool Attached,
    IReadOnlyList<ContextView> Contexts, PartitionLifecycle Lifecycle = PartitionLifecycle.Started);

/// <summary>One execution context of a partition: its run-time state and, while it handles one, the request's sender.</summary>
public sealed record ContextView(int Index, ContextState State, RunReason? Reason, ushort? RequestFrom, bool Req2, bool AnswerHeld, ushort? WaitingFor);

/// <summary>
/// A run of pages of one state. <see cref="ReadOnly"/> and <see cref="Device"/> are the owner's attributes (manifest
/// "access": "ro" and "device": true; a donation gives the new owner the access it retrieved and keeps "device").
/// </summary>
public sealed record MemoryRegionView(ulong Base, ulong Size, ushort Owner, bool Secure, PageUse Use, ulong? Share, bool ReadOnly = false, bool Device = false);
