using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Spmc.Abi.Calls;
using Spmc.V1;

namespace Spmc.Client;

/// <summary>
/// A client of one Spmc service over gRPC (protos/spmc/v1). Every call that fails on the service throws
/// <see cref="SpmcException"/> (the gRPC status and the service's message); when nothing answers at the URL it
/// throws <see cref="SpmcUnavailableException"/>. Thread-safe; dispose it to close the channel.
/// </summary>
/// <example>
/// <code>
/// using var spmc = new SpmcClient();                 // http://127.0.0.1:5081
/// var answer = await spmc.System("default").VersionAsync(1, 2);
/// Console.WriteLine(answer.Decoded.Result);          // "version 1.2"
/// </code>
/// </example>
public sealed class SpmcClient : IDisposable
{
    /// <summary>The gRPC endpoint a locally started service listens on.</summary>
    public const string DefaultUrl = "http://127.0.0.1:5081";

    /// <summary>How to start a service, for the message of <see cref="SpmcUnavailableException"/>.</summary>
    public const string StartHint = "dotnet run --project src/Spmc.Server -c Release";

    private readonly GrpcChannel _channel;
    private readonly ConcurrentDictionary<string, string> _tokens = new(StringComparer.Ordinal);

    /// <param name="url">The service's gRPC (HTTP/2) endpoint; <see cref="DefaultUrl"/> when null or empty.</param>
    /// <param name="token">The bearer token sent where the client holds none for the system (the operator's, say); see <see cref="Token"/>.</param>
    public SpmcClient(string? url = null, string? token = null)
    {
        Token = string.IsNullOrWhiteSpace(token) ? null : token.Trim();
        Url = string.IsNullOrWhiteSpace(url) ? DefaultUrl : url.TrimEnd('/');
        if (!Uri.TryCreate(Url, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https"))
            throw new ArgumentException($"url: '{url}' is not an http:// or https:// URL", nameof(url));
        // Snapshot documents with written memory outgrow gRPC's 4 MiB default; the service sends at most what it holds.
        _channel = GrpcChannel.ForAddress(uri, new GrpcChannelOptions { MaxReceiveMessageSize = MaxMessageBytes });
        CallInvoker = _channel.Intercept(new TokenInterceptor(this));
        Systems = new Systems.SystemsClient(CallInvoker);
        Gateway = new SmcGateway.SmcGatewayClient(CallInvoker);
        Memory = new V1.Memory.MemoryClient(CallInvoker);
        Faults = new V1.Faults.FaultsClient(CallInvoker);
        Inspector = new Inspector.InspectorClient(CallInvoker);
    }

    /// <summary>
    /// The bearer token of calls for systems the client holds no token for (docs/security.md): the operator token, a
    /// client token, or one system's token. Null: none (a service in mode none needs none).
    /// </summary>
    public string? Token { get; set; }

    /// <summary>Uses <paramref name="token"/> for every call about <paramref name="system"/> (a system created elsewhere).</summary>
    public void UseSystemToken(string system, string token) => _tokens[system] = token;

    /// <summary>The token the client holds for <paramref name="system"/>: from its creation here or <see cref="UseSystemToken"/>.</summary>
    public string? TokenFor(string system) => _tokens.GetValueOrDefault(system);

    /// <summary>The authorization header for calls about <paramref name="system"/>, for streams and generated clients of your own.</summary>
    public Metadata HeadersFor(string? system)
    {
        var token = (system is null ? null : TokenFor(system)) ?? Token;
        return token is null ? [] : new Metadata { { "authorization", "Bearer " + token } };
    }

    /// <summary>The channel with the client's tokens added to each call (what the generated clients below use).</summary>
    public CallInvoker CallInvoker { get; }

    public string Url { get; }

    /// <summary>The largest answer this client takes (64 MiB); bigger snapshots: <c>Systems.SnapshotStream</c>.</summary>
    public const int MaxMessageBytes = 64 << 20;

    /// <summary>The gRPC channel, for generated clients of your own (they send no token: use <see cref="CallInvoker"/>).</summary>
    public GrpcChannel Channel => _channel;

    /// <summary>The generated clients, for what this class does not wrap (Snapshot, Replay, Session); Attach: <see cref="RemotePartition"/>.</summary>
    public Systems.SystemsClient Systems { get; }
    public SmcGateway.SmcGatewayClient Gateway { get; }
    public V1.Memory.MemoryClient Memory { get; }
    public V1.Faults.FaultsClient Faults { get; }
    public Inspector.InspectorClient Inspector { get; }

    /// <summary>A handle on one system that calls as <paramref name="caller"/> (0: the host VM).</summary>
    public SpmcSystem System(string id, ushort caller = 0) => new(this, id, caller);

    // ---- systems ----

    public async Task<IReadOnlyList<SystemInfo>> ListSystemsAsync(CancellationToken ct = default) =>
        (await Run(() => Systems.ListAsync(new ListSystemsRequest(), cancellationToken: ct).ResponseAsync)).Systems;

    public Task<SystemInfo> GetSystemAsync(string id, CancellationToken ct = default) =>
        Run(() => Systems.GetAsync(new GetSystemRequest { Id = id }, cancellationToken: ct).ResponseAsync);

    /// <summary>Creates a system from a manifest given as JSON (docs/manifests.md); <paramref name="id"/> empty: allocated.</summary>
    /// <remarks>In mode tokens the answer's <c>Token</c> opens the system; this client keeps it and uses it for the system's calls.
    /// <paramref name="debug"/>: the token may act as the SPMC on memory.</remarks>
    public Task<SystemInfo> CreateSystemAsync(string manifestJson, string? id = null, bool record = false, CancellationToken ct = default, bool debug = false) =>
        Keep(Run(() => Systems.CreateAsync(new CreateSystemRequest { Id = id ?? "", ManifestJson = manifestJson, Record = record, Debug = debug },
            cancellationToken: ct).ResponseAsync));

    private async Task<SystemInfo> Keep(Task<SystemInfo> created)
    {
        var info = await created;
        if (info.Token.Length > 0) _tokens[info.Id] = info.Token;
        return info;
    }

    /// <summary>Creates a system from a manifest file.</summary>
    public async Task<SystemInfo> CreateSystemFromFileAsync(string path, string? id = null, bool record = false, CancellationToken ct = default, bool debug = false) =>
        await CreateSystemAsync(await File.ReadAllTextAsync(path, ct), id, record, ct, debug);

    public async Task DeleteSystemAsync(string id, CancellationToken ct = default)
    {
        await Run(() => Systems.DeleteAsync(new DeleteSystemRequest { Id = id }, cancellationToken: ct).ResponseAsync);
        _tokens.TryRemove(id, out _);
    }

    /// <summary>Back to the state after creation, same ID (docs/faults.md#reset).</summary>
    public Task ResetSystemAsync(string id, CancellationToken ct = default) =>
        Run(() => Systems.ResetAsync(new ResetSystemRequest { Id = id }, cancellationToken: ct).ResponseAsync);

    /// <summary>The system's whole state as a snapshot document in JSON (docs/snapshots.md).</summary>
    public async Task<string> SnapshotAsync(string id, CancellationToken ct = default) =>
        (await Run(() => Systems.SnapshotAsync(new SnapshotRequest { Id = id, Format = SnapshotFormat.Json }, cancellationToken: ct).ResponseAsync)).SnapshotJson;

    /// <summary>Puts the system back in a snapshot's state (JSON), in place; the manifest must be the system's.</summary>
    public Task RestoreAsync(string id, string snapshotJson, CancellationToken ct = default) =>
        Run(() => Systems.RestoreAsync(new RestoreRequest { Id = id, SnapshotJson = snapshotJson }, cancellationToken: ct).ResponseAsync);

    /// <summary>Creates a system in a snapshot's state (JSON); <paramref name="id"/> empty: allocated.</summary>
    public Task<SystemInfo> CreateSystemFromSnapshotAsync(string snapshotJson, string? id = null, bool record = false, CancellationToken ct = default, bool debug = false) =>
        Keep(Run(() => Systems.CreateAsync(new CreateSystemRequest { Id = id ?? "", SnapshotJson = snapshotJson, Record = record, Debug = debug },
            cancellationToken: ct).ResponseAsync));

    /// <summary>The system's state as the inspector shows it: endpoints, mailboxes, memory, shares, proxy, faults.</summary>
    public Task<SystemState> GetStateAsync(string id, CancellationToken ct = default) =>
        Run(() => Inspector.GetStateAsync(new GetStateRequest { SystemId = id }, cancellationToken: ct).ResponseAsync);

    // ---- calls ----

    /// <summary>Sends one SMC frame (x0.. as given, the rest zero) as <paramref name="caller"/>.</summary>
    public Task<SmcResponse> CallAsync(string system, uint caller, IEnumerable<ulong> registers, uint vcpu = 0, CancellationToken ct = default)
    {
        var request = new SmcRequest { SystemId = system, Caller = caller, Vcpu = vcpu };
        request.X.Add(registers);
        return CallAsync(request, ct);
    }

    /// <summary>Sends one typed FF-A call (Spmc.Abi's call layer: <c>new VersionCall(0x10002)</c>) as <paramref name="caller"/>.</summary>
    public Task<SmcResponse> CallAsync(string system, uint caller, IFfaCall call, uint vcpu = 0, CancellationToken ct = default) =>
        CallAsync(system, caller, call.Encode().ToArray(), vcpu, ct);

    /// <summary>Sends a request as built (memory writes before the call, reads after it, conduit, tag).</summary>
    public Task<SmcResponse> CallAsync(SmcRequest request, CancellationToken ct = default) =>
        Run(() => Gateway.CallAsync(request, cancellationToken: ct).ResponseAsync);

    // ---- memory ----

    /// <summary>Reads simulated memory as <paramref name="asEndpoint"/> (PermissionDenied outside what it may access).</summary>
    public async Task<byte[]> ReadMemoryAsync(string system, ulong address, uint length, uint asEndpoint = 0, CancellationToken ct = default) =>
        (await Run(() => Memory.ReadAsync(new ReadMemoryRequest { SystemId = system, Address = address, Length = length, AsEndpoint = asEndpoint },
            cancellationToken: ct).ResponseAsync)).Data.ToByteArray();

    public Task WriteMemoryAsync(string system, ulong address, ReadOnlyMemory<byte> data, uint asEndpoint = 0, CancellationToken ct = default) =>
        Run(() => Memory.WriteAsync(new WriteMemoryRequest { SystemId = system, Address = address, Data = ByteString.CopyFrom(data.Span), AsEndpoint = asEndpoint },
            cancellationToken: ct).ResponseAsync);

    // ---- fault rules (docs/faults.md) ----

    public Task<FaultRule> AddFaultAsync(string system, FaultRuleSpec rule, CancellationToken ct = default) =>
        Run(() => Faults.AddAsync(new AddFaultRequest { SystemId = system, Rule = rule }, cancellationToken: ct).ResponseAsync);

    public async Task<IReadOnlyList<FaultRule>> ListFaultsAsync(string system, CancellationToken ct = default) =>
        (await Run(() => Faults.ListAsync(new ListFaultsRequest { SystemId = system }, cancellationToken: ct).ResponseAsync)).Rules;

    public Task RemoveFaultAsync(string system, uint ruleId, CancellationToken ct = default) =>
        Run(() => Faults.RemoveAsync(new RemoveFaultRequest { SystemId = system, RuleId = ruleId }, cancellationToken: ct).ResponseAsync);

    public Task ClearFaultsAsync(string system, CancellationToken ct = default) =>
        Run(() => Faults.ClearAsync(new ClearFaultsRequest { SystemId = system }, cancellationToken: ct).ResponseAsync);

    // ---- streams ----

    /// <summary>
    /// The system's events from now on (all, or those about <paramref name="endpoint"/>) until <paramref name="ct"/> is
    /// cancelled or the system is deleted. <paramref name="subscribed"/> runs once the service has subscribed, so
    /// events of calls made after it are seen.
    /// </summary>
    public IAsyncEnumerable<SystemEvent> WatchAsync(string system, uint? endpoint = null, Action? subscribed = null, CancellationToken ct = default)
    {
        var request = new WatchRequest { SystemId = system };
        if (endpoint is { } e) request.Endpoint = e;
        return Stream(() => Systems.Watch(request, cancellationToken: ct), subscribed, ct);
    }

    /// <summary>
    /// The system's trace (docs/traces.md): the header (sequence 0), the entries in its ring after
    /// <paramref name="after"/>, and with <paramref name="follow"/> every new entry until cancelled or deleted.
    /// </summary>
    public IAsyncEnumerable<TraceEntry> TraceAsync(string system, bool follow = false, long? after = null, Action? subscribed = null, CancellationToken ct = default)
    {
        var request = new TraceRequest { SystemId = system, Follow = follow };
        if (after is { } a) request.After = a;
        return Stream(() => Systems.Trace(request, cancellationToken: ct), subscribed, ct);
    }

    private async IAsyncEnumerable<T> Stream<T>(Func<AsyncServerStreamingCall<T>> start, Action? subscribed, [EnumeratorCancellation] CancellationToken ct)
    {
        using var call = start();
        await Run(() => call.ResponseHeadersAsync);
        subscribed?.Invoke();
        while (true)
        {
            bool more;
            try { more = await call.ResponseStream.MoveNext(ct); }
            catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && ct.IsCancellationRequested) { yield break; }
            catch (RpcException e) { throw Map(e); }
            if (!more) yield break;
            yield return call.ResponseStream.Current;
        }
    }

    private async Task<T> Run<T>(Func<Task<T>> rpc)
    {
        try { return await rpc(); }
        catch (RpcException e) { throw Map(e); }
    }

    /// <summary>The exception this client throws for <paramref name="e"/>.</summary>
    public SpmcException ToSpmcException(RpcException e) => Map(e);

    private SpmcException Map(RpcException e) =>
        // The service itself never answers Unavailable: the status means the channel found nobody at the URL.
        e.StatusCode == StatusCode.Unavailable
            ? new SpmcUnavailableException(Url, e)
            : new SpmcException(e.StatusCode, e.Status.Detail, e);

    public void Dispose() => _channel.Dispose();
}

/// <summary>The service answered a request with an error status (NotFound, InvalidArgument, PermissionDenied, ...).</summary>
public class SpmcException(StatusCode code, string message, Exception? inner = null) : Exception(message, inner)
{
    public StatusCode Code { get; } = code;
}

/// <summary>Nothing answers at the client's URL: the service is not running there.</summary>
public sealed class SpmcUnavailableException(string url, Exception inner)
    : SpmcException(StatusCode.Unavailable, $"no Spmc service at {url}: start it with `{SpmcClient.StartHint}` (or set --url / SPMC_URL)", inner)
{
    public string Url { get; } = url;
}
