using System.Globalization;

namespace Spmc.Bench;

/// <summary>Command-line settings; every count is bounded and the whole run has a hard time cap.</summary>
public sealed record BenchOptions
{
    public const string Usage = """
        Usage: Spmc.Bench [options]
          --url URL           benchmark a running server's gRPC endpoint (HTTP/2, e.g. http://127.0.0.1:5081)
                              instead of starting one; REST is then measured only with --rest-url
          --rest-url URL      that server's REST endpoint (HTTP/1.1, e.g. http://127.0.0.1:5080)
          --server PATH       Spmc.Server.dll to start (default: src/Spmc.Server/bin/Release/net10.0)
          --calls N           gRPC SmcGateway.Call, sequential unary          (default 20000)
          --pingpong N        gRPC Session, one frame in flight               (default 20000)
          --pipelined N       gRPC Session, up to --window frames in flight   (default 100000)
          --window N          in-flight frames for --pipelined                (default 64)
          --rest N            REST POST /api/v1/systems/default/smc           (default 20000)
          --warmup N          unmeasured iterations before each benchmark     (default 2000)
          --time-limit S      hard cap on the whole run, in seconds           (default 60)
        A count of 0 skips that benchmark. Latencies are in microseconds.
        """;

    public Uri? GrpcUrl { get; init; }
    public Uri? RestUrl { get; init; }
    public string? ServerDll { get; init; }
    public int Calls { get; init; } = 20_000;
    public int PingPong { get; init; } = 20_000;
    public int Pipelined { get; init; } = 100_000;
    public int Window { get; init; } = 64;
    public int Rest { get; init; } = 20_000;
    public int Warmup { get; init; } = 2_000;
    public TimeSpan TimeLimit { get; init; } = TimeSpan.FromSeconds(60);
    public bool Help { get; init; }

    /// <summary>Parses the arguments; throws <see cref="ArgumentException"/> with a one-line reason.</summary>
    public static BenchOptions Parse(IReadOnlyList<string> args)
    {
        var o = new BenchOptions();
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            if (name is "-h" or "--help") return o with { Help = true };
            var value = i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{name}: a value is required");
            o = name switch
            {
                "--url" => o with { GrpcUrl = Url(name, value) },
                "--rest-url" => o with { RestUrl = Url(name, value) },
                "--server" => o with { ServerDll = value },
                "--calls" => o with { Calls = Count(name, value, 0, 10_000_000) },
                "--pingpong" => o with { PingPong = Count(name, value, 0, 10_000_000) },
                "--pipelined" => o with { Pipelined = Count(name, value, 0, 10_000_000) },
                "--window" => o with { Window = Count(name, value, 1, 10_000) },
                "--rest" => o with { Rest = Count(name, value, 0, 10_000_000) },
                "--warmup" => o with { Warmup = Count(name, value, 0, 1_000_000) },
                "--time-limit" => o with { TimeLimit = TimeSpan.FromSeconds(Count(name, value, 1, 3_600)) },
                _ => throw new ArgumentException($"{name}: unknown option"),
            };
        }
        if (o.RestUrl is not null && o.GrpcUrl is null) throw new ArgumentException("--rest-url: only with --url");
        return o;
    }

    private static int Count(string name, string value, int min, int max) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? n
            : throw new ArgumentException($"{name}: '{value}' is not a whole number in {min}..{max}");

    private static Uri Url(string name, string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? uri
            : throw new ArgumentException($"{name}: '{value}' is not an http(s) URL");
}
