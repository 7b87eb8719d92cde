using System.Text.Json;
using Google.Protobuf;
using Grpc.Core;
using Spmc.Core;
using Spmc.Core.Memory;
using Spmc.Core.Proxy.Pkvm;
using Spmc.Core.Snapshots;
using Spmc.V1;
using DomainPage = Spmc.Core.Snapshots.MemoryPage;
using DomainRange = Spmc.Core.Snapshots.OwnershipRange;
using DomainStage2 = Spmc.Core.Snapshots.Stage2Range;

namespace Spmc.Server.Grpc;

/// <summary>
/// The snapshot document (<see cref="SystemSnapshot"/>) ⇄ its protobuf form (protos/spmc/v1/snapshot.proto), whole or
/// streamed in chunks. Page buffers are wrapped, not copied, on the way out (they are immutable: copy-on-write).
/// </summary>
public static class SnapshotProto
{
    /// <summary>Pages per streamed chunk: 256 × 4 KiB = 1 MiB, well inside any gRPC message limit.</summary>
    public const int PagesPerChunk = 256;

    /// <summary>The most pages a streamed document may carry (4 GiB of written memory).</summary>
    public const int MaxPages = 1 << 20;

    public static SnapshotDocument ToProto(SystemSnapshot s, bool withPages = true)
    {
        var doc = new SnapshotDocument
        {
            Version = (uint)s.Version,
            ManifestJson = s.Manifest,
            Calls = s.Calls,
            Sequence = s.Sequence,
            EventSequence = s.EventSequence,
            SpmcJson = UnsafeByteOperations.UnsafeWrap(SystemSnapshot.PartToJson(s.Spmc)),
            Proxy = s.Proxy is { } p ? ToProto(p) : null,
            FaultsJson = s.Faults is { } f ? UnsafeByteOperations.UnsafeWrap(SystemSnapshot.PartToJson(f)) : ByteString.Empty,
        };
        doc.MemoryMap.Add(s.MemoryMap.Select(r =>
        {
            var range = new V1.SnapshotRange
            {
                Start = r.Start,
                End = r.End,
                Owner = r.State.Owner,
                Secure = r.State.Secure,
                Use = Name(r.State.Use),
                ReadOnly = r.State.ReadOnly,
                Device = r.State.Device,
            };
            if (r.State.Share is { } handle) range.Share = handle;
            return range;
        }));
        if (withPages) doc.Pages.Add(s.Pages.Select(ToProto));
        return doc;
    }

    /// <summary>The document as chunks: the document without pages, then its pages <see cref="PagesPerChunk"/> at a time.</summary>
    public static IEnumerable<SnapshotChunk> ToChunks(SystemSnapshot s)
    {
        yield return new SnapshotChunk { Document = ToProto(s, withPages: false) };
        for (var i = 0; i < s.Pages.Count; i += PagesPerChunk)
        {
            var pages = new SnapshotPages();
            for (var j = i; j < Math.Min(i + PagesPerChunk, s.Pages.Count); j++) pages.Pages.Add(ToProto(s.Pages[j]));
            yield return new SnapshotChunk { Pages = pages };
        }
    }

    /// <summary>
    /// The whole document in its protobuf form, written and flushed a chunk of pages at a time: the document without pages,
    /// then documents holding only pages. Protobuf parses concatenated messages as one (repeated fields append), so the
    /// bytes read back as the same document, and no array of the whole document is ever made.
    /// </summary>
    public static async Task WriteDocumentAsync(SystemSnapshot s, System.IO.Pipelines.PipeWriter writer, CancellationToken cancel = default)
    {
        foreach (var chunk in ToChunks(s))
        {
            (chunk.Document ?? new SnapshotDocument { Pages = { chunk.Pages.Pages } }).WriteTo(writer);
            await writer.FlushAsync(cancel);
        }
    }

    private static V1.SnapshotPage ToProto(DomainPage p) => new() { Address = p.Address, Bytes = UnsafeByteOperations.UnsafeWrap(p.Bytes) };

    private static SnapshotProxy ToProto(ProxySnapshot p)
    {
        var proxy = new SnapshotProxy { Profile = p.Profile, HypVersion = p.HypVersion, Negotiated = p.Negotiated, HasStage2 = p.Stage2 is not null };
        if (p.HostTx is { } tx) proxy.HostTx = tx;
        if (p.HostRx is { } rx) proxy.HostRx = rx;
        if (p.Stage2 is { } stage2)
            proxy.Stage2.Add(stage2.Select(r => new V1.SnapshotStage2Range { Start = r.Start, End = r.End, State = Name(r.State), Label = r.Label }));
        return proxy;
    }

    /// <summary>The domain document; every malformed field is an <see cref="InvalidRequestException"/> naming it (under <paramref name="field"/>).</summary>
    public static SystemSnapshot ToDomain(SnapshotDocument doc, string field = "snapshot") => ToDomain(doc, doc.Pages, field);

    /// <summary>A streamed document: its first chunk's document and the pages of the chunks after it.</summary>
    public static SystemSnapshot ToDomain(SnapshotDocument doc, IEnumerable<V1.SnapshotPage> pages, string field = "snapshot")
    {
        if (!SystemSnapshot.IsSupported((int)doc.Version))
            throw new InvalidRequestException($"{field}.version: {doc.Version} is not supported (this build reads versions 1 and {SystemSnapshot.CurrentVersion})");
        if (doc.ManifestJson.Length == 0) throw new InvalidRequestException($"{field}.manifest_json: required");
        if (doc.SpmcJson.IsEmpty) throw new InvalidRequestException($"{field}.spmc_json: required");
        var spmc = SystemSnapshot.PartFromJson<SpmcSnapshot>(doc.SpmcJson.Span, $"{field}.spmc_json");
        var faults = doc.FaultsJson.IsEmpty ? null : SystemSnapshot.PartFromJson<Core.Faults.FaultsSnapshot>(doc.FaultsJson.Span, $"{field}.faults_json");
        var map = doc.MemoryMap.Select((r, i) => new DomainRange(r.Start, r.End, new PageState(
            r.Owner <= ushort.MaxValue ? (ushort)r.Owner : throw new InvalidRequestException($"{field}.memory_map[{i}].owner: 0x{r.Owner:X} is not a 16-bit endpoint ID"),
            r.Secure, Parse<PageUse>(r.Use, $"{field}.memory_map[{i}].use"), r.HasShare ? r.Share : null, r.ReadOnly, r.Device))).ToList();
        var domainPages = pages.Select((p, i) => p.Bytes.Length == PhysicalMemory.PageSize
            ? new DomainPage(p.Address, p.Bytes.ToByteArray())
            : throw new InvalidRequestException($"{field}.pages[{i}]: {p.Bytes.Length} bytes at 0x{p.Address:X}, a page is {PhysicalMemory.PageSize}")).ToList();
        return new SystemSnapshot((int)doc.Version, doc.ManifestJson, doc.Calls, doc.Sequence, doc.EventSequence, spmc,
            doc.Proxy is { } proxy ? ToDomain(proxy, $"{field}.proxy") : null, map, domainPages, faults);
    }

    private static ProxySnapshot ToDomain(SnapshotProxy p, string field) => new(p.Profile, p.HypVersion, p.Negotiated,
        p.HasHostTx ? p.HostTx : null, p.HasHostRx ? p.HostRx : null,
        p.HasStage2 ? p.Stage2.Select((r, i) => new DomainStage2(r.Start, r.End, Parse<Stage2State>(r.State, $"{field}.stage2[{i}].state"), r.Label)).ToList()
            : p.Stage2.Count == 0 ? null : throw new InvalidRequestException($"{field}.stage2: ranges given but has_stage2 is false"));

    /// <summary>
    /// Reads a streamed document: the first chunk is the document (its id and other fields taken by
    /// <paramref name="first"/>), the rest are pages. At most <see cref="MaxPages"/> pages and <paramref name="budget"/>
    /// bytes of messages (0: no bound; QuotaExceeded, ResourceExhausted), and at most <paramref name="idle"/> between two
    /// messages (zero: no bound; DEADLINE_EXCEEDED), so a stream can neither hold unbounded memory nor a slot for ever.
    /// </summary>
    public static async Task<SystemSnapshot> ReadStream<T>(IAsyncStreamReader<T> requests, Func<T, SnapshotChunk?> chunkOf, Func<T, Task> first,
        long budget, TimeSpan idle, CancellationToken cancel) where T : IMessage
    {
        SnapshotDocument? doc = null;
        var pages = new List<V1.SnapshotPage>();
        var index = 0;
        long bytes = 0;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        while (true)
        {
            if (idle > TimeSpan.Zero) deadline.CancelAfter(idle);
            bool more;
            try { more = await requests.MoveNext(deadline.Token); }
            catch (Exception e) when (e is OperationCanceledException or RpcException && deadline.IsCancellationRequested && !cancel.IsCancellationRequested)
            {
                throw new RpcException(new Status(StatusCode.DeadlineExceeded,
                    $"chunk: no message for {idle.TotalSeconds:0.###} s after message {index} (Spmc:Quotas:SnapshotStreamIdleTimeout); nothing was restored"));
            }
            if (!more) break;
            var request = requests.Current;
            bytes += request.CalculateSize();
            if (budget > 0 && bytes > budget)
                throw new QuotaExceededException($"chunk: the stream carried more than {budget} bytes by message {index} (Spmc:Quotas:MaxSnapshotStreamBytes); nothing was restored");
            var chunk = chunkOf(request);
            if (doc is null)
            {
                await first(request);
                doc = chunk?.Document ?? throw new InvalidRequestException("chunk: the first message carries the document (chunk.document)");
                pages.AddRange(doc.Pages);
            }
            else if (chunk?.Pages is { } morePages) pages.AddRange(morePages.Pages);
            else throw new InvalidRequestException($"chunk: message {index} carries no pages (only the first carries the document)");
            if (pages.Count > MaxPages) throw new InvalidRequestException($"chunk: more than {MaxPages} pages (4 GiB)");
            index++;
        }
        return ToDomain(doc ?? throw new InvalidRequestException("chunk: the stream is empty (the first message carries the document)"), pages);
    }

    private static string Name<TEnum>(TEnum value) where TEnum : struct, Enum => JsonNamingPolicy.CamelCase.ConvertName(value.ToString());

    private static TEnum Parse<TEnum>(string text, string field) where TEnum : struct, Enum =>
        !text.Any(char.IsDigit) && Enum.TryParse<TEnum>(text, ignoreCase: true, out var value) && Enum.IsDefined(value)
            ? value
            : throw new InvalidRequestException($"{field}: '{text}' is not one of {string.Join(", ", Enum.GetValues<TEnum>().Select(Name))}");
}
