using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Spmc.Server.Hosting;

/// <summary>Request rate per client (section "Spmc:RateLimit", docs/configuration.md#limits). 0 permits per second: no limit.</summary>
public sealed class RateLimitOptions
{
    /// <summary>Requests one client may sustain per second (a gRPC stream counts once, when it opens).</summary>
    public int PermitsPerSecond { get; set; } = 10_000;

    /// <summary>Requests one client may make at once above the sustained rate (the token bucket's size).</summary>
    public int Burst { get; set; } = 20_000;

    /// <summary>
    /// Uploads (creating or restoring a system, a replay) the service parses at once, across all clients: each may hold a
    /// whole document in memory. 0: no bound.
    /// </summary>
    public int MaxConcurrentUploads { get; set; } = 2;

    /// <summary>Uploads that wait for one of those places (in order) before more are refused.</summary>
    public int UploadQueue { get; set; } = 256;
}

/// <summary>Which client a request counts against.</summary>
public static class RateLimitPartition
{
    /// <summary>
    /// The client of <paramref name="context"/>, as for systems per client (<see cref="Security.ClientIdentity.Of"/>): the
    /// operator, a configured client token, else the remote address. The limiter runs after authentication.
    /// </summary>
    public static string Key(HttpContext context) => Security.ClientIdentity.Of(context);
}

/// <summary>
/// Per-client request rate limiting with the ASP.NET Core rate limiter: a token bucket per <see cref="RateLimitPartition.Key"/>,
/// no queue. A refused REST request gets 429 with Retry-After; a refused gRPC call gets status RESOURCE_EXHAUSTED (in a
/// trailers-only response: a bare 429 would reach gRPC clients as UNAVAILABLE, which they retry). Health checks are never limited.
/// </summary>
public static class RateLimiting
{
    /// <summary>Adds the limiter (from <c>Spmc:RateLimit</c>).</summary>
    public static WebApplicationBuilder AddSpmcRateLimiting(this WebApplicationBuilder builder)
    {
        builder.Services.AddRateLimiter(_ => { });
        builder.Services.AddOptions<RateLimiterOptions>().Configure<IOptions<SpmcOptions>>((o, spmc) => Configure(o, spmc.Value.RateLimit));
        return builder;
    }

    /// <summary>
    /// Puts the limiter in the pipeline: after routing (implicit in a WebApplication), so the per-endpoint
    /// <see cref="Uploads"/> policy sees which route or RPC a request is for.
    /// </summary>
    public static WebApplication UseSpmcRateLimiting(this WebApplication app)
    {
        app.UseRateLimiter();
        return app;
    }

    /// <summary>The policy on every route and RPC that takes a whole document (<see cref="RateLimitOptions.MaxConcurrentUploads"/>).</summary>
    public const string Uploads = "uploads";

    private static void Configure(RateLimiterOptions o, RateLimitOptions limit)
    {
        o.AddPolicy(Uploads, new UploadsPolicy(limit));
        o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
        if (limit.PermitsPerSecond == 0) return;
        // Replenished in small steps (at least 1 token every 1/20 s at high rates) so the rate is smooth, not a burst per second.
        var tokens = Math.Max(1, limit.PermitsPerSecond / 20);
        var bucket = new TokenBucketRateLimiterOptions
        {
            TokenLimit = limit.Burst,
            TokensPerPeriod = tokens,
            ReplenishmentPeriod = TimeSpan.FromSeconds((double)tokens / limit.PermitsPerSecond),
            QueueLimit = 0,
            AutoReplenishment = true,
        };
        Func<string, TokenBucketRateLimiterOptions> options = _ => bucket;
        o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context => IsHealth(context.Request.Path)
            ? System.Threading.RateLimiting.RateLimitPartition.GetNoLimiter("")
            : System.Threading.RateLimiting.RateLimitPartition.GetTokenBucketLimiter(RateLimitPartition.Key(context), options));
        o.OnRejected = (rejected, _) => Reject(rejected.HttpContext, rejected.Lease,
            $"rate limit Spmc:RateLimit ({limit.PermitsPerSecond} requests/s, burst {limit.Burst}) reached for client {RateLimitPartition.Key(rejected.HttpContext)}");
    }

    /// <summary>One limiter shared by every upload: <see cref="RateLimitOptions.MaxConcurrentUploads"/> at once, the rest queued.</summary>
    private sealed class UploadsPolicy(RateLimitOptions limit) : IRateLimiterPolicy<string>
    {
        private readonly ConcurrencyLimiterOptions _options = new()
        {
            PermitLimit = Math.Max(1, limit.MaxConcurrentUploads),
            QueueLimit = limit.UploadQueue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        };

        public Func<OnRejectedContext, CancellationToken, ValueTask>? OnRejected => (rejected, _) => Reject(rejected.HttpContext, rejected.Lease,
            $"upload limit Spmc:RateLimit:MaxConcurrentUploads ({limit.MaxConcurrentUploads} at once, {limit.UploadQueue} waiting) reached: the service is parsing other systems' documents");

        public RateLimitPartition<string> GetPartition(HttpContext httpContext) => limit.MaxConcurrentUploads == 0
            ? System.Threading.RateLimiting.RateLimitPartition.GetNoLimiter("")
            : System.Threading.RateLimiting.RateLimitPartition.GetConcurrencyLimiter("", _ => _options);
    }

    private static bool IsHealth(PathString path) =>
        path.StartsWithSegments("/healthz") || path.StartsWithSegments("/grpc.health.v1.Health");

    private static ValueTask Reject(HttpContext context, RateLimitLease lease, string what)
    {
        var retry = lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromSeconds(1);
        var seconds = Math.Max(1, (int)Math.Ceiling(retry.TotalSeconds));
        var message = $"{what}; retry after {seconds} s";
        var response = context.Response;
        response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        if (context.Request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) == true)
        {
            // gRPC over HTTP/2: status 200 and a trailers-only response carrying grpc-status (PROTOCOL-HTTP2.md).
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "application/grpc";
            response.Headers["grpc-status"] = "8"; // RESOURCE_EXHAUSTED
            response.Headers["grpc-message"] = Uri.EscapeDataString(message);
            return ValueTask.CompletedTask;
        }
        response.StatusCode = StatusCodes.Status429TooManyRequests;
        return new ValueTask(Results.Problem(statusCode: 429, title: "Too Many Requests", detail: message).ExecuteAsync(context));
    }
}
