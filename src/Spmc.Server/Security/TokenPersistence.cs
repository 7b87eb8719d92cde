using System.Text.Json;
using Spmc.Core.Systems;
using Spmc.Persistence;

namespace Spmc.Server.Security;

/// <summary>
/// Keeps each system's token record (its hash, client and debug flag; never the token) with the system's stored data
/// (<see cref="ISystemMetadata"/>, key "token"): with persistence on, a restarted service takes back the tokens of the
/// systems it restores, so a client's token keeps opening its system. The record goes with its system. With
/// persistence off the metadata lives in memory and this only mirrors it.
/// </summary>
public sealed class TokenPersistence(SystemTokens tokens, ISystemMetadata metadata, SystemRegistry registry, ILogger<TokenPersistence> log) : IHostedService
{
    public const string Key = "token";

    /// <summary>Runs after the store restored the systems (its hosted service starts first) and before requests are served.</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var restored = new List<TokenRecord>();
        foreach (var system in registry.List())
            if (metadata.GetMeta(system.Id, Key) is { } bytes)
                restored.Add(JsonSerializer.Deserialize<TokenRecord>(bytes) ?? throw new InvalidDataException($"system '{system.Id}': its token record is null"));
        tokens.Import(restored);
        if (restored.Count > 0) log.LogInformation("Tokens of {Count} restored system(s) taken back", restored.Count);
        tokens.Changed += Save;
        return Task.CompletedTask;
    }

    private void Save(TokenChange change)
    {
        // A removed record goes with its system's stored data.
        if (!change.Removed) metadata.PutMeta(change.Record.SystemId, Key, JsonSerializer.SerializeToUtf8Bytes(change.Record));
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        tokens.Changed -= Save;
        return Task.CompletedTask;
    }
}
