using Spmc.Core.Calls;
using Spmc.Core.Spm.Notifications;
using Spmc.Core.Spm.Shares;

namespace Spmc.Core.Spm;

/// <summary>
/// Everything the SPMC changes as calls arrive, in one place: the endpoints (negotiated versions, mailboxes,
/// partitions' execution contexts), the memory transactions and the next handle, the notification records, the
/// events raised by the current call and the console. Plain data: the ABI handlers read and write it, nothing else
/// holds SPMC state. Serialisable with System.Text.Json for views; a snapshot goes through
/// <see cref="Snapshots.SpmcSnapshot"/> instead (it also restores, and carries behaviours' state). Not thread-safe:
/// the owning system serialises calls.
/// </summary>
public sealed class SpmcState
{
    /// <summary>Every endpoint of the system by ID: the manifest's VMs and partitions.</summary>
    public Dictionary<ushort, Endpoint> Endpoints { get; init; } = [];

    /// <summary>Memory transactions by handle, being sent or complete (Hafnium's share states).</summary>
    public SortedDictionary<ulong, ShareState> Shares { get; init; } = [];

    /// <summary>The handle the next memory transaction gets.</summary>
    public ulong NextHandle { get; set; } = 1;

    /// <summary>Notification state per receiver, made on first use.</summary>
    public Dictionary<ushort, NotificationRecord> Notifications { get; init; } = [];

    /// <summary>The FFA_NS_RES_INFO_GET retrieval in progress, if any (at most one, DEN0077 v1.3 R0274).</summary>
    public Handlers.NsResInfoRetrieval? NsResInfo { get; set; }

    /// <summary>Events raised by the call being handled; the owning system takes them after each call.</summary>
    public List<SystemEvent> Events { get; init; } = [];

    /// <summary>FFA_CONSOLE_LOG output.</summary>
    public ConsoleOutput Console { get; init; } = new();
}
