using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Spmc.Container.Tests;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ReadmeCollection
{
    public const string Name = "README container section";
}

/// <summary>
/// README.md's "Run it in a container" section, run as written: every command of its ```sh blocks, in order, each
/// with bash in a fresh `git clone` of this repository's HEAD (committed state only: uncommitted changes are not
/// seen), bounded in time; a command with a trailing <c># prints: X</c> comment must print X.
/// </summary>
/// <remarks>
/// Names. The README uses the names a user would (image and container <c>spmc</c>, host ports 5080/5081,
/// compose's default project); run verbatim they would collide with a user's own container or a service on those
/// ports. So the test makes exactly these substitutions, each of which must occur (else the README changed shape
/// and the test says so): the bare word <c>spmc</c> becomes a name unique to the run, <c>127.0.0.1:5080</c> and
/// <c>127.0.0.1:5081</c> take free ports; compose gets the same through the variables docker-compose.yml reads
/// (COMPOSE_PROJECT_NAME, SPMC_IMAGE, SPMC_SMOKE_IMAGE, SPMC_REST_PORT, SPMC_GRPC_PORT). Everything else runs as
/// printed. The container, images and compose project are removed at the end whatever happened
/// (scripts/docker-setup.sh also removes <c>spmc-readme-*</c> leftovers of a killed run after an hour).
/// Runs in its own collection, not in parallel with the fixture's image build.
/// </remarks>
[Collection(ReadmeCollection.Name)]
public sealed partial class ReadmeContainerSectionTests(ITestOutputHelper output)
{
    public const string Heading = "## Run it in a container";
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan SectionTimeout = TimeSpan.FromMinutes(25);

    public sealed record Command(string Text, string? Prints);

    /// <summary>The commands of the section's ```sh blocks, continuation lines joined, comment-only lines left out.</summary>
    public static IReadOnlyList<Command> SectionCommands(string readme)
    {
        var start = readme.IndexOf("\n" + Heading + "\n", StringComparison.Ordinal);
        if (start < 0) throw new InvalidOperationException($"README.md has no '{Heading}' section");
        var end = readme.IndexOf("\n## ", start + Heading.Length + 1, StringComparison.Ordinal);
        var section = readme[start..(end < 0 ? readme.Length : end)];
        var commands = new List<Command>();
        foreach (Match block in ShBlock().Matches(section))
        {
            var pending = "";
            foreach (var raw in block.Groups[1].Value.Split('\n'))
            {
                var line = pending + raw.TrimEnd();
                if (line.EndsWith('\\')) { pending = line + "\n"; continue; }
                pending = "";
                if (line.Trim().Length == 0 || line.TrimStart().StartsWith('#')) continue;
                var prints = PrintsComment().Match(line);
                commands.Add(new Command(line, prints.Success ? prints.Groups[1].Value.Trim() : null));
            }
        }
        return commands;
    }

    [Fact]
    public void Section_has_sh_commands_with_an_answer()
    {
        var commands = SectionCommands(File.ReadAllText(Path.Combine(SpmcContainerFixture.RepoRoot, "README.md")));
        Assert.Contains(commands, c => c.Text.StartsWith("docker run ", StringComparison.Ordinal));
        Assert.Contains(commands, c => c.Prints == "Healthy");
        Assert.Contains(commands, c => c.Text.Contains("scripts/compose up", StringComparison.Ordinal));
        Assert.StartsWith("docker rm -f ", commands.Last(c => c.Text.StartsWith("docker ", StringComparison.Ordinal)).Text);
    }

    [Fact]
    public async Task Section_runs_as_written_in_a_fresh_clone()
    {
        await ContainerTestEnvironment.RequireDockerAsync();
        using var budget = new CancellationTokenSource(SectionTimeout);
        var id = Guid.NewGuid().ToString("N")[..10];
        var name = $"spmc-readme-{id}";
        var restPort = ComposeTests.FreePort();
        var grpcPort = ComposeTests.FreePort();
        var clone = Path.Combine(Path.GetTempPath(), name);
        var env = new Dictionary<string, string>
        {
            ["COMPOSE_PROJECT_NAME"] = name,
            ["SPMC_IMAGE"] = $"{name}:compose",
            ["SPMC_SMOKE_IMAGE"] = $"{name}-smoke:compose",
            ["SPMC_REST_PORT"] = restPort.ToString(),
            ["SPMC_GRPC_PORT"] = grpcPort.ToString(),
        };
        try
        {
            var (code, text) = await SpmcContainerFixture.RunAsync("git", ["clone", "--quiet", "--no-hardlinks", SpmcContainerFixture.RepoRoot, clone],
                TimeSpan.FromMinutes(2), ct: budget.Token);
            Assert.True(code == 0, $"git clone of {SpmcContainerFixture.RepoRoot} failed ({code}): {text}");

            // The README of the clone: what a user of this commit reads.
            var commands = SectionCommands(await File.ReadAllTextAsync(Path.Combine(clone, "README.md")));
            Assert.NotEmpty(commands);
            var rewritten = Rewrite(commands, name, restPort, grpcPort);
            foreach (var (command, script) in rewritten)
            {
                output.WriteLine($"$ {script}");
                (code, text) = await SpmcContainerFixture.RunAsync("bash", ["-c", "set -euo pipefail\n" + script], CommandTimeout,
                    e => { foreach (var (k, v) in env) e[k] = v; }, budget.Token, workingDirectory: clone);
                output.WriteLine(text.Length > 4000 ? "..." + text[^4000..] : text);
                Assert.True(code == 0, $"README command failed with exit code {code}: {command.Text}\n{Tail(text)}");
                if (command.Prints is { } expected)
                    Assert.True(text.Contains(expected, StringComparison.Ordinal),
                        $"README command should print '{expected}': {command.Text}\n{Tail(text)}");
            }
        }
        finally
        {
            await Cleanup(clone, name, env);
        }
    }

    /// <summary>The substitutions the remarks above list; each must occur at least once in the section.</summary>
    private static List<(Command, string)> Rewrite(IReadOnlyList<Command> commands, string name, int restPort, int grpcPort)
    {
        (Regex Pattern, string Replacement, string What)[] rules =
        [
            (BareSpmc(), name, "the image/container name 'spmc'"),
            (new Regex(@"127\.0\.0\.1:5080(?!\d)"), $"127.0.0.1:{restPort}", "the REST port 127.0.0.1:5080"),
            (new Regex(@"127\.0\.0\.1:5081(?!\d)"), $"127.0.0.1:{grpcPort}", "the gRPC port 127.0.0.1:5081"),
        ];
        var used = new bool[rules.Length];
        var result = new List<(Command, string)>();
        foreach (var command in commands)
        {
            var script = command.Text;
            for (var i = 0; i < rules.Length; i++)
            {
                if (rules[i].Pattern.IsMatch(script)) used[i] = true;
                script = rules[i].Pattern.Replace(script, rules[i].Replacement);
            }
            result.Add((command, script));
        }
        for (var i = 0; i < rules.Length; i++)
            Assert.True(used[i], $"README's container section no longer uses {rules[i].What}: update this test's substitutions");
        return result;
    }

    private async Task Cleanup(string clone, string name, Dictionary<string, string> env)
    {
        var bound = TimeSpan.FromMinutes(2);
        void Env(IDictionary<string, string?> e) { foreach (var (k, v) in env) e[k] = v; }
        if (File.Exists(Path.Combine(clone, "docker-compose.yml")))
            await Quietly(SpmcContainerFixture.RunAsync(Path.Combine(SpmcContainerFixture.RepoRoot, "scripts", "compose"),
                ["-f", Path.Combine(clone, "docker-compose.yml"), "down", "--volumes", "--remove-orphans", "--rmi", "all"], bound, Env));
        await Quietly(SpmcContainerFixture.RunAsync("docker", ["rm", "-f", name], bound));
        await Quietly(SpmcContainerFixture.RunAsync("docker", ["rmi", "-f", name, env["SPMC_IMAGE"], env["SPMC_SMOKE_IMAGE"]], bound));
        try { if (Directory.Exists(clone)) Directory.Delete(clone, recursive: true); }
        catch (Exception e) { output.WriteLine($"could not remove {clone}: {e.Message}"); }

        async Task Quietly(Task<(int, string)> run)
        {
            try { await run; }
            catch (Exception e) { output.WriteLine($"clean-up: {e.Message}"); }
        }
    }

    private static string Tail(string text) => text.Length > 3000 ? "..." + text[^3000..] : text;

    [GeneratedRegex(@"```sh\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex ShBlock();

    [GeneratedRegex(@"\s#\s*prints:\s*(.+)$")]
    private static partial Regex PrintsComment();

    /// <summary>`spmc` as a whole shell word: not part of a path, a file name, a longer name or a variable.</summary>
    [GeneratedRegex(@"(?<![\w./-])spmc(?![\w./-])")]
    private static partial Regex BareSpmc();
}
