using Spmc.Abi.Descriptors;
using Spmc.Abi.Descriptors.Memory;
using Spmc.Abi.Ffa;

namespace Spmc.Core.Spm.Shares;

/// <summary>FFA_MEM_SHARE, FFA_MEM_LEND or FFA_MEM_DONATE.</summary>
public enum MemoryOperation
{
    Share = 1,
    Lend = 2,
    Donate = 3,
}

/// <summary>Where one borrower stands with a transaction (Hafnium keeps the same per-receiver state).</summary>
public enum RetrieveState
{
    /// <summary>Not retrieved, or relinquished.</summary>
    NotRetrieved,
    /// <summary>Retrieved: the memory is mapped for the borrower (the response may still have fragments to pull).</summary>
    Retrieved,
}

/// <summary>A retrieve response being delivered through RX in fragments.</summary>
public sealed class ResponseInProgress
{
    public required byte[] Bytes { get; init; }
    public required int Delivered { get; set; }
    public bool Complete => Delivered >= Bytes.Length;

    /// <summary>
    /// A hypervisor retrieve response only: the length of each fragment, cut where the sender cut its descriptor
    /// (Hafnium ffa_hypervisor_retrieve_response_init, ffa_memory_retrieve_continue); null for a borrower's
    /// response, which is cut at the borrower's RX size.
    /// </summary>
    public IReadOnlyList<int>? FragmentLengths { get; init; }

    /// <summary>The index of the next fragment to deliver (Hafnium hypervisor_fragment_count).</summary>
    public int NextFragment { get; set; }
}

/// <summary>One receiver of a transaction: what the sender granted, and its retrieve state.</summary>
public sealed class ShareReceiver
{
    public required ushort Id { get; init; }
    /// <summary>The permissions as the sender wrote them.</summary>
    public required MemoryAccessPermissions Sent { get; init; }
    public UInt128 ImplementationDefined { get; init; }
    public RetrieveState State { get; set; }
    public DataAccess GrantedData { get; set; }
    public InstructionAccess GrantedInstruction { get; set; }
    /// <summary>How many times this borrower retrieved (and relinquished) the memory.</summary>
    public int Retrievals { get; set; }
    public ResponseInProgress? Response { get; set; }

    public bool HoldsMemory => State == RetrieveState.Retrieved;
}

/// <summary>
/// One memory transaction held by the SPMC: the sender's descriptor as sent, its receivers, and — while the
/// sender is still sending fragments — the bytes received so far. Plain data: serialisable as it stands.
/// </summary>
public sealed class ShareState
{
    public required ulong Handle { get; init; }
    public required MemoryOperation Operation { get; init; }
    public required ushort Sender { get; init; }
    public required MemoryRegionAttributes Attributes { get; init; }
    public required MemoryTransactionFlags Flags { get; init; }
    public required ulong Tag { get; init; }
    public required List<ShareReceiver> Receivers { get; init; }
    /// <summary>Layout the sender used, to reread its fragments.</summary>
    public required MemoryDescriptorLayout SenderLayout { get; init; }

    /// <summary>Constituents, known once sending is complete.</summary>
    public IReadOnlyList<MemoryRegionConstituent> Constituents { get; set; } = [];

    public bool SendingComplete { get; set; }
    /// <summary>The whole descriptor being assembled from fragments (Length = total length).</summary>
    public byte[]? Pending { get; set; }
    public int Received { get; set; }
    public int Fragments { get; set; }

    /// <summary>
    /// The number of constituents in each fragment the sender sent (Hafnium fragment_constituent_counts): the
    /// first fragment's are those after the composite header, each FFA_MEM_FRAG_TX's are its length / 16.
    /// </summary>
    public List<int> FragmentConstituents { get; init; } = [];

    /// <summary>
    /// The sender aborted (FF-A 1.3 FFA_ABORT) while borrowers still held the memory: no one may retrieve it any
    /// more, and the SPMC reclaims it for the sender when the last borrower relinquishes (Hafnium deferred_reclaim_pending).
    /// </summary>
    public bool DeferredReclaim { get; set; }

    /// <summary>A hypervisor retrieve (ID 0, receiver count 0) being delivered in fragments.</summary>
    public ResponseInProgress? HypervisorResponse { get; set; }

    public ulong TotalPages => (ulong)Constituents.Sum(c => (long)c.PageCount);

    public ShareReceiver? Receiver(ushort id) => Receivers.FirstOrDefault(r => r.Id == id);

    public MemoryTransactionType Type => (MemoryTransactionType)Operation;

    public string Name => Operation switch
    {
        MemoryOperation.Share => "shared",
        MemoryOperation.Lend => "lent",
        _ => "donated",
    };

    public override string ToString() => $"0x{Handle:X} ({Operation} from {EndpointId.Format(Sender)})";
}
