using Google.Protobuf;
using Grpc.Core;
using Spmc.V1;

namespace Spmc.Server.Tests.Hygiene;

/// <summary>
/// Streamed restore and create are bounded: by a byte budget (RESOURCE_EXHAUSTED naming Spmc:Quotas:MaxSnapshotStreamBytes)
/// and by an idle deadline between chunks (DEADLINE_EXCEEDED naming SnapshotStreamIdleTimeout); nothing is restored.
/// </summary>
public sealed class SnapshotStreamBudgetTests : IClassFixture<SnapshotStreamBudgetTests.Host>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private const ulong HostMemory = 0x8000_0000;

    /// <summary>
    /// A 512 KiB budget (below what a system at the default memory quota needs, so that quota is lifted) and an idle
    /// deadline long enough that a loaded machine never meets it here.
    /// </summary>
    public sealed class Host : IDisposable
    {
        public KestrelFactory Factory { get; } = KestrelFactory.With(new()
        {
            ["Spmc:Quotas:MaxSnapshotStreamBytes"] = (512 << 10).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Spmc:Quotas:MaxResidentBytesPerSystem"] = "0",
            ["Spmc:Quotas:SnapshotStreamIdleTimeout"] = "00:10:00",
        });

        public void Dispose() => Factory.Dispose();
    }

    private readonly KestrelFactory _factory;
    private Systems.SystemsClient Systems => new(_factory.Channel);

    public SnapshotStreamBudgetTests(Host host) => _factory = host.Factory;

    /// <summary>A system with <paramref name="pages"/> written pages, and its snapshot as streamed chunks.</summary>
    private Task<(string Id, List<SnapshotChunk> Chunks)> SnapshotAsync(int pages) => SnapshotAsync(_factory, pages);

    internal static async Task<(string Id, List<SnapshotChunk> Chunks)> SnapshotAsync(KestrelFactory factory, int pages)
    {
        var systems = new Spmc.V1.Systems.SystemsClient(factory.Channel);
        var id = (await systems.CreateAsync(new CreateSystemRequest { ManifestJson = SpmcFactory.PassthroughManifest })).Id;
        var memory = new V1.Memory.MemoryClient(factory.Channel);
        for (var i = 0; i < pages; i++)
            await memory.WriteAsync(new WriteMemoryRequest { SystemId = id, Address = HostMemory + (ulong)i * 4096, Data = ByteString.CopyFrom(Enumerable.Repeat((byte)(i + 1), 4096).ToArray()) });
        var chunks = new List<SnapshotChunk>();
        using var call = systems.SnapshotStream(new SnapshotRequest { Id = id });
        await foreach (var chunk in call.ResponseStream.ReadAllAsync()) chunks.Add(chunk);
        return (id, chunks);
    }

    /// <summary>
    /// Sends every message, then completes; the server may end the call part-way (that is what is tested), so a write that
    /// fails is not the answer: the call's status, read after, is.
    /// </summary>
    private static async Task WriteAllAsync<T>(IClientStreamWriter<T> stream, IEnumerable<T> messages)
    {
        try
        {
            foreach (var message in messages) await stream.WriteAsync(message);
            await stream.CompleteAsync();
        }
        catch (RpcException)
        {
        }
        catch (InvalidOperationException)
        {
        }
    }

    [Fact]
    public async Task RestoreStream_BeyondTheBudget_IsResourceExhausted_AndRestoresNothing()
    {
        var (id, chunks) = await SnapshotAsync(300); // 1.2 MiB of pages
        var memory = new V1.Memory.MemoryClient(_factory.Channel);
        await memory.WriteAsync(new WriteMemoryRequest { SystemId = id, Address = HostMemory, Data = ByteString.CopyFrom(0xEE) });
        using var restore = Systems.RestoreStream();
        await WriteAllAsync(restore.RequestStream, chunks.Select((c, i) => new RestoreStreamRequest { Id = i == 0 ? id : "", Chunk = c }));
        var e = await Assert.ThrowsAsync<RpcException>(() => restore.ResponseAsync.WaitAsync(Patience));
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        Assert.Contains("MaxSnapshotStreamBytes", e.Status.Detail);
        var read = await memory.ReadAsync(new ReadMemoryRequest { SystemId = id, Address = HostMemory, Length = 1 });
        Assert.Equal(0xEE, read.Data[0]); // not restored
    }

    [Fact]
    public async Task CreateStream_WithinTheBudget_Creates_AndBeyondIsRefused()
    {
        var (_, small) = await SnapshotAsync(64); // 256 KiB
        using (var create = Systems.CreateStream())
        {
            await create.RequestStream.WriteAsync(new CreateStreamRequest { Chunk = small[0] });
            foreach (var chunk in small.Skip(1)) await create.RequestStream.WriteAsync(new CreateStreamRequest { Chunk = chunk });
            await create.RequestStream.CompleteAsync();
            Assert.NotEmpty((await create.ResponseAsync.WaitAsync(Patience)).Id);
        }
        var (_, big) = await SnapshotAsync(200);
        var before = (await Systems.ListAsync(new ListSystemsRequest())).Systems.Count;
        using (var create = Systems.CreateStream())
        {
            await WriteAllAsync(create.RequestStream, big.Select(c => new CreateStreamRequest { Chunk = c }));
            var e = await Assert.ThrowsAsync<RpcException>(() => create.ResponseAsync.WaitAsync(Patience));
            Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        }
        Assert.Equal(before, (await Systems.ListAsync(new ListSystemsRequest())).Systems.Count);
    }

}

/// <summary>The idle deadline between chunks of a streamed restore (a 1-second one, on its own host).</summary>
public sealed class SnapshotStreamIdleTests : IClassFixture<SnapshotStreamIdleTests.Host>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    public sealed class Host : IDisposable
    {
        public KestrelFactory Factory { get; } = KestrelFactory.With(new() { ["Spmc:Quotas:SnapshotStreamIdleTimeout"] = "00:00:01" });

        public void Dispose() => Factory.Dispose();
    }

    private readonly KestrelFactory _factory;
    private Systems.SystemsClient Systems => new(_factory.Channel);

    public SnapshotStreamIdleTests(Host host) => _factory = host.Factory;

    [Fact]
    public async Task RestoreStream_SilentAfterItsFirstChunk_EndsWithDeadlineExceeded()
    {
        var (id, chunks) = await SnapshotStreamBudgetTests.SnapshotAsync(_factory, 1);
        using var restore = Systems.RestoreStream();
        await restore.RequestStream.WriteAsync(new RestoreStreamRequest { Id = id, Chunk = chunks[0] });
        // Nothing more is sent: the server gives up after its idle deadline.
        var e = await Assert.ThrowsAsync<RpcException>(() => restore.ResponseAsync.WaitAsync(Patience));
        Assert.Equal(StatusCode.DeadlineExceeded, e.StatusCode);
        Assert.Contains("SnapshotStreamIdleTimeout", e.Status.Detail);
    }
}
