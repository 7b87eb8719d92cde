using Spmc.Abi.Descriptors;
using Spmc.Abi.Ffa;
using Spmc.Core.Manifests;
using Spmc.Core.Memory;
using Spmc.Core.Partitions;

namespace Spmc.Core.Systems;

/// <summary>A snapshot of one system for the inspector: plain values, safe to hand out after the lock is released.</summary>
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
    IReadOnlyDictionary<ushort, string> ConsolePending);

public sealed record MailboxView(ulong Tx, ulong Rx, uint Pages, RxState State);

public sealed record EndpointView(ushort Id, bool Secure, string Name, int Vcpus, FfaVersion Version, bool VersionNegotiated, bool VersionLocked, MailboxView? Mailbox);

public sealed record PartitionView(PartitionConfig Config, PartitionProperties Properties);

public sealed record MemoryRegionView(ulong Base, ulong Size, ushort Owner, bool Secure, PageUse Use);
