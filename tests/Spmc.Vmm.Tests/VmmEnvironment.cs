using System.Diagnostics;
using System.Text;

namespace Spmc.Vmm.Tests;

/// <summary>
/// What scripts/vmm-setup.sh built for this run, passed in the environment (scripts/test.sh exports it):
/// the C client's test program, the patched QEMU and the guest kernels. A test whose artefact is missing is
/// skipped with the reason; under CI the setup failing is itself a failure (scripts/test.sh).
/// </summary>
public static class VmmEnvironment
{
    /// <summary>clients/c's test program (build/test_spmc).</summary>
    public static string? CClientTest => Existing("SPMC_C_CLIENT_TEST");

    /// <summary>qemu-system-aarch64 with the Spmc forwarder (integrations/qemu).</summary>
    public static string? Qemu => Existing("SPMC_QEMU");

    /// <summary>The guest build's output directory: one subdirectory per kernel series (integrations/guest).</summary>
    public static string? GuestDir => Existing("SPMC_GUEST_DIR");

    public const string Setup = "run scripts/vmm-setup.sh and export what it prints (scripts/test.sh does both; " +
                                "under CI=true a failed set-up is a failure, not a skip)";

    private static string? Existing(string variable)
    {
        var value = Environment.GetEnvironmentVariable(variable);
        return !string.IsNullOrEmpty(value) && (File.Exists(value) || Directory.Exists(value)) ? value : null;
    }
}

/// <summary>A test that needs the C client's test program.</summary>
public sealed class CClientFactAttribute : FactAttribute
{
    public CClientFactAttribute()
    {
        if (VmmEnvironment.CClientTest is null) Skip = "SPMC_C_CLIENT_TEST is not set: " + VmmEnvironment.Setup;
    }
}

/// <summary>A theory that needs the C client's test program.</summary>
public sealed class CClientTheoryAttribute : TheoryAttribute
{
    public CClientTheoryAttribute()
    {
        if (VmmEnvironment.CClientTest is null) Skip = "SPMC_C_CLIENT_TEST is not set: " + VmmEnvironment.Setup;
    }
}

/// <summary>A theory that needs the patched QEMU and the guest kernels.</summary>
public sealed class QemuTheoryAttribute : TheoryAttribute
{
    public QemuTheoryAttribute()
    {
        if (VmmEnvironment.Qemu is null || VmmEnvironment.GuestDir is null)
            Skip = "SPMC_QEMU or SPMC_GUEST_DIR is not set: " + VmmEnvironment.Setup;
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
