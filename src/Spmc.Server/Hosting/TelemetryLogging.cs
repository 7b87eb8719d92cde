using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Spmc.Abi.Ffa;
using Spmc.Core.Systems;

namespace Spmc.Server.Hosting;

/// <summary>
/// Logs every SMC as one structured event (category "Spmc.Smc"): at Information when the answer is an FF-A error,
/// at Debug otherwise, so <c>Logging__LogLevel__Spmc=Debug</c> shows the decoded stream. Nothing is formatted
/// when the level is off. Systems created and deleted are logged at Information.
/// </summary>
public sealed partial class SmcLogObserver(ILoggerFactory loggers) : ISystemObserver
{
    public const string Category = "Spmc.Smc";
    private readonly ILogger _log = loggers.CreateLogger(Category);
    private readonly ILogger _systems = loggers.CreateLogger("Spmc.Systems");

    public void OnCall(SimulatedSystem system, CallRecord record)
    {
        var d = record.Outcome.Decoded;
        var level = d.Error is null ? LogLevel.Debug : LogLevel.Information;
        if (!_log.IsEnabled(level)) return;
        var call = record.Call;
        var hops = d.Hops is { Count: > 0 } h ? string.Join(",", h.Select(x => x.Decoded.Function)) : "";
        var us = Math.Round(record.Elapsed.TotalMicroseconds, 1);
        if (d.Error is null)
            Answered(_log, system.Id, record.Sequence, EndpointId.Format(call.Caller), call.Vcpu, d.Function, d.Width, d.Result,
                d.Hops?.Count ?? 0, hops, us, record.FromAttachedPartition);
        else
            Failed(_log, system.Id, record.Sequence, EndpointId.Format(call.Caller), call.Vcpu, d.Function, d.Width, d.Result,
                d.Error, d.Rule, d.Reason, d.Hops?.Count ?? 0, hops, us, record.FromAttachedPartition);
    }

    public void OnCreated(SimulatedSystem system) =>
        Created(_systems, system.Id, $"0x{system.Config.SpmcId:X4}", system.Config.Version.ToString(), system.Config.Vms.Count,
            system.Config.Partitions.Count, system.Config.ProxyProfile.ToString());

    public void OnDeleted(SimulatedSystem system) => Deleted(_systems, system.Id);

    [LoggerMessage(EventId = 1, EventName = "SmcAnswered", Level = LogLevel.Debug,
        Message = "{System} #{Sequence} {Caller} vCPU {Vcpu}: {Function} {Width} -> {Result}; {HopCount} hop(s) [{Hops}]; {DurationUs} us; attached {FromAttachedPartition}")]
    private static partial void Answered(ILogger logger, string system, long sequence, string caller, uint vcpu, string function, string width,
        string result, int hopCount, string hops, double durationUs, bool fromAttachedPartition);

    [LoggerMessage(EventId = 2, EventName = "SmcFailed", Level = LogLevel.Information,
        Message = "{System} #{Sequence} {Caller} vCPU {Vcpu}: {Function} {Width} -> {Result} {Error} (rule {Rule}: {Reason}); {HopCount} hop(s) [{Hops}]; {DurationUs} us; attached {FromAttachedPartition}")]
    private static partial void Failed(ILogger logger, string system, long sequence, string caller, uint vcpu, string function, string width,
        string result, string error, string? rule, string? reason, int hopCount, string hops, double durationUs, bool fromAttachedPartition);

    [LoggerMessage(EventId = 10, EventName = "SystemCreated", Level = LogLevel.Information,
        Message = "System '{System}' created: SPMC {Spmc} at FF-A {Version}, {Vms} VM(s), {Partitions} partition(s), proxy {Proxy}")]
    private static partial void Created(ILogger logger, string system, string spmc, string version, int vms, int partitions, string proxy);

    [LoggerMessage(EventId = 11, EventName = "SystemDeleted", Level = LogLevel.Information, Message = "System '{System}' deleted")]
    private static partial void Deleted(ILogger logger, string system);
}

/// <summary>Logs where the service listens once it has started (category "Spmc.Hosting").</summary>
public sealed partial class ListeningLog(IServer server, IHostApplicationLifetime lifetime, ILoggerFactory loggers) : IHostedService
{
    private readonly ILogger _log = loggers.CreateLogger("Spmc.Hosting");

    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStarted.Register(() =>
        {
            var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses;
            Listening(_log, addresses is { Count: > 0 } a ? string.Join(", ", a) : "(no network addresses: in-process test server)");
        });
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(EventId = 20, EventName = "Listening", Level = LogLevel.Information,
        Message = "Spmc listening on {Addresses} (REST, Swagger and /metrics on the HTTP/1.1 endpoint, gRPC on the HTTP/2 one)")]
    private static partial void Listening(ILogger logger, string addresses);
}
