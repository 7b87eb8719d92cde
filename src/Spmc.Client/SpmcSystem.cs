using Spmc.Abi.Calls;
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
