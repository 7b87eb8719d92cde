using System.Diagnostics;
using System.Text;

namespace Spmc.Vmm.Tests;

/// <summary>
/// What scripts/vmm-setup.sh built for this run, passed in the environment (scripts/test.sh exports it):
/// the C client's test program, the patched QEMU and the guest kernels. A test whose artefact is missing fails and
/// says how to build it: it is never skipped. scripts/test.sh leaves this whole project out (and says so) when the
/// set-up is switched off outside CI.
/// </summary>
public static class VmmEnvironment
{
    /// <summary>clients/c's test program (build/test_spmc).</summary>
    public static string CClientTest => Require("SPMC_C_CLIENT_TEST", "clients/c's test program");

    /// <summary>qemu-system-aarch64 with the Spmc forwarder (integrations/qemu).</summary>
    public static string Qemu => Require("SPMC_QEMU", "QEMU with the forwarder");

    /// <summary>The guest build's output directory: one subdirectory per kernel series (integrations/guest).</summary>
    public static string GuestDir => Require("SPMC_GUEST_DIR", "the guest kernels");

    private static string Require(string variable, string what)
    {
        var value = Environment.GetEnvironmentVariable(variable);
        if (!string.IsNullOrEmpty(value) && (File.Exists(value) || Directory.Exists(value))) return value;
        Assert.Fail($"{variable} does not name {what} ('{value}'): run scripts/vmm-setup.sh and export what it prints " +
                    "(scripts/test.sh does both), or leave tests/Spmc.Vmm.Tests out of the run");
        return null!;
    }
}

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
