using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Spmc.Client;

namespace Spmc.Persistence.Tests;

/// <summary>
/// The built Spmc.Server run as a child process (dotnet Spmc.Server.dll) on loopback ports of its own, with
/// persistence configured: what a real crash (SIGKILL) and a real restart look like. Every wait is bounded; disposing
/// kills the process if it still runs.
/// </summary>
public sealed partial class ServerProcess : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private ServerProcess(string storePath, string mode, IReadOnlyDictionary<string, string>? environment)
    {
        var (rest, grpc) = (FreePort(), FreePort());
        GrpcUrl = $"http://127.0.0.1:{grpc}";
        var dll = ServerDll();
        var start = new ProcessStartInfo("dotnet", [dll])
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["Kestrel__Endpoints__Rest__Url"] = $"http://127.0.0.1:{rest}";
        start.Environment["Kestrel__Endpoints__Grpc__Url"] = GrpcUrl;
        start.Environment["Spmc__Persistence__Mode"] = mode;
        start.Environment["Spmc__Persistence__Path"] = storePath;
        start.Environment["Spmc__Persistence__BatchWindowMs"] = "20";
        start.Environment["Spmc__Persistence__CheckpointEvery"] = "16";   // several checkpoints during the test
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) start.Environment[key] = value;
        _process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) _output.Enqueue(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) _output.Enqueue(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string GrpcUrl { get; }

    /// <summary>What the server printed (logs), for failure messages.</summary>
    public string Output => string.Join('\n', _output.TakeLast(60));

    /// <summary>Starts the server and waits (bounded) until its gRPC port lists systems.</summary>
    public static async Task<ServerProcess> StartAsync(string storePath, string mode, IReadOnlyDictionary<string, string>? environment = null)
    {
        var server = new ServerProcess(storePath, mode, environment);
        var deadline = Stopwatch.StartNew();
        using var client = new SpmcClient(server.GrpcUrl, environment?.GetValueOrDefault("Spmc__Auth__OperatorToken"));
        while (true)
        {
            if (server._process.HasExited)
            {
                server._process.WaitForExit(5000);
                throw new InvalidOperationException($"the server exited with {server._process.ExitCode} while starting:\n{server.Output}");
            }
            try
            {
                using var attempt = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await client.ListSystemsAsync(attempt.Token);
                return server;
            }
            catch (Exception) when (deadline.Elapsed < StartTimeout)
            {
                await Task.Delay(200);
            }
            catch (Exception e)
            {
                server.Dispose();
                throw new TimeoutException($"the server did not answer within {StartTimeout}:\n{server.Output}", e);
            }
        }
    }

    /// <summary>kill -9: no flush, no shutdown hook.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        if (!_process.WaitForExit(30_000)) throw new TimeoutException("the killed server did not exit within 30 s");
    }

    /// <summary>SIGTERM, the clean stop a container runtime sends; waits (bounded) for the exit.</summary>
    public void Stop()
    {
        if (SysKill(_process.Id, 15) != 0) throw new InvalidOperationException($"kill -TERM {_process.Id} failed");
        if (!_process.WaitForExit(30_000)) throw new TimeoutException($"the server did not stop within 30 s:\n{Output}");
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited) Kill();
        }
        finally
        {
            _process.Dispose();
        }
    }

    [LibraryImport("libc", EntryPoint = "kill")]
    private static partial int SysKill(int pid, int signal);

    private static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }

    /// <summary>src/Spmc.Server's build output of this test's configuration (the project reference builds it first).</summary>
    private static string ServerDll()
    {
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;   // bin/{configuration}/net10.0/
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Spmc.sln")))
            {
                var dll = Path.Combine(dir.FullName, "src", "Spmc.Server", "bin", configuration, "net10.0", "Spmc.Server.dll");
                return File.Exists(dll) ? dll : throw new FileNotFoundException($"build src/Spmc.Server ({configuration}) first", dll);
            }
        throw new InvalidOperationException($"no Spmc.sln above {AppContext.BaseDirectory}");
    }
}
