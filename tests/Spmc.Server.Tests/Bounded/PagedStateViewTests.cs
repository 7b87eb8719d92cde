using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Grpc.Core;
using Spmc.Abi.Descriptors;
using Spmc.Abi.Descriptors.Memory;
using Spmc.V1;

namespace Spmc.Server.Tests.Bounded;

/// <summary>
/// GET .../state and Inspector.GetState list the first 64 ranges of a share and the first 1024 memory-map ranges;
/// GET .../shares/{handle}, GET .../memory-map and Inspector.GetShare / GetMemoryMap page through the rest.
/// </summary>
public sealed class PagedStateViewTests(SpmcFactory factory) : IClassFixture<SpmcFactory>
{
    private const ushort Host = 0, Sp = 0x8001;
    private const ulong HostTx = 0x8000_0000, HostRx = 0x8000_4000, Base = 0x8010_0000;
    private const int Constituents = 600;

    private const string Manifest = """
        {
          "spmc": { "rxtxMaxPages": 4 },
          "vms": [ { "id": 0, "name": "host", "memory": [ { "base": "0x80000000", "size": "0x1000000" } ] } ],
          "partitions": [
            { "id": "0x8001", "name": "sp1", "uuids": [ "55555555-0000-0000-0000-000000008001" ],
              "properties": { "directRequestReceive": true }, "memory": [ { "base": "0x60000000", "size": "0x100000" } ] }
          ]
        }
        """;

    /// <summary>A system whose host shared 600 single pages (every other page) with 0x8001: over 1024 memory-map ranges.</summary>
    private async Task<(string System, ulong Handle)> ScatteredShareAsync(HttpClient http)
    {
        var system = await factory.NewSystemAsync(Manifest);
        var map = await http.SmcAsync(system, new { caller = "0x0", x = new[] { "0xC4000066", $"0x{HostTx:X}", $"0x{HostRx:X}", "4" } });
        Assert.Equal(0x8400_0061ul, map.X(0));
        var descriptor = new MemoryTransactionDescriptor(Host, MemoryRegionAttributes.NormalWriteBackInner, new MemoryTransactionFlags(0), 0, 0,
            [new EndpointMemoryAccess(MemoryAccessPermissions.Of(Sp, DataAccess.ReadWrite), 0)],
            CompositeMemoryRegion.Of(Enumerable.Range(0, Constituents).Select(i => new MemoryRegionConstituent(Base + (ulong)i * 0x2000, 1)).ToArray()))
            .ToBytes(MemoryDescriptorLayout.V1_2);
        var share = await http.SmcAsync(system, new
        {
            caller = "0x0",
            x = new[] { "0x84000073", $"{descriptor.Length}", $"{descriptor.Length}" },
            writes = new[] { new { address = $"0x{HostTx:X}", data = Convert.ToBase64String(descriptor) } },
        });
        Assert.Equal(0x8400_0061ul, share.X(0));
        return (system, share.X(2) | share.X(3) << 32);
    }

    [Fact]
    public async Task Rest_State_IsBounded_AndThePagedRoutesGiveTheRest()
    {
        using var http = factory.CreateClient();
        var (system, handle) = await ScatteredShareAsync(http);

        var state = await http.GetFromJsonAsync<JsonElement>($"/api/v1/systems/{system}/state");
        var share = state.GetProperty("shares")[0];
        Assert.Equal(64, share.GetProperty("ranges").GetArrayLength());
        Assert.Equal(Constituents, share.GetProperty("rangeCount").GetInt32());
        Assert.Equal(1024, state.GetProperty("memory").GetArrayLength());
        var total = state.GetProperty("memoryRangeCount").GetInt32();
        Assert.True(total > 2 * Constituents, $"{total} ranges");

        var page = await http.GetFromJsonAsync<JsonElement>($"/api/v1/systems/{system}/shares/0x{handle:X}?offset=590&limit=100");
        Assert.Equal((Constituents, 590, 10), (page.GetProperty("rangeCount").GetInt32(), page.GetProperty("rangesOffset").GetInt32(),
            page.GetProperty("ranges").GetArrayLength()));
        Assert.Equal($"0x{Base + 599 * 0x2000UL:X}", page.GetProperty("ranges")[9].GetProperty("base").GetString());

        var whole = await http.GetFromJsonAsync<JsonElement>($"/api/v1/systems/{system}/memory-map");
        Assert.Equal((total, 0, total), (whole.GetProperty("total").GetInt32(), whole.GetProperty("offset").GetInt32(), whole.GetProperty("ranges").GetArrayLength()));
        var tail = await http.GetFromJsonAsync<JsonElement>($"/api/v1/systems/{system}/memory-map?offset=1024&limit=2");
        Assert.Equal(whole.GetProperty("ranges")[1025].GetProperty("base").GetString(), tail.GetProperty("ranges")[1].GetProperty("base").GetString());
    }

    [Theory]
    [InlineData("shares/{h}?limit=0", 400, "limit: 0 is not between 1 and 4096")]
    [InlineData("shares/{h}?offset=x", 400, "offset: 'x' is not a 64-bit unsigned value")]
    [InlineData("memory-map?limit=99999999999", 400, "limit: 99999999999 is too large")]
    [InlineData("shares/0x1234", 404, "has no memory transaction 0x1234")]
    public async Task Rest_PagedRoutes_RefuseBadInput(string route, int status, string detail)
    {
        using var http = factory.CreateClient();
        var (system, handle) = await ScatteredShareAsync(http);
        var (code, text) = await (await http.GetAsync($"/api/v1/systems/{system}/{route.Replace("{h}", $"0x{handle:X}")}")).ProblemAsync();
        Assert.Equal(status, code);
        Assert.Contains(detail, text);
    }

    [Fact]
    public async Task Grpc_StateIsBounded_AndGetShareAndGetMemoryMapPage()
    {
        using var http = factory.CreateClient();
        var (system, handle) = await ScatteredShareAsync(http);
        var inspector = new Inspector.InspectorClient(factory.Channel);

        var state = await inspector.GetStateAsync(new GetStateRequest { SystemId = system });
        Assert.Equal((64, (uint)Constituents), (state.Shares[0].Ranges.Count, state.Shares[0].RangeCount));
        Assert.Equal(1024, state.Memory.Count);
        Assert.True(state.MemoryRangeCount > 2 * Constituents);

        var share = await inspector.GetShareAsync(new GetShareRequest { SystemId = system, Handle = handle, Offset = 64 });
        Assert.Equal((Constituents - 64, 64u, (ulong)Constituents), (share.Ranges.Count, share.RangesOffset, share.TotalPages));
        var map = await inspector.GetMemoryMapAsync(new GetMemoryMapRequest { SystemId = system, Offset = 1000, Limit = 10 });
        Assert.Equal((state.MemoryRangeCount, 1000u, 10), (map.Total, map.Offset, map.Ranges.Count));

        var bad = await Assert.ThrowsAsync<RpcException>(() => inspector.GetMemoryMapAsync(new GetMemoryMapRequest { SystemId = system, Limit = 5000 }).ResponseAsync);
        Assert.Equal((StatusCode.InvalidArgument, "limit: 5000 is not between 1 and 4096"), (bad.StatusCode, bad.Status.Detail));
        var missing = await Assert.ThrowsAsync<RpcException>(() => inspector.GetShareAsync(new GetShareRequest { SystemId = system, Handle = 0x1234 }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);
    }
}
