using Google.Protobuf;
using Grpc.Core;
using Spmc.Abi.Descriptors;
using Spmc.Abi.Descriptors.Memory;
using Spmc.V1;

namespace Spmc.Server.Tests;

/// <summary>
/// A normal-world driver's whole flow through gRPC — discover, message, share memory, be notified — against the
/// built-in partitions and against a partition played by a client over PartitionHost.Attach.
/// </summary>
public sealed class PartitionsEndToEndTests(SpmcFactory factory) : IClassFixture<SpmcFactory>
{
    private const ushort Host = 0;
    private const ulong HostTx = 0x8000_1000, HostRx = 0x8000_0000;
    private const ulong Success32 = 0x84000061, Req32 = 0x8400006F, Req64 = 0xC400006F, Resp32 = 0x84000070, Resp64 = 0xC4000070,
        Req2 = 0xC400008D, Resp2 = 0xC400008E, MsgWait = 0x8400006B, MemShare = 0x84000073, Reclaim = 0x84000077, RxTxMap = 0xC4000066,
        BitmapCreate = 0x8400007D, Bind = 0x8400007F, Set = 0x84000081, Get = 0x84000082, PartitionInfoGet = 0x84000068,
        RetrieveReq = 0x84000074, RetrieveResp = 0x84000075, Relinquish = 0x84000076, RxRelease = 0x84000065;

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private async Task<SmcResponse> Call(string system, ushort caller, params ulong[] x) => await Call(system, caller, x, null);

    private async Task<SmcResponse> Call(string system, ushort caller, ulong[] x, (ulong Address, byte[] Data)? write)
    {
        var request = new SmcRequest { SystemId = system, Caller = caller };
        request.X.Add(x);
        if (write is { } w) request.Writes.Add(new V1.MemoryWrite { Address = w.Address, Data = ByteString.CopyFrom(w.Data) });
        return await new SmcGateway.SmcGatewayClient(factory.Channel).CallAsync(request);
    }

    private async Task<ulong> ShareAsync(string system, ushort receiver, byte fill, int pages)
    {
        await new V1.Memory.MemoryClient(factory.Channel).WriteAsync(new WriteMemoryRequest
        { SystemId = system, AsEndpoint = Host, Address = 0x8010_0000, Data = ByteString.CopyFrom(Enumerable.Repeat(fill, pages * 4096).ToArray()) });
        var descriptor = new MemoryTransactionDescriptor(Host, MemoryRegionAttributes.NormalWriteBackInner, new MemoryTransactionFlags(0), 0, 0,
            [new EndpointMemoryAccess(MemoryAccessPermissions.Of(receiver, DataAccess.ReadWrite), 0)],
            CompositeMemoryRegion.Of(new MemoryRegionConstituent(0x8010_0000, (uint)pages))).ToBytes(MemoryDescriptorLayout.V1_2);
        var shared = await Call(system, Host, [MemShare, (ulong)descriptor.Length, (ulong)descriptor.Length], (HostTx, descriptor));
        Assert.True(shared.X[0] == Success32, shared.Decoded.Reason);
        return shared.X[2] | shared.X[3] << 32;
    }

    /// <summary>Frames on the Attach stream are processed asynchronously: wait until the client's MSG_WAIT took effect.</summary>
    private async Task WhenWaitingAsync(string system)
    {
        var http = factory.CreateClient();
        for (var i = 0; i < 400; i++)
        {
            var state = await System.Net.Http.Json.HttpClientJsonExtensions.GetFromJsonAsync<System.Text.Json.JsonElement>(http, $"/api/v1/systems/{system}/state");
            if (state.GetProperty("runtime")[0].GetProperty("contexts")[0].GetProperty("state").GetString() == "waiting") return;
            await Task.Delay(25);
        }
        Assert.Fail("the attached partition never reached FFA_MSG_WAIT");
    }

    [Fact]
    public async Task Builtins_DiscoverEchoMemoryNotifier()
    {
        var system = await factory.NewSystemAsync();
        Assert.Equal(Success32, (await Call(system, Host, RxTxMap, HostTx, HostRx, 1)).X[0]);

        // Discover: four UUIDs over three partitions (count only).
        var count = await Call(system, Host, PartitionInfoGet, 0, 0, 0, 0, 1);
        Assert.Equal([Success32, 0, 4], count.X.Take(3));

        // echo: REQ_32 comes back with the payload truncated to 32 bits; REQ2 with x4..x17.
        var echoed = await Call(system, Host, Req32, 0x8001, 0, 0x1_1111_1111, 2, 3, 4, 5);
        Assert.Equal([Resp32, 0x8001_0000, 0, 0x1111_1111, 2, 3, 4, 5], echoed.X.Take(8));
        var req2 = new ulong[18];
        req2[0] = Req2; req2[1] = 0x8001;
        for (var i = 4; i < 18; i++) req2[i] = 0xA000_0000_0000_0000 + (ulong)i;
        var echoed2 = await Call(system, Host, req2);
        Assert.Equal(Resp2, echoed2.X[0]);
        Assert.Equal(0x8001_0000UL, echoed2.X[1]);
        Assert.Equal(req2.Skip(4), echoed2.X.Skip(4));
        Assert.Contains("'echo' ran", string.Join(" ", echoed2.Decoded.Notes));

        // memory: the host shares 3 pages of 0x5A; the SP checks them, writes 0xC3, relinquishes; the host reclaims.
        var handle = await ShareAsync(system, 0x8002, 0x5A, 3);
        var verified = await Call(system, Host, Req64, 0x8002, 0, (uint)handle, handle >> 32, 1, 0x15A, 0x1C3);
        Assert.True(verified.X[0] == Resp64, verified.Decoded.Reason);
        Assert.Equal([0UL, 0, 3], verified.X.Skip(3).Take(3));
        var after = await new V1.Memory.MemoryClient(factory.Channel).ReadAsync(new ReadMemoryRequest { SystemId = system, AsEndpoint = Host, Address = 0x8010_0000, Length = 3 * 4096 });
        Assert.All(after.Data.ToByteArray(), b => Assert.Equal(0xC3, b));
        Assert.Equal(Success32, (await Call(system, Host, Reclaim, (uint)handle, handle >> 32, 0)).X[0]);

        // notifier: the host creates its bitmap, binds bit 5 to 0x8003, watches, and asks 0x8003 to set it.
        Assert.Equal(Success32, (await Call(system, Host, BitmapCreate, 0, 4)).X[0]);
        Assert.Equal(Success32, (await Call(system, Host, Bind, 0x8003_0000, 0, 1 << 5, 0)).X[0]);
        using var watch = new Systems.SystemsClient(factory.Channel).Watch(new WatchRequest { SystemId = system, Endpoint = Host });
        await watch.ResponseHeadersAsync.WaitAsync(Patience);
        var notified = await Call(system, Host, Req32, 0x8003, 0, Host, 1 << 5, 0, 0);
        Assert.Equal([Resp32, 0x8003_0000, 0, 0], notified.X.Take(4));
        Assert.Contains(notified.Events, e => e.Kind == "ScheduleReceiverInterrupt" && e.Endpoint == Host);
        Assert.True(await watch.ResponseStream.MoveNext().WaitAsync(Patience));
        Assert.Equal(("ScheduleReceiverInterrupt", 0u), (watch.ResponseStream.Current.Kind, watch.ResponseStream.Current.Endpoint));
        var got = await Call(system, Host, Get, 0, 1);
        Assert.Equal([Success32, 0, 1 << 5], got.X.Take(3));
    }

    /// <summary>A minimal remote partition: the example of docs/partitions.md, driven step by step by the test.</summary>
    private sealed class RemotePartition(AsyncDuplexStreamingCall<PartitionMessage, PartitionDelivery> stream) : IAsyncDisposable
    {
        private ulong _tag;

        public static async Task<RemotePartition> AttachAsync(GrpcChannelHolder channel, string system, ushort id)
        {
            var stream = new PartitionHost.PartitionHostClient(channel.Channel).Attach();
            await stream.RequestStream.WriteAsync(new PartitionMessage { Attach = new AttachRequest { SystemId = system, PartitionId = id } });
            Assert.True(await stream.ResponseStream.MoveNext());
            Assert.Equal(id, (ushort)stream.ResponseStream.Current.Attached.PartitionId);
            return new RemotePartition(stream);
        }

        /// <summary>Sends one SMC as the partition; returns its tag.</summary>
        public async Task<ulong> SendAsync(ulong[] x, (ulong Address, byte[] Data)? write = null, (ulong Address, int Length)? read = null)
        {
            var frame = new SmcRequest { Tag = ++_tag };
            frame.X.Add(x);
            if (write is { } w) frame.Writes.Add(new V1.MemoryWrite { Address = w.Address, Data = ByteString.CopyFrom(w.Data) });
            if (read is { } r) frame.Reads.Add(new V1.MemoryReadRequest { Address = r.Address, Length = (uint)r.Length });
            await stream.RequestStream.WriteAsync(new PartitionMessage { Frame = frame });
            return _tag;
        }

        /// <summary>The next answer (events are skipped).</summary>
        public async Task<SmcResponse> NextAnswerAsync()
        {
            while (await stream.ResponseStream.MoveNext().WaitAsync(Patience))
                if (stream.ResponseStream.Current.Answer is { } answer) return answer;
            throw new InvalidOperationException("stream ended");
        }

        public async Task<SmcResponse> CallAsync(ulong[] x, (ulong Address, byte[] Data)? write = null, (ulong Address, int Length)? read = null)
        {
            var tag = await SendAsync(x, write, read);
            var answer = await NextAnswerAsync();
            Assert.Equal(tag, answer.Tag);
            return answer;
        }

        public async ValueTask DisposeAsync()
        {
            await stream.RequestStream.CompleteAsync();
            stream.Dispose();
        }
    }

    internal sealed record GrpcChannelHolder(global::Grpc.Net.Client.GrpcChannel Channel);

    private const string RemoteManifest = """
        { "spmc": { "version": "1.2", "remoteTimeoutMs": 10000 }, "proxy": "passthrough",
          "vms": [ { "id": 0, "name": "host", "vcpus": 1, "memory": [ { "base": "0x80000000", "size": "0x1000000" } ] } ],
          "partitions": [
            { "id": "0x8001", "name": "mine", "behaviour": "remote", "uuids": [ "7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4aff" ],
              "properties": { "directRequestReceive": true, "directRequest2Receive": true, "notifications": true },
              "memory": [ { "base": "0x60000000", "size": "0x100000" } ] } ] }
        """;

    [Fact]
    public async Task Remote_MessagesMemoryAndNotifications_ThroughAnAttachedClient()
    {
        const ushort Sp = 0x8001;
        const ulong SpTx = 0x6000_1000, SpRx = 0x6000_0000;
        var system = await factory.NewSystemAsync(RemoteManifest);
        Assert.Equal(Success32, (await Call(system, Host, RxTxMap, HostTx, HostRx, 1)).X[0]);

        // Not attached: the partition is not running, so a request is BUSY.
        var busy = await Call(system, Host, Req32, Sp, 0, 1);
        Assert.Equal(0xFFFF_FFFCUL, busy.X[2]);

        await using var sp = await RemotePartition.AttachAsync(new GrpcChannelHolder(factory.Channel), system, Sp);
        Assert.Equal(Success32, (await sp.CallAsync([RxTxMap, SpTx, SpRx, 1])).X[0]);

        // The partition's loop starts with FFA_MSG_WAIT; its answer is the host's request.
        var waitTag = await sp.SendAsync([MsgWait]);
        await WhenWaitingAsync(system);
        var hostCall = Call(system, Host, Req64, Sp, 0, 41, 42);
        var request = await sp.NextAnswerAsync();
        Assert.Equal(waitTag, request.Tag);
        Assert.Equal([Req64, Sp, 0, 41, 42], request.X.Take(5));

        // It answers with RESP; that call parks until the next message, the host gets the response.
        var respTag = await sp.SendAsync([Resp64, (ulong)Sp << 16, 0, 41 + 42]);
        var response = await hostCall.WaitAsync(Patience);
        Assert.Equal([Resp64, (ulong)Sp << 16, 0, 83], response.X.Take(4));

        // REQ2 by UUID: the parked RESP returns with it; the client answers RESP2.
        var req2 = new ulong[18];
        req2[0] = Req2; req2[1] = Sp; req2[4] = 7;
        var uuid = Abi.Ffa.FfaUuid.Parse("7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4aff");
        (req2[2], req2[3]) = uuid.ToRegisters64();
        hostCall = Call(system, Host, req2);
        request = await sp.NextAnswerAsync();
        Assert.Equal(respTag, request.Tag);
        Assert.Equal(Req2, request.X[0]);
        await sp.SendAsync([Resp2, (ulong)Sp << 16, 0, 0, 7 * 6]);
        response = await hostCall.WaitAsync(Patience);
        Assert.Equal([Resp2, (ulong)Sp << 16, 0, 0, 42], response.X.Take(5));

        // Memory: the host shares a page of 0x77 and sends the handle; the client retrieves it, reads it, relinquishes.
        var handle = await ShareAsync(system, Sp, 0x77, 1);
        hostCall = Call(system, Host, Req64, Sp, 0, handle);
        request = await sp.NextAnswerAsync();
        Assert.Equal(handle, request.X[3]);
        var retrieve = new MemoryTransactionDescriptor(Host, default, MemoryTransactionFlags.OfType(MemoryTransactionType.Share), handle, 0,
            [new EndpointMemoryAccess(MemoryAccessPermissions.Of(Sp, DataAccess.ReadWrite), 0)]).ToBytes(MemoryDescriptorLayout.V1_2);
        var retrieved = await sp.CallAsync([RetrieveReq, (ulong)retrieve.Length, (ulong)retrieve.Length], (SpTx, retrieve));
        Assert.True(retrieved.X[0] == RetrieveResp, retrieved.Decoded.Reason);
        var content = await new V1.Memory.MemoryClient(factory.Channel).ReadAsync(new ReadMemoryRequest { SystemId = system, AsEndpoint = Sp, Address = 0x8010_0000, Length = 16 });
        Assert.All(content.Data.ToByteArray(), b => Assert.Equal(0x77, b));
        Assert.Equal(Success32, (await sp.CallAsync([RxRelease])).X[0]);
        Assert.Equal(Success32, (await sp.CallAsync([Relinquish], (SpTx, new MemoryRelinquishDescriptor(handle, 0, [Sp]).ToBytes()))).X[0]);
        await sp.SendAsync([Resp64, (ulong)Sp << 16, 0, 0]);
        Assert.Equal([Resp64, (ulong)Sp << 16, 0, 0], (await hostCall.WaitAsync(Patience)).X.Take(4));
        Assert.Equal(Success32, (await Call(system, Host, Reclaim, (uint)handle, handle >> 32, 0)).X[0]);

        // Notifications: the host binds bit 3 to the SP and watches; the SP sets it.
        Assert.Equal(Success32, (await Call(system, Host, BitmapCreate, 0, 1)).X[0]);
        Assert.Equal(Success32, (await Call(system, Host, Bind, (ulong)Sp << 16, 0, 1 << 3, 0)).X[0]);
        using var watch = new Systems.SystemsClient(factory.Channel).Watch(new WatchRequest { SystemId = system, Endpoint = Host });
        await watch.ResponseHeadersAsync.WaitAsync(Patience);
        var set = await sp.CallAsync([Set, (ulong)Sp << 16, 0, 1 << 3, 0]);
        Assert.True(set.X[0] == Success32, set.Decoded.Reason);
        Assert.True(await watch.ResponseStream.MoveNext().WaitAsync(Patience));
        Assert.Equal("ScheduleReceiverInterrupt", watch.ResponseStream.Current.Kind);
        Assert.Equal([Success32, 0, 1 << 3], (await Call(system, Host, Get, 0, 1)).X.Take(3));
    }

    /// <summary>
    /// FF-A 1.3 (table 8.2): an SMC64 direct request and response carry x3..x17 when sender and receiver are both above
    /// 1.2; at 1.2, x8..x17 are not part of the message (the receiver sees zeros, the response must leave them zero).
    /// The host calls over REST or gRPC; the partition is a client attached over gRPC.
    /// </summary>
    [Theory]
    [InlineData("1.3", "rest")]
    [InlineData("1.3", "grpc")]
    [InlineData("1.2", "rest")]
    [InlineData("1.2", "grpc")]
    public async Task Remote_Smc64DirectMessage_CarriesX3ToX17_OnlyWhenBothSidesAre13(string version, string transport)
    {
        const ushort Sp = 0x8001;
        var at13 = version == "1.3";
        var system = await factory.NewSystemAsync(RemoteManifest.Replace("\"version\": \"1.2\"", $"\"version\": \"{version}\"", StringComparison.Ordinal));
        var http = factory.CreateClient();
        async Task<ulong[]> Host64(ulong[] x)
        {
            if (transport == "grpc") return [.. (await Call(system, Host, x)).X];
            var answer = await http.SmcAsync(system, new { caller = "0x0", x = x.Select(v => $"0x{v:X}").ToArray() });
            return [.. Enumerable.Range(0, 18).Select(i => answer.X(i))];
        }
        Assert.Equal(at13 ? 0x1_0003UL : 0x1_0002UL, (await Call(system, Host, 0x84000063, at13 ? 0x1_0003UL : 0x1_0002UL)).X[0]);

        await using var sp = await RemotePartition.AttachAsync(new GrpcChannelHolder(factory.Channel), system, Sp);
        // At 1.3 the partition waits with the SMC64 FFA_MSG_WAIT (mitigation M2); at 1.2 only the SMC32 one exists.
        await sp.SendAsync([at13 ? 0xC400006BUL : MsgWait]);
        await WhenWaitingAsync(system);

        var request = new ulong[18];
        request[0] = Req64;
        request[1] = Sp;
        for (var i = 3; i < 18; i++) request[i] = 0x1000UL + (ulong)i;
        var hostCall = Host64(request);
        var delivered = await sp.NextAnswerAsync();
        Assert.Equal(Req64, delivered.X[0]);
        for (var i = 3; i < 8; i++) Assert.Equal(0x1000UL + (ulong)i, delivered.X[i]);
        for (var i = 8; i < 18; i++) Assert.Equal(at13 ? 0x1000UL + (ulong)i : 0, delivered.X[i]);

        var response = new ulong[18];
        response[0] = Resp64;
        response[1] = (ulong)Sp << 16;
        for (var i = 3; i < (at13 ? 18 : 8); i++) response[i] = 0x2000UL + (ulong)i;
        await sp.SendAsync(response);
        var answer = await hostCall.WaitAsync(Patience);
        Assert.Equal(Resp64, answer[0]);
        Assert.Equal((ulong)Sp << 16, answer[1]);
        for (var i = 3; i < 8; i++) Assert.Equal(0x2000UL + (ulong)i, answer[i]);
        for (var i = 8; i < 18; i++) Assert.Equal(at13 ? 0x2000UL + (ulong)i : 0, answer[i]);
    }

    [Fact]
    public async Task Remote_ClientGoneWhileHandling_HostGetsAborted_AndAttachRefusesBuiltins()
    {
        var system = await factory.NewSystemAsync(RemoteManifest);
        var sp = await RemotePartition.AttachAsync(new GrpcChannelHolder(factory.Channel), system, 0x8001);
        await sp.SendAsync([MsgWait]);
        await WhenWaitingAsync(system);
        var hostCall = Call(system, Host, Req32, 0x8001, 0, 1);
        await sp.NextAnswerAsync();
        await sp.DisposeAsync();
        var aborted = await hostCall.WaitAsync(Patience);
        Assert.Equal(0xFFFF_FFF8UL, aborted.X[2]); // ABORTED
        Assert.Equal("runtime.detached", aborted.Decoded.Rule);

        var builtin = await factory.NewSystemAsync();
        var refused = await Assert.ThrowsAsync<RpcException>(() => RemotePartition.AttachAsync(new GrpcChannelHolder(factory.Channel), builtin, 0x8001));
        Assert.Equal(StatusCode.AlreadyExists, refused.StatusCode);
    }

    [Fact]
    public async Task RestState_ShowsWhatRunsEachPartition_AndNotificationState()
    {
        var system = await factory.NewSystemAsync(RemoteManifest);
        await Call(system, Host, BitmapCreate, 0, 1);
        await Call(system, Host, Bind, 0x8001_0000, 0, 1 << 2, 0);
        var http = factory.CreateClient();
        var state = await System.Net.Http.Json.HttpClientJsonExtensions.GetFromJsonAsync<System.Text.Json.JsonElement>(http, $"/api/v1/systems/{system}/state");
        var runtime = Assert.Single(state.GetProperty("runtime").EnumerateArray());
        Assert.Equal("remote", runtime.GetProperty("driver").GetString());
        Assert.False(runtime.GetProperty("attached").GetBoolean());
        Assert.Equal("off", runtime.GetProperty("contexts")[0].GetProperty("state").GetString());
        Assert.Equal("starting", runtime.GetProperty("lifecycle").GetString()); // no client has booted it yet
        var host = state.GetProperty("notifications").EnumerateArray().Single(n => n.GetProperty("receiver").GetString() == "0x0000");
        Assert.Equal("0x8001", host.GetProperty("boundToSps").GetProperty("2").GetString());
        Assert.Equal(64, host.GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task RestState_MarksAVmTheSpmcLearned()
    {
        // The hypervisor creates the bitmap of VM 5, which the manifest does not declare (Hafnium ffa_vm_nwd_alloc).
        var system = await factory.NewSystemAsync(RemoteManifest);
        Assert.Equal(Success32, (await Call(system, Host, BitmapCreate, 5, 1)).X[0]);
        var state = await System.Net.Http.Json.HttpClientJsonExtensions.GetFromJsonAsync<System.Text.Json.JsonElement>(factory.CreateClient(), $"/api/v1/systems/{system}/state");
        var endpoints = state.GetProperty("endpoints").EnumerateArray().ToList();
        Assert.True(endpoints.Single(e => e.GetProperty("id").GetString() == "0x0005").GetProperty("learned").GetBoolean());
        Assert.False(endpoints.Single(e => e.GetProperty("id").GetString() == "0x0000").GetProperty("learned").GetBoolean());
    }

    [Fact]
    public async Task RestState_ShowsExtendedNotificationsAbove63_AsOneHexNumber()
    {
        // A 1.3 host creates its bitmap with 64 extra notifications; the SP binds and sets notification 100 (SET2).
        const ulong BitmapCreate13 = 0x8400007D, Bind2 = 0xC4000094, Set2 = 0xC4000096;
        var system = await factory.NewSystemAsync(RemoteManifest.Replace("\"version\": \"1.2\"", "\"version\": \"1.3\"", StringComparison.Ordinal));
        Assert.Equal(Success32, (await Call(system, Host, BitmapCreate13, 0, 1, 64)).X[0]);
        var bind = await Call(system, Host, Bind2, 0x8001_0000, 0, 0, 1UL << 36);
        Assert.True(bind.X[0] == Success32, bind.Decoded.Reason);
        await using var sp = await RemotePartition.AttachAsync(new GrpcChannelHolder(factory.Channel), system, 0x8001);
        var set = await sp.CallAsync([Set2, 0x8001_0000, 0, 0, 1UL << 36]);
        Assert.True(set.X[0] == Success32, set.Decoded.Reason);

        var state = await System.Net.Http.Json.HttpClientJsonExtensions.GetFromJsonAsync<System.Text.Json.JsonElement>(factory.CreateClient(), $"/api/v1/systems/{system}/state");
        var host = state.GetProperty("notifications").EnumerateArray().Single(n => n.GetProperty("receiver").GetString() == "0x0000");
        Assert.Equal(128, host.GetProperty("count").GetInt32());
        Assert.Equal("0x8001", host.GetProperty("boundToSps").GetProperty("100").GetString());
        Assert.Equal("0x10000000000000000000000000", host.GetProperty("pendingFromSps").GetString());
    }
}
