using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Spmc.Vmm.Tests;

/// <summary>
/// QEMU's virt machine (TCG) boots a Debian arm64 kernel whose own, unmodified arm_ffa driver probes the secure world
/// through the forwarder (integrations/qemu) into a system of this server; our test module (integrations/guest)
/// then runs FF-A traffic through the kernel's FF-A ops. Each kernel boots once per proxy; the tests read its serial
/// log and the system's state afterwards.
/// </summary>
[Collection(LiveCollection.Name)]
public sealed partial class QemuGuestTests(LiveSpmc spmc)
{
    public static readonly string[] Series = ["6.1", "6.12"];
    public static readonly string[] Proxies = ["passthrough", "pkvm-7.4"];
    public static readonly string[] Steps = ["partition-info", "echo", "share", "lend", "share-fragmented"];

    /// <summary>A TCG boot on two shared cores takes 10–20 s, and up to 80 s seen under heavy load.</summary>
    private static readonly TimeSpan BootTimeout = TimeSpan.FromSeconds(300);

    private sealed record Boot(string System, Run.Result Run, JsonElement State)
    {
        public string Log => Run.Stdout;
        public override string ToString() => $"system {System}: {Run}";
    }

    private static readonly ConcurrentDictionary<string, Lazy<Task<Boot>>> Boots = new();

    /// <summary>Boots <paramref name="series"/> against a new system (once per key) and takes its state afterwards.</summary>
    private Task<Boot> BootAsync(string series, string proxy, string? manifestEdit = null) =>
        Boots.GetOrAdd($"{series}/{proxy}/{manifestEdit}", _ => new Lazy<Task<Boot>>(async () =>
        {
            var id = await spmc.NewQemuSystemAsync(proxy, manifestEdit);
            var run = await Spmc.Tests.Shared.Run.ProcessAsync(Repo.Path("integrations", "guest", "boot.sh"),
                ["--qemu", VmmEnvironment.Qemu, "--series", series, "--dir", VmmEnvironment.GuestDir,
                 "--timeout", ((int)BootTimeout.TotalSeconds).ToString()],
                BootTimeout + TimeSpan.FromSeconds(30),
                new Dictionary<string, string> { ["SPMC_URL"] = spmc.Url, ["SPMC_SYSTEM"] = id });
            return new Boot(id, run, await spmc.StateAsync(id));
        })).Value;

    public static TheoryData<string, string, string> SeriesProxySteps()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var s in Series) foreach (var p in Proxies) foreach (var step in Steps) data.Add(s, p, step);
        return data;
    }

    public static TheoryData<string, string> SeriesProxies()
    {
        var data = new TheoryData<string, string>();
        foreach (var s in Series) foreach (var p in Proxies) data.Add(s, p);
        return data;
    }

    [Theory]
    [MemberData(nameof(SeriesProxies))]
    public async Task The_guest_boots_and_its_driver_lists_the_default_partitions(string series, string proxy)
    {
        var boot = await BootAsync(series, proxy);
        Assert.True(boot.Run.ExitCode == 0, $"the guest did not reach '=== spmc-guest: done'\n{boot}");
        Assert.Contains("=== insmod ffa-module rc=0", boot.Log);
        var devices = DeviceLine().Matches(boot.Log).Select(m => m.Value).ToList();
        foreach (var partition in new[] { "8001", "8002", "8003" })
            Assert.True(devices.Any(d => d.Contains(partition, StringComparison.OrdinalIgnoreCase)),
                $"partition 0x{partition} is not under /sys/bus/arm_ffa/devices\n{boot}");
    }

    [Theory]
    [MemberData(nameof(SeriesProxySteps))]
    public async Task Every_step_of_the_test_module_passes(string series, string proxy, string step)
    {
        var boot = await BootAsync(series, proxy);
        Assert.True(boot.Log.Contains($"ffa-spmc-test: {step}: PASS"), $"step '{step}' did not pass\n{boot}");
    }

    [Theory]
    [MemberData(nameof(SeriesProxies))]
    public async Task The_module_reports_no_failure_and_leaves_no_share_behind(string series, string proxy)
    {
        var boot = await BootAsync(series, proxy);
        Assert.Matches(@"ffa-spmc-test: summary: \d+ passed, 0 failed", boot.Log);
        var shares = boot.State.GetProperty("shares");
        Assert.True(shares.GetArrayLength() == 0, $"shares left in {boot.System}: {shares}\n{boot}");
    }

    /// <summary>
    /// The harness catches a wrong secure world: with echo not running (no behaviour: its requests are BUSY), the echo
    /// step fails and says why, and the other steps still run.
    /// </summary>
    [Theory]
    [InlineData("6.12", "passthrough")]
    public async Task A_broken_echo_fails_the_echo_step(string series, string proxy)
    {
        var boot = await BootAsync(series, proxy, NoEcho);
        Assert.Contains("ffa-spmc-test: echo: FAIL", boot.Log);
        Assert.Contains("ffa-spmc-test: share: PASS", boot.Log);
        Assert.DoesNotMatch(@"ffa-spmc-test: summary: \d+ passed, 0 failed", boot.Log);
    }

    /// <summary>Takes the behaviour away from the echo partition (0x8001).</summary>
    public const string NoEcho = "no-echo";

    [GeneratedRegex(@"^=== ffa-device: .*$", RegexOptions.Multiline)]
    private static partial Regex DeviceLine();
}
