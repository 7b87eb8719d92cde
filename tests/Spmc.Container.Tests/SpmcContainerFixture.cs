using System.Diagnostics;
using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Configurations;
using DotNet.Testcontainers.Containers;
using DotNet.Testcontainers.Images;

namespace Spmc.Container.Tests;

[CollectionDefinition(Name)]
public sealed class ContainerCollection : ICollectionFixture<SpmcContainerFixture>
{
    public const string Name = "spmc container";
}

/// <summary>
/// Publishes the server on the host, builds the image from the repository's Dockerfile (target
/// <c>prebuilt</c>: no network inside the build) and starts one shared service container the way
/// deploy/deployment.yaml runs it (read-only root file system, /tmp writable, deploy/manifests mounted on
/// /manifests). Tests may start more containers with <see cref="StartServiceAsync"/>; every container and the
/// test image are removed at the end. Without a Docker engine it throws, and every test of the collection
/// fails with the set-up to run.
/// </summary>
/// <remarks>
/// Environment: SPMC_CONTAINER_TARGET (Dockerfile target, default prebuilt; "final" builds in the SDK
/// image and needs it), SPMC_CONTAINER_PUBLISH=0 (use artifacts/publish as it is),
/// SPMC_CONTAINER_KEEP_IMAGE=1 (keep the test image), SPMC_ASPNET_IMAGE (base image tag).
/// </remarks>
public sealed class SpmcContainerFixture : IAsyncLifetime
{
    public const int RestPort = 5080;
    public const int GrpcPort = 5081;
    public const string Label = "org.spmc.container-tests";

    /// <summary>The operator token every service container of the tests gets (the image has access tokens on).</summary>
    public const string OperatorToken = "container-tests-operator-token-0123";

    private static readonly TimeSpan PublishTimeout = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(5);

    private readonly List<IContainer> _containers = [];
    private readonly string _runId = Guid.NewGuid().ToString("N")[..10];
    private IFutureDockerImage? _image;

    public static string RepoRoot { get; } = FindRepoRoot();
    public static string AspnetImage => Environment.GetEnvironmentVariable("SPMC_ASPNET_IMAGE") is { Length: > 0 } tag ? tag : "mcr.microsoft.com/dotnet/aspnet:10.0";
    public static string ManifestDirectory => Path.Combine(RepoRoot, "deploy", "manifests");

    public string ImageName => $"spmc-container-tests:{_runId}";
    public string RunId => _runId;

    /// <summary>The shared service: read-only root, deploy/manifests mounted.</summary>
    public IContainer Service { get; private set; } = null!;
    public Uri RestAddress => RestUri(Service);
    public Uri GrpcAddress => GrpcUri(Service);

    public TimeSpan PublishTime { get; private set; }
    public TimeSpan BuildTime { get; private set; }
    public TimeSpan ServiceStartTime { get; private set; }

    public static Uri RestUri(IContainer c) => new($"http://127.0.0.1:{c.GetMappedPublicPort(RestPort)}");
    public static Uri GrpcUri(IContainer c) => new($"http://127.0.0.1:{c.GetMappedPublicPort(GrpcPort)}");

    /// <summary>A gRPC channel to <paramref name="address"/> sending <paramref name="token"/> (the operator's by default) on every call.</summary>
    public static Grpc.Net.Client.GrpcChannel Channel(Uri address, string? token = OperatorToken) => Grpc.Net.Client.GrpcChannel.ForAddress(address,
        new Grpc.Net.Client.GrpcChannelOptions { HttpHandler = new BearerHandler(token) { InnerHandler = new SocketsHttpHandler() } });

    /// <summary>Adds Authorization: Bearer to each request (REST and gRPC alike).</summary>
    public sealed class BearerHandler(string? token) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (token is not null) request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            return base.SendAsync(request, cancellationToken);
        }
    }

    public async Task InitializeAsync()
    {
        ContainerTestEnvironment.ConfigureTestcontainers();
        await ContainerTestEnvironment.RequireDockerAsync();   // fails every test of the collection, naming the set-up

        var watch = Stopwatch.StartNew();
        if (Environment.GetEnvironmentVariable("SPMC_CONTAINER_PUBLISH") != "0") await PublishAsync();
        PublishTime = watch.Elapsed;

        watch.Restart();
        await BuildImageAsync();
        BuildTime = watch.Elapsed;

        watch.Restart();
        Service = await StartServiceAsync(b => b
            .WithBindMount(ManifestDirectory, "/manifests", AccessMode.ReadOnly)
            .WithTmpfsMount("/tmp")
            .WithCreateParameterModifier(p => p.HostConfig!.ReadonlyRootfs = true));
        ServiceStartTime = watch.Elapsed;
    }

    /// <summary>
    /// A service container from the test image: both ports published on 127.0.0.1 only (random host ports),
    /// started and answering GET /healthz unless <paramref name="wait"/> says otherwise. Removed at the end.
    /// </summary>
    public async Task<IContainer> StartServiceAsync(Func<ContainerBuilder, ContainerBuilder>? configure = null,
        IWaitForContainerOS? wait = null, CancellationToken ct = default)
    {
        var builder = new ContainerBuilder(ImageName)
            .WithName($"spmc-ct-{_runId}-{_containers.Count}")
            .WithLabel(Label, _runId)
            .WithPortBinding(RestPort, true)
            .WithPortBinding(GrpcPort, true)
            .WithEnvironment("Spmc__Auth__OperatorToken", OperatorToken)
            .WithCreateParameterModifier(p =>
            {
                // Testcontainers publishes on every host interface; CI publishes on loopback only.
                foreach (var bindings in p.HostConfig?.PortBindings?.Values ?? [])
                    foreach (var binding in bindings)
                        binding.HostIP = "127.0.0.1";
            })
            .WithWaitStrategy(wait ?? Wait.ForUnixContainer()
                .UntilHttpRequestIsSucceeded(r => r.ForPort(RestPort).ForPath("/healthz"), w => w.WithTimeout(TimeSpan.FromSeconds(60))));
        if (configure is not null) builder = configure(builder);
        var container = builder.Build();
        lock (_containers) _containers.Add(container);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromMinutes(2));
        try
        {
            await container.StartAsync(timeout.Token);
        }
        catch (Exception e)
        {
            var (stdout, stderr) = await SafeLogsAsync(container);
            throw new InvalidOperationException($"container {container.Name} did not start: {e.Message}\n--- stdout\n{stdout}\n--- stderr\n{stderr}", e);
        }
        return container;
    }

    public async Task DisposeAsync()
    {
        List<IContainer> containers;
        lock (_containers) containers = [.. _containers];
        foreach (var c in containers)
        {
            try { await c.DisposeAsync(); }   // stops and removes it (no reaper here)
            catch (Exception e) { Console.Error.WriteLine($"spmc container tests: could not remove {c.Name}: {e.Message}"); }
        }
        if (_image is not null && Environment.GetEnvironmentVariable("SPMC_CONTAINER_KEEP_IMAGE") != "1")
        {
            try { await _image.DeleteAsync(); }
            catch (Exception e) { Console.Error.WriteLine($"spmc container tests: could not remove image {ImageName}: {e.Message}"); }
        }
        if (_image is not null) await _image.DisposeAsync();
    }

    private async Task BuildImageAsync()
    {
        var target = Environment.GetEnvironmentVariable("SPMC_CONTAINER_TARGET") is { Length: > 0 } t ? t : "prebuilt";
        var builder = new ImageFromDockerfileBuilder()
            .WithContextDirectory(RepoRoot)
            .WithDockerfileDirectory(RepoRoot)
            .WithDockerfile("Dockerfile")
            .WithTarget(target)
            .WithName(ImageName)
            .WithDeleteIfExists(true)
            .WithCleanUp(false);
        // Testcontainers pulls every base image the Dockerfile names that is missing, including the SDK
        // image no prebuilt stage uses (and no registry serves here). Naming the runtime image as SDK_IMAGE
        // for this build keeps it from trying; the SDK stage comes after the prebuilt one and is never built.
        if (target != "final" && target != "build") builder = builder.WithBuildArgument("SDK_IMAGE", AspnetImage);
        _image = builder.Build();
        using var timeout = new CancellationTokenSource(BuildTimeout);
        await _image.CreateAsync(timeout.Token);
    }

    private static async Task PublishAsync()
    {
        var (code, output) = await RunAsync("dotnet",
            ["publish", "src/Spmc.Server/Spmc.Server.csproj", "-c", "Release", "-o", "artifacts/publish", "--nologo",
             "-nodeReuse:false", "-p:UseSharedCompilation=false"],
            PublishTimeout);
        if (code != 0) throw new InvalidOperationException($"dotnet publish failed ({code}):\n{output}");
    }

    /// <summary>Runs a host command in the repository, with a bounded time; returns its exit code and output.</summary>
    public static async Task<(int Code, string Output)> RunAsync(string file, IEnumerable<string> args, TimeSpan timeout,
        Action<IDictionary<string, string?>>? environment = null, CancellationToken ct = default, string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo(file) { WorkingDirectory = workingDirectory ?? RepoRoot, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        // `dotnet test` hands MSBuild's variables to the test host; a nested dotnet command must not inherit them.
        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)).ToList())
            psi.Environment.Remove(key);
        environment?.Invoke(psi.Environment);
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish within {timeout}:\n{await stdout}\n{await stderr}");
        }
        return (process.ExitCode, (await stdout) + (await stderr));
    }

    public static async Task<(string Stdout, string Stderr)> SafeLogsAsync(IContainer c)
    {
        try { return await c.GetLogsAsync(); }
        catch (Exception e) { return ("", $"(no logs: {e.Message})"); }
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Spmc.sln")) && File.Exists(Path.Combine(dir.FullName, "Dockerfile")))
                return dir.FullName;
        throw new InvalidOperationException($"no repository root (Spmc.sln + Dockerfile) above {AppContext.BaseDirectory}");
    }
}
