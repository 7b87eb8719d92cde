using System.Runtime.InteropServices;
using Grpc.Net.Client;
using Spmc.Bench;
using Spmc.V1;

BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"error: {e.Message}\n\n{BenchOptions.Usage}");
    return 2;
}
if (options.Help)
{
    Console.WriteLine(BenchOptions.Usage);
    return 0;
}

// One token for the hard time cap, Ctrl+C and SIGTERM: loops stop, the server is killed in `finally`.
using var stop = new CancellationTokenSource(options.TimeLimit);
var interrupted = false;
void OnSignal(PosixSignalContext context)
{
    context.Cancel = true;
    interrupted = true;
    stop.Cancel();
}
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);

ServerProcess? server = null;
AppDomain.CurrentDomain.ProcessExit += (_, _) => server?.Dispose();
try
{
    Uri grpcUrl;
    Uri? restUrl;
    if (options.GrpcUrl is { } url)
    {
        (grpcUrl, restUrl) = (url, options.RestUrl);
        Console.WriteLine($"server: running at gRPC {grpcUrl}" + (restUrl is null ? " (no --rest-url: REST skipped)" : $", REST {restUrl}"));
    }
    else
    {
        var dll = Path.GetFullPath(options.ServerDll ?? ServerProcess.FindServerDll());
        if (!File.Exists(dll)) throw new FileNotFoundException($"--server: {dll} does not exist (build src/Spmc.Server first)");
        server = ServerProcess.Start(dll);
        (grpcUrl, restUrl) = (server.GrpcUrl, server.RestUrl);
        Console.WriteLine($"server: {dll} (pid {server.Id}), gRPC {server.GrpcUrl.Authority}, REST {server.RestUrl.Authority}");
    }
    if (restUrl is not null)
        await ServerProcess.WaitHealthyAsync(restUrl, server, stop.Token);

    Console.WriteLine($"client: {Environment.ProcessorCount} cores, .NET {Environment.Version}, {RuntimeInformation.OSDescription}; " +
                      $"warm-up {options.Warmup} per benchmark, time cap {options.TimeLimit.TotalSeconds:F0} s");

    using var channel = GrpcChannel.ForAddress(grpcUrl, new GrpcChannelOptions
    {
        HttpHandler = new SocketsHttpHandler { UseProxy = false, EnableMultipleHttp2Connections = false },
    });
    using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false, MaxConnectionsPerServer = 1 });
    var bench = new Benchmarks(new SmcGateway.SmcGatewayClient(channel), http, restUrl);
    await bench.WaitReadyAsync(stop.Token);

    var plan = new (int Count, Func<int, CancellationToken, Task<BenchResult>> Run)[]
    {
        (options.Calls, bench.UnaryAsync),
        (options.PingPong, bench.PingPongAsync),
        (options.Pipelined, (n, ct) => bench.PipelinedAsync(n, options.Window, ct)),
        (restUrl is null ? 0 : options.Rest, bench.RestAsync),
    };
    Console.WriteLine();
    Console.WriteLine(BenchResult.Header);
    foreach (var (count, run) in plan)
    {
        if (count == 0) continue;
        if (options.Warmup > 0) await run(options.Warmup, stop.Token);
        if (stop.IsCancellationRequested) break;
        Console.WriteLine(await run(count, stop.Token));
    }

    if (!stop.IsCancellationRequested) return 0;
    Console.WriteLine(interrupted ? "interrupted" : $"time cap of {options.TimeLimit.TotalSeconds:F0} s reached: the rest was skipped");
    return interrupted ? 130 : 0;
}
catch (OperationCanceledException) when (stop.IsCancellationRequested)
{
    Console.Error.WriteLine(interrupted ? "interrupted" : "time cap reached before the server answered");
    return interrupted ? 130 : 1;
}
catch (Exception e)
{
    Console.Error.WriteLine($"error: {e.GetType().Name}: {e.Message}");
    if (server is not null) Console.Error.WriteLine($"server output (last lines):\n{server.RecentOutput}");
    return 1;
}
finally
{
    server?.Dispose();
}
