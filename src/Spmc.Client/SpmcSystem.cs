using Spmc.Abi.Calls;
using Spmc.Abi.Descriptors;
using Spmc.Abi.Ffa;
using Spmc.V1;

namespace Spmc.Client;

/// <summary>
/// One system seen by one caller: typed FF-A calls over Spmc.Abi's call layer, sent as <see cref="Caller"/>
/// (a VM, bit 15 clear, enters through the system's hypervisor proxy; a partition ID calls the SPMC directly).
/// </summary>
public sealed class SpmcSystem(SpmcClient client, string id, ushort caller)
{
    public string Id { get; } = id;
    public ushort Caller { get; } = caller;

    /// <summary>The same system, calling as another endpoint.</summary>
    public SpmcSystem As(ushort caller) => new(client, Id, caller);

    /// <summary>Sends a typed call (any <see cref="IFfaCall"/> record of Spmc.Abi.Calls).</summary>
    public Task<SmcResponse> CallAsync(IFfaCall call, CancellationToken ct = default) => client.CallAsync(Id, Caller, call, ct: ct);

    /// <summary>Sends raw registers x0, x1, ...</summary>
    public Task<SmcResponse> CallAsync(params ulong[] registers) => client.CallAsync(Id, Caller, registers);

    /// <summary>FFA_VERSION: negotiates <paramref name="major"/>.<paramref name="minor"/>; x0 of the answer is the callee's version.</summary>
    public Task<SmcResponse> VersionAsync(ushort major, ushort minor, CancellationToken ct = default) =>
        CallAsync(new VersionCall(new FfaVersion(major, minor).Encoded), ct);

    /// <summary>FFA_ID_GET: x2 of the answer is the caller's endpoint ID.</summary>
    public Task<SmcResponse> IdGetAsync(CancellationToken ct = default) => CallAsync(new IdGet(), ct);

    /// <summary>FFA_FEATURES for a function ID (<c>0x84000066</c>) or a feature ID (1..3).</summary>
    public Task<SmcResponse> FeaturesAsync(uint query, CancellationToken ct = default) => CallAsync(new Features(query), ct);

    /// <summary>FFA_MSG_SEND_DIRECT_REQ_32 to <paramref name="receiver"/> with up to 5 payload words (w3..w7).</summary>
    public Task<SmcResponse> DirectRequestAsync(ushort receiver, params ulong[] payload)
    {
        if (payload.Length > DirectReq.PayloadCount)
            throw new ArgumentException($"payload: {payload.Length} words, at most {DirectReq.PayloadCount}", nameof(payload));
        return CallAsync(new DirectReq(Caller, receiver, 0, [.. payload, .. new ulong[DirectReq.PayloadCount - payload.Length]]));
    }

    /// <summary>FFA_RXTX_MAP_64: the caller's TX and RX buffers, <paramref name="pages"/> 4 KiB pages each.</summary>
    public Task<SmcResponse> MapMailboxAsync(ulong tx, ulong rx, uint pages = 1, CancellationToken ct = default) =>
        CallAsync(new RxTxMap(tx, rx, pages), ct);

    /// <summary>FFA_RXTX_UNMAP: the caller's TX and RX buffers are unmapped.</summary>
    public Task<SmcResponse> UnmapMailboxAsync(CancellationToken ct = default) => CallAsync(new RxTxUnmap(0), ct);

    /// <summary>FFA_RX_RELEASE: the caller gives its RX buffer back to the producer.</summary>
    public Task<SmcResponse> ReleaseRxAsync(CancellationToken ct = default) => CallAsync(new RxRelease(0), ct);

    /// <summary>
    /// FFA_PARTITION_INFO_GET for <paramref name="uuid"/> (null: the nil UUID, every partition): the entries are read
    /// from the caller's RX buffer at <paramref name="rx"/> in the same round trip, in the layout the answer's w3
    /// (descriptor size) names, and the RX buffer is released (FFA_RX_RELEASE). When the call fails the answer is
    /// returned with no entries and nothing is released.
    /// </summary>
    public async Task<PartitionInfoResult> PartitionInfoAsync(ulong rx, FfaUuid? uuid = null, CancellationToken ct = default)
    {
        var request = new SmcRequest { SystemId = Id, Caller = Caller };
        request.X.Add(new PartitionInfoGet(uuid ?? FfaUuid.Nil).Encode().ToArray());
        request.Reads.Add(new MemoryReadRequest { Address = rx, Length = (uint)FfaPage.Size });
        var answer = await client.CallAsync(request, ct);
        if (answer.X[0] != FfaFunctions.Id32(FfaFunction.Success)) return new PartitionInfoResult(answer, []);
        var read = answer.Reads[0];
        if (read.Error.Length > 0) throw new SpmcException(Grpc.Core.StatusCode.PermissionDenied, $"reading RX 0x{rx:X}: {read.Error}");
        var (count, size) = ((int)(uint)answer.X[2], (int)(uint)answer.X[3]);
        // w3 is the descriptor size from v1.1 (DEN0077 v1.3 §13.8 table 13.35); a v1.0 answer leaves it zero.
        var layout = size >= PartitionInfoDescriptor.SizeV1_3 ? FfaVersion.V1_3
            : size >= PartitionInfoDescriptor.SizeV1_1 ? FfaVersion.V1_1 : FfaVersion.V1_0;
        size = PartitionInfoDescriptor.SizeFor(layout);
        var data = read.Data.Span;
        var entries = new List<PartitionInfoDescriptor>(count);
        for (var i = 0; i < count; i++)
        {
            var entry = PartitionInfoDescriptor.Read(data[Math.Min(i * size, data.Length)..], layout);
            if (!entry.Ok) throw new SpmcException(Grpc.Core.StatusCode.OutOfRange, $"RX 0x{rx:X}: entry {i} of {count}: {entry.Error}");
            entries.Add(entry.Value);
        }
        await ReleaseRxAsync(ct);
        return new PartitionInfoResult(answer, entries);
    }

    /// <summary>
    /// FFA_MEM_SHARE_32 of a descriptor (<see cref="MemoryDescriptors.Transaction"/>) in one fragment: written to the
    /// caller's TX buffer at <paramref name="tx"/> and sent. On success x2 | x3 &lt;&lt; 32 of the answer is the handle
    /// (<see cref="Handle"/>).
    /// </summary>
    public Task<SmcResponse> ShareAsync(ulong tx, byte[] descriptor, CancellationToken ct = default)
    {
        var request = new SmcRequest { SystemId = Id, Caller = Caller };
        request.X.Add(new MemShare((uint)descriptor.Length, (uint)descriptor.Length).Encode().ToArray());
        request.Writes.Add(new V1.MemoryWrite { Address = tx, Data = Google.Protobuf.ByteString.CopyFrom(descriptor) });
        return client.CallAsync(request, ct);
    }

    /// <summary>FFA_MEM_RECLAIM: the sender takes the memory of <paramref name="handle"/> back.</summary>
    public Task<SmcResponse> ReclaimAsync(ulong handle, CancellationToken ct = default) => CallAsync(new MemReclaim(new MemoryHandle(handle), 0), ct);

    /// <summary>The memory handle an FFA_SUCCESS answer to a share, lend or donate carries in w2/w3.</summary>
    public static ulong Handle(SmcResponse answer) => MemoryHandle.FromRegisters(answer.X[2], answer.X[3]).Value;

    public Task<byte[]> ReadMemoryAsync(ulong address, uint length, CancellationToken ct = default) =>
        client.ReadMemoryAsync(Id, address, length, Caller, ct);

    public Task WriteMemoryAsync(ulong address, ReadOnlyMemory<byte> data, CancellationToken ct = default) =>
        client.WriteMemoryAsync(Id, address, data, Caller, ct);
}

/// <summary>The answer to FFA_PARTITION_INFO_GET and the partition information descriptors it put in the caller's RX buffer.</summary>
public sealed record PartitionInfoResult(SmcResponse Answer, IReadOnlyList<PartitionInfoDescriptor> Partitions);
