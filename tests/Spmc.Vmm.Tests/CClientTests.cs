namespace Spmc.Vmm.Tests;

/// <summary>
/// clients/c's own test program against the live server: each case creates its own system from the qemu-virt
/// manifest, drives libspmc as a VMM would (a fake guest RAM behind the read/write callbacks) and checks both sides.
/// </summary>
[Collection(LiveCollection.Name)]
public sealed class CClientTests(LiveSpmc spmc)
{
    /// <summary>Every case of test_spmc (a test below fails when its --list differs, so none goes unrun).</summary>
    public static readonly string[] Cases =
    [
        "smc_version_passthrough", "smc_version_pkvm", "bad_urls", "http_edge_cases", "http_hostile_answers",
        "hostile_guest_passthrough",
        "unreachable_server", "unknown_system", "refused_read", "separate_buffer_refused",
        "partition_info_v10_passthrough", "partition_info_v10_pkvm", "partition_info_v11_passthrough", "partition_info_v11_pkvm",
        "echo_passthrough", "echo_pkvm",
        "share_v10_passthrough", "share_v10_pkvm", "share_v11_passthrough", "share_v11_pkvm", "share_v12_passthrough", "share_v12_pkvm",
        "lend_v10_passthrough", "lend_v10_pkvm", "lend_v11_passthrough", "lend_v11_pkvm",
        "frag_share_v10_passthrough", "frag_share_v10_pkvm", "frag_share_v11_passthrough", "frag_share_v11_pkvm",
        "frag_share_contiguous_v11_passthrough", "frag_share_contiguous_v11_pkvm",
        "frag_lend_v11_passthrough", "frag_lend_v11_pkvm",
    ];

    public static TheoryData<string> CaseNames() => new(Cases);

    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);

    private Task<Run.Result> TestSpmcAsync(params string[] args) =>
        Run.ProcessAsync(VmmEnvironment.CClientTest,
            ["--url", spmc.Url, "--manifest", Repo.Path("examples", "manifests", "qemu-virt.json"), .. args], Bound);

    [Theory]
    [MemberData(nameof(CaseNames))]
    public async Task The_case_passes(string name)
    {
        var run = await TestSpmcAsync("--case", name);
        Assert.True(run.ExitCode == 0 && run.Stdout.Contains($"PASS {name}"), run.ToString());
    }

    [Fact]
    public async Task Every_case_of_the_program_is_run_here()
    {
        var run = await TestSpmcAsync("--list");
        Assert.Equal(0, run.ExitCode);
        Assert.Equal(Cases.Order(), run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Order());
    }
}
