using Spmc.Core.Manifests;


namespace Spmc.Core.Tests.Examples;

/// <summary>The example manifests shipped in examples/manifests/, read from the repository.</summary>
public static class ExampleManifests
{
    public static string Path(string name) => System.IO.Path.Combine(Support.Manifests.RepositoryRoot(), "examples", "manifests", name);

    public static string Json(string name) => File.ReadAllText(Path(name));

    public static Support.TestSystem Load(string name) => Support.TestSystem.FromJson(Json(name), name);

    public static IEnumerable<object[]> All() =>
        Directory.GetFiles(System.IO.Path.Combine(Support.Manifests.RepositoryRoot(), "examples", "manifests"), "*.json")
            .Select(f => new object[] { System.IO.Path.GetFileName(f) }).OrderBy(x => (string)x[0]);
}

/// <summary>Every example validates, and examples/manifests/README.md lists every one of them.</summary>
public sealed class ExampleManifestTests
{
    [Theory]
    [MemberData(nameof(ExampleManifests.All), MemberType = typeof(ExampleManifests))]
    public void Example_Validates_AndIsListedInTheReadme(string name)
    {
        ManifestValidator.Validate(ExampleManifests.Json(name));
        Assert.Contains($"`{name}`", File.ReadAllText(ExampleManifests.Path("README.md")));
    }
}
