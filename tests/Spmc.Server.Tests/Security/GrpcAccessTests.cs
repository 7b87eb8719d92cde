using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;
using Spmc.V1;

namespace Spmc.Server.Tests.Security;

/// <summary>
/// Every RPC of the spmc.v1 services, taken from the proto descriptors (a new RPC cannot be missed): those that open
/// a system are refused without a token (UNAUTHENTICATED) and with another system's token (PERMISSION_DENIED naming
/// what is missing), and let in with the system's own token and with the operator token.
/// </summary>
public sealed class GrpcAccessTests(SecureHost host) : IClassFixture<SecureHost>
{
    /// <summary>The RPCs that name no existing system: creating (open to anyone), listing (filtered) and replaying a trace.</summary>
    private static readonly HashSet<string> NotPerSystem = ["spmc.v1.Systems.Create", "spmc.v1.Systems.CreateStream", "spmc.v1.Systems.List", "spmc.v1.Systems.Replay"];

    public static IEnumerable<MethodDescriptor> AllMethods() =>
        new[] { SystemsReflection.Descriptor, SmcReflection.Descriptor, MemoryReflection.Descriptor, InspectorReflection.Descriptor, PartitionsReflection.Descriptor, FaultsReflection.Descriptor }
            .SelectMany(f => f.Services).SelectMany(s => s.Methods);

    /// <summary>The RPCs that carry every page of a system (the SPMC's view): they need the debug capability too.</summary>
    private static readonly HashSet<string> DebugLevel = ["spmc.v1.Systems.Snapshot", "spmc.v1.Systems.SnapshotStream", "spmc.v1.Systems.Restore", "spmc.v1.Systems.RestoreStream"];

    public static TheoryData<string> DebugMethods() => [.. DebugLevel];

    public static TheoryData<string> SystemMethods() => [.. AllMethods().Select(m => m.FullName).Where(n => !NotPerSystem.Contains(n))];

    private static MethodDescriptor Find(string fullName) => AllMethods().Single(m => m.FullName == fullName);

    /// <summary>The request that names <paramref name="id"/>: its system_id or id field (the attach message for Attach).</summary>
    private static IMessage RequestFor(MessageDescriptor descriptor, string id)
    {
        var message = descriptor.Parser.ParseFrom(ByteString.Empty);
        if (message is PartitionMessage attach)
        {
            attach.Attach = new AttachRequest { SystemId = id, PartitionId = 0x8001 };
            return attach;
        }
        var field = descriptor.FindFieldByName("system_id") ?? descriptor.FindFieldByName("id")
            ?? throw new InvalidOperationException($"{descriptor.FullName} names no system (system_id or id)");
        field.Accessor.SetValue(message, id);
        if (message is SmcRequest smc) smc.X.Add(0x84000063);   // FFA_VERSION
        return message;
    }

    /// <summary>Calls <paramref name="method"/> for system <paramref name="id"/> with <paramref name="token"/>; the status it ends with (OK: let in and still running, or done).</summary>
    private async Task<(StatusCode Code, string Detail)> Invoke(MethodDescriptor method, string id, string? token)
    {
        var marshaller = Marshallers.Create<IMessage>(m => m.ToByteArray(), b => method.InputType.Parser.ParseFrom(b));
        var output = Marshallers.Create<IMessage>(m => m.ToByteArray(), b => method.OutputType.Parser.ParseFrom(b));
        var type = (method.IsClientStreaming, method.IsServerStreaming) switch
        {
            (false, false) => MethodType.Unary,
            (false, true) => MethodType.ServerStreaming,
            (true, false) => MethodType.ClientStreaming,
            _ => MethodType.DuplexStreaming,
        };
        var rpc = new Method<IMessage, IMessage>(type, method.Service.FullName, method.Name, marshaller, output);
        var invoker = host.Channel.CreateCallInvoker();
        var options = new CallOptions(SecureHost.Bearer(token));
        var request = RequestFor(method.InputType, id);
        try
        {
            switch (type)
            {
                case MethodType.Unary:
                    await invoker.AsyncUnaryCall(rpc, null, options, request);
                    return (StatusCode.OK, "");
                case MethodType.ServerStreaming:
                    {
                        using var call = invoker.AsyncServerStreamingCall(rpc, null, options, request);
                        // A refusal ends the stream at once; a stream let in (Watch) may wait for its first event.
                        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                        try
                        {
                            await call.ResponseStream.MoveNext(bound.Token);
                            return (StatusCode.OK, "");
                        }
                        catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && bound.IsCancellationRequested)
                        {
                            return (StatusCode.OK, "still running");
                        }
                    }
                case MethodType.ClientStreaming:
                    {
                        using var call = invoker.AsyncClientStreamingCall(rpc, null, options);
                        await call.RequestStream.WriteAsync(request);
                        await call.RequestStream.CompleteAsync();
                        await call.ResponseAsync;
                        return (StatusCode.OK, "");
                    }
                default:
                    {
                        using var call = invoker.AsyncDuplexStreamingCall(rpc, null, options);
                        await call.RequestStream.WriteAsync(request);
                        if (!await call.ResponseStream.MoveNext(CancellationToken.None)) return Status(call.GetStatus);
                        // A session rejects one frame alone: its answer carries the refusal.
                        if (call.ResponseStream.Current is SmcResponse { Rejection: { } rejection })
                            return (Enum.Parse<StatusCode>(rejection.Code), rejection.Message);
                        return (StatusCode.OK, "");
                    }
            }
        }
        catch (RpcException e)
        {
            return (e.StatusCode, e.Status.Detail);
        }
    }

    private static (StatusCode, string) Status(Func<global::Grpc.Core.Status> status)
    {
        try
        {
            var s = status();
            return (s.StatusCode, s.Detail);
        }
        catch (InvalidOperationException)
        {
            return (StatusCode.OK, "still running");
        }
    }

    [Fact]
    public void Every_rpc_is_either_per_system_or_named_as_not()
    {
        var names = AllMethods().Select(m => m.FullName).ToList();
        Assert.Subset(names.ToHashSet(), NotPerSystem);
        Assert.True(SystemMethods().Count >= 20, string.Join(", ", names));
    }

    [Theory]
    [MemberData(nameof(SystemMethods))]
    public async Task Refused_without_a_token(string method)
    {
        var (id, _) = await host.CreateAsync();
        var (code, detail) = await Invoke(Find(method), id, null);
        Assert.True(code == StatusCode.Unauthenticated, $"{method}: {code} {detail}");
        Assert.Contains("Bearer token is required", detail);
    }

    [Theory]
    [MemberData(nameof(SystemMethods))]
    public async Task Refused_with_another_systems_token(string method)
    {
        var (id, _) = await host.CreateAsync();
        var (other, otherToken) = await host.CreateAsync();
        var (code, detail) = await Invoke(Find(method), id, otherToken);
        Assert.True(code == StatusCode.PermissionDenied, $"{method}: {code} {detail}");
        Assert.Contains($"the token is for system '{other}': system '{id}' needs its own token or the operator token", detail);
    }

    [Theory]
    [MemberData(nameof(SystemMethods))]
    public async Task Let_in_with_its_own_token_and_the_operators(string method)
    {
        foreach (var asOperator in new[] { false, true })
        {
            var (id, token) = await host.CreateAsync(debug: DebugLevel.Contains(method));
            var (code, detail) = await Invoke(Find(method), id, asOperator ? SecureHost.OperatorToken : token);
            Assert.True(code is not (StatusCode.Unauthenticated or StatusCode.PermissionDenied or StatusCode.Unknown or StatusCode.Internal),
                $"{method} ({(asOperator ? "operator" : "own token")}): {code} {detail}");
        }
    }

    [Theory]
    [MemberData(nameof(DebugMethods))]
    public async Task Snapshots_and_restores_need_the_debug_capability(string method)
    {
        Assert.Contains(method, SystemMethods());
        var (id, token) = await host.CreateAsync(token: null);   // its own token, without debug
        var (code, detail) = await Invoke(Find(method), id, token);
        Assert.True(code == StatusCode.PermissionDenied, $"{method}: {code} {detail}");
        Assert.Contains("needs the debug capability (so do snapshots and restores", detail);
    }

    [Fact]
    public async Task Create_answers_the_token_and_list_shows_what_it_opens()
    {
        var systems = new Systems.SystemsClient(host.Channel);
        var created = await systems.CreateAsync(new CreateSystemRequest { ManifestJson = SpmcFactory.PassthroughManifest });
        Assert.Equal(43, created.Token.Length);
        var mine = await systems.ListAsync(new ListSystemsRequest(), SecureHost.Bearer(created.Token));
        Assert.Equal([created.Id], mine.Systems.Select(s => s.Id));
        Assert.Equal("", mine.Systems[0].Token);
        var all = await systems.ListAsync(new ListSystemsRequest(), SecureHost.Bearer(SecureHost.OperatorToken));
        Assert.Contains("default", all.Systems.Select(s => s.Id));
        var anonymous = await Assert.ThrowsAsync<RpcException>(() => systems.ListAsync(new ListSystemsRequest()).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, anonymous.StatusCode);
        await systems.DeleteAsync(new DeleteSystemRequest { Id = created.Id }, SecureHost.Bearer(created.Token));
        var gone = await Assert.ThrowsAsync<RpcException>(() => systems.GetAsync(new GetSystemRequest { Id = created.Id }, SecureHost.Bearer(created.Token)).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, gone.StatusCode);
    }
}
