using System.Runtime.CompilerServices;

namespace Spmc.Container.Tests;

/// <summary>Whether this run may use a Docker engine, and the settings Testcontainers needs here.</summary>
public static class ContainerTestEnvironment
{
    public const string Variable = "SPMC_CONTAINER_TESTS";

    public const string SkipReason =
        "container tests need Docker: run scripts/docker-setup.sh, then set SPMC_CONTAINER_TESTS=1 " +
        "(scripts/test.sh does both; under CI=true a missing engine is a failure, not a skip)";

    public static bool Enabled => Environment.GetEnvironmentVariable(Variable) == "1";

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

    private static void SetDefault(string name, string value)
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(name))) Environment.SetEnvironmentVariable(name, value);
    }
}

/// <summary>A fact that needs a Docker engine: skipped, with the reason, unless SPMC_CONTAINER_TESTS=1.</summary>
public sealed class ContainerFactAttribute : FactAttribute
{
    public ContainerFactAttribute()
    {
        if (!ContainerTestEnvironment.Enabled) Skip = ContainerTestEnvironment.SkipReason;
    }
}
