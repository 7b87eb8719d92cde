using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Spmc.Core.Systems;
using Spmc.V1;

namespace Spmc.Server.Tests.Snapshots;

/// <summary>
/// The protobuf form of the snapshot document (protos/spmc/v1/snapshot.proto) through gRPC, whole and streamed,
/// and through REST with application/x-protobuf (docs/snapshots.md).
/// </summary>
public sealed class SnapshotProtobufTests(SpmcFactory factory) : IClassFixture<SpmcFactory>
{
    private const ulong HostMemory = 0x8000_0000;
    private readonly HttpClient _client = factory.CreateClient();
    private readonly Systems.SystemsClient _systems = new(factory.Channel);
    private static readonly object Version12 = new { caller = "0x0", x = new[] { "0x84000063", "0x10002" } };

    private SimulatedSystem Live(string id) => factory.Services.GetRequiredService<SystemRegistry>().Get(id);

    private async Task<string> JsonOf(string id) => (await _systems.SnapshotAsync(new SnapshotRequest { Id = id })).SnapshotJson;

    /// <summary>A system with a negotiated version and <paramref name="bytes"/> of host memory written (a pattern, so no page is zero).</summary>
    private async Task<string> WrittenSystem(int bytes)
    {
        var id = await factory.NewSystemAsync();
        await _client.SmcAsync(id, Version12);
        var chunk = new byte[1 << 20];
        for (var offset = 0; offset < bytes; offset += chunk.Length)
        {
            for (var i = 0; i < chunk.Length; i += 4096) BitConverter.TryWriteBytes(chunk.AsSpan(i), offset + i + 1);
            Live(id).WriteMemory(0, HostMemory + (ulong)offset, chunk.AsSpan(0, Math.Min(chunk.Length, bytes - offset)));
        }
        return id;
    }

    [Fact]
    public async Task Protobuf_SnapshotCreateAndRestore_GiveTheSameStateAsTheJsonForm()
    {
        var id = await WrittenSystem(3 * 4096);
        await _client.PostAsync($"/api/v1/systems/{id}/faults",
            new StringContent("""{ "function": "FFA_VERSION", "every": 2, "error": "BUSY" }""", Encoding.UTF8, "application/json"));
        var json = await JsonOf(id);
        var doc = (await _systems.SnapshotAsync(new SnapshotRequest { Id = id, Format = SnapshotFormat.Protobuf })).Snapshot;
        Assert.Equal(2u, doc.Version);
        Assert.Equal(3, doc.Pages.Count);
        Assert.False(doc.FaultsJson.IsEmpty);
        Assert.Contains(doc.MemoryMap, r => r.Owner == 0 && r.Use == "owned" && !r.Secure);

        var copy = await _systems.CreateAsync(new CreateSystemRequest { Id = $"{id[..20]}-pb", Snapshot = doc });
        Assert.Equal(json, await JsonOf(copy.Id));
        Live(copy.Id).WriteMemory(0, HostMemory, [9]);
        await _systems.RestoreAsync(new RestoreRequest { Id = copy.Id, Snapshot = doc });
        Assert.Equal(json, await JsonOf(copy.Id));

        var e = await Assert.ThrowsAsync<RpcException>(() => _systems.RestoreAsync(new RestoreRequest { Id = id, Snapshot = doc, SnapshotJson = json }).ResponseAsync);
        Assert.Equal((StatusCode.InvalidArgument, "snapshot: give either snapshot_json or snapshot, not both"), (e.StatusCode, e.Status.Detail));
        e = await Assert.ThrowsAsync<RpcException>(() => _systems.SnapshotAsync(new SnapshotRequest { Id = id, Format = (SnapshotFormat)7 }).ResponseAsync);
        Assert.Equal((StatusCode.InvalidArgument, true), (e.StatusCode, e.Status.Detail.StartsWith("format:", StringComparison.Ordinal)));
    }

    /// <summary>A pKVM system (proxy state, host stage 2, mapped buffers): the protobuf form carries it all.</summary>
    [Fact]
    public async Task Protobuf_PkvmSystemWithMappedBuffers_RoundTripsToTheSameJson()
    {
        var id = await factory.NewSystemAsync(SpmcFactory.DefaultManifest);
        await _client.SmcAsync(id, Version12);
        var map = await _client.SmcAsync(id, new { caller = "0x0", x = new[] { "0xC4000066", "0x80010000", "0x80011000", "0x1" } });
        Assert.Null(map.Decoded("error"));
        var json = await JsonOf(id);
        var doc = (await _systems.SnapshotAsync(new SnapshotRequest { Id = id, Format = SnapshotFormat.Protobuf })).Snapshot;
        Assert.Equal(("pkvm-7.4", 0x80010000UL, true), (doc.Proxy.Profile, doc.Proxy.HostTx, doc.Proxy.HasStage2));
        Assert.Contains(doc.Proxy.Stage2, r => r.State == "sharedWithHyp");

        var copy = await _systems.CreateAsync(new CreateSystemRequest { Id = $"{id[..20]}-pk", Snapshot = SnapshotDocument.Parser.ParseFrom(doc.ToByteArray()) });
        Assert.Equal(json, await JsonOf(copy.Id));
    }

    [Theory]
    [InlineData("version", "snapshot.version: 9 is not supported")]
    [InlineData("use", "snapshot.memory_map[0].use: 'lent' is not one of owned, rxBuffer, txBuffer")]
    [InlineData("page", "snapshot.pages[0]: 3 bytes at 0x80000000, a page is 4096")]
    [InlineData("spmc", "snapshot.spmc_json:")]
    [InlineData("order", "snapshot.pages[0x80000000]: pages are listed once each, in address order")]
    public async Task Protobuf_MalformedDocuments_AreInvalidArgumentNamingTheField(string what, string message)
    {
        var id = await WrittenSystem(4096);
        var doc = (await _systems.SnapshotAsync(new SnapshotRequest { Id = id, Format = SnapshotFormat.Protobuf })).Snapshot;
        switch (what)
        {
            case "version": doc.Version = 9; break;
            case "use": doc.MemoryMap[0].Use = "lent"; break;
            case "page": doc.Pages[0].Bytes = ByteString.CopyFrom(1, 2, 3); break;
            case "spmc": doc.SpmcJson = ByteString.CopyFromUtf8("{\"endpoints\": 5}"); break;
            case "order": doc.Pages.Add(doc.Pages[0].Clone()); break;
        }
        var e = await Assert.ThrowsAsync<RpcException>(() => _systems.RestoreAsync(new RestoreRequest { Id = id, Snapshot = doc }).ResponseAsync);
        Assert.Equal((StatusCode.InvalidArgument, true, message), (e.StatusCode, e.Status.Detail.StartsWith(message, StringComparison.Ordinal), message));
    }

    /// <summary>32 MiB written: beyond the unary message limits, through in 1 MiB chunks both ways.</summary>
    [Fact]
    public async Task Streamed_BigDocument_SnapshotsAndRestoresPastTheMessageLimits()
    {
        const int Size = 32 << 20;
        var id = await WrittenSystem(Size);
        var e = await Assert.ThrowsAsync<RpcException>(() => _systems.SnapshotAsync(new SnapshotRequest { Id = id, Format = SnapshotFormat.Protobuf }).ResponseAsync);
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode); // the client's 4 MiB receive limit

        var chunks = new List<SnapshotChunk>();
        using (var call = _systems.SnapshotStream(new SnapshotRequest { Id = id }))
            await foreach (var chunk in call.ResponseStream.ReadAllAsync()) chunks.Add(chunk);
        Assert.NotNull(chunks[0].Document);
        Assert.Empty(chunks[0].Document.Pages);
        Assert.Equal(Size / 4096, chunks.Skip(1).Sum(c => c.Pages.Pages.Count));
        Assert.All(chunks, c => Assert.True(c.CalculateSize() < 2 << 20));
        var expected = Live(id).Snapshot().ToJson(); // before the reads below, which count in `sequence`

        var copy = $"{id[..20]}-big";
        using (var create = _systems.CreateStream())
        {
            await create.RequestStream.WriteAsync(new CreateStreamRequest { Id = copy, Chunk = chunks[0] });
            foreach (var chunk in chunks.Skip(1)) await create.RequestStream.WriteAsync(new CreateStreamRequest { Chunk = chunk });
            await create.RequestStream.CompleteAsync();
            Assert.Equal(copy, (await create).Id);
        }
        Assert.Equal(Live(id).ReadMemory(0, HostMemory + Size - (1 << 20), 1 << 20), Live(copy).ReadMemory(0, HostMemory + Size - (1 << 20), 1 << 20));

        Live(copy).WriteMemory(0, HostMemory + 4096, [0xEE]);
        using (var restore = _systems.RestoreStream())
        {
            await restore.RequestStream.WriteAsync(new RestoreStreamRequest { Id = copy, Chunk = chunks[0] });
            foreach (var chunk in chunks.Skip(1)) await restore.RequestStream.WriteAsync(new RestoreStreamRequest { Chunk = chunk });
            await restore.RequestStream.CompleteAsync();
            await restore;
        }
        Assert.Equal(expected, Live(copy).Snapshot().ToJson());
    }

    [Fact]
    public async Task Streamed_Restore_RefusesAStreamThatDoesNotStartWithTheDocument()
    {
        var id = await WrittenSystem(4096);
        using var restore = _systems.RestoreStream();
        await restore.RequestStream.WriteAsync(new RestoreStreamRequest { Id = id, Chunk = new SnapshotChunk { Pages = new SnapshotPages() } });
        await restore.RequestStream.CompleteAsync();
        var e = await Assert.ThrowsAsync<RpcException>(() => restore.ResponseAsync);
        Assert.Equal((StatusCode.InvalidArgument, "chunk: the first message carries the document (chunk.document)"), (e.StatusCode, e.Status.Detail));
    }

    [Fact]
    public async Task Rest_ProtobufSnapshot_RestoresThroughRestAndMatchesTheJsonForm()
    {
        var id = await WrittenSystem(2 * 4096);
        var json = await JsonOf(id);
        using var get = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/systems/{id}/snapshot");
        get.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/x-protobuf"));
        var response = await _client.SendAsync(get);
        Assert.Equal("application/x-protobuf", response.Content.Headers.ContentType!.MediaType);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(2, SnapshotDocument.Parser.ParseFrom(bytes).Pages.Count);

        Live(id).WriteMemory(0, HostMemory, [1, 2, 3]);
        var body = new ByteArrayContent(bytes);
        body.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
        Assert.Equal(HttpStatusCode.NoContent, (await _client.PostAsync($"/api/v1/systems/{id}/restore", body)).StatusCode);
        Assert.Equal(json, await JsonOf(id));

        var junk = new ByteArrayContent([0xFF, 0xFF, 0xFF]);
        junk.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
        var (status, detail) = await (await _client.PostAsync($"/api/v1/systems/{id}/restore", junk)).ProblemAsync();
        Assert.Equal((400, true), (status, detail.StartsWith("body: not a spmc.v1.SnapshotDocument", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Rest_SnapshotsAreStreamed_YetByteForByteTheWholeDocument()
    {
        // 600 pages: more than two of the 256-page chunks the protobuf form is written in.
        var id = await WrittenSystem(600 * 4096);
        using var get = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/systems/{id}/snapshot");
        get.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/x-protobuf"));
        var proto = await (await _client.SendAsync(get)).Content.ReadAsByteArrayAsync();
        var snapshot = Live(id).Snapshot();
        Assert.Equal(Grpc.SnapshotProto.ToProto(snapshot).ToByteArray(), proto);
        Assert.Equal(600, SnapshotDocument.Parser.ParseFrom(proto).Pages.Count);

        var json = await _client.GetByteArrayAsync($"/api/v1/systems/{id}/snapshot");
        Assert.Equal(snapshot.ToJson(), json);
    }
}
