using Grpc.Core;
using Spmc.V1;

namespace Spmc.Server.Tests.Security;

/// <summary>
/// A token opens the system it was issued for, not a later system of the same ID: a stream authenticated before the
/// system was deleted cannot reach the one another client creates under that ID.
/// </summary>
public sealed class RecreatedSystemTests(SecureHost host) : IClassFixture<SecureHost>
{
    private static readonly SmcRequest Version = new() { X = { 0x8400_0063, 0x1_0002 } };

    [Fact]
    public async Task ASessionOfADeletedSystem_IsRefusedOnItsRecreatedNamesake()
    {
        var (id, mine) = await host.CreateAsync(id: "lab-session");
        var gateway = new SmcGateway.SmcGatewayClient(host.Channel);
        using var session = gateway.Session(SecureHost.Bearer(mine));
        var frame = new SmcRequest(Version) { SystemId = id };
        await session.RequestStream.WriteAsync(frame);
        Assert.True(await session.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Null(session.ResponseStream.Current.Rejection);

        await new Systems.SystemsClient(host.Channel).DeleteAsync(new DeleteSystemRequest { Id = id }, SecureHost.Bearer(mine));
        var (_, theirs) = await host.CreateAsync(id: id);   // another client takes the name
        Assert.NotEqual(mine, theirs);

        await session.RequestStream.WriteAsync(frame);
        Assert.True(await session.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal("PermissionDenied", session.ResponseStream.Current.Rejection?.Code);
        await session.RequestStream.CompleteAsync();
        var state = await new Inspector.InspectorClient(host.Channel).GetStateAsync(new GetStateRequest { SystemId = id }, SecureHost.Bearer(theirs));
        Assert.Equal(0UL, state.Calls);
    }

    [Fact]
    public async Task ARestoreStreamBegunBeforeADelete_NeverRestoresTheRecreatedNamesake()
    {
        var (id, mine) = await host.CreateAsync(id: "lab-restore", debug: true);   // snapshots need the debug capability
        var systems = new Systems.SystemsClient(host.Channel);
        var snapshot = (await systems.SnapshotAsync(new SnapshotRequest { Id = id, Format = SnapshotFormat.Protobuf }, SecureHost.Bearer(mine))).Snapshot;
        using var restore = systems.RestoreStream(SecureHost.Bearer(mine));
        await restore.RequestStream.WriteAsync(new RestoreStreamRequest { Id = id, Chunk = new SnapshotChunk { Document = snapshot } });

        await systems.DeleteAsync(new DeleteSystemRequest { Id = id }, SecureHost.Bearer(mine));
        var (_, theirs) = await host.CreateAsync(id: id);
        var gateway = new SmcGateway.SmcGatewayClient(host.Channel);
        await gateway.CallAsync(new SmcRequest(Version) { SystemId = id }, SecureHost.Bearer(theirs));

        await restore.RequestStream.CompleteAsync();
        var e = await Assert.ThrowsAsync<RpcException>(() => restore.ResponseAsync);
        Assert.Contains(e.StatusCode, new[] { StatusCode.NotFound, StatusCode.PermissionDenied });
        var state = await new Inspector.InspectorClient(host.Channel).GetStateAsync(new GetStateRequest { SystemId = id }, SecureHost.Bearer(theirs));
        Assert.Equal(1UL, state.Calls);   // their call stands: nothing was restored over it
    }
}
