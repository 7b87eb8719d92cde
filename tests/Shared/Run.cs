using System.Diagnostics;
using System.Text;

namespace Spmc.Tests.Shared;

/// <summary>Runs a program to completion within a time bound, capturing its output.</summary>
public static class Run
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed)
    {
        public override string ToString() => $"exit {ExitCode} after {Elapsed.TotalSeconds:F1} s\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
    }

    public static async Task<Result> ProcessAsync(string file, IEnumerable<string> args, TimeSpan timeout,
        IDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) info.ArgumentList.Add(a);
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) info.Environment[k] = v;
        var watch = Stopwatch.StartNew();
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {file}");
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            // Bounded too: a process stuck in the kernel (D state) must not hang the test run.
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30)).ContinueWith(_ => { });
            return new Result(124, stdout.ToString(), stderr + $"\n(killed after {timeout.TotalSeconds} s)", watch.Elapsed);
        }
        process.WaitForExit(); // drains the redirected streams
        return new Result(process.ExitCode, stdout.ToString(), stderr.ToString(), watch.Elapsed);
    }
}
