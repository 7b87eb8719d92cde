namespace Spmc.Docs.Tests;

/// <summary>One command of a ```console block and what the doc shows it printing (stdout and stderr).</summary>
public sealed record DocCommand(string Command, IReadOnlyList<string> Shown);

/// <summary>A ```console block of a Markdown file: its commands, run in order by one shell.</summary>
public sealed record DocExample(string File, int Line, IReadOnlyList<DocCommand> Commands)
{
    /// <summary>How a test case is named: the file, the line of the fence and the first command.</summary>
    public override string ToString() => $"{File}:{Line} $ {Commands[0].Command.Split('\n')[0]}";

    /// <summary>
    /// Every ```console block of <paramref name="markdown"/>: a line starting with `$ ` is a command (a line ending
    /// in `\` continues it on the next), the lines after it up to the next command or the fence are its output. The
    /// fence's indentation (a block in a list item) is not part of the lines.
    /// </summary>
    public static IEnumerable<DocExample> Parse(string file, string[] markdown)
    {
        for (var i = 0; i < markdown.Length; i++)
        {
            if (markdown[i].Trim() != "```console") continue;
            var fence = i + 1;
            var indent = markdown[i][..markdown[i].IndexOf('`', StringComparison.Ordinal)];   // a block inside a list item
            string Unindent(string line) => line.StartsWith(indent, StringComparison.Ordinal) ? line[indent.Length..] : line;
            var commands = new List<DocCommand>();
            string? command = null;
            var shown = new List<string>();
            for (i++; ; i++)
            {
                if (i == markdown.Length) throw new FormatException($"{file}:{fence}: the ```console block is not closed");
                var line = Unindent(markdown[i]);
                if (line.Trim() == "```") break;
                if (line.StartsWith("$ ", StringComparison.Ordinal))
                {
                    if (command is not null) commands.Add(new DocCommand(command, shown));
                    command = line[2..];
                    shown = [];
                    while (command.EndsWith('\\'))
                    {
                        if (++i == markdown.Length) throw new FormatException($"{file}:{fence}: the block ends in a continued command");
                        command += "\n" + Unindent(markdown[i]);
                    }
                }
                else if (command is null)
                    throw new FormatException($"{file}:{i + 1}: a ```console block starts with a `$ ` command, not '{line}'");
                else shown.Add(line);
            }
            if (command is null) throw new FormatException($"{file}:{fence}: an empty ```console block");
            commands.Add(new DocCommand(command, shown));
            yield return new DocExample(file, fence, commands);
        }
    }

    /// <summary>
    /// Whether <paramref name="printed"/> is what <paramref name="shown"/> shows: line for line, except that a shown
    /// line `...` stands for any number of lines (none included).
    /// </summary>
    public static bool Matches(IReadOnlyList<string> shown, IReadOnlyList<string> printed)
    {
        bool From(int s, int p)
        {
            if (s == shown.Count) return p == printed.Count;
            if (shown[s] == "...")
            {
                for (var skip = p; skip <= printed.Count; skip++)
                    if (From(s + 1, skip)) return true;
                return false;
            }
            return p < printed.Count && printed[p] == shown[s] && From(s + 1, p + 1);
        }
        return From(0, 0);
    }
}
