using System.Reflection;
using System.Text.RegularExpressions;
using Spmc.Abi.Ffa;
using Spmc.Abi.Rules;
using Spmc.Core.Spm;

namespace Spmc.Core.Tests.Rules;

/// <summary>
/// The rule catalogue: every rule is well formed and used, and docs/rules.md is what the code declares.
/// <c>scripts/rules.sh</c> (SPMC_UPDATE_RULES=1) rewrites the committed file.
/// </summary>
public class RuleCatalogueTests
{
    private static readonly Assembly[] Assemblies = [typeof(Rule).Assembly, typeof(PartitionManager).Assembly];

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Spmc.sln"))) return dir.FullName;
        throw new InvalidOperationException("Spmc.sln not found above " + AppContext.BaseDirectory);
    }

    [Fact]
    public void Committed_catalogue_matches_the_code()
    {
        var path = Path.Combine(RepoRoot(), "docs", "rules.md");
        var expected = RuleCatalogue.RenderMarkdown(RuleCatalogue.Collect(Assemblies));
        if (Environment.GetEnvironmentVariable("SPMC_UPDATE_RULES") == "1")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, expected);
        }
        Assert.True(File.Exists(path), "docs/rules.md is missing: run scripts/rules.sh");
        var committed = File.ReadAllText(path).ReplaceLineEndings("\n");
        Assert.True(committed == expected, "docs/rules.md is stale: run scripts/rules.sh and commit the result");
    }

    [Fact]
    public void Every_rule_is_well_formed()
    {
        var rules = RuleCatalogue.Collect(Assemblies);
        Assert.NotEmpty(rules);
        foreach (var rule in rules)
        {
            Assert.True(RuleCatalogue.IsWellFormed(rule.Id), $"rule ID '{rule.Id}' is not lower-case kebab 'family.rule'");
            Assert.False(string.IsNullOrWhiteSpace(rule.Summary), $"{rule.Id} has no summary");
            Assert.False(string.IsNullOrWhiteSpace(rule.Reference), $"{rule.Id} has no reference");
            Assert.DoesNotContain('\n', rule.Summary);
            Assert.True(Enum.IsDefined(rule.Code), $"{rule.Id} has an undefined error code");
        }
    }

    [Fact]
    public void Collect_refuses_two_declarations_of_one_id()
    {
        var e = Assert.Throws<InvalidOperationException>(() => RuleCatalogue.Collect(typeof(Duplicated).Assembly));
        Assert.Contains("test.duplicated", e.Message);
    }

    /// <summary>
    /// A declared rule that no code refers to is a dead entry in the catalogue. A use names the declaring class
    /// (<c>ConsoleRules.Count</c>): the bare field name would match any other <c>Count</c>, <c>Pending</c> or
    /// <c>PerVcpu</c> and hide a dead rule.
    /// </summary>
    [Fact]
    public void Every_rule_is_referred_to_by_the_code()
    {
        var sources = Directory.EnumerateFiles(Path.Combine(RepoRoot(), "src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(File.ReadAllText).ToList();
        var unused = new List<string>();
        foreach (var assembly in Assemblies)
            foreach (var type in assembly.GetTypes())
                foreach (var field in type.GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.DeclaredOnly))
                {
                    if (field.FieldType != typeof(Rule)) continue;
                    var name = Regex.Escape($"{type.Name}.{field.Name}");
                    var uses = sources.Sum(s => Regex.Matches(s, $@"\b{name}\b").Count);
                    if (uses <= 0) unused.Add($"{type.Name}.{field.Name} ({((Rule)field.GetValue(null)!).Id})");
                }
        Assert.True(unused.Count == 0, "rules declared but never used: " + string.Join(", ", unused));
    }

    /// <summary>A rule no test names by its ID could change or break unnoticed: each one is asserted somewhere.</summary>
    [Fact]
    public void Every_rule_is_asserted_by_its_id_in_a_test()
    {
        var tests = string.Join('\n', Directory.EnumerateFiles(Path.Combine(RepoRoot(), "tests"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(File.ReadAllText));
        var untested = RuleCatalogue.Collect(Assemblies).Select(r => r.Id).Where(id => !tests.Contains($"\"{id}\"", StringComparison.Ordinal)).ToList();
        Assert.True(untested.Count == 0, "rules no test asserts by ID: " + string.Join(", ", untested));
    }
}

/// <summary>Two fields declaring one ID, for <see cref="RuleCatalogueTests.Collect_refuses_two_declarations_of_one_id"/>.</summary>
internal static class Duplicated
{
    public static readonly Rule First = new("test.duplicated", FfaError.Denied, "first", "test");
    public static readonly Rule Second = new("test.duplicated", FfaError.Denied, "second", "test");
}
