using System.Diagnostics;
using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Containers;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Xunit.Abstractions;

namespace Spmc.Container.Tests;

/// <summary>The container as an orchestrator sees it: the image's HEALTHCHECK turns healthy, SIGTERM stops it cleanly.</summary>
[Collection(ContainerCollection.Name)]
public sealed class ContainerLifecycleTests(SpmcContainerFixture fx, ITestOutputHelper output)
{
    [Fact]
    public async Task Container_becomes_healthy_by_its_own_healthcheck()
    {
        var watch = Stopwatch.StartNew();
        // Waits for Docker's health status, i.e. the Dockerfile's HEALTHCHECK (GET /healthz over /dev/tcp).
        var container = await fx.StartServiceAsync(wait: Wait.ForUnixContainer().UntilContainerIsHealthy(failingStreak: 3,
            w => w.WithTimeout(TimeSpan.FromSeconds(90))));
        var healthy = watch.Elapsed;
        Assert.Equal(TestcontainersHealthStatus.Healthy, container.Health);
        output.WriteLine($"start to healthy (Docker HEALTHCHECK, 3 s interval): {healthy.TotalSeconds:F1}s");

        // The same service is serving on gRPC, as the Kubernetes probes will ask it.
        using var channel = GrpcChannel.ForAddress(SpmcContainerFixture.GrpcUri(container));
        var reply = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(30));
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, reply.Status);
    }

    [Fact]
    public async Task Container_stops_cleanly_on_sigterm()
    {
        var container = await fx.StartServiceAsync();

        // `docker stop`: SIGTERM to PID 1 (dotnet), SIGKILL after 10 s. A clean stop is exit code 0, well before that.
        var watch = Stopwatch.StartNew();
        await container.StopAsync();
        var stopped = watch.Elapsed;
        var code = await container.GetExitCodeAsync();
        var (stdout, stderr) = await SpmcContainerFixture.SafeLogsAsync(container);
        output.WriteLine($"SIGTERM to exit: {stopped.TotalSeconds:F1}s, exit code {code}");

        Assert.True(code == 0, $"exit code {code} (137 = killed after the grace period, 143 = SIGTERM not handled)\n{stdout}\n{stderr}");
        Assert.True(stopped < TimeSpan.FromSeconds(5), $"stopping took {stopped.TotalSeconds:F1}s\n{stdout}");
        Assert.Contains("Application is shutting down", stdout);
        Assert.Equal(TestcontainersStates.Exited, container.State);
    }
}
