using Microsoft.Extensions.Options;
using Spmc.Core;
using Spmc.Core.Systems;
using Spmc.Server.Hosting;

namespace Spmc.Server.Security;

/// <summary>A system just created and the token that opens it (empty in mode none, where none is needed).</summary>
public sealed record CreatedSystem(SimulatedSystem System, string Token);

/// <summary>
/// Every API creation goes through here: the systems-per-client quota (Spmc:Quotas:MaxSystemsPerClient, the
/// operator exempt, and in mode none a caller on this machine), the debug request, then the token.
/// </summary>
public sealed class SystemCreation(SystemTokens tokens, AuthSettings settings, IOptions<SpmcOptions> options)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, int> _pending = new(StringComparer.Ordinal);

    public CreatedSystem Create(HttpContext http, bool debug, Func<SimulatedSystem> create)
    {
        if (debug && !settings.AllowDebugTokens)
            throw new AccessDeniedException("debug: debug tokens are turned off on this service (Spmc:Auth:AllowDebugTokens=false)");
        var client = ClientIdentity.Of(http);
        var max = options.Value.Quotas.MaxSystemsPerClient;
        var exempt = client == ClientIdentity.Operator || max == 0 || (settings.Mode == AuthMode.None && ClientIdentity.IsLocal(http));
        lock (_gate)
        {
            var held = tokens.CountFor(client) + _pending.GetValueOrDefault(client);
            if (!exempt && held >= max)
                throw new QuotaExceededException(
                    $"Spmc:Quotas:MaxSystemsPerClient: client {client} already holds {held} systems, the most one client may hold is {max} (delete one first)");
            _pending[client] = _pending.GetValueOrDefault(client) + 1;
        }
        try
        {
            var system = create();
            var token = tokens.Issue(system.Id, client, debug);
            return new CreatedSystem(system, settings.Mode == AuthMode.Tokens ? token : "");
        }
        finally
        {
            lock (_gate)
            {
                if (--_pending[client] == 0) _pending.Remove(client);
            }
        }
    }
}
