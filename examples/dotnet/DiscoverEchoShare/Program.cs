// Discover -> echo -> share -> reclaim, as the host (VM 0) behind the pkvm-7.4 proxy of the default manifest: the
// flow of clients/python/examples/discover_echo_share.py, with Spmc.Client's typed calls and MemoryDescriptors.
//
// Runs on its own fresh system, deletes it at the end, prints each step. Exit status: 0 when every step passed,
// 1 when one failed, 2 when no Spmc answers at the URL.
//
//     dotnet run --project examples/dotnet/DiscoverEchoShare [-- --url http://127.0.0.1:5081] [--manifest FILE]
//
// The URL is --url, else $SPMC_URL, else the local service (SpmcClient.DefaultUrl).

using Spmc.Abi.Descriptors.Memory;
using Spmc.Abi.Ffa;
using Spmc.Client;
using Spmc.V1;

const ushort Host = 0x0, Echo = 0x8001, MemoryPartition = 0x8002;
// In the host's region of the default manifest (0x80000000, 256 MiB).
const ulong Tx = 0x8000_1000, Rx = 0x8000_2000, PageAddress = 0x8010_0000;
const int Steps = 8;

string? url = Environment.GetEnvironmentVariable("SPMC_URL");
var manifest = Path.Combine(AppContext.BaseDirectory, "manifests", "default.json");
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--url" when i + 1 < args.Length: url = args[++i]; break;
        case "--manifest" when i + 1 < args.Length: manifest = args[++i]; break;
        default:
            Console.Error.WriteLine($"usage: DiscoverEchoShare [--url URL] [--manifest FILE] (unknown: '{args[i]}')");
            return 2;
    }
}

using var spmc = new SpmcClient(url);
var id = $"dotnet-example-{Environment.ProcessId}";
SystemInfo info;
try
{
    info = await spmc.CreateSystemFromFileAsync(manifest, id);
}
catch (SpmcUnavailableException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 2;
}
Console.WriteLine($"system {id}: {string.Join(", ", info.Partitions.Select(p => $"0x{p.Id:x} {p.Name} ({p.Behaviour})"))}");

var host = spmc.System(id, Host);
var passed = 0;
var failed = 0;
try
{
    await Step("FFA_VERSION 1.2", async () =>
    {
        var answer = await host.VersionAsync(1, 2);
        Check(answer.Decoded.Result == "version 1.2", $"{answer.Decoded.Result}, want version 1.2");
        return answer.Decoded.Result;
    });

    await Step("FFA_RXTX_MAP_64", async () =>
    {
        Success(await host.MapMailboxAsync(Tx, Rx, 1));
        return $"TX 0x{Tx:x}, RX 0x{Rx:x}, 1 page";
    });

    await Step("FFA_PARTITION_INFO_GET (nil UUID)", async () =>
    {
        var found = await host.PartitionInfoAsync(Rx);
        Success(found.Answer);
        var ids = found.Partitions.Select(p => p.Id).ToHashSet();
        Check(ids.Contains(Echo) && ids.Contains(MemoryPartition), $"partitions {string.Join(" ", ids.Select(p => $"0x{p:x}"))}");
        return $"{found.Partitions.Count} entries: {string.Join(", ", found.Partitions.Select(p => $"0x{p.Id:x} {p.Uuid}"))}";
    });

    await Step($"direct request to 0x{Echo:x} (echo)", async () =>
    {
        var answer = await host.DirectRequestAsync(Echo, 0x11, 0x22, 0x33);
        var payload = answer.X.Skip(3).Take(3).ToArray();
        Check(answer.Decoded.Result == "FFA_MSG_SEND_DIRECT_RESP_32", Describe(answer));
        Check(payload.SequenceEqual(new ulong[] { 0x11, 0x22, 0x33 }), $"payload {Hex(payload)}");
        Check(answer.X[1] == ((uint)Echo << 16 | Host), $"w1 0x{answer.X[1]:x}");
        return $"{answer.Decoded.Result}, payload {Hex(payload)}";
    });

    ulong? handle = null;
    await Step("FFA_MEM_SHARE_32", async () =>
    {
        await host.WriteMemoryAsync(PageAddress, Enumerable.Repeat((byte)0xA5, FfaPage.Size).ToArray());
        var descriptor = MemoryDescriptors.Transaction(Host, MemoryPartition, PageAddress, 1, DataAccess.ReadWrite, FfaVersion.V1_2);
        var answer = await host.ShareAsync(Tx, descriptor);
        Success(answer);
        handle = SpmcSystem.Handle(answer);
        return $"1 page at 0x{PageAddress:x} (0xA5 bytes) to 0x{MemoryPartition:x}, handle 0x{handle:x}";
    });

    if (handle is { } h)
    {
        await Step($"direct request to 0x{MemoryPartition:x} (memory): retrieve, check, write", async () =>
        {
            // The memory behaviour (docs/partitions.md): retrieve the handle, check every byte is 0xA5, fill it with
            // 0x5A, relinquish; w3 = status (0: done), w4 = the step it stopped at, w5 = pages retrieved.
            var answer = await host.DirectRequestAsync(MemoryPartition, h & 0xFFFF_FFFF, h >> 32, 1, 0x100 | 0xA5, 0x100 | 0x5A);
            Check(answer.Decoded.Result == "FFA_MSG_SEND_DIRECT_RESP_32", Describe(answer));
            Check(answer.X[3] == 0, $"status {answer.X[3]} (step 0x{answer.X[4]:x})");
            Check(answer.X[5] == 1, $"{answer.X[5]} pages retrieved");
            var data = await host.ReadMemoryAsync(PageAddress, FfaPage.Size);
            Check(data.All(b => b == 0x5A), $"the page does not hold 0x5A: {Convert.ToHexStringLower(data[..8])}...");
            return "status 0, 1 page retrieved, checked 0xA5, the host now reads 0x5A";
        });

        await Step("FFA_MEM_RECLAIM", async () =>
        {
            Success(await host.ReclaimAsync(h));
            var shares = (await spmc.GetStateAsync(id)).Shares.Count;
            Check(shares == 0, $"{shares} shares left");
            return $"handle 0x{h:x} reclaimed, no share left";
        });
    }

    await Step("FFA_RXTX_UNMAP", async () =>
    {
        Success(await host.UnmapMailboxAsync());
        return "done";
    });
}
finally
{
    await spmc.DeleteSystemAsync(id);
}
Console.WriteLine($"{passed} of {Steps} steps passed; system {id} deleted");
return passed == Steps ? 0 : 1;

// Runs one numbered step and prints what it found, or why it failed.
async Task Step(string title, Func<Task<string>> check)
{
    var n = passed + failed + 1;
    try
    {
        var result = await check();
        Console.WriteLine($"{n}. {title}: {result}");
        passed++;
    }
    catch (Exception e) when (e is StepFailed or SpmcException)
    {
        Console.WriteLine($"{n}. {title}: FAILED: {e.Message}");
        failed++;
    }
}

static void Check(bool condition, string why)
{
    if (!condition) throw new StepFailed(why);
}

static void Success(SmcResponse answer) =>
    Check(answer.X[0] == FfaFunctions.Id32(FfaFunction.Success), Describe(answer));

static string Describe(SmcResponse answer) =>
    $"{answer.Decoded.Result}{(answer.Decoded.HasError ? $" {answer.Decoded.Error}" : "")}{(answer.Decoded.HasReason ? $": {answer.Decoded.Reason}" : "")}";

static string Hex(IEnumerable<ulong> words) => string.Join(" ", words.Select(w => $"0x{w:x}"));

sealed class StepFailed(string message) : Exception(message);
