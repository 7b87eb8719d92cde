using Spmc.Client;

namespace Spmc.Docs.Tests;

/// <summary>
/// The real host on loopback TCP on free ports (tests/Shared/LiveSpmc), as a user starts it, so that the examples'
/// shell commands (curl, the spmc CLI) reach it as they would reach `dotnet run --project src/Spmc.Server`.
/// </summary>
public sealed class DocsServer : LiveSpmc
{
    /// <summary>Back to the server as just started: every system deleted, `default` created from the default manifest.</summary>
    public async Task FreshAsync()
    {
        using var client = new SpmcClient(GrpcUrl);
        foreach (var system in await client.ListSystemsAsync()) await client.DeleteSystemAsync(system.Id);
        await client.CreateSystemFromFileAsync(DefaultManifest, "default");
    }
}
