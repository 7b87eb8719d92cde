namespace Spmc.Cli.Tests;

/// <summary>
/// The examples of docs/cli.md that are spmc commands alone (or joined with ';', earlier ones sent to /dev/null):
/// each runs on a `default` system created afresh and must print exactly the block shown. Examples with pipes or
/// background jobs need a shell and are left to the repository's docs test.
/// </summary>
[Collection(CliCollection.Name)]
public sealed class DocsExamplesTests(CliServer server)
{
    private static readonly string Root = FindRoot();

    public static TheoryData<string, string> Examples()
    {
        var data = new TheoryData<string, string>();
        var lines = File.ReadAllLines(Path.Combine(Root, "docs", "cli.md"));
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i] != "```console") continue;
            var command = lines[++i][2..];
            var output = new List<string>();
            while (lines[++i] != "```") output.Add(lines[i]);
            if (command.Contains('|') || command.Contains('&')) continue;
            data.Add(command, string.Join('\n', output) + "\n");
        }
        return data;
    }

    [Fact]
    public void TheDocsHaveRunnableExamples() => Assert.True(Examples().Count >= 20, $"{Examples().Count} examples");

    [Theory]
    [MemberData(nameof(Examples))]
    public async Task ExamplePrintsWhatTheDocsShow(string command, string shown)
    {
        await FreshDefaultAsync();
        var printed = "";
        foreach (var part in command.Split("; "))
        {
            var quiet = part.EndsWith(" >/dev/null", StringComparison.Ordinal);
            var words = part.Replace(" >/dev/null", "").Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal("spmc", words[0]);
            var args = words[1..].Select(w => !w.StartsWith('-') && File.Exists(Path.Combine(Root, w)) ? Path.Combine(Root, w) : w).ToArray();
            var run = await server.RunAsync(args);
            if (!quiet) printed += run.Out + run.Err;
        }
        await FreshDefaultAsync();                                // the other tests find `default` as the server started it
        Assert.Equal(shown, printed);
    }

    /// <summary>The server as just started: only a fresh `default` (tests of the collection run one at a time).</summary>
    private async Task FreshDefaultAsync()
    {
        using var client = new Spmc.Client.SpmcClient(server.GrpcUrl);
        foreach (var system in await client.ListSystemsAsync()) await client.DeleteSystemAsync(system.Id);
        Assert.Equal(0, (await server.RunAsync("systems", "create", CliServer.DefaultManifest, "--id", "default")).Code);
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Spmc.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no Spmc.sln above {AppContext.BaseDirectory}");
    }
}
