using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using Spmc.Abi.Ffa;

namespace Spmc.Abi.Rules;

/// <summary>
/// Every <see cref="Rule"/> declared as a <c>static readonly</c> field in the given assemblies, and the Markdown
/// catalogue (docs/rules.md) rendered from them. The catalogue is generated, never edited by hand: a test compares
/// the committed file with <see cref="RenderMarkdown"/>.
/// </summary>
public static partial class RuleCatalogue
{
    [GeneratedRegex("^[a-z0-9]+(-[a-z0-9]+)*(\\.[a-z0-9]+(-[a-z0-9]+)*)+$")]
    private static partial Regex IdPattern();

    /// <summary>True when <paramref name="id"/> has the form <c>family.rule</c> in lower-case kebab parts.</summary>
    public static bool IsWellFormed(string id) => IdPattern().IsMatch(id);

    /// <summary>Every rule field of the assemblies, sorted by ID. Throws when two fields declare the same ID.</summary>
    public static IReadOnlyList<Rule> Collect(params Assembly[] assemblies)
    {
        var rules = new Dictionary<string, (Rule Rule, string Where)>(StringComparer.Ordinal);
        foreach (var assembly in assemblies.Distinct())
        {
            foreach (var type in assembly.GetTypes())
            {
                foreach (var field in type.GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.DeclaredOnly))
                {
                    if (field.FieldType != typeof(Rule) || field.GetValue(null) is not Rule rule) continue;
                    var where = $"{type.FullName}.{field.Name}";
                    if (rules.TryGetValue(rule.Id, out var seen) && !ReferenceEquals(seen.Rule, rule))
                        throw new InvalidOperationException($"rule ID '{rule.Id}' is declared twice: {seen.Where} and {where}");
                    rules[rule.Id] = (rule, where);
                }
            }
        }
        return [.. rules.Values.Select(r => r.Rule).OrderBy(r => r.Id, StringComparer.Ordinal)];
    }

    /// <summary>The family of a rule: the part of its ID before the first dot.</summary>
    public static string Family(string id) => id[..id.IndexOf('.', StringComparison.Ordinal)];

    /// <summary>docs/rules.md: one table per family, rules in ID order.</summary>
    public static string RenderMarkdown(IReadOnlyList<Rule> rules)
    {
        var sb = new StringBuilder();
        sb.Append("# Rule catalogue\n\n");
        sb.Append("Every rule by which Spmc refuses an FF-A call, generated from the code (`scripts/rules.sh` rewrites this\n");
        sb.Append("file; a test fails when it is stale). An error answer names its rule in `decoded.rule` (REST and gRPC, and in\n");
        sb.Append("every hop a hypervisor proxy made). IDs are stable: a rule may be reworded, never renamed.\n\n");
        sb.Append($"{rules.Count} rules in {rules.Select(r => Family(r.Id)).Distinct().Count()} families.\n\n");
        foreach (var family in rules.GroupBy(r => Family(r.Id)))
        {
            sb.Append($"## {family.Key}\n\n");
            sb.Append("| ID | Error | Rule | Reference |\n|---|---|---|---|\n");
            foreach (var r in family)
                sb.Append($"| `{r.Id}` | {r.Code.Name()} | {Cell(r.Summary)} | {Cell(r.Reference)} |\n");
            sb.Append('\n');
        }
        return sb.ToString();
    }

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);
}
