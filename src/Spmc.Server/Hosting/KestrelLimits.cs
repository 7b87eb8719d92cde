using System.Globalization;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Spmc.Server.Hosting;

/// <summary>
/// Connection limits for both endpoints, from <c>Kestrel:Limits</c> (docs/configuration.md#limits). The defaults
/// close idle, silent and trickling connections: an HTTP/2 connection with no open stream goes after
/// <c>KeepAliveTimeout</c>, one whose peer stops answering pings after <c>KeepAlivePingDelay</c> +
/// <c>KeepAlivePingTimeout</c>, headers must arrive within <c>RequestHeadersTimeout</c>, and bodies flow at least at
/// the minimum data rates. gRPC client-streaming and duplex calls (Session, Attach, RestoreStream) are exempt from the
/// request-body rate (Grpc.AspNetCore turns it off per call), so a quiet attached partition stays attached.
/// </summary>
public static class KestrelLimits
{
    public const string Section = "Kestrel:Limits";

    public static readonly TimeSpan KeepAliveTimeout = TimeSpan.FromSeconds(120);
    public static readonly TimeSpan RequestHeadersTimeout = TimeSpan.FromSeconds(15);
    public const long MaxConcurrentConnections = 1000;
    public const double MinDataRateBytesPerSecond = 240;
    public static readonly TimeSpan MinDataRateGracePeriod = TimeSpan.FromSeconds(5);
    public const int MaxStreamsPerConnection = 100;
    public static readonly TimeSpan KeepAlivePingDelay = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan KeepAlivePingTimeout = TimeSpan.FromSeconds(20);

    public static WebApplicationBuilder AddSpmcKestrelLimits(this WebApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection(Section);
        builder.WebHost.ConfigureKestrel(o => Apply(o.Limits, section));
        return builder;
    }

    /// <summary>Sets every limit from <paramref name="section"/> or its default; a bad value stops start-up naming its key.</summary>
    public static void Apply(KestrelServerLimits limits, IConfiguration section)
    {
        Set(section, "KeepAliveTimeout", v => limits.KeepAliveTimeout = Time(v), KeepAliveTimeout);
        Set(section, "RequestHeadersTimeout", v => limits.RequestHeadersTimeout = Time(v), RequestHeadersTimeout);
        Set(section, "MaxConcurrentConnections", v => limits.MaxConcurrentConnections = Count(v), MaxConcurrentConnections);
        limits.MinRequestBodyDataRate = Rate(section, "MinRequestBodyDataRate");
        limits.MinResponseDataRate = Rate(section, "MinResponseDataRate");
        Set(section, "Http2:MaxStreamsPerConnection", v => limits.Http2.MaxStreamsPerConnection = int.Parse(v, CultureInfo.InvariantCulture), MaxStreamsPerConnection);
        Set(section, "Http2:KeepAlivePingDelay", v => limits.Http2.KeepAlivePingDelay = Time(v), KeepAlivePingDelay);
        Set(section, "Http2:KeepAlivePingTimeout", v => limits.Http2.KeepAlivePingTimeout = Time(v), KeepAlivePingTimeout);
    }

    /// <summary>"BytesPerSecond" 0 turns the rate off; otherwise the body must average that after "GracePeriod".</summary>
    private static MinDataRate? Rate(IConfiguration section, string key)
    {
        double bytes = MinDataRateBytesPerSecond;
        var grace = MinDataRateGracePeriod;
        Set(section, $"{key}:BytesPerSecond", v => bytes = double.Parse(v, NumberStyles.Float, CultureInfo.InvariantCulture), MinDataRateBytesPerSecond);
        Set(section, $"{key}:GracePeriod", v => grace = Time(v), grace);
        if (bytes == 0) return null;
        try { return new MinDataRate(bytes, grace); }
        catch (ArgumentException e) { throw Bad($"{key}:BytesPerSecond/GracePeriod", $"{bytes}/{grace}", e); }
    }

    private static void Set<T>(IConfiguration section, string key, Action<string> apply, T fallback)
    {
        var value = section[key] ?? Convert.ToString(fallback, CultureInfo.InvariantCulture)!;
        try { apply(value); }
        catch (Exception e) when (e is FormatException or OverflowException or ArgumentException) { throw Bad(key, value, e); }
    }

    private static InvalidOperationException Bad(string key, string value, Exception e) =>
        new($"{Section}:{key}: '{value}' is not allowed ({e.Message})", e);

    private static TimeSpan Time(string value) => TimeSpan.Parse(value, CultureInfo.InvariantCulture);

    /// <summary>A count; empty means no limit.</summary>
    private static long? Count(string value) => value.Length == 0 ? null : long.Parse(value, CultureInfo.InvariantCulture);
}
