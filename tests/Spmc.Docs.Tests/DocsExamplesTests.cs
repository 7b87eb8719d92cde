using System.Diagnostics;
using System.Text;

namespace Spmc.Docs.Tests;

/// <summary>
/// Every ```console block of README.md and docs/*.md, run by bash against a freshly started service: each `$ `
/// command must print (stdout and stderr) exactly the lines the block shows after it, a shown line `...` standing
/// for any lines. The rules are in docs/testing.md.
/// </summary>
public sealed class DocsExamplesTests(DocsServer server) : IClassFixture<DocsServer>
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(30);
    private static readonly string Root = Repo.Root;
    private const char Marker = '\u001e';

    /// <summary>Every example, by file and the line of its fence (the case's name).</summary>
    public static TheoryData<string, int, string> Examples()
    {
        var data = new TheoryData<string, int, string>();
        foreach (var example in All()) data.Add(example.File, example.Line, example.Commands[0].Command.Split('\n')[0]);
        return data;
    }

    private static IEnumerable<DocExample> All() =>
        new[] { "README.md" }
            .Concat(Directory.GetFiles(Path.Combine(Root, "docs"), "*.md").Order(StringComparer.Ordinal)
                .Select(f => Path.GetRelativePath(Root, f)))
            .SelectMany(file => DocExample.Parse(file, File.ReadAllLines(Path.Combine(Root, file))));

    [Fact]
    public void TheDocsHaveEnoughExamples()
    {
        // A parser that finds nothing must not pass as "every example runs".
        var perFile = All().GroupBy(e => e.File).ToDictionary(g => g.Key, g => g.Count());
        Assert.True(perFile.Values.Sum() >= 66, string.Join(", ", perFile.Select(p => $"{p.Key} {p.Value}")));
        foreach (var (file, minimum) in new[] { ("README.md", 4), ("docs/cli.md", 26), ("docs/api.md", 12), ("docs/faults.md", 4), ("docs/snapshots.md", 1) })
            Assert.True(perFile.GetValueOrDefault(file) >= minimum, $"{file} has {perFile.GetValueOrDefault(file)} examples, expected at least {minimum}");
    }

    [Fact]
    public void ShellBlocksAreConsoleOrSh()
    {
        // A ```bash block looks like an example but is not run: runnable ones are ```console, the rest ```sh.
        var files = new[] { "README.md" }.Concat(Directory.GetFiles(Path.Combine(Root, "docs"), "*.md").Select(f => Path.GetRelativePath(Root, f)));
        var fenced = files.SelectMany(f => File.ReadAllLines(Path.Combine(Root, f)).Select((line, i) => (f, i, line.Trim())))
            .Where(l => l.Item3 is "```bash" or "```shell" or "```shell-session")
            .Select(l => $"{l.f}:{l.i + 1}");
        Assert.Empty(fenced);
    }

    [Theory]
    [MemberData(nameof(Examples))]
    public async Task ExamplePrintsWhatTheDocShows(string file, int line, string firstCommand)
    {
        var example = All().Single(e => e.File == file && e.Line == line);
        Assert.StartsWith(firstCommand, example.Commands[0].Command, StringComparison.Ordinal);
        await server.FreshAsync();
        var (printed, timedOut) = await RunAsync(example);
        var report = new StringBuilder();
        var failed = timedOut;
        for (var i = 0; i < example.Commands.Count; i++)
        {
            var command = example.Commands[i];
            var got = i < printed.Count ? printed[i] : null;
            var ok = got is not null && DocExample.Matches(command.Shown, got);
            report.Append($"$ {command.Command}\n--- shown:\n{Lines(command.Shown)}--- printed:\n")
                .Append(got is null ? "(did not finish)\n" : Lines(got));
            if (!ok)
            {
                failed = true;
                break;
            }
        }
        Assert.False(failed, $"{example.File}:{example.Line}{(timedOut ? $" timed out ({CommandTimeout.TotalSeconds:0} s a command)" : "")}\n{report}");
    }

    [Fact]
    public void DotsStandForAnyLinesAndNothingElse()
    {
        Assert.True(DocExample.Matches(["{", "...", "}"], ["{", "}"]));
        Assert.True(DocExample.Matches(["{", "...", "}"], ["{", "a", "b", "}"]));
        Assert.True(DocExample.Matches(["...", "x"], ["a", "x", "x"]));
        Assert.False(DocExample.Matches(["{", "...", "}"], ["{", "a"]));
        Assert.False(DocExample.Matches(["a .."], ["a b"]));
        Assert.False(DocExample.Matches(["a"], ["a", ""]));
    }

    [Fact]
    public void ABlockIsCommandsEachFollowedByItsOutput()
    {
        var examples = DocExample.Parse("x.md", [
            "text", "```console", "$ echo a \\", "  b", "a b", "$ true", "```", "```sh", "$ not run", "```",
        ]).ToList();
        var example = Assert.Single(examples);
        Assert.Equal(2, example.Line);
        Assert.Equal(["echo a \\\n  b", "true"], example.Commands.Select(c => c.Command));
        Assert.Equal(["a b"], example.Commands[0].Shown);
        Assert.Empty(example.Commands[1].Shown);
        Assert.Throws<FormatException>(() => DocExample.Parse("x.md", ["```console", "output", "```"]).ToList());
        var inList = Assert.Single(DocExample.Parse("x.md", ["- item:", "", "  ```console", "  $ echo x", "  x", "  ```"]));
        Assert.Equal(["x"], inList.Commands[0].Shown);
    }

    /// <summary>
    /// Runs the block's commands in one bash (cwd the repository, `spmc` the built CLI with SPMC_URL this server,
    /// the documented ports rewritten to this server's); what each printed, as lines, and whether time ran out.
    /// </summary>
    private async Task<(List<List<string>> Printed, bool TimedOut)> RunAsync(DocExample example)
    {
        var work = Directory.CreateTempSubdirectory("spmc-docs-");
        var tmp = work.CreateSubdirectory("tmp").FullName;              // the block's /tmp: runs in parallel do not meet
        try
        {
            var spmc = Path.Combine(work.CreateSubdirectory("bin").FullName, "spmc");
            File.WriteAllText(spmc, $"#!/bin/sh\nexec dotnet '{Path.Combine(AppContext.BaseDirectory, "Spmc.Cli.dll")}' \"$@\"\n");
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(spmc, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var script = new StringBuilder("exec 2>&1 </dev/null\n");
            foreach (var command in example.Commands) script.Append(ToTestServer(command.Command, tmp)).Append($"\nprintf '\\036'\n");
            var start = new ProcessStartInfo("bash", ["--noprofile", "--norc", "-c", script.ToString()])
            {
                WorkingDirectory = Root,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            start.Environment["PATH"] = Path.GetDirectoryName(spmc) + ":" + Environment.GetEnvironmentVariable("PATH");
            start.Environment["SPMC_URL"] = server.GrpcUrl;
            start.Environment["DOTNET_NOLOGO"] = "1";
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(CommandTimeout * example.Commands.Count);
            var timedOut = false;
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                timedOut = true;
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
            var text = FromTestServer(await stdout + await stderr, tmp);
            var parts = text.Split(Marker);
            var printed = parts.Take(parts.Length - 1).Select(SplitLines).ToList();
            return (printed, timedOut);
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    private string ToTestServer(string command, string tmp) => command
        .Replace("scripts/spmc ", "spmc ", StringComparison.Ordinal)
        .Replace("/tmp/", tmp + "/", StringComparison.Ordinal)
        .Replace("127.0.0.1:5080", $"127.0.0.1:{server.RestPort}", StringComparison.Ordinal)
        .Replace("127.0.0.1:5081", $"127.0.0.1:{server.GrpcPort}", StringComparison.Ordinal);

    private string FromTestServer(string printed, string tmp) => printed
        .Replace(tmp + "/", "/tmp/", StringComparison.Ordinal)
        .Replace($"127.0.0.1:{server.RestPort}", "127.0.0.1:5080", StringComparison.Ordinal)
        .Replace($"127.0.0.1:{server.GrpcPort}", "127.0.0.1:5081", StringComparison.Ordinal);

    /// <summary>A command's output as lines; a last line without its newline counts as a line.</summary>
    private static List<string> SplitLines(string output)
    {
        if (output.Length == 0) return [];
        if (output.EndsWith('\n')) output = output[..^1];
        return [.. output.Split('\n')];
    }

    private static string Lines(IEnumerable<string> lines) => string.Concat(lines.Select(l => l + "\n"));
}
