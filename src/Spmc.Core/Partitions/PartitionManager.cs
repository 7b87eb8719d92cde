using Spmc.Abi.Calls;
using Spmc.Abi.Ffa;
using Spmc.Abi.Rules;
using Spmc.Core.Calls;
using Spmc.Core.Manifests;
using Spmc.Core.Memory;
using Spmc.Core.Partitions.Behaviours;
using Spmc.Core.Partitions.Runtime;
using Spmc.Core.Proxy;

namespace Spmc.Core.Partitions;

/// <summary>Which callers an ABI is valid for at this SPMC (DEN0077 tables 13.1, 13.38, 13.53; Hafnium's FEATURES rules).</summary>
internal enum Callers
{
    Any,
    /// <summary>ID 0: the hypervisor, or the normal-world kernel at the physical instance.</summary>
    Hypervisor,
    NormalWorld,
    SecurePartitions,
}

/// <summary>
/// The SPMC: the partition manager at S-EL2 (Hafnium's role). It keeps per-endpoint state (negotiated
/// version, RX/TX mailbox) and answers FF-A calls as Hafnium does. One handler per ABI, registered in
/// <see cref="_handlers"/>; FFA_FEATURES reads the same table, so discovery always matches what is implemented.
/// Not thread-safe: the owning system serialises calls.
/// </summary>
public sealed partial class PartitionManager : ISecureWorld
{
    private readonly SystemConfig _config;
    private readonly PhysicalMemory _memory;
    private readonly MemoryMap _map;
    private readonly Dictionary<ushort, Endpoint> _endpoints = [];
    private readonly Dictionary<(FfaFunction, bool), Handler> _handlers = [];

    public ConsoleLog Console { get; } = new();

    public PartitionManager(SystemConfig config, PhysicalMemory memory, MemoryMap map)
    {
        _config = config;
        _memory = memory;
        _map = map;
        _map.Shares = this;
        foreach (var vm in config.Vms)
            _endpoints[vm.Id] = new Endpoint { Id = vm.Id, Name = vm.Name, Vcpus = vm.Vcpus, Version = config.Version };
        foreach (var sp in config.Partitions)
            _endpoints[sp.Id] = new Endpoint { Id = sp.Id, Name = sp.Name, Vcpus = sp.ExecutionContexts, Partition = sp, Version = sp.Version,
                Runtime = new PartitionRuntime(sp, Behaviours.Behaviours.Create(sp.Behaviour)) };
        RegisterHandlers();
    }

    public ushort SpmcId => _config.SpmcId;
    public FfaVersion Version => _config.Version;
    public IReadOnlyCollection<Endpoint> Endpoints => _endpoints.Values;
    public Endpoint? FindEndpoint(ushort id) => _endpoints.GetValueOrDefault(id);

    /// <summary>One ABI: who may call it, what it does, and what FFA_FEATURES answers for it (w2, or a whole answer).</summary>
    private sealed record Handler(FfaFunction Function, bool Is64, Callers Who, Func<Call, FfaAnswer> Run, Func<Call, uint>? Properties,
        Func<Call, uint, FfaAnswer>? Feature, bool ServesOlderCallers);

    /// <summary>What a handler sees: the request, the calling endpoint, and helpers that name the ABI in reasons.</summary>
    internal readonly record struct Call(FfaRequest Request, Endpoint Caller)
    {
        public ulong this[int register] => Request.Args[register];
        public FfaAnswer Fail(FfaError error, string reason) => FfaAnswer.Fail(error, $"{Request.Name}: {reason}");

        /// <summary>Refuses the call by <paramref name="rule"/>; the reason is prefixed with the function's name.</summary>
        public FfaAnswer Reject(Rule rule, string reason) => FfaAnswer.Fail(rule.Reject($"{Request.Name}: {reason}"));

        /// <summary>Refuses the call with a rejection made elsewhere (a decoder, a descriptor parser), prefixed with the function's name.</summary>
        public FfaAnswer Reject(Rejection rejection) => FfaAnswer.Fail(rejection.Prefixed(Request.Name));
        public bool FromHypervisor => Caller.Id == EndpointId.Hypervisor;
        public bool FromNormalWorld => !Caller.IsSecure;
    }

    private void Register(FfaFunction function, Callers who, Func<Call, FfaAnswer> run, bool smc32 = true, bool smc64 = false,
        Func<Call, uint>? properties = null, Func<Call, uint, FfaAnswer>? feature = null, bool servesOlderCallers = false)
    {
        if (smc32) _handlers[(function, false)] = new Handler(function, false, who, run, properties, feature, servesOlderCallers);
        if (smc64) _handlers[(function, true)] = new Handler(function, true, who, run, properties, feature, servesOlderCallers);
    }

    /// <summary>
    /// Registers a handler that takes the call decoded as <typeparamref name="T"/>: a frame whose registers break a
    /// rule of the ABI is refused by the decoder's rejection before the handler runs.
    /// </summary>
    private void Register<T>(FfaFunction function, Callers who, Func<Call, T, FfaAnswer> run, bool smc32 = true, bool smc64 = false,
        Func<Call, uint>? properties = null, Func<Call, uint, FfaAnswer>? feature = null, bool servesOlderCallers = false)
        where T : IFfaCall<T> =>
        Register(function, who, c =>
        {
            var decoded = T.Decode(c.Request.Args);
            return decoded.Ok ? run(c, decoded.Value!) : c.Reject(decoded.Rejection!);
        }, smc32, smc64, properties, feature, servesOlderCallers);

    private void RegisterHandlers()
    {
        // Return conventions: FFA_FEATURES reports them (Hafnium does) but they are not calls.
        Register(FfaFunction.Error, Callers.Any, c => c.Fail(FfaError.NotSupported, "a return value, not a call"));
        Register(FfaFunction.Success, Callers.Any, c => c.Fail(FfaError.NotSupported, "a return value, not a call"), smc64: true);

        RegisterSetup();
        RegisterMailbox();
        RegisterDiscovery();
        RegisterConsole();
        RegisterMemorySend();
        RegisterMemoryRetrieve();
        RegisterMemoryReclaim();
        RegisterNotifications();
        RegisterIndirectMessaging();
        RegisterDirectMessaging();
    }

    /// <summary>Handles one FF-A call from an endpoint of this system.</summary>
    public FfaAnswer Handle(FfaRequest request)
    {
        if (!_endpoints.TryGetValue(request.Caller, out var endpoint))
            return FfaAnswer.Fail(FfaError.InvalidParameters, $"{request.Name}: caller {EndpointId.Format(request.Caller)} is not an endpoint of this system");

        var call = new Call(request, endpoint);
        var fid = request.FunctionId;
        var info = request.Info;
        if (info is null)
            return call.Fail(FfaError.NotSupported, $"function number 0x{fid.Number:X2} is not defined by FF-A");
        if (info.Since(fid.Is64Bit) is not { } since)
            return call.Fail(FfaError.NotSupported, $"FF-A defines no SMC{(fid.Is64Bit ? 64 : 32)} form of {info.Name}");
        if (!_handlers.TryGetValue((info.Function, fid.Is64Bit), out var handler))
            return call.Fail(FfaError.NotSupported, NotImplementedReason(info, fid.Is64Bit));

        // Hafnium marks the version negotiated after any handled FF-A call but FFA_VERSION (handler.c).
        if (info.Function != FfaFunction.Version) endpoint.VersionLocked = true;

        return Unavailable(endpoint, handler, since) is { } why ? call.Fail(FfaError.NotSupported, why) : handler.Run(call);
    }

    /// <summary>Null when the caller may use this ABI, else why not (answered as NOT_SUPPORTED).</summary>
    private string? Unavailable(Endpoint caller, Handler handler, FfaVersion since)
    {
        // DEN0077: an ABI newer than the negotiated version is not part of that caller's ABI.
        if (since > _config.Version) return $"introduced in FF-A {since}; this SPMC implements {_config.Version}";
        if (since > caller.Version && !handler.ServesOlderCallers) return $"introduced in FF-A {since}; the caller uses {caller.Version}";
        return handler.Who switch
        {
            Callers.Hypervisor when caller.Id != EndpointId.Hypervisor => "only the hypervisor (ID 0) may call it",
            Callers.NormalWorld when caller.IsSecure => "only normal-world endpoints may call it",
            Callers.SecurePartitions when !caller.IsSecure => "reserved for secure partitions",
            _ => null,
        };
    }

    private static string NotImplementedReason(FfaFunctionInfo info, bool is64) => info.Function switch
    {
        FfaFunction.RxTxMap when !is64 => "only the SMC64 form is implemented (as in Hafnium)",
        FfaFunction.MsgSend or FfaFunction.MsgPoll => "the v1.0 indirect messaging ABIs are not implemented (use FFA_MSG_SEND2)",
        FfaFunction.MemOpPause or FfaFunction.MemOpResume => "memory operation time slicing is not implemented (as in Hafnium)",
        _ => $"{info.WidthName(is64)} is not implemented by this SPMC",
    };

    /// <summary>Writes <paramref name="bytes"/> at the start of an endpoint's RX buffer, zeroes the rest and marks it full.</summary>
    private void FillRx(Endpoint endpoint, ReadOnlySpan<byte> bytes)
    {
        var mailbox = endpoint.Mailbox ?? throw new InvalidOperationException("no RX buffer");
        _memory.Write(mailbox.Rx, bytes);
        // The producer zeroes the unused tail of RX (FF-A v1.3 §4.10, Hafnium).
        _memory.Clear(mailbox.Rx + (ulong)bytes.Length, (ulong)(mailbox.Size - bytes.Length));
        mailbox.State = RxState.Full;
    }

    /// <summary>Null when the endpoint's RX buffer may be written by the SPMC now, else why not (BUSY).</summary>
    private static string? RxBusyReason(Endpoint endpoint) => endpoint.Mailbox switch
    {
        null => $"{EndpointId.Format(endpoint.Id)} has no RX buffer mapped (FFA_RXTX_MAP first)",
        { State: RxState.Full } => $"the RX buffer of {EndpointId.Format(endpoint.Id)} is full (FFA_RX_RELEASE it first)",
        { State: RxState.OtherWorldOwned } => $"the RX buffer of {EndpointId.Format(endpoint.Id)} is held by the hypervisor (FFA_RX_ACQUIRE)",
        _ => null,
    };
}
