using System.Net.Http.Json;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text.Json;

namespace Spmc.Container.Tests;

/// <summary>
/// The Docker engine these tests need, and the settings Testcontainers needs here. A test that needs Docker
/// never skips: when no engine answers it fails and names the set-up (like tests/Spmc.Vmm.Tests with a missing
/// artefact). scripts/test.sh runs the set-up first, and leaves this whole project out of the run, saying so,
/// when SPMC_CONTAINER_TESTS=0 (outside CI) or when the set-up fails outside CI.
/// </summary>
public static class ContainerTestEnvironment
{
    public const string SetupAdvice =
        "run scripts/docker-setup.sh (scripts/test.sh does it), or leave tests/Spmc.Container.Tests out of the run " +
        "(SPMC_CONTAINER_TESTS=0 scripts/test.sh outside CI)";

    /// <summary>
    /// Runs when the test assembly loads, before any Testcontainers type is touched: its settings read the
    /// environment once. Values set outside win.
    /// </summary>
#pragma warning disable CA2255 // a test assembly is not a library others load: this is the earliest hook there is
    [ModuleInitializer]
    internal static void Initialize() => ConfigureTestcontainers();
#pragma warning restore CA2255

    public static void ConfigureTestcontainers()
    {
        // The reaper (ryuk) image cannot be pulled without a registry: the fixture removes what it starts.
        SetDefault("TESTCONTAINERS_RYUK_DISABLED", "true");
        // Ports are published on 127.0.0.1 only. Testcontainers would otherwise use the bridge gateway
        // whenever /.dockerenv exists (as in sandboxes and CI runners that are containers themselves).
        SetDefault("TESTCONTAINERS_HOST_OVERRIDE", "127.0.0.1");
    }

    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static Version? _apiVersion;

    /// <summary>
    /// The engine's API version (unversioned GET /version on its socket); throws, naming the set-up, when no
    /// engine answers. Also lowers DOCKER_API_VERSION to the engine's when it is older than Testcontainers'
    /// default 1.44 (Debian 12's docker.io 20.10 answers at most 1.41): must run before any Testcontainers type is
    /// touched, which reads the environment once.
    /// </summary>
    public static async Task<Version> RequireDockerAsync()
    {
        await Gate.WaitAsync();
        try
        {
            return _apiVersion ??= await QueryAsync();
        }
        finally
        {
            Gate.Release();
        }

        static async Task<Version> QueryAsync()
        {
            var host = Environment.GetEnvironmentVariable("DOCKER_HOST");
            if (!string.IsNullOrEmpty(host) && !host.StartsWith("unix://", StringComparison.Ordinal))
                return new Version(1, 44);   // a TCP engine: trust it, Testcontainers reports what fails
            var socket = string.IsNullOrEmpty(host) ? "/var/run/docker.sock" : host["unix://".Length..];
            if (!File.Exists(socket))
                throw new InvalidOperationException($"no Docker engine: {socket} does not exist; {SetupAdvice}");
            using var handler = new SocketsHttpHandler
            {
                ConnectCallback = async (_, ct) =>
                {
                    var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                    try { await s.ConnectAsync(new UnixDomainSocketEndPoint(socket), ct); }
                    catch { s.Dispose(); throw; }
                    return new NetworkStream(s, ownsSocket: true);
                },
            };
            using var client = new HttpClient(handler) { BaseAddress = new Uri("http://docker"), Timeout = TimeSpan.FromSeconds(10) };
            JsonElement version;
            try
            {
                version = await client.GetFromJsonAsync<JsonElement>("/version");
            }
            catch (Exception e) when (e is HttpRequestException or SocketException or TaskCanceledException or IOException)
            {
                throw new InvalidOperationException($"no Docker engine answers on {socket} ({e.Message}): {SetupAdvice}", e);
            }
            if (!Version.TryParse(version.GetProperty("ApiVersion").GetString(), out var api))
                throw new InvalidOperationException($"the Docker engine on {socket} reports no API version: {SetupAdvice}");
            if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DOCKER_API_VERSION")) && api < new Version(1, 44))
                Environment.SetEnvironmentVariable("DOCKER_API_VERSION", api.ToString());
            return api;
        }
    }

    private static void SetDefault(string name, string value)
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(name))) Environment.SetEnvironmentVariable(name, value);
    }
}
