using System.Buffers.Binary;
using Google.Protobuf;
using Spmc.V1;

namespace Spmc.Container.Tests;

/// <summary>
/// Memory sharing through the container: the host shares two non-contiguous pages with the "memory"
/// partition (0x8002), which retrieves them and reads the host's bytes, relinquishes, and the host reclaims —
/// through the default system's pKVM proxy (pages away from the two it keeps at the top of host memory).
/// Descriptors are written byte by byte here (this project does not reference the server's codecs).
/// </summary>
public sealed partial class ContainerScenarioTests
{
    private const uint MemorySp = 0x8002;
    private const ulong SpTx = 0x6010_1000, SpRx = 0x6010_0000, PageA = 0x8020_0000, PageB = 0x8040_0000, Tag = 0x77;

    [Fact]
    public async Task Grpc_share_retrieve_relinquish_and_reclaim_memory()
    {
        var systems = new Systems.SystemsClient(Channel);
        var smc = new SmcGateway.SmcGatewayClient(Channel);
        var memory = new V1.Memory.MemoryClient(Channel);
        var inspector = new Inspector.InspectorClient(Channel);
        var id = $"ct-mem-{fx.RunId}";
        var manifest = (await systems.GetAsync(new GetSystemRequest { Id = "default" }, deadline: Deadline())).ManifestJson;
        await systems.CreateAsync(new CreateSystemRequest { Id = id, ManifestJson = manifest }, deadline: Deadline());
        try
        {
            async Task<SmcResponse> Call(uint caller, ulong[] x, (ulong Address, byte[] Data)? write = null)
            {
                var request = new SmcRequest { SystemId = id, Caller = caller, X = { x } };
                if (write is { } w) request.Writes.Add(new MemoryWrite { Address = w.Address, Data = ByteString.CopyFrom(w.Data) });
                return await smc.CallAsync(request, deadline: Deadline());
            }

            // The default system's pKVM proxy refuses every FF-A call but FFA_VERSION until the host negotiates.
            Assert.Equal(Ffa.V1_2, (await Call(Ffa.Host, [Ffa.Version, Ffa.V1_2])).X[0]);
            Assert.Equal(Ffa.Success32, (await Call(Ffa.Host, [Ffa.RxTxMap64, Ffa.TxBuffer, Ffa.RxBuffer, 1])).X[0]);
            Assert.Equal(Ffa.Success32, (await Call(MemorySp, [Ffa.RxTxMap64, SpTx, SpRx, 1])).X[0]);
            await memory.WriteAsync(new WriteMemoryRequest { SystemId = id, AsEndpoint = Ffa.Host, Address = PageB, Data = ByteString.CopyFromUtf8("from the host") },
                deadline: Deadline());

            // v1.2 transaction descriptor: 48-byte header, one 32-byte receiver descriptor, a composite at 80 with two pages.
            var share = new byte[128];
            BinaryPrimitives.WriteUInt16LittleEndian(share.AsSpan(2), 0x2F);      // Normal, write-back, inner shareable
            BinaryPrimitives.WriteUInt64LittleEndian(share.AsSpan(16), Tag);
            BinaryPrimitives.WriteUInt32LittleEndian(share.AsSpan(24), 32);       // receiver descriptor size
            BinaryPrimitives.WriteUInt32LittleEndian(share.AsSpan(28), 1);        // receiver count
            BinaryPrimitives.WriteUInt32LittleEndian(share.AsSpan(32), 48);       // receivers offset
            BinaryPrimitives.WriteUInt16LittleEndian(share.AsSpan(48), (ushort)MemorySp);
            share[50] = 0x02;                                                     // RW, instruction access unspecified
            BinaryPrimitives.WriteUInt32LittleEndian(share.AsSpan(52), 80);       // composite offset
            BinaryPrimitives.WriteUInt32LittleEndian(share.AsSpan(80), 2);        // total pages
            BinaryPrimitives.WriteUInt32LittleEndian(share.AsSpan(84), 2);        // constituents
            BinaryPrimitives.WriteUInt64LittleEndian(share.AsSpan(96), PageA);
            BinaryPrimitives.WriteUInt32LittleEndian(share.AsSpan(104), 1);
            BinaryPrimitives.WriteUInt64LittleEndian(share.AsSpan(112), PageB);
            BinaryPrimitives.WriteUInt32LittleEndian(share.AsSpan(120), 1);
            var sent = await Call(Ffa.Host, [Ffa.MemShare64, 128, 128], (Ffa.TxBuffer, share));
            Assert.True(sent.X[0] == Ffa.Success32, $"FFA_MEM_SHARE_64: {sent.Decoded}");
            var handle = sent.X[2] | (sent.X[3] << 32);
            Assert.Equal(Ffa.MemShare64, sent.Decoded.Hops.Single().Request[0]); // the proxy re-issued it, x1 = x2 = 128
            var state = await inspector.GetStateAsync(new GetStateRequest { SystemId = id }, deadline: Deadline());
            Assert.Equal("share", Assert.Single(state.Shares).Operation);
            Assert.Contains(state.Proxy.Stage2, r => r.Base == PageB && r.State == "shared-owned (FF-A)");

            // Retrieve request: the same header naming the handle and SHARE (flags bits[4:3] = 1), no composite.
            var retrieve = new byte[80];
            BinaryPrimitives.WriteUInt32LittleEndian(retrieve.AsSpan(4), 1u << 3);
            BinaryPrimitives.WriteUInt64LittleEndian(retrieve.AsSpan(8), handle);
            BinaryPrimitives.WriteUInt64LittleEndian(retrieve.AsSpan(16), Tag);
            BinaryPrimitives.WriteUInt32LittleEndian(retrieve.AsSpan(24), 32);
            BinaryPrimitives.WriteUInt32LittleEndian(retrieve.AsSpan(28), 1);
            BinaryPrimitives.WriteUInt32LittleEndian(retrieve.AsSpan(32), 48);
            BinaryPrimitives.WriteUInt16LittleEndian(retrieve.AsSpan(48), (ushort)MemorySp);
            retrieve[50] = 0x02;
            var retrieved = await Call(MemorySp, [Ffa.MemRetrieveReq64, 80, 80], (SpTx, retrieve));
            Assert.True(retrieved.X[0] == Ffa.MemRetrieveResp, $"FFA_MEM_RETRIEVE_REQ_64: {retrieved.Decoded}");

            var bytes = await memory.ReadAsync(new ReadMemoryRequest { SystemId = id, AsEndpoint = MemorySp, Address = PageB, Length = 13 }, deadline: Deadline());
            Assert.Equal("from the host", bytes.Data.ToStringUtf8());

            Assert.Equal(Ffa.Success32, (await Call(MemorySp, [Ffa.RxRelease])).X[0]);
            var relinquish = new byte[18];
            BinaryPrimitives.WriteUInt64LittleEndian(relinquish, handle);
            BinaryPrimitives.WriteUInt32LittleEndian(relinquish.AsSpan(12), 1);
            BinaryPrimitives.WriteUInt16LittleEndian(relinquish.AsSpan(16), (ushort)MemorySp);
            Assert.Equal(Ffa.Success32, (await Call(MemorySp, [Ffa.MemRelinquish], (SpTx, relinquish))).X[0]);
            var reclaimed = await Call(Ffa.Host, [Ffa.MemReclaim, (uint)handle, handle >> 32, 0]);
            Assert.True(reclaimed.X[0] == Ffa.Success32, $"FFA_MEM_RECLAIM: {reclaimed.Decoded}");

            Assert.Equal(["FFA_MEM_RETRIEVE_REQ", "FFA_RX_RELEASE", "FFA_MEM_RECLAIM"], reclaimed.Decoded.Hops.Select(h => h.Decoded.Function));
            state = await inspector.GetStateAsync(new GetStateRequest { SystemId = id }, deadline: Deadline());
            Assert.Empty(state.Shares);
            Assert.DoesNotContain(state.Proxy.Stage2, r => r.State == "shared-owned (FF-A)");
        }
        finally
        {
            await systems.DeleteAsync(new DeleteSystemRequest { Id = id }, deadline: Deadline());
        }
    }
}
