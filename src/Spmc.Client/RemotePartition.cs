using System.Collections.Concurrent;
using System.Threading.Channels;
using Grpc.Core;
using Spmc.Abi.Calls;
using Spmc.Abi.Ffa;
using Spmc.Abi.Smccc;
using Spmc.V1;

namespace Spmc.Client;

/// <summary>
/// A secure partition played by this client (a manifest partition with "behaviour": "remote"), over
/// PartitionHost.Attach (docs/partitions.md#remote-partitions). <see cref="CallAsync(IFfaCall, CancellationToken)"/>
/// sends one SMC as the partition and returns its answer — FFA_MSG_WAIT and direct responses are answered when the
/// partition next gets cycles, with the frame it resumes with — and <see cref="ServeAsync"/> is the whole message loop
/// of a partition that answers direct requests. Disposing detaches.
/// </summary>
/// <example>
/// <code>
/// await using var sp = await RemotePartition.AttachAsync(spmc, "lab", 0x8002);
/// await sp.ServeAsync(request => [request.Payload[0] + request.Payload[1]]);   // answers w3 = w3 + w4
/// </code>
/// </example>
public sealed class RemotePartition : IAsyncDisposable
{
    private readonly AsyncDuplexStreamingCall<PartitionMessage, PartitionDelivery> _stream;
    private readonly ConcurrentDictionary<ulong, TaskCompletionSource<SmcResponse>> _pending = new();
    private readonly Channel<SystemEvent> _events = Channel.CreateUnbounded<SystemEvent>();
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly Task _pump;
    private readonly string _url;
    private long _tag;
    private volatile SpmcException? _ended;

    private RemotePartition(AsyncDuplexStreamingCall<PartitionMessage, PartitionDelivery> stream, Attached attached, string url)
    {
        _stream = stream;
        _url = url;
        Info = attached;
        _pump = Task.Run(PumpAsync);
    }

    /// <summary>What the service said on attaching: system, partition, execution contexts, the remote timeout.</summary>
    public Attached Info { get; }

    /// <summary>What is signalled to the partition (notification pending interrupt, indirect message), in order.</summary>
    public ChannelReader<SystemEvent> Events => _events.Reader;

    /// <summary>Attaches to <paramref name="partition"/> of <paramref name="system"/>; AlreadyExists when it is not remote or taken.</summary>
    public static async Task<RemotePartition> AttachAsync(SpmcClient client, string system, ushort partition, CancellationToken ct = default)
    {
        var stream = new PartitionHost.PartitionHostClient(client.CallInvoker).Attach(client.HeadersFor(system), cancellationToken: ct);
        try
        {
            await stream.RequestStream.WriteAsync(new PartitionMessage { Attach = new AttachRequest { SystemId = system, PartitionId = partition } }, ct);
            if (!await stream.ResponseStream.MoveNext(ct) || stream.ResponseStream.Current.Attached is not { } attached)
                throw new SpmcException(StatusCode.Internal, $"attach to 0x{partition:X4} of '{system}': the service did not confirm");
            return new RemotePartition(stream, attached, client.Url);
        }
        catch (RpcException e)
        {
            stream.Dispose();
            throw client.ToSpmcException(e);
        }
        catch
        {
            stream.Dispose();   // not confirmed, or cancelled: the stream is ours to close
            throw;
        }
    }

    /// <summary>Sends one SMC as the partition (a typed call of Spmc.Abi.Calls) and waits for its answer.</summary>
    public Task<SmcResponse> CallAsync(IFfaCall call, CancellationToken ct = default) => CallAsync(call.Encode().ToArray(), ct);

    /// <summary>Sends registers x0.. as the partition and waits for the answer. A refused frame throws <see cref="SpmcException"/>.</summary>
    public async Task<SmcResponse> CallAsync(IReadOnlyList<ulong> registers, CancellationToken ct = default)
    {
        var tag = (ulong)Interlocked.Increment(ref _tag);
        var answer = new TaskCompletionSource<SmcResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[tag] = answer;
        try
        {
            // After the pump's last sweep nobody would answer this tag: fail it now rather than wait for ever.
            if (_ended is { } ended) throw ended;
            var frame = new SmcRequest { Tag = tag };
            frame.X.Add(registers);
            try { await _writeLock.WaitAsync(ct); }
            catch (ObjectDisposedException e) { throw _ended ?? new SpmcException(StatusCode.Cancelled, "the partition was detached (disposed)", e); }
            try { await _stream.RequestStream.WriteAsync(new PartitionMessage { Frame = frame }, ct); }
            catch (RpcException e) { throw await EndedOr(Map(e)); }
            catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException)
            {
                throw await EndedOr(new SpmcException(StatusCode.Cancelled, "the partition's stream ended (detached)", e));
            }
            finally { _writeLock.Release(); }
            var response = await answer.Task.WaitAsync(ct);
            if (response.Rejection is { } refused)
                throw new SpmcException(Enum.TryParse<StatusCode>(refused.Code, out var code) ? code : StatusCode.Unknown, refused.Message);
            return response;
        }
        finally
        {
            _pending.TryRemove(tag, out _);
        }
    }

    /// <summary>
    /// The message loop of a partition that answers direct requests: FFA_MSG_WAIT, then for every
    /// FFA_MSG_SEND_DIRECT_REQ_32/64 it is resumed with, <paramref name="handler"/>'s payload (w3.., at most 5 words)
    /// as FFA_MSG_SEND_DIRECT_RESP of the same width; anything else it resumes with (FFA_RUN, a framework message it
    /// does not decode) is answered by waiting again. Returns when <paramref name="ct"/> is cancelled or the stream ends.
    /// </summary>
    public async Task ServeAsync(Func<DirectReq, IReadOnlyList<ulong>> handler, CancellationToken ct = default)
    {
        try
        {
            var resumed = await CallAsync(new MsgWait(), ct);
            while (!ct.IsCancellationRequested)
            {
                var frame = SmcFrame.From([.. resumed.X]);
                var number = (FfaFunction)(ushort)frame.FunctionId;
                var request = number == FfaFunction.MsgSendDirectReq ? DirectReq.Decode(frame) : default;
                resumed = request.Ok && request.Value is { } req
                    ? await CallAsync(req.Response(handler(req)), ct)
                    : await CallAsync(new MsgWait(), ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
        catch (SpmcException e) when (e.Code == StatusCode.Cancelled) { }
    }

    /// <summary>
    /// A write the service refused because it ended the stream fails with the write's own status (often CANCELLED); the
    /// status the stream ended with (NOT_FOUND for a deleted system, ...) is the answer, read by the pump a moment later.
    /// </summary>
    private async Task<SpmcException> EndedOr(SpmcException write)
    {
        try { await _pump.WaitAsync(TimeSpan.FromSeconds(5)); }
        catch (TimeoutException) { }
        return _ended ?? write;
    }

    private async Task PumpAsync()
    {
        SpmcException? ended = null;
        try
        {
            await foreach (var delivery in _stream.ResponseStream.ReadAllAsync())
            {
                if (delivery.Answer is { } answer && _pending.TryRemove(answer.Tag, out var waiter)) waiter.TrySetResult(answer);
                else if (delivery.Event is { } e) await _events.Writer.WriteAsync(e);
            }
        }
        catch (RpcException e) { ended = Map(e); }
        // DisposeAsync disposes the call while this loop may still be reading it: that is the detach, not an error.
        catch (ObjectDisposedException) { }
        catch (Exception e) when (e is InvalidOperationException or IOException) { ended = new SpmcException(StatusCode.Unavailable, e.Message, e); }
        ended ??= new SpmcException(StatusCode.Cancelled, "the partition's stream ended (detached)");
        _ended = ended;   // before the sweep: a call registering after it sees _ended and fails itself
        foreach (var waiter in _pending.Values) waiter.TrySetException(ended);
        _events.Writer.TryComplete();
    }

    private SpmcException Map(RpcException e) =>
        e.StatusCode == StatusCode.Unavailable ? new SpmcUnavailableException(_url, e) : new SpmcException(e.StatusCode, e.Status.Detail, e);

    /// <summary>Detaches: a request the partition was handling is answered FFA_ERROR(ABORTED) by the service.</summary>
    public async ValueTask DisposeAsync()
    {
        try { await _stream.RequestStream.CompleteAsync(); }
        catch (Exception e) when (e is RpcException or InvalidOperationException) { }
        _stream.Dispose();
        try { await _pump; }
        catch (Exception e) when (e is RpcException or OperationCanceledException or ObjectDisposedException) { }
        _writeLock.Dispose();
    }
}
