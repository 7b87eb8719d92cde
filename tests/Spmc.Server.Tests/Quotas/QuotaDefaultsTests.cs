using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Spmc.Core.Systems;
using Spmc.Server.Hosting;
using Spmc.V1;

namespace Spmc.Server.Tests.Quotas;

/// <summary>The quota defaults fit together: a system filled to its memory quota can be streamed out and back in.</summary>
public sealed class QuotaDefaultsTests(SpmcFactory factory) : IClassFixture<SpmcFactory>
{
    [Fact]
    public async Task ASystemAtItsMemoryQuota_StreamsBackWithinTheDefaultStreamBudget()
    {
        var quotas = new QuotasOptions();
        var id = await factory.NewSystemAsync();
        var system = factory.Services.GetRequiredService<SystemRegistry>().Get(id);
        var chunk = new byte[1 << 20];
        for (var offset = 0L; offset < quotas.MaxResidentBytesPerSystem; offset += chunk.Length)
        {
            for (var i = 0; i < chunk.Length; i += 4096) BitConverter.TryWriteBytes(chunk.AsSpan(i), offset + i + 1);
            system.WriteMemory(0, 0x8000_0000 + (ulong)offset, chunk);
        }
        Assert.Throws<Core.QuotaExceededException>(() => system.WriteMemory(0, 0x8000_0000 + (ulong)quotas.MaxResidentBytesPerSystem, chunk.AsSpan(0, 1)));

        var systems = new V1.Systems.SystemsClient(factory.Channel);
        var chunks = new List<SnapshotChunk>();
        using (var download = systems.SnapshotStream(new SnapshotRequest { Id = id }))
            await foreach (var c in download.ResponseStream.ReadAllAsync()) chunks.Add(c);
        Assert.True(chunks.Sum(c => (long)c.CalculateSize()) > quotas.MaxResidentBytesPerSystem); // the wire costs more than the pages

        system.WriteMemory(0, 0x8000_0000, [0xEE]);
        using var upload = systems.RestoreStream();
        await upload.RequestStream.WriteAsync(new RestoreStreamRequest { Id = id, Chunk = chunks[0] });
        foreach (var c in chunks.Skip(1)) await upload.RequestStream.WriteAsync(new RestoreStreamRequest { Chunk = c });
        await upload.RequestStream.CompleteAsync();
        await upload.ResponseAsync;
        Assert.Equal(1, system.ReadMemory(0, 0x8000_0000, 1)[0]);
    }
}
