
namespace Spmc.Cli.Tests;

/// <summary>
/// The real host on loopback TCP (tests/Shared/LiveSpmc): the CLI's gRPC channel needs a socket. One server is
/// shared by the tests of <see cref="CliCollection"/>, each of which works on its own system.
/// </summary>
public sealed class CliServer : LiveSpmc
{
    private static int _next;

    /// <summary>Runs `spmc ARGS --url this server` in-process: exit code, stdout, stderr.</summary>
    public Task<CliRun> RunAsync(params string[] args) => RunAsync(args, null);

    /// <summary>As <see cref="RunAsync(string[])"/>, stderr going to <paramref name="error"/> (to see a line as it comes).</summary>
    public async Task<CliRun> RunAsync(string[] args, StringWriter? error, CancellationToken ct = default)
    {
        var stdout = new StringWriter();
        var stderr = error ?? new StringWriter();
        var code = await SpmcCli.RunAsync(args, stdout, stderr, GrpcUrl, ct);
        return new CliRun(code, stdout.ToString()!, stderr.ToString());
    }

    /// <summary>A fresh system from the default manifest, named uniquely; its ID.</summary>
    public async Task<string> NewSystemAsync(string prefix = "cli")
    {
        var id = $"{prefix}-{Interlocked.Increment(ref _next)}";
        var run = await RunAsync("systems", "create", DefaultManifest, "--id", id);
        Assert.Equal(0, run.Code);
        return id;
    }
}

/// <summary>What one CLI run printed.</summary>
public sealed record CliRun(int Code, string Out, string Err)
{
    public string[] Lines => Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
}

[CollectionDefinition(Name)]
public sealed class CliCollection : ICollectionFixture<CliServer>
{
    public const string Name = "cli server";
}
