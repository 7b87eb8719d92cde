using System.Text.Json;
using Spmc.Client;

namespace Spmc.Cli.Tests;

/// <summary>Every `spmc` subcommand end to end against a started server, parsed and run in-process.</summary>
[Collection(CliCollection.Name)]
public sealed class CliTests(CliServer server)
{
    /// <summary>A v1.2 FFA_MEM_SHARE descriptor: host 0x0 shares 1 page at 0x80001000 with 0x8001, RW, normal WB inner-shareable.</summary>
    public const string ShareDescriptor =
        "00002f00000000000000000000000000000000000000000020000000010000003000000000000000000000000000000001800200500000000000000000000000000000000000000000000000000000000100000001000000000000000000000000100080000000000100000000000000";

    [Fact]
    public async Task SystemsListShowsTheDefaultSystem()
    {
        var run = await server.RunAsync("systems", "list");
        Assert.Equal(0, run.Code);
        Assert.Contains("default  ffa 1.3  proxy pkvm-7.4  vms host(0x0)  partitions echo(0x8001) memory(0x8002) notifier(0x8003)", run.Lines);
        Assert.Equal("", run.Err);
    }

    [Fact]
    public async Task SystemsCreateStateResetDelete()
    {
        var created = await server.RunAsync("systems", "create", CliServer.DefaultManifest, "--id", "cli-lifecycle");
        Assert.Equal((0, "cli-lifecycle  ffa 1.3  proxy pkvm-7.4  vms host(0x0)  partitions echo(0x8001) memory(0x8002) notifier(0x8003)\n"), (created.Code, created.Out));
        Assert.Equal(0, (await server.RunAsync("call", "cli-lifecycle", "FFA_VERSION", "1.2")).Code);

        var state = await server.RunAsync("systems", "state", "cli-lifecycle");
        Assert.Equal(0, state.Code);
        using (var json = JsonDocument.Parse(state.Out))
        {
            Assert.Equal("cli-lifecycle", json.RootElement.GetProperty("id").GetString());
            Assert.True(json.RootElement.GetProperty("endpoints")[0].GetProperty("versionNegotiated").GetBoolean());
        }

        Assert.Equal(0, (await server.RunAsync("mem", "write", "cli-lifecycle", "0x80000000", "ff")).Code);
        Assert.Equal((0, "reset cli-lifecycle\n"), ((await server.RunAsync("systems", "reset", "cli-lifecycle")) is var r ? (r.Code, r.Out) : default));
        Assert.StartsWith("0000000080000000  00 ", (await server.RunAsync("mem", "read", "cli-lifecycle", "0x80000000", "1")).Out);

        var again = await server.RunAsync("systems", "create", CliServer.DefaultManifest, "--id", "cli-lifecycle");
        Assert.Equal((1, "spmc: AlreadyExists: id: a system 'cli-lifecycle' already exists\n"), (again.Code, again.Err));

        Assert.Equal((0, "deleted cli-lifecycle\n"), ((await server.RunAsync("systems", "delete", "cli-lifecycle")) is var d ? (d.Code, d.Out) : default));
        var gone = await server.RunAsync("systems", "state", "cli-lifecycle");
        Assert.Equal((1, "spmc: NotFound: system 'cli-lifecycle' does not exist\n"), (gone.Code, gone.Err));
    }

    [Fact]
    public async Task SnapshotRestoreAndCreateFromASnapshot()
    {
        var system = await server.NewSystemAsync();
        var file = Path.Combine(Path.GetTempPath(), $"spmc-cli-{Guid.NewGuid():N}.json");
        try
        {
            Assert.Equal(0, (await server.RunAsync("mem", "write", system, "0x80000000", "c0ffee")).Code);
            Assert.Equal((0, $"saved {system} to {file}\n"), ((await server.RunAsync("systems", "snapshot", system, file)) is var s ? (s.Code, s.Out) : default));
            Assert.Equal(0, (await server.RunAsync("mem", "write", system, "0x80000000", "000000")).Code);

            Assert.Equal((0, $"restored {system}\n"), ((await server.RunAsync("systems", "restore", system, file)) is var r ? (r.Code, r.Out) : default));
            Assert.StartsWith("0000000080000000  c0 ff ee 00", (await server.RunAsync("mem", "read", system, "0x80000000", "4")).Out);

            var copy = await server.RunAsync("systems", "create", file, "--snapshot", "--id", $"{system}-copy");
            Assert.Equal(0, copy.Code);
            Assert.StartsWith($"{system}-copy  ffa 1.3  proxy pkvm-7.4", copy.Out);
            Assert.StartsWith("0000000080000000  c0 ff ee 00", (await server.RunAsync("mem", "read", $"{system}-copy", "0x80000000", "4")).Out);

            var stdout = await server.RunAsync("systems", "snapshot", system, "-");
            using (var json = JsonDocument.Parse(stdout.Out)) Assert.Equal(2, json.RootElement.GetProperty("version").GetInt32());

            // A manifest is no snapshot: the service names the field.
            var wrong = await server.RunAsync("systems", "restore", system, CliServer.DefaultManifest);
            Assert.Equal(1, wrong.Code);
            Assert.StartsWith("spmc: InvalidArgument: snapshot", wrong.Err);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Files_TooBigOrUnreadable_AreUsageErrors()
    {
        var system = await server.NewSystemAsync();
        var dir = Directory.CreateTempSubdirectory("spmc-cli-").FullName;
        try
        {
            var big = Path.Combine(dir, "big.bin");
            await File.WriteAllBytesAsync(big, new byte[(1 << 20) + 1]);
            var tooBig = await server.RunAsync("mem", "write", system, "0x80000000", "@" + big);
            Assert.Equal((2, $"spmc: data: {big} has 1048577 bytes, more than the 1048576 allowed\n"), (tooBig.Code, tooBig.Err));
            Assert.Equal(2, (await server.RunAsync("decode", "@" + big)).Code);

            var directory = await server.RunAsync("mem", "write", system, "0x80000000", "@" + dir);
            Assert.Equal(2, directory.Code);
            Assert.StartsWith("spmc: ", directory.Err);

            var snapshot = Path.Combine(dir, "huge.json");
            await File.WriteAllTextAsync(snapshot, new string(' ', 9 << 20));
            var huge = await server.RunAsync("systems", "restore", system, snapshot);
            Assert.Equal(2, huge.Code);
            Assert.Contains("one gRPC request takes at most", huge.Err);
            Assert.Equal(2, (await server.RunAsync("systems", "create", snapshot, "--snapshot")).Code);

            var fragment = await server.RunAsync("faults", "add", system, "FFA_MEM_RETRIEVE_REQ", "fragment:0xFFFFFFFFFFFF");
            Assert.Equal(2, fragment.Code);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("FFA_VERSION", "1.2")]
    [InlineData("version", "0x10002")]
    [InlineData("ffa_version_32", "65538")]
    [InlineData("0x84000063", "1.2")]
    public async Task CallTakesNamesNumbersAndVersions(string function, string requested)
    {
        var system = await server.NewSystemAsync();
        var run = await server.RunAsync("call", system, function, requested);
        Assert.Equal(0, run.Code);
        Assert.Equal("function  FFA_VERSION (SMC32)", run.Lines[0]);
        Assert.Equal("result    version 1.2", run.Lines[1]);
        Assert.Equal("x0-x7     0x10002 0x0 0x0 0x0 0x0 0x0 0x0 0x0", run.Lines[2]);
        // The pkvm-7.4 proxy's post-init after the first FFA_VERSION: its own calls to the SPMC.
        Assert.Equal(["hop 1     as 0x0: FFA_ID_GET -> FFA_SUCCESS_32", "hop 2     as 0x0: FFA_FEATURES -> FFA_SUCCESS_32"], run.Lines[3..]);
    }

    [Fact]
    public async Task CallPrintsTheEchoAndItsNotes()
    {
        var system = await server.NewSystemAsync();
        Assert.Equal(0, (await server.RunAsync("call", system, "FFA_VERSION", "1.2")).Code);
        var run = await server.RunAsync("call", system, "MSG_SEND_DIRECT_REQ", "0x8001", "0", "1", "2", "3");
        Assert.Equal(0, run.Code);
        Assert.Equal(
        [
            "function  FFA_MSG_SEND_DIRECT_REQ (SMC32)",
            "result    FFA_MSG_SEND_DIRECT_RESP_32",
            "x0-x7     0x84000070 0x80010000 0x0 0x1 0x2 0x3 0x0 0x0",
            "note      0x8001 'echo' ran: FFA_MSG_SEND_DIRECT_RESP_32 → FFA_SUCCESS_32",
            "hop 1     as 0x0: FFA_MSG_SEND_DIRECT_REQ -> FFA_MSG_SEND_DIRECT_RESP_32",
        ], run.Lines);
    }

    [Fact]
    public async Task CallJsonIsTheRawAnswer()
    {
        var system = await server.NewSystemAsync();
        var run = await server.RunAsync("call", system, "FFA_VERSION", "1.2", "--json");
        Assert.Equal(0, run.Code);
        using var json = JsonDocument.Parse(run.Out);
        Assert.Equal(18, json.RootElement.GetProperty("x").GetArrayLength());
        Assert.Equal("65538", json.RootElement.GetProperty("x")[0].GetString());
        Assert.Equal("version 1.2", json.RootElement.GetProperty("decoded").GetProperty("result").GetString());
    }

    [Fact]
    public async Task AnFfaErrorExitsOneWithTheRuleOnStderr()
    {
        var system = await server.NewSystemAsync();
        var run = await server.RunAsync("call", system, "FFA_RXTX_MAP_64", "0x80000000", "0x80000000", "1");
        Assert.Equal(1, run.Code);
        Assert.Contains("error     INVALID_PARAMETERS", run.Lines);
        // A fresh system: the pKVM proxy refuses every call but FFA_VERSION until the host negotiated a version.
        Assert.Contains("rule      pkvm.version.not-negotiated", run.Lines);
        Assert.StartsWith("spmc: FFA_RXTX_MAP: INVALID_PARAMETERS [pkvm.version.not-negotiated] pKVM: ", run.Err);
        Assert.Single(run.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Theory]
    [InlineData("spmc: function: 'FFA_BOGUS' is no FF-A function name (e.g. FFA_VERSION, MEM_SHARE_64) or number", "call", "default", "FFA_BOGUS")]
    [InlineData("spmc: function: FFA_PARTITION_INFO_GET_REGS has no SMC32 form", "call", "default", "PARTITION_INFO_GET_REGS_32")]
    [InlineData("spmc: x1: 'zz' is not a number (hex 0x... or decimal)", "call", "default", "FFA_VERSION", "zz")]
    [InlineData("spmc: x2: '1.2.3' is not a version like 1.2", "call", "default", "FFA_FEATURES", "0", "1.2.3")]
    [InlineData("spmc: --as: 0x10000 is not a 16-bit endpoint ID", "call", "default", "FFA_VERSION", "1.2", "--as", "0x10000")]
    [InlineData("spmc: data: not an even number of hex digits", "mem", "write", "default", "0x80000000", "abc")]
    [InlineData("spmc: --version: '2.0' is not 1.0, 1.1, 1.2 or 1.3", "decode", "00", "--version", "2.0")]
    [InlineData("spmc: Required argument 'function' missing for command: 'call'. (see spmc --help)", "call", "default")]
    [InlineData("spmc: Required command was not provided.; Unrecognized command or argument 'frobnicate'. (see spmc --help)", "systems", "frobnicate")]
    public async Task UsageErrorsExitTwoWithOneLine(string message, params string[] args)
    {
        var run = await server.RunAsync(args);
        Assert.Equal((2, message + "\n", ""), (run.Code, run.Err, run.Out));
    }

    [Fact]
    public async Task AnUnknownSystemExitsOne()
    {
        var run = await server.RunAsync("call", "no-such-system", "FFA_VERSION", "1.2");
        Assert.Equal((1, "spmc: NotFound: system 'no-such-system' does not exist\n"), (run.Code, run.Err));
    }

    [Theory]
    [InlineData("systems", "list")]
    [InlineData("call", "default", "FFA_VERSION", "1.2")]
    [InlineData("mem", "read", "default", "0x80000000", "16")]
    [InlineData("watch", "default")]
    [InlineData("faults", "list", "default")]
    public async Task NoServiceExitsThreeSayingHowToStartIt(params string[] args)
    {
        var url = $"http://127.0.0.1:{CliServer.FreePort()}";
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await SpmcCli.RunAsync([.. args, "--url", url], stdout, stderr);
        Assert.Equal(3, code);
        Assert.Equal($"spmc: no Spmc service at {url}: start it with `dotnet run --project src/Spmc.Server -c Release` (or set --url / SPMC_URL)\n", stderr.ToString());
        Assert.Equal("", stdout.ToString());
    }

    [Fact]
    public async Task MemWriteThenReadShowsAHexdump()
    {
        var system = await server.NewSystemAsync();
        var written = await server.RunAsync("mem", "write", system, "0x80000000", "48656c6c6f2c20464621");
        Assert.Equal((0, "wrote 10 byte(s) at 0x80000000\n"), (written.Code, written.Out));
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllBytesAsync(file, [0xAA, 0xBB]);
            Assert.Equal(0, (await server.RunAsync("mem", "write", system, "0x80000010", "@" + file)).Code);
        }
        finally { File.Delete(file); }

        var read = await server.RunAsync("mem", "read", system, "0x80000000", "20");
        Assert.Equal(0, read.Code);
        Assert.Equal(
            "0000000080000000  48 65 6c 6c 6f 2c 20 46  46 21 00 00 00 00 00 00 |Hello, FF!......|\n" +
            "0000000080000010  aa bb 00 00                                      |....|\n", read.Out);
    }

    [Fact]
    public async Task MemReadOfAnotherEndpointsMemoryIsRefused()
    {
        var system = await server.NewSystemAsync();
        var run = await server.RunAsync("mem", "read", system, "0x60000000", "16");
        Assert.Equal(1, run.Code);
        Assert.StartsWith("spmc: PermissionDenied: ", run.Err);
        Assert.Equal(0, (await server.RunAsync("mem", "read", system, "0x60000000", "16", "--as", "0x8001")).Code);
    }

    [Fact]
    public async Task WatchPrintsTheScheduleReceiverInterrupt()
    {
        var system = await server.NewSystemAsync();
        Assert.Equal(0, (await server.RunAsync("call", system, "FFA_VERSION", "1.2")).Code);
        Assert.Equal(0, (await server.RunAsync("call", system, "FFA_NOTIFICATION_BITMAP_CREATE", "0", "4")).Code);
        Assert.Equal(0, (await server.RunAsync("call", system, "FFA_NOTIFICATION_BIND", "0x80030000", "0", "0x20", "0")).Code);

        var stderr = new SignalWriter("watching events of");
        var watch = server.RunAsync(["watch", system, "--endpoint", "0x0", "--count", "1"], stderr);
        // Subscribed: the next call's events reach the watch. A watch that ended instead fails here, not by hanging.
        if (await Task.WhenAny(stderr.Seen, watch) == watch) Assert.Fail($"watch ended before subscribing: {(await watch).Err}");
        // The notifier partition sets notification 5 for the host: the SRI fires.
        var call = await server.RunAsync("call", system, "FFA_MSG_SEND_DIRECT_REQ", "0x8003", "0", "0", "0x20", "0", "0");
        Assert.Equal(0, call.Code);
        Assert.Contains("event     #1 ScheduleReceiverInterrupt endpoint 0x0: notifications 0x20 from 0x8003 pending for 0x0000", call.Lines);

        var run = await watch;
        Assert.Equal((0, "#1 ScheduleReceiverInterrupt endpoint 0x0: notifications 0x20 from 0x8003 pending for 0x0000\n"), (run.Code, run.Out));
        Assert.Equal($"watching events of {system} (Ctrl-C to stop)\n", run.Err);
    }

    [Fact]
    public async Task WatchTraceFollowsTheTraceStream()
    {
        var system = await server.NewSystemAsync();
        Assert.Equal(0, (await server.RunAsync("call", system, "FFA_VERSION", "1.2")).Code);
        var run = await server.RunAsync("watch", system, "--trace", "--count", "2");
        Assert.Equal(0, run.Code);
        Assert.Equal(2, run.Lines.Length);
        using var header = JsonDocument.Parse(run.Lines[0]);
        Assert.Equal(("spmc-trace", system), (header.RootElement.GetProperty("format").GetString(), header.RootElement.GetProperty("system").GetString()));
        using var entry = JsonDocument.Parse(run.Lines[1]);
        Assert.Equal(("smc", 1, "0x84000063"), (entry.RootElement.GetProperty("type").GetString(), entry.RootElement.GetProperty("seq").GetInt32(),
            entry.RootElement.GetProperty("x")[0].GetString()));
    }

    [Fact]
    public async Task DecodeShowsAMemoryTransactionDescriptor()
    {
        var run = await server.RunAsync("decode", ShareDescriptor);
        Assert.Equal(0, run.Code);
        Assert.Equal(
        [
            "layout      v1.2 (EMAD size 32, receivers at 48)",
            "sender      0x0",
            "attributes  0x2F (Normal, WriteBack, InnerShareable)",
            "flags       0x0 (type NotSpecified)",
            "handle      0x0",
            "tag         0x0",
            "receivers   1",
            "  [0]       0x8001:ReadWrite/NotSpecified, composite at 80",
            "composite   1 page(s) in 1 constituent(s)",
            "  0x80001000 1 page(s)",
        ], run.Lines);
    }

    [Theory]
    [InlineData("0000", "1.2", "spmc: INVALID_PARAMETERS [mem-desc.header-truncated] 2 bytes cannot hold the 48-byte v1.1+ header")]
    [InlineData(ShareDescriptor, "1.0", "spmc: INVALID_PARAMETERS [mem-desc.v1-0-bytes-24-27-mbz] v1.0 header: reserved bytes 24..27 are not zero")]
    public async Task DecodeNamesTheRuleABadDescriptorBreaks(string hex, string version, string message)
    {
        var run = await server.RunAsync("decode", hex, "--version", version);
        Assert.Equal((1, message + "\n"), (run.Code, run.Err));
    }

    [Fact]
    public async Task FaultsAddListRemoveClear()
    {
        var system = await server.NewSystemAsync();
        var added = await server.RunAsync("faults", "add", system, "FFA_VERSION", "NOT_SUPPORTED", "--next", "1");
        Assert.Equal((0, "rule 1: FFA_VERSION -> NOT_SUPPORTED when next 1 (matched 0, hits 0)\n"), (added.Code, added.Out));
        Assert.Equal(0, (await server.RunAsync("faults", "add", system, "FFA_MEM_SHARE_64", "BUSY", "--caller", "0x0")).Code);

        var faulted = await server.RunAsync("call", system, "FFA_VERSION", "1.2");
        Assert.Equal(1, faulted.Code);
        Assert.Contains("error     NOT_SUPPORTED", faulted.Lines);

        var list = await server.RunAsync("faults", "list", system);
        Assert.Equal(
            "rule 1: FFA_VERSION -> NOT_SUPPORTED when next 1 (matched 1, hits 1)\n" +
            "rule 2: FFA_MEM_SHARE_64 -> BUSY caller 0x0 when always (matched 0, hits 0)\n", list.Out);

        Assert.Equal((0, "removed rule 1\n"), ((await server.RunAsync("faults", "remove", system, "1")) is var r ? (r.Code, r.Out) : default));
        Assert.Equal(["rule 2: FFA_MEM_SHARE_64 -> BUSY caller 0x0 when always (matched 0, hits 0)"], (await server.RunAsync("faults", "list", system)).Lines);
        Assert.Equal((0, "cleared\n"), ((await server.RunAsync("faults", "clear", system)) is var c ? (c.Code, c.Out) : default));
        Assert.Equal("", (await server.RunAsync("faults", "list", system)).Out);

        var missing = await server.RunAsync("faults", "remove", system, "7");
        Assert.Equal(1, missing.Code);
        Assert.StartsWith("spmc: NotFound: ", missing.Err);
    }

    [Fact]
    public async Task FaultsAddTakesTheOtherActions()
    {
        var system = await server.NewSystemAsync();
        Assert.Equal(0, (await server.RunAsync("call", system, "FFA_VERSION", "1.2")).Code);
        var delay = await server.RunAsync("faults", "add", system, "FFA_MSG_SEND_DIRECT_REQ", "delay", "--receiver", "0x8001", "--nth", "1");
        Assert.Equal((0, "rule 1: FFA_MSG_SEND_DIRECT_REQ -> delay receiver 0x8001 when nth 1 (matched 0, hits 0)\n"), (delay.Code, delay.Out));
        var preempted = await server.RunAsync("call", system, "FFA_MSG_SEND_DIRECT_REQ", "0x8001", "0", "5");
        Assert.Equal(0, preempted.Code);
        Assert.Contains("result    FFA_INTERRUPT_32", preempted.Lines);

        var fragment = await server.RunAsync("faults", "add", system, "FFA_MEM_RETRIEVE_REQ", "fragment:256");
        Assert.Equal((0, "rule 2: FFA_MEM_RETRIEVE_REQ -> fragment 256 when always (matched 0, hits 0)\n"), (fragment.Code, fragment.Out));
        var stage2 = await server.RunAsync("faults", "add", system, "FFA_MEM_SHARE", "stage2", "--nth", "2");
        Assert.Equal((0, "rule 3: FFA_MEM_SHARE -> stage2 when nth 2 (matched 0, hits 0)\n"), (stage2.Code, stage2.Out));

        var noSize = await server.RunAsync("faults", "add", system, "FFA_MEM_RETRIEVE_REQ", "fragment");
        Assert.Equal((2, "spmc: action: fragment needs a size, e.g. fragment:256\n"), (noSize.Code, noSize.Err));
        var badSize = await server.RunAsync("faults", "add", system, "FFA_MEM_RETRIEVE_REQ", "fragment:7");
        Assert.Equal(1, badSize.Code);
        Assert.StartsWith("spmc: InvalidArgument: fragment", badSize.Err);
    }

    [Fact]
    public async Task HelpListsEveryCommand()
    {
        var run = await server.RunAsync("--help");
        Assert.Equal(0, run.Code);
        foreach (var command in new[] { "systems", "call", "mem", "watch", "decode", "faults" })
            Assert.Contains(run.Lines, l => l.TrimStart().StartsWith(command + " ", StringComparison.Ordinal));
    }

    /// <summary>The client library on its own: typed calls over Spmc.Abi's call layer.</summary>
    [Fact]
    public async Task ClientTypedCalls()
    {
        var system = await server.NewSystemAsync();
        using var spmc = new SpmcClient(server.GrpcUrl);
        var host = spmc.System(system);
        Assert.Equal("version 1.2", (await host.VersionAsync(1, 2)).Decoded.Result);
        var id = await host.IdGetAsync();
        Assert.Equal((0x8400_0061UL, 0UL), (id.X[0], id.X[2]));
        var echo = await host.DirectRequestAsync(0x8001, 7, 8);
        Assert.Equal([0x8400_0070UL, 0x8001_0000, 0, 7, 8], echo.X.Take(5));
        Assert.Equal("0x8001", (await host.As(0x8001).IdGetAsync()).X[2] is var sp ? $"0x{sp:X}" : "");
        Assert.Contains(await spmc.ListSystemsAsync(), s => s.Id == system);

        using var nobody = new SpmcClient($"http://127.0.0.1:{CliServer.FreePort()}");
        var e = await Assert.ThrowsAsync<SpmcUnavailableException>(() => nobody.ListSystemsAsync());
        Assert.StartsWith("no Spmc service at http://127.0.0.1:", e.Message);
    }

    /// <summary>The descriptor builder and the share helpers: the host shares a page with `memory`, then reclaims it.</summary>
    [Fact]
    public async Task ClientSharesAndReclaims()
    {
        var system = await server.NewSystemAsync();
        using var spmc = new SpmcClient(server.GrpcUrl);
        var host = spmc.System(system);
        await host.VersionAsync(1, 2);
        Assert.Equal(0x8400_0061UL, (await host.MapMailboxAsync(0x8000_0000, 0x8000_1000)).X[0]);
        var descriptor = MemoryDescriptors.Transaction(0x0, 0x8002, 0x8001_0000, 1);
        Assert.Equal(0x8002, MemoryDescriptors.Read(descriptor).Value!.Receivers[0].Access.Endpoint);

        var shared = await host.ShareAsync(0x8000_0000, descriptor);
        Assert.True(shared.X[0] == 0x8400_0061, $"{shared.Decoded.Error} {shared.Decoded.Reason}");
        var handle = SpmcSystem.Handle(shared);
        Assert.Contains((await spmc.GetStateAsync(system)).Shares, s => s.Handle == handle && s.Receivers[0].Id == 0x8002);
        var reclaimed = await host.ReclaimAsync(handle);
        Assert.True(reclaimed.X[0] == 0x8400_0061, $"{reclaimed.Decoded.Error} {reclaimed.Decoded.Reason}");
        Assert.Empty((await spmc.GetStateAsync(system)).Shares);
    }

    /// <summary>A stderr that says when a line starting with a given text was written.</summary>
    private sealed class SignalWriter(string prefix) : StringWriter
    {
        private readonly TaskCompletionSource _seen = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Seen => _seen.Task;

        public override void WriteLine(string? value)
        {
            lock (this) base.WriteLine(value);
            if (value?.StartsWith(prefix, StringComparison.Ordinal) == true) _seen.TrySetResult();
        }
    }
}
