using Grpc.Core;
using Spmc.Client;

namespace Spmc.Persistence.Tests;

/// <summary>
/// The real thing (issue 19): a stream of shares and memory writes over gRPC to a server process, kill -9 in the
/// middle, restart: every acknowledged share, handle and write is there, and the one in flight is all or nothing.
/// </summary>
public class CrashTests
{
    private const ulong SharedBase = 0x8100_0000, WrittenBase = 0x8800_0000;

    private static ulong SharedPage(int i) => SharedBase + (ulong)i * 0x1000;
    private static ulong WrittenAt(int i) => WrittenBase + (ulong)i * 0x1000;
    private static byte[] Written(int i) => Enumerable.Range(0, 256).Select(b => (byte)(i * 7 + b + 1)).ToArray();

    private sealed class Stream
    {
        public readonly List<(int Index, ulong Handle)> Shares = [];
        public readonly List<int> Writes = [];
        public (bool Share, int Index)? InFlight;
    }

    /// <summary>Writes then shares, one after the other, until the server goes away (or <paramref name="count"/> is done).</summary>
    private static async Task DriveAsync(SpmcSystem host, Stream stream, int count, TaskCompletionSource? halfway, int killAfter)
    {
        for (var i = 0; i < count; i++)
        {
            stream.InFlight = (false, i);
            await host.WriteMemoryAsync(WrittenAt(i), Written(i));
            stream.Writes.Add(i);
            stream.InFlight = (true, i);
            var answer = await host.ShareAsync(Host.Tx, MemoryDescriptors.Transaction(0x0, Host.Memory, SharedPage(i), 1));
            Assert.Equal(Host.Success32, answer.X[0]);
            stream.Shares.Add((i, SpmcSystem.Handle(answer)));
            stream.InFlight = null;
            if (stream.Shares.Count == killAfter) halfway?.TrySetResult();
        }
    }

    private static async Task<SpmcSystem> BootAsync(SpmcClient client)
    {
        var host = client.System("default");
        await host.VersionAsync(1, 2);
        Assert.Equal(Host.Success32, (await host.MapMailboxAsync(Host.Tx, Host.Rx)).X[0]);
        return host;
    }

    [Fact]
    public async Task StrictKeepsEveryAcknowledgedChangeAcrossKill9()
    {
        using var dir = new TempDir();
        var stream = new Stream();
        using (var server = await ServerProcess.StartAsync(dir.Path, "strict"))
        {
            using var client = new SpmcClient(server.GrpcUrl);
            var host = await BootAsync(client);
            var halfway = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var driving = DriveAsync(host, stream, 400, halfway, killAfter: 40);
            await halfway.Task.WaitAsync(TimeSpan.FromSeconds(120));
            server.Kill();   // the stream goes on sending: whatever it had in flight was never answered
            var ended = await Assert.ThrowsAnyAsync<Exception>(() => driving.WaitAsync(TimeSpan.FromSeconds(60)));
            Assert.True(ended is RpcException or SpmcUnavailableException, $"the stream ended with {ended}");
        }
        Assert.InRange(stream.Shares.Count, 40, 399);

        using var restarted = await ServerProcess.StartAsync(dir.Path, "strict");
        using var again = new SpmcClient(restarted.GrpcUrl);
        var state = await again.GetStateAsync("default");
        var handles = state.Shares.ToDictionary(s => s.Handle);
        foreach (var (index, handle) in stream.Shares)
        {
            Assert.True(handles.TryGetValue(handle, out var share), $"acknowledged share {index} (handle 0x{handle:X}) is gone:\n{restarted.Output}");
            Assert.Equal(SharedPage(index), share.Ranges.Single().Base);
        }
        var reader = again.System("default");
        foreach (var index in stream.Writes)
            Assert.Equal(Written(index), await reader.ReadMemoryAsync(WrittenAt(index), 256));
        // The change in flight at the kill: all of it or none of it.
        var extra = state.Shares.Where(s => stream.Shares.All(a => a.Handle != s.Handle)).ToList();
        if (stream.InFlight is { Share: true, Index: var shared })
            Assert.True(extra.Count == 0 || (extra.Count == 1 && extra[0].Ranges.Single().Base == SharedPage(shared)));
        else Assert.Empty(extra);
        if (stream.InFlight is { Share: false, Index: var written })
        {
            var data = await reader.ReadMemoryAsync(WrittenAt(written), 256);
            Assert.True(data.SequenceEqual(Written(written)) || data.All(b => b == 0), "the write in flight is half there");
        }
        // And it goes on: the next share gets a handle of its own.
        var next = await reader.ShareAsync(Host.Tx, MemoryDescriptors.Transaction(0x0, Host.Memory, SharedPage(500), 1));
        Assert.Equal(Host.Success32, next.X[0]);
        Assert.DoesNotContain(SpmcSystem.Handle(next), handles.Keys);
    }

    [Fact]
    public async Task ASystemsTokenStillOpensItAfterAKill9_AndNoOtherTokenDoes()
    {
        using var dir = new TempDir();
        const string Operator = "operator-token-for-the-restart-test";
        var tokens = new Dictionary<string, string> { ["Spmc__Auth__Mode"] = "tokens", ["Spmc__Auth__OperatorToken"] = Operator };
        string mine, theirs;
        using (var server = await ServerProcess.StartAsync(dir.Path, "strict", tokens))
        {
            using var creator = new SpmcClient(server.GrpcUrl);
            await creator.CreateSystemAsync(Host.DefaultManifest, id: "mine");
            await creator.CreateSystemAsync(Host.DefaultManifest, id: "theirs");
            (mine, theirs) = (creator.TokenFor("mine")!, creator.TokenFor("theirs")!);
            using var owner = new SpmcClient(server.GrpcUrl, mine);
            await owner.WriteMemoryAsync("mine", 0x8000_0000, new byte[] { 0x5A });
            server.Kill();
        }
        using var restarted = await ServerProcess.StartAsync(dir.Path, "strict", tokens);
        using var again = new SpmcClient(restarted.GrpcUrl, mine);
        Assert.Equal(0x5A, (await again.ReadMemoryAsync("mine", 0x8000_0000, 1))[0]);
        using var other = new SpmcClient(restarted.GrpcUrl, theirs);
        var e = await Assert.ThrowsAsync<SpmcException>(() => other.ReadMemoryAsync("mine", 0x8000_0000, 1));
        Assert.Equal(Grpc.Core.StatusCode.PermissionDenied, e.Code);
        Assert.Equal(0, (await other.ReadMemoryAsync("theirs", 0x8000_0000, 1))[0]);
    }

    [Fact]
    public async Task BatchedKeepsEverythingAcrossACleanStop()
    {
        using var dir = new TempDir();
        var stream = new Stream();
        using (var server = await ServerProcess.StartAsync(dir.Path, "batched"))
        {
            using var client = new SpmcClient(server.GrpcUrl);
            await DriveAsync(await BootAsync(client), stream, 30, null, killAfter: 0);
            server.Stop();
        }
        using var restarted = await ServerProcess.StartAsync(dir.Path, "batched");
        using var again = new SpmcClient(restarted.GrpcUrl);
        var state = await again.GetStateAsync("default");
        Assert.Equal(stream.Shares.Select(s => s.Handle).Order(), state.Shares.Select(s => s.Handle).Order());
        var reader = again.System("default");
        foreach (var index in stream.Writes)
            Assert.Equal(Written(index), await reader.ReadMemoryAsync(WrittenAt(index), 256));
    }

    [Fact]
    public async Task AnUnreadableStoreFailsTheStartNamingTheFile()
    {
        using var dir = new TempDir();
        using (var server = await ServerProcess.StartAsync(dir.Path, "strict"))
            server.Stop();
        var checkpoint = Directory.GetFiles(Path.Combine(dir.Path, "systems", "default"), "*.checkpoint.json").Single();
        File.WriteAllText(checkpoint, "not json");
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => ServerProcess.StartAsync(dir.Path, "strict"));
        Assert.Contains("cannot restore the stored systems", e.Message);
        Assert.Contains(Path.GetFileName(checkpoint), e.Message);
    }

    [Fact]
    public async Task AModeWithoutAPathFailsTheStart()
    {
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => ServerProcess.StartAsync("", "batched"));
        Assert.Contains("Spmc:Persistence:Path", e.Message);
    }
}

