using System.Buffers.Text;
using System.Security.Cryptography;
using Spmc.Core.Systems;

namespace Spmc.Server.Security;

/// <summary>
/// One system's token as stored: never the token, only its SHA-256 (lowercase hex); the client that created the
/// system (<see cref="ClientIdentity"/>), and whether the token carries the debug capability.
/// </summary>
public sealed record TokenRecord(string SystemId, string Sha256Hex, string Client, bool Debug);

/// <summary>What changed: a record issued (or imported), or removed with its system.</summary>
public sealed record TokenChange(TokenRecord Record, bool Removed);

/// <summary>
/// The systems' bearer tokens: 32 random bytes (RandomNumberGenerator) as base64url, issued when a system is created,
/// removed when it is deleted (as a system observer). Only hashes are held, so <see cref="Export"/> is safe to store.
/// </summary>
public sealed class SystemTokens : ISystemObserver
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, TokenRecord> _bySystem = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TokenRecord> _byHash = new(StringComparer.Ordinal);

    /// <summary>Raised after every issue, import or removal (outside the lock), for a store to save the records.</summary>
    public event Action<TokenChange>? Changed;

    /// <summary>A fresh token for <paramref name="systemId"/> (replacing any earlier one); only its hash is kept.</summary>
    public string Issue(string systemId, string client, bool debug)
    {
        var token = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        Put(new TokenRecord(systemId, Convert.ToHexStringLower(AuthSettings.Hash(token)), client, debug));
        return token;
    }

    /// <summary>Whether <paramref name="token"/> is the token of <paramref name="systemId"/> (compared in fixed time).</summary>
    public bool Verify(string systemId, string token)
    {
        TokenRecord? record;
        lock (_gate) _bySystem.TryGetValue(systemId, out record);
        return record is not null && Matches(record, AuthSettings.Hash(token));
    }

    /// <summary>The record of the system whose token hashes to <paramref name="tokenHash"/>, or null.</summary>
    public TokenRecord? Find(byte[] tokenHash)
    {
        TokenRecord? record;
        lock (_gate) _byHash.TryGetValue(Convert.ToHexStringLower(tokenHash), out record);
        return record is not null && Matches(record, tokenHash) ? record : null;
    }

    public TokenRecord? Of(string systemId)
    {
        lock (_gate) return _bySystem.GetValueOrDefault(systemId);
    }

    /// <summary>Forgets the system's token; true when it had one.</summary>
    public bool Remove(string systemId)
    {
        TokenRecord? record;
        lock (_gate)
        {
            if (!_bySystem.Remove(systemId, out record)) return false;
            _byHash.Remove(record.Sha256Hex);
        }
        Changed?.Invoke(new TokenChange(record, Removed: true));
        return true;
    }

    /// <summary>How many systems <paramref name="client"/> created that still exist.</summary>
    public int CountFor(string client)
    {
        lock (_gate) return _bySystem.Values.Count(r => r.Client == client);
    }

    /// <summary>Every record, in system ID order.</summary>
    public IReadOnlyList<TokenRecord> Export()
    {
        lock (_gate) return _bySystem.Values.OrderBy(r => r.SystemId, StringComparer.Ordinal).ToList();
    }

    /// <summary>Takes records back (from a store); each replaces the record of its system. A malformed hash is refused.</summary>
    public void Import(IEnumerable<TokenRecord> records)
    {
        foreach (var r in records)
        {
            if (r.Sha256Hex.Length != 64 || !r.Sha256Hex.All(char.IsAsciiHexDigitLower))
                throw new ArgumentException($"token record of '{r.SystemId}': sha256 must be 64 lowercase hex digits", nameof(records));
            Put(r);
        }
    }

    private void Put(TokenRecord record)
    {
        lock (_gate)
        {
            if (_bySystem.Remove(record.SystemId, out var old)) _byHash.Remove(old.Sha256Hex);
            _bySystem[record.SystemId] = record;
            _byHash[record.Sha256Hex] = record;
        }
        Changed?.Invoke(new TokenChange(record, Removed: false));
    }

    private static bool Matches(TokenRecord record, byte[] hash) =>
        CryptographicOperations.FixedTimeEquals(Convert.FromHexString(record.Sha256Hex), hash);

    void ISystemObserver.OnCall(SimulatedSystem system, Core.Systems.CallRecord record) { }

    void ISystemObserver.OnDeleted(SimulatedSystem system) => Remove(system.Id);
}
