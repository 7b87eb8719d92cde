using Spmc.Client;

namespace Spmc.Cli.Tests;

/// <summary>Spmc.Client's Attach wrapper: a remote partition as a message loop of one line.</summary>
[Collection(CliCollection.Name)]
public sealed class RemotePartitionTests(CliServer server)
{
    private const string Manifest = """
        { "spmc": { "id": "0x8000", "version": "1.2" }, "proxy": "passthrough",
          "vms": [ { "id": "0x0", "name": "host", "vcpus": 1, "memory": [ { "base": "0x80000000", "size": "0x100000" } ] } ],
          "partitions": [ { "id": "0x8001", "name": "adder", "behaviour": "remote",
                            "uuids": [ "3c5a1f2e-8b4d-4e6f-9a1b-2c3d4e5f6a72" ], "properties": { "directRequestReceive": true },
                            "memory": [ { "base": "0x60000000", "size": "0x100000" } ] } ] }
        """;

    [Fact]
    public async Task ServeAnswersDirectRequestsUntilCancelled()
    {
        using var spmc = new SpmcClient(server.GrpcUrl);
        await spmc.CreateSystemAsync(Manifest, "cli-remote");
        var host = spmc.System("cli-remote");
        Assert.Equal("version 1.2", (await host.VersionAsync(1, 2)).Decoded.Result);

        await using var adder = await RemotePartition.AttachAsync(spmc, "cli-remote", 0x8001);
        Assert.Equal(0x8001u, adder.Info.PartitionId);
        using var stop = new CancellationTokenSource();
        var loop = adder.ServeAsync(request => [request.Payload[0] + request.Payload[1]], stop.Token);

        // The Attach stream's frames are applied asynchronously: until the loop's FFA_MSG_WAIT took effect the
        // partition is not booted and a 1.2 sender gets BUSY (direct-req.receiver-off). Retry only that, a bounded count.
        var answer = await host.DirectRequestAsync(0x8001, 3, 4);
        for (var i = 0; i < 500 && answer.Decoded.Rule == "direct-req.receiver-off"; i++)
        {
            await Task.Delay(10);
            answer = await host.DirectRequestAsync(0x8001, 3, 4);
        }
        Assert.True(answer.X[0] == 0x8400_0070, $"{answer.Decoded.Result} {answer.Decoded.Error} {answer.Decoded.Reason}");
        Assert.Equal([0x8001_0000UL, 0, 7], answer.X.Skip(1).Take(3));
        Assert.Equal(30UL, (await host.DirectRequestAsync(0x8001, 10, 20)).X[3]);

        stop.Cancel();
        await loop;
    }

    [Fact]
    public async Task CallsAfterTheStreamEnded_FailAtOnce()
    {
        using var spmc = new SpmcClient(server.GrpcUrl);
        await spmc.CreateSystemAsync(Manifest, "cli-remote-ended");
        var adder = await RemotePartition.AttachAsync(spmc, "cli-remote-ended", 0x8001);
        await spmc.DeleteSystemAsync("cli-remote-ended");          // the service ends the stream with a status
        var ended = await Assert.ThrowsAsync<SpmcException>(() => adder.CallAsync([0x8400_0061]).WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(Grpc.Core.StatusCode.NotFound, ended.Code);

        await adder.DisposeAsync();
        await Assert.ThrowsAsync<SpmcException>(() => adder.CallAsync([0x8400_0061]).WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task AttachingToABuiltInPartitionThrows()
    {
        using var spmc = new SpmcClient(server.GrpcUrl);
        var e = await Assert.ThrowsAsync<SpmcException>(() => RemotePartition.AttachAsync(spmc, "default", 0x8001));
        Assert.Equal(Grpc.Core.StatusCode.AlreadyExists, e.Code);
    }
}
