namespace Spmc.Docs.Tests;

/// <summary>The repository the tests were built from: the first directory above the test's output with Spmc.sln.</summary>
internal static class Repo
{
    public static string Root { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Spmc.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no Spmc.sln above {AppContext.BaseDirectory}");
    }
}
