using System.Text.RegularExpressions;

namespace Spmc.Docs.Tests;

/// <summary>Every relative link of README.md and docs/*.md reaches a file, and a `#anchor` a heading of it.</summary>
public sealed partial class LinksTests
{
    private static readonly string Root = Repo.Root;

    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        data.Add("README.md");
        foreach (var file in Directory.GetFiles(Path.Combine(Root, "docs"), "*.md").Order(StringComparer.Ordinal))
            data.Add(Path.GetRelativePath(Root, file));
        return data;
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void RelativeLinksResolve(string file)
    {
        var text = Fences().Replace(File.ReadAllText(Path.Combine(Root, file)), "");
        var broken = new List<string>();
        foreach (Match link in Link().Matches(text))
        {
            var target = link.Groups[1].Value;
            if (Scheme().IsMatch(target)) continue;                       // http:, https:, mailto:
            var hash = target.IndexOf('#', StringComparison.Ordinal);
            var path = hash < 0 ? target : target[..hash];
            var full = path.Length == 0 ? Path.Combine(Root, file) : Path.GetFullPath(Path.Combine(Root, Path.GetDirectoryName(file)!, path));
            if (!File.Exists(full) && !Directory.Exists(full)) broken.Add($"{target}: no such file");
            else if (hash >= 0 && full.EndsWith(".md", StringComparison.Ordinal) && !Anchors(full).Contains(target[(hash + 1)..]))
                broken.Add($"{target}: no such heading");
        }
        Assert.True(broken.Count == 0, $"{file}: {string.Join("; ", broken)}");
    }

    [Fact]
    public void AnchorsAreGitHubs() =>
        Assert.Equal(["from-net-spmcclient", "what-scriptstestsh-installs-and-starts", "the-abis-with-curl", "a-b-1"],
            Anchors(["## From .NET: Spmc.Client", "## What `scripts/test.sh` installs and starts", "## The ABIs, with curl", "# a b", "# a b"]).Where(a => a != "a-b"));

    /// <summary>The anchors GitHub gives a file's headings: lower case, punctuation dropped, spaces as '-', repeats numbered.</summary>
    private static HashSet<string> Anchors(string path) => Anchors(Fences().Replace(File.ReadAllText(path), "").Split('\n'));

    private static HashSet<string> Anchors(IEnumerable<string> lines)
    {
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var line in lines)
        {
            var heading = Heading().Match(line);
            if (!heading.Success) continue;
            var slug = NotSlug().Replace(heading.Groups[1].Value.Trim().ToLowerInvariant(), "").Replace(' ', '-');
            var n = seen.GetValueOrDefault(slug, -1) + 1;
            seen[slug] = n;
            anchors.Add(n == 0 ? slug : $"{slug}-{n}");
        }
        return anchors;
    }

    [GeneratedRegex(@"^[ \t]*```.*?^[ \t]*```", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex Fences();

    [GeneratedRegex(@"\]\(([^)\s]+)\)")]
    private static partial Regex Link();

    [GeneratedRegex(@"^[a-z]+:", RegexOptions.IgnoreCase)]
    private static partial Regex Scheme();

    [GeneratedRegex(@"^#{1,6}\s+(.*)$")]
    private static partial Regex Heading();

    [GeneratedRegex(@"[^\w\- ]")]
    private static partial Regex NotSlug();
}
