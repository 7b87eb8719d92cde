using System.Net;
using System.Net.Sockets;
using Xunit.Abstractions;

namespace Spmc.Container.Tests;

/// <summary>docker-compose.yml: valid for Compose, and `up` proves itself (the smoke service exits 0).</summary>
[Collection(ContainerCollection.Name)]
public sealed class ComposeTests(SpmcContainerFixture fx, ITestOutputHelper output)
{
    [Fact]
    public async Task Compose_file_is_valid()
    {
        var (code, text) = await Compose(["config", "-q"], Environment(), TimeSpan.FromMinutes(1));
        Assert.True(code == 0, text);
    }

    [Fact]
    public async Task Compose_up_runs_the_smoke_client_to_success()
    {
        var env = Environment();
        try
        {
            // The prebuilt target reuses the fixture's `dotnet publish`; ports are free ones on 127.0.0.1.
            var (code, text) = await Compose(["up", "--build", "--abort-on-container-exit", "--exit-code-from", "smoke"], env, TimeSpan.FromMinutes(4));
            output.WriteLine(text);
            Assert.True(code == 0, $"docker-compose up: exit code {code}\n{text}");
            Assert.Contains("smoke: PASSED", text);
        }
        finally
        {
            var (code, text) = await Compose(["down", "--volumes", "--remove-orphans", "--rmi", "all"], env, TimeSpan.FromMinutes(2));
            if (code != 0) output.WriteLine($"docker-compose down: {code}\n{text}");
        }
    }

    private Dictionary<string, string> Environment() => new()
    {
        ["COMPOSE_PROJECT_NAME"] = $"spmc-ct-{fx.RunId}",
        ["SPMC_BUILD_TARGET"] = "prebuilt",
        ["SPMC_IMAGE"] = $"spmc-ct-compose:{fx.RunId}",
        ["SPMC_SMOKE_IMAGE"] = $"spmc-ct-smoke:{fx.RunId}",
        ["SPMC_REST_PORT"] = FreePort().ToString(),
        ["SPMC_GRPC_PORT"] = FreePort().ToString(),
    };

    /// <summary>scripts/compose: the `docker compose` plugin when it answers, else `docker-compose` (1.29, Debian).</summary>
    private static Task<(int, string)> Compose(string[] args, Dictionary<string, string> env, TimeSpan timeout) =>
        SpmcContainerFixture.RunAsync(Path.Combine(SpmcContainerFixture.RepoRoot, "scripts", "compose"),
            ["-f", Path.Combine(SpmcContainerFixture.RepoRoot, "docker-compose.yml"), .. args], timeout, e =>
            {
                foreach (var (k, v) in env) e[k] = v;
            });

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
