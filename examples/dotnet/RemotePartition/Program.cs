// Plays partition 0x8002 ("companion", "behaviour": "remote") of examples/manifests/blocked-relay.json: attaches
// over PartitionHost.Attach and answers every direct request with w3 = w3 + w4 (RemotePartition.ServeAsync), while
// the host (VM 0) sends it direct requests and prints the answers.
//
//     dotnet run --project examples/dotnet/RemotePartition [-- --url URL] [--requests N] [--system ID]
//
// It creates its own system (ID --system, default remote-example-PID) and deletes it on exit. With --requests N
// (default 3) the host sends N requests and the program exits; with --requests 0 it only serves, printing each
// request it answers, until Ctrl-C or SIGTERM (send requests with the CLI: `spmc call ID FFA_MSG_SEND_DIRECT_REQ 0x8002 0 10 20`).
// Exit status: 0 when every answer was right, 1 when one was not, 2 when no Spmc answers at the URL.

using System.Runtime.InteropServices;
using Spmc.Client;

const ushort Companion = 0x8002;

string? url = Environment.GetEnvironmentVariable("SPMC_URL");
var requests = 3;
var id = $"remote-example-{Environment.ProcessId}";
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--url" when i + 1 < args.Length: url = args[++i]; break;
        case "--requests" when i + 1 < args.Length && int.TryParse(args[i + 1], out var n) && n >= 0: requests = n; i++; break;
        case "--system" when i + 1 < args.Length: id = args[++i]; break;
        default:
            Console.Error.WriteLine($"usage: RemotePartition [--url URL] [--requests N (0: until Ctrl-C)] [--system ID] (bad: '{args[i]}')");
            return 2;
    }
}

using var stop = new CancellationTokenSource();
// Ctrl-C (SIGINT) or SIGTERM: stop serving, detach and delete the system instead of dying on the spot.
using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);

using var spmc = new SpmcClient(url);
var manifest = Path.Combine(AppContext.BaseDirectory, "manifests", "blocked-relay.json");
try
{
    await spmc.CreateSystemFromFileAsync(manifest, id);
}
catch (SpmcUnavailableException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 2;
}
Console.WriteLine($"system {id} from blocked-relay.json");

var wrong = 0;
try
{
    await using var companion = await RemotePartition.AttachAsync(spmc, id, Companion);
    Console.WriteLine($"attached as 0x{companion.Info.PartitionId:x}: {companion.Info.ExecutionContexts} execution context(s), " +
                      $"remote timeout {companion.Info.RemoteTimeoutMs} ms");

    // The partition's whole message loop: wait, then answer each direct request with w3 + w4.
    var served = 0;
    var loop = companion.ServeAsync(request =>
    {
        var sum = request.Payload[0] + request.Payload[1];
        Console.WriteLine($"  0x{Companion:x} got a request from 0x{request.Sender:x}: w3 = {request.Payload[0]}, w4 = {request.Payload[1]} -> answers w3 = {sum}");
        Interlocked.Increment(ref served);
        return [sum];
    }, stop.Token);

    var host = spmc.System(id);
    await host.VersionAsync(1, 2);
    if (requests == 0)
    {
        Console.WriteLine($"serving until Ctrl-C; try: spmc call {id} FFA_MSG_SEND_DIRECT_REQ 0x{Companion:x} 0 10 20");
        await loop;
    }
    else
    {
        for (ulong r = 1; r <= (ulong)requests && !stop.IsCancellationRequested; r++)
        {
            var (a, b) = (r * 10, r * 10 + 1);
            var answer = await host.DirectRequestAsync(Companion, a, b);
            // Attach's frames are applied asynchronously: until the loop's first FFA_MSG_WAIT has taken effect the
            // partition is not waiting and the request is refused BUSY (direct-req.receiver-off). Retry only that.
            for (var retry = 0; retry < 500 && answer.Decoded.Rule == "direct-req.receiver-off"; retry++)
            {
                await Task.Delay(10, stop.Token);
                answer = await host.DirectRequestAsync(Companion, a, b);
            }
            var ok = answer.Decoded.Result == "FFA_MSG_SEND_DIRECT_RESP_32" && answer.X[3] == a + b;
            if (!ok) wrong++;
            Console.WriteLine($"request {r}: host -> 0x{Companion:x} w3 = {a}, w4 = {b}: {answer.Decoded.Result} w3 = {answer.X[3]}" +
                              (ok ? "" : $" WRONG (want FFA_MSG_SEND_DIRECT_RESP_32 w3 = {a + b}) {answer.Decoded.Error} {answer.Decoded.Reason}"));
        }
        await stop.CancelAsync();
        await loop;
    }
    Console.WriteLine($"served {served} request(s)");
}
catch (OperationCanceledException) when (stop.IsCancellationRequested) { }
catch (SpmcException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    wrong++;
}
finally
{
    await spmc.DeleteSystemAsync(id);
    Console.WriteLine($"system {id} deleted");
}
return wrong == 0 ? 0 : 1;

void Stop(PosixSignalContext signal)
{
    signal.Cancel = true;
    stop.Cancel();
}
