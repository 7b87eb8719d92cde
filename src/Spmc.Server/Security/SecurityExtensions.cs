using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Spmc.Core.Systems;

namespace Spmc.Server.Security;

/// <summary>Standard ASP.NET Core authentication (the "SpmcToken" scheme) and authorization (system policies).</summary>
public static class SecurityExtensions
{
    public static WebApplicationBuilder AddSpmcSecurity(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton(sp => AuthSettings.From(sp.GetRequiredService<IConfiguration>()));
        services.AddSingleton<SystemTokens>();
        services.AddSingleton<ISystemObserver>(sp => sp.GetRequiredService<SystemTokens>());
        services.AddSingleton<SystemCreation>();
        services.AddSingleton<SystemAccess>();
        services.AddHostedService<AuthStartupLog>();
        services.AddHostedService<TokenPersistence>();
        // AddAuthentication would also register Data Protection, whose key ring this scheme never uses (and which warns
        // on a read-only container): the core services and the scheme are all a bearer scheme needs.
        services.AddAuthenticationCore(o => o.DefaultScheme = SpmcClaims.Scheme);
        services.AddWebEncoders();
        services.TryAddSingleton(TimeProvider.System);
        new AuthenticationBuilder(services).AddScheme<AuthenticationSchemeOptions, TokenAuthenticationHandler>(SpmcClaims.Scheme, null);
        services.AddSingleton<IAuthorizationHandler, SystemRequirementHandler>();
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, ProblemAuthorizationResultHandler>();
        services.AddAuthorizationBuilder()
            .AddPolicy(SystemAccess.Policy, p => p.AddRequirements(new SystemRequirement(SystemCapability.Access)))
            .AddPolicy(SystemAccess.DebugPolicy, p => p.AddRequirements(new SystemRequirement(SystemCapability.Debug)));
        return builder;
    }

    public static WebApplication UseSpmcSecurity(this WebApplication app)
    {
        app.UseAuthentication();
        app.UseAuthorization();
        return app;
    }

    /// <summary>
    /// Guards every endpoint of <paramref name="builder"/> whose route has an {id} (a system) with the system policy:
    /// a route added later under the group is guarded without more code.
    /// </summary>
    public static TBuilder RequireSystemAccess<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        builder.Add(endpoint =>
        {
            if (endpoint is RouteEndpointBuilder { RoutePattern: var pattern } && pattern.GetParameter("id") is not null)
                endpoint.Metadata.Add(new AuthorizeAttribute(SystemAccess.Policy));
        });
        return builder;
    }
}

/// <summary>Logs the access mode once at start (a warning for an open service bound beyond loopback, or tokens without an operator).</summary>
public sealed class AuthStartupLog(AuthSettings settings, ILogger<AuthStartupLog> log) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (settings.Mode == AuthMode.None && settings.NonLoopback.Count > 0)
            log.LogWarning("{Mode}: {Urls} is not loopback, so anyone who reaches it may use, read and delete every system", settings.Describe(),
                string.Join(", ", settings.NonLoopback));
        else log.LogInformation("{Mode}", settings.Describe());
        if (settings.Mode == AuthMode.Tokens && !settings.HasOperator)
            log.LogWarning("access control: no operator token (Spmc:Auth:OperatorToken): start-up systems such as 'default' are reachable by nobody");
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>A refused request gets a problem document: 403 with what is missing (the policy's reasons); 401 from the scheme's challenge.</summary>
public sealed class ProblemAuthorizationResultHandler(IProblemDetailsService problems) : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (authorizeResult.Forbidden)
        {
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            var reasons = authorizeResult.AuthorizationFailure?.FailureReasons.Select(r => r.Message).ToList() ?? [];
            await problems.TryWriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails = { Status = 403, Title = "Forbidden", Detail = reasons.Count > 0 ? string.Join("; ", reasons) : "the token does not open this system" },
            });
            return;
        }
        await _default.HandleAsync(next, context, policy, authorizeResult);
    }
}
