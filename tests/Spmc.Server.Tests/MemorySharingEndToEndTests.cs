using System.Buffers.Binary;
using System.Net.Http.Json;
using System.Text.Json;
using Google.Protobuf;
using Spmc.Abi.Descriptors;
using Spmc.Abi.Descriptors.Memory;
using Spmc.V1;

namespace Spmc.Server.Tests;

/// <summary>One SMC with memory around it, over either API surface.</summary>
public interface ISmcClient
{
    Task<(ulong[] X, byte[][] Reads, string? Reason, string? Rule)> CallAsync(ushort caller, ulong[] x, (ulong Address, byte[] Data)[]? writes = null,
        (ulong Address, int Length)[]? reads = null);
    Task WriteAsync(ushort asEndpoint, ulong address, byte[] data);
    Task<byte[]?> ReadAsync(ushort asEndpoint, ulong address, int length);
}

internal sealed class RestSmcClient(HttpClient http, string system) : ISmcClient
{
    public async Task<(ulong[] X, byte[][] Reads, string? Reason, string? Rule)> CallAsync(ushort caller, ulong[] x, (ulong Address, byte[] Data)[]? writes, (ulong Address, int Length)[]? reads)
    {
        var body = new
        {
            caller = $"0x{caller:X}",
            x = x.Select(v => $"0x{v:X}").ToArray(),
            writes = (writes ?? []).Select(w => new { address = $"0x{w.Address:X}", data = Convert.ToBase64String(w.Data) }).ToArray(),
            reads = (reads ?? []).Select(r => new { address = $"0x{r.Address:X}", length = r.Length }).ToArray(),
        };
        var answer = await http.SmcAsync(system, body);
        return (answer.GetProperty("x").EnumerateArray().Select(e => Convert.ToUInt64(e.GetString(), 16)).ToArray(),
            answer.GetProperty("reads").EnumerateArray().Select(r => Convert.FromBase64String(r.GetProperty("data").GetString()!)).ToArray(),
            answer.GetProperty("decoded").GetProperty("reason").GetString(), answer.GetProperty("decoded").GetProperty("rule").GetString());
    }

    public async Task WriteAsync(ushort asEndpoint, ulong address, byte[] data)
    {
        var response = await http.PutAsJsonAsync($"/api/v1/systems/{system}/memory/0x{address:X}?as=0x{asEndpoint:X}", new { data = Convert.ToBase64String(data) });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    public async Task<byte[]?> ReadAsync(ushort asEndpoint, ulong address, int length)
    {
        var response = await http.GetAsync($"/api/v1/systems/{system}/memory/0x{address:X}?length={length}&as=0x{asEndpoint:X}");
        if (response.StatusCode == System.Net.HttpStatusCode.Forbidden) return null;
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        return Convert.FromBase64String(json.GetProperty("data").GetString()!);
    }
}

internal sealed class GrpcSmcClient(global::Grpc.Net.Client.GrpcChannel channel, string system) : ISmcClient
{
    private readonly SmcGateway.SmcGatewayClient _smc = new(channel);
    private readonly V1.Memory.MemoryClient _memory = new(channel);

    public async Task<(ulong[] X, byte[][] Reads, string? Reason, string? Rule)> CallAsync(ushort caller, ulong[] x, (ulong Address, byte[] Data)[]? writes, (ulong Address, int Length)[]? reads)
    {
        var request = new SmcRequest { SystemId = system, Caller = caller };
        request.X.Add(x);
        foreach (var w in writes ?? []) request.Writes.Add(new V1.MemoryWrite { Address = w.Address, Data = ByteString.CopyFrom(w.Data) });
        foreach (var r in reads ?? []) request.Reads.Add(new V1.MemoryReadRequest { Address = r.Address, Length = (uint)r.Length });
        var response = await _smc.CallAsync(request);
        return (response.X.ToArray(), response.Reads.Select(r => r.Data.ToByteArray()).ToArray(), response.Decoded.HasReason ? response.Decoded.Reason : null,
            response.Decoded.HasRule ? response.Decoded.Rule : null);
    }

    public async Task WriteAsync(ushort asEndpoint, ulong address, byte[] data) =>
        await _memory.WriteAsync(new WriteMemoryRequest { SystemId = system, Address = address, AsEndpoint = asEndpoint, Data = ByteString.CopyFrom(data) });

    public async Task<byte[]?> ReadAsync(ushort asEndpoint, ulong address, int length)
    {
        try
        {
            return (await _memory.ReadAsync(new ReadMemoryRequest { SystemId = system, Address = address, Length = (uint)length, AsEndpoint = asEndpoint })).Data.ToByteArray();
        }
        catch (global::Grpc.Core.RpcException e) when (e.StatusCode == global::Grpc.Core.StatusCode.PermissionDenied) { return null; }
    }
}

/// <summary>
/// The host shares non-contiguous pages with SP 0x8002, which retrieves them, reads the host's bytes through
/// the memory API, relinquishes, and the host reclaims — over REST and over gRPC, with a descriptor that fits
/// one TX buffer and with one of 600 constituents sent and retrieved in fragments.
/// </summary>
public sealed class MemorySharingEndToEndTests(SpmcFactory factory) : IClassFixture<SpmcFactory>
{
    private const ushort Host = 0x0, Sp = 0x8002;
    private const ulong HostTx = 0x8000_1000, HostRx = 0x8000_0000, SpTx = 0x6010_1000, SpRx = 0x6010_0000;
    private const ulong Success32 = 0x84000061, MemShare = 0x84000073, RetrieveReq = 0x84000074, RetrieveResp = 0x84000075,
        Relinquish = 0x84000076, Reclaim = 0x84000077, FragRx = 0x8400007A, FragTx = 0x8400007B, RxRelease = 0x84000065, RxTxMap = 0xC4000066;
    private const ulong Tag = 0x5AFE;

    public static TheoryData<string, int> Cases => new() { { "rest", 3 }, { "grpc", 3 }, { "rest", 600 }, { "grpc", 600 } };

    private async Task<ISmcClient> ClientAsync(string surface)
    {
        var system = await factory.NewSystemAsync();
        return surface == "rest" ? new RestSmcClient(factory.CreateClient(), system) : new GrpcSmcClient(factory.Channel, system);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task ShareRetrieveRelinquishReclaim(string surface, int constituents)
    {
        var api = await ClientAsync(surface);
        Assert.Equal(Success32, (await api.CallAsync(Host, [RxTxMap, HostTx, HostRx, 1])).X[0]);
        Assert.Equal(Success32, (await api.CallAsync(Sp, [RxTxMap, SpTx, SpRx, 1])).X[0]);

        // Non-contiguous single pages: every other page from 0x80100000; each holds its own pattern.
        var pages = Enumerable.Range(0, constituents).Select(i => 0x8010_0000UL + (ulong)i * 0x2000).ToList();
        foreach (var (page, i) in pages.Select((p, i) => (p, i)).Where(x => x.i % 97 == 0 || x.i == constituents - 1))
            await api.WriteAsync(Host, page + 8, BitConverter.GetBytes(0xC0FFEE00UL + (ulong)i));

        var descriptor = new MemoryTransactionDescriptor(Host, MemoryRegionAttributes.NormalWriteBackInner, new MemoryTransactionFlags(0), 0, Tag,
            [new EndpointMemoryAccess(MemoryAccessPermissions.Of(Sp, DataAccess.ReadWrite), 0)],
            CompositeMemoryRegion.Of(pages.Select(p => new MemoryRegionConstituent(p, 1)).ToArray())).ToBytes(MemoryDescriptorLayout.V1_2);

        // Send: fragments of at most one TX page.
        var sent = Math.Min(descriptor.Length, 4096);
        var answer = await api.CallAsync(Host, [MemShare, (ulong)descriptor.Length, (ulong)sent], [(HostTx, descriptor[..sent])]);
        var fragments = 1;
        while (answer.X[0] == FragRx)
        {
            Assert.Equal((ulong)sent, answer.X[3]);
            var next = Math.Min(descriptor.Length - sent, 4096);
            var handleSoFar = answer.X[1] | (answer.X[2] << 32);
            answer = await api.CallAsync(Host, [FragTx, (uint)handleSoFar, handleSoFar >> 32, (ulong)next], [(HostTx, descriptor[sent..(sent + next)])]);
            sent += next;
            fragments++;
        }
        Assert.True(answer.X[0] == Success32, answer.Reason);
        Assert.Equal(constituents > 200 ? 3 : 1, fragments);
        var handle = answer.X[2] | (answer.X[3] << 32);
        Assert.Equal(0UL, handle >> 63);

        // Shared, not lent: the host still reads its pages; the SP cannot before it retrieves.
        Assert.NotNull(await api.ReadAsync(Host, pages[0], 16));
        Assert.Null(await api.ReadAsync(Sp, pages[0], 16));

        // Retrieve as the SP, pulling every fragment of the response through its RX.
        var request = new MemoryTransactionDescriptor(Host, new MemoryRegionAttributes(0), MemoryTransactionFlags.OfType(MemoryTransactionType.Share), handle, Tag,
            [new EndpointMemoryAccess(MemoryAccessPermissions.Of(Sp, DataAccess.ReadWrite), 0)]).ToBytes(MemoryDescriptorLayout.V1_2);
        answer = await api.CallAsync(Sp, [RetrieveReq, (ulong)request.Length, (ulong)request.Length], [(SpTx, request)], [(SpRx, 4096)]);
        Assert.True(answer.X[0] == RetrieveResp, answer.Reason);
        var total = (int)answer.X[1];
        var response = new List<byte>(answer.Reads[0][..(int)answer.X[2]]);
        while (response.Count < total)
        {
            Assert.Equal(Success32, (await api.CallAsync(Sp, [RxRelease])).X[0]);
            answer = await api.CallAsync(Sp, [FragRx, (uint)handle, handle >> 32, (ulong)response.Count], reads: [(SpRx, 4096)]);
            Assert.True(answer.X[0] == FragTx, answer.Reason);
            response.AddRange(answer.Reads[0][..(int)answer.X[3]]);
        }
        Assert.Equal(Success32, (await api.CallAsync(Sp, [RxRelease])).X[0]);

        var retrieved = MemoryTransactionDescriptor.Read(response.ToArray(), v1_0Layout: false);
        Assert.True(retrieved.Ok, retrieved.Error);
        var d = retrieved.Value!;
        Assert.Equal(handle, d.Handle);
        Assert.Equal(MemoryTransactionType.Share, d.Flags.Type);
        Assert.True(d.Attributes.NonSecure);
        Assert.Equal(Sp, Assert.Single(d.Receivers).Access.Endpoint);
        Assert.Equal(0x06, d.Receivers[0].Access.Permissions); // RW | NX
        Assert.Equal(pages, d.Composite!.Constituents.Select(k => k.Address));

        // The SP now reads the host's bytes through the memory API, as itself.
        foreach (var i in new[] { 0, constituents - 1 })
        {
            var bytes = await api.ReadAsync(Sp, pages[i] + 8, 8);
            Assert.Equal(0xC0FFEE00UL + (ulong)i, BinaryPrimitives.ReadUInt64LittleEndian(bytes));
        }

        // Reclaim is refused while the SP holds the memory.
        Assert.Equal("mem-reclaim.still-held", (await api.CallAsync(Host, [Reclaim, (uint)handle, handle >> 32, 0])).Rule);

        var relinquish = new MemoryRelinquishDescriptor(handle, 0, [Sp]).ToBytes();
        Assert.Equal(Success32, (await api.CallAsync(Sp, [Relinquish], [(SpTx, relinquish)])).X[0]);
        Assert.Null(await api.ReadAsync(Sp, pages[0], 16));

        answer = await api.CallAsync(Host, [Reclaim, (uint)handle, handle >> 32, 0]);
        Assert.True(answer.X[0] == Success32, answer.Reason);
        Assert.Contains("unknown", (await api.CallAsync(Host, [Reclaim, (uint)handle, handle >> 32, 0])).Reason);
        Assert.NotNull(await api.ReadAsync(Host, pages[^1], 16));
    }

    [Fact]
    public async Task Inspector_ShowsShareReceiversRangesAndOwnership()
    {
        var system = await factory.NewSystemAsync();
        var http = factory.CreateClient();
        ISmcClient api = new RestSmcClient(http, system);
        await api.CallAsync(Host, [RxTxMap, HostTx, HostRx, 1]);
        var descriptor = new MemoryTransactionDescriptor(Host, new MemoryRegionAttributes(0), new MemoryTransactionFlags(0), 0, Tag,
            [new EndpointMemoryAccess(MemoryAccessPermissions.Of(Sp, DataAccess.ReadOnly), 0)],
            CompositeMemoryRegion.Of(new MemoryRegionConstituent(0x8020_0000, 4))).ToBytes(MemoryDescriptorLayout.V1_2);
        var answer = await api.CallAsync(Host, [0x84000072, (ulong)descriptor.Length, (ulong)descriptor.Length], [(HostTx, descriptor)]); // FFA_MEM_LEND_32
        Assert.True(answer.X[0] == Success32, answer.Reason);

        var state = await http.GetFromJsonAsync<JsonElement>($"/api/v1/systems/{system}/state");
        var share = Assert.Single(state.GetProperty("shares").EnumerateArray());
        Assert.Equal("lend", share.GetProperty("operation").GetString());
        Assert.Equal("0x0000", share.GetProperty("sender").GetString());
        Assert.Equal(4UL, share.GetProperty("totalPages").GetUInt64());
        var receiver = Assert.Single(share.GetProperty("receivers").EnumerateArray());
        Assert.Equal("0x8002", receiver.GetProperty("id").GetString());
        Assert.Equal("ro", receiver.GetProperty("sentDataAccess").GetString());
        Assert.Equal("not-retrieved", receiver.GetProperty("state").GetString());
        var handle = share.GetProperty("handle").GetString();
        Assert.Contains(state.GetProperty("memory").EnumerateArray(), r =>
            r.GetProperty("base").GetString() == "0x80200000" && r.GetProperty("size").GetString() == "0x4000" && r.GetProperty("share").GetString() == handle);
        // Lent: the host has lost access to the pages until it reclaims them.
        Assert.Null(await api.ReadAsync(Host, 0x8020_0000, 8));
    }
}
