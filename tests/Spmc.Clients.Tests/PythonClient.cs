namespace Spmc.Clients.Tests;

/// <summary>
/// clients/python made ready once per run: generate.sh installs Debian's protoc, grpc_python_plugin and the
/// python3-grpcio/protobuf runtime when missing (apt-get) and writes the stubs to clients/python/build/gen.
/// A failure is kept and reported by every test that needs the stubs (never a skip).
/// </summary>
public sealed class PythonClient
{
    /// <summary>Debian's interpreter: the runtime packages install there, not in a pyenv python first on PATH.</summary>
    public const string Python = "/usr/bin/python3";

    public static string Dir => Repo.Path("clients", "python");

    public Run.Result Generate { get; } =
        Run.ProcessAsync(Path.Combine(Dir, "generate.sh"), [], TimeSpan.FromMinutes(8)).GetAwaiter().GetResult();

    /// <summary>Fails the calling test with generate.sh's output when it did not succeed.</summary>
    public void AssertReady() => Assert.True(Generate.ExitCode == 0, $"clients/python/generate.sh failed: {Generate}");

    /// <summary>Runs a Python program with the client package importable.</summary>
    public Task<Run.Result> RunAsync(params string[] args)
    {
        AssertReady();
        return Run.ProcessAsync(Python, args, TimeSpan.FromSeconds(120),
            new Dictionary<string, string> { ["PYTHONPATH"] = Dir, ["PYTHONDONTWRITEBYTECODE"] = "1" });
    }
}

[CollectionDefinition(Name)]
public sealed class PythonCollection : ICollectionFixture<LiveSpmc>, ICollectionFixture<PythonClient>
{
    public const string Name = "python client";
}
