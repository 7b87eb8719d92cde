using System.Net;
using System.Net.Sockets;
using Spmc.Abi.Ffa;
using Spmc.Client;

namespace Spmc.Clients.Tests;

/// <summary>
/// The .NET examples (examples/dotnet) run as built — `dotnet exec` of the dll the build made next to them, in this
/// test's configuration — against the real host on loopback, as a user runs them against a started service.
/// </summary>
[Collection(DotnetExamplesCollection.Name)]
public sealed class DotnetExamplesTests(LiveSpmc spmc)
{
    private string GrpcUrl => $"http://{spmc.GrpcTarget}";

    [Fact]
    public async Task DiscoverEchoShare_runs_the_python_examples_steps_on_its_own_system()
    {
        var run = await ExecAsync("DiscoverEchoShare", ["--url", GrpcUrl]);

        Assert.True(run.ExitCode == 0, run.ToString());
        var lines = Lines(run.Stdout);
        ExampleSteps.AssertPassed(lines, "dotnet-example");
        Assert.Equal("", run.Stderr);
        await AssertNoSystemLeftAsync("dotnet-example-");
    }

    [Fact]
    public async Task DiscoverEchoShare_takes_SPMC_URL_and_says_when_no_service_answers()
    {
        var url = $"http://127.0.0.1:{UnusedPort()}";
        var run = await ExecAsync("DiscoverEchoShare", [], new Dictionary<string, string> { ["SPMC_URL"] = url });

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Equal("", run.Stdout);
        Assert.StartsWith($"error: no Spmc service at {url}: start it with `dotnet run --project src/Spmc.Server -c Release`", run.Stderr);
        Assert.DoesNotContain("   at ", run.Stderr); // a message, not a stack trace
    }

    [Fact]
    public async Task RemotePartition_plays_0x8002_of_blocked_relay_and_answers_the_hosts_requests()
    {
        var run = await ExecAsync("RemotePartition", ["--url", GrpcUrl, "--requests", "2"]);

        Assert.True(run.ExitCode == 0, run.ToString());
        var lines = Lines(run.Stdout);
        Assert.Equal(8, lines.Length);
        Assert.Matches(@"^system remote-example-\d+ from blocked-relay.json$", lines[0]);
        Assert.Equal("attached as 0x8002: 1 execution context(s), remote timeout 60000 ms", lines[1]);
        Assert.Equal("0x8002 got a request from 0x0: w3 = 10, w4 = 11 -> answers w3 = 21", lines[2]);
        Assert.Equal("request 1: host -> 0x8002 w3 = 10, w4 = 11: FFA_MSG_SEND_DIRECT_RESP_32 w3 = 21", lines[3]);
        Assert.Equal("0x8002 got a request from 0x0: w3 = 20, w4 = 21 -> answers w3 = 41", lines[4]);
        Assert.Equal("request 2: host -> 0x8002 w3 = 20, w4 = 21: FFA_MSG_SEND_DIRECT_RESP_32 w3 = 41", lines[5]);
        Assert.Equal("served 2 request(s)", lines[6]);
        Assert.Matches(@"^system remote-example-\d+ deleted$", lines[7]);
        await AssertNoSystemLeftAsync("remote-example-");
    }

    [Fact]
    public async Task RemotePartition_says_when_no_service_answers()
    {
        var url = $"http://127.0.0.1:{UnusedPort()}";
        var run = await ExecAsync("RemotePartition", ["--url", url]);

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Equal("", run.Stdout);
        Assert.StartsWith($"error: no Spmc service at {url}: ", run.Stderr);
    }

    [Fact]
    public async Task RemotePartition_refuses_a_bad_request_count_with_its_usage()
    {
        var run = await ExecAsync("RemotePartition", ["--url", GrpcUrl, "--requests", "-1"]);

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains("usage: RemotePartition", run.Stderr);
        Assert.Contains("(bad: '--requests')", run.Stderr);
    }

    /// <summary>The example's dll as the build left it: examples/dotnet/NAME/bin/CONFIG/TFM/NAME.dll.</summary>
    private static Task<Run.Result> ExecAsync(string example, string[] args, IDictionary<string, string>? environment = null)
    {
        var tfm = new DirectoryInfo(AppContext.BaseDirectory);
        var dll = Repo.Path("examples", "dotnet", example, "bin", tfm.Parent!.Name, tfm.Name, example + ".dll");
        Assert.True(File.Exists(dll), $"{dll} is not built (the test project builds it: ProjectReference)");
        var env = new Dictionary<string, string>(environment ?? new Dictionary<string, string>());
        env.TryAdd("SPMC_URL", ""); // the test's own server or the --url given, never one from the environment
        return Run.ProcessAsync("dotnet", ["exec", dll, .. args], TimeSpan.FromSeconds(120), env);
    }

    private static string[] Lines(string stdout) => stdout.Replace("\r", "").TrimEnd('\n').Split('\n').Select(l => l.Trim()).ToArray();

    private async Task AssertNoSystemLeftAsync(string prefix)
    {
        using var http = spmc.Http();
        Assert.DoesNotContain(prefix, await http.GetStringAsync("/api/v1/systems"));
    }

    private static int UnusedPort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }
}

/// <summary>What Spmc.Client gained for the examples: FFA_PARTITION_INFO_GET read from RX, RX release, unmap.</summary>
[Collection(DotnetExamplesCollection.Name)]
public sealed class SpmcClientMailboxTests(LiveSpmc spmc)
{
    private const ulong Tx = 0x8000_1000, Rx = 0x8000_2000;
    private static readonly uint Success = FfaFunctions.Id32(FfaFunction.Success);

    [Fact]
    public async Task PartitionInfo_reads_the_entries_from_RX_and_releases_it()
    {
        using var client = new SpmcClient($"http://{spmc.GrpcTarget}");
        var id = await NewSystemAsync(client);
        var host = client.System(id);
        await host.VersionAsync(1, 2);
        Assert.Equal(Success, (await host.MapMailboxAsync(Tx, Rx)).X[0]);

        var echo = await host.PartitionInfoAsync(Rx, FfaUuid.Parse("7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4a01"));
        var entry = Assert.Single(echo.Partitions);
        Assert.Equal((ushort)0x8001, entry.Id);
        // Asked by UUID, the descriptor's UUID field is nil: only nil-UUID queries fill it (Hafnium api_ffa_partition_info_get).
        Assert.Equal(FfaUuid.Nil, entry.Uuid);
        // RX was released: a second query is answered, not BUSY.
        var all = await host.PartitionInfoAsync(Rx);
        Assert.Equal(Success, all.Answer.X[0]);
        Assert.Equal([0x8001, 0x8002, 0x8003, 0x8003], all.Partitions.Select(p => (int)p.Id));
        await client.DeleteSystemAsync(id);
    }

    [Fact]
    public async Task PartitionInfo_without_a_mailbox_returns_the_error_and_no_entries_and_unmap_unmaps()
    {
        using var client = new SpmcClient($"http://{spmc.GrpcTarget}");
        var id = await NewSystemAsync(client);
        var host = client.System(id);
        await host.VersionAsync(1, 2);

        var none = await host.PartitionInfoAsync(Rx);
        Assert.Equal("FFA_ERROR_32", none.Answer.Decoded.Result);
        Assert.Empty(none.Partitions);

        Assert.Equal(Success, (await host.MapMailboxAsync(Tx, Rx)).X[0]);
        Assert.Equal(Success, (await host.UnmapMailboxAsync()).X[0]);
        Assert.Equal("FFA_ERROR_32", (await host.UnmapMailboxAsync()).Decoded.Result);  // nothing left to unmap
        await client.DeleteSystemAsync(id);
    }

    private static async Task<string> NewSystemAsync(SpmcClient client)
    {
        var id = $"mailbox-{Guid.NewGuid():N}"[..20];
        await client.CreateSystemFromFileAsync(Repo.Path("src", "Spmc.Server", "manifests", "default.json"), id);
        return id;
    }
}

[CollectionDefinition(Name)]
public sealed class DotnetExamplesCollection : ICollectionFixture<LiveSpmc>
{
    public const string Name = "dotnet examples";
}
