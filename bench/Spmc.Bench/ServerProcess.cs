using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Spmc.Bench;

/// <summary>Spmc.Server run as a child process on free loopback ports; disposing kills its process tree.</summary>
public sealed class ServerProcess : IDisposable
{
    private const int KeptLines = 40;
    private readonly Process process;
    private readonly ConcurrentQueue<string> output = new();
    private int disposed;

    private ServerProcess(Process process, Uri grpcUrl, Uri restUrl)
    {
        this.process = process;
        GrpcUrl = grpcUrl;
        RestUrl = restUrl;
    }

    public Uri GrpcUrl { get; }
    public Uri RestUrl { get; }
    public int Id => process.Id;

    /// <summary>Starts <c>dotnet SERVER.dll</c> in its own directory (where manifests/ lives).</summary>
    public static ServerProcess Start(string serverDll)
    {
        var (grpcPort, restPort) = (FreePort(), FreePort());
        var grpcUrl = new Uri($"http://127.0.0.1:{grpcPort}");
        var restUrl = new Uri($"http://127.0.0.1:{restPort}");
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(serverDll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(serverDll);
        info.Environment["Kestrel__Endpoints__Grpc__Url"] = grpcUrl.ToString().TrimEnd('/');
        info.Environment["Kestrel__Endpoints__Rest__Url"] = restUrl.ToString().TrimEnd('/');
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        info.Environment.Remove("ASPNETCORE_URLS");

        var process = Process.Start(info) ?? throw new InvalidOperationException("the server process did not start");
        var server = new ServerProcess(process, grpcUrl, restUrl);
        process.OutputDataReceived += (_, e) => server.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => server.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return server;
    }

    /// <summary>
    /// Polls GET /healthz on <paramref name="restUrl"/> until it answers 200; throws if <paramref name="child"/> exits
    /// first or the token fires.
    /// </summary>
    public static async Task WaitHealthyAsync(Uri restUrl, ServerProcess? child, CancellationToken ct)
    {
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(2) };
        var healthz = new Uri(restUrl, "/healthz");
        while (true)
        {
            if (child is { process.HasExited: true })
                throw new InvalidOperationException($"the server exited with code {child.process.ExitCode} before it was healthy");
            try
            {
                using var response = await http.GetAsync(healthz, ct);
                if (response.StatusCode == HttpStatusCode.OK) return;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) when (!ct.IsCancellationRequested) { }
            await Task.Delay(100, ct);
        }
    }

    public string RecentOutput => string.Join('\n', output);

    /// <summary>Kills the server and everything it started; safe to call more than once.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0) return;
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(5_000);
            }
        }
        catch (InvalidOperationException) { } // already gone
        process.Dispose();
    }

    private void Keep(string? line)
    {
        if (line is null) return;
        output.Enqueue(line);
        while (output.Count > KeptLines) output.TryDequeue(out _);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The Release (else Debug) build output of src/Spmc.Server, found from this program's or the current directory.</summary>
    public static string FindServerDll()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (!File.Exists(Path.Combine(dir.FullName, "Spmc.sln"))) continue;
                foreach (var configuration in new[] { "Release", "Debug" })
                {
                    var dll = Path.Combine(dir.FullName, "src", "Spmc.Server", "bin", configuration, "net10.0", "Spmc.Server.dll");
                    if (File.Exists(dll)) return dll;
                }
            }
        }
        throw new FileNotFoundException("Spmc.Server.dll not found: run 'dotnet build -c Release' first, or pass --server PATH or --url URL");
    }
}
