namespace Spmc.Vmm.Tests;

/// <summary>
/// What scripts/vmm-setup.sh built for this run, passed in the environment (scripts/test.sh exports it):
/// the C client's test program, the patched QEMU and the guest kernels. A test whose artefact is missing fails and
/// says how to build it: it is never skipped. scripts/test.sh leaves this whole project out (and says so) when the
/// set-up is switched off outside CI.
/// </summary>
public static class VmmEnvironment
{
    /// <summary>clients/c's test program (build/test_spmc).</summary>
    public static string CClientTest => Require("SPMC_C_CLIENT_TEST", "clients/c's test program");

    /// <summary>qemu-system-aarch64 with the Spmc forwarder (integrations/qemu).</summary>
    public static string Qemu => Require("SPMC_QEMU", "QEMU with the forwarder");

    /// <summary>The guest build's output directory: one subdirectory per kernel series (integrations/guest).</summary>
    public static string GuestDir => Require("SPMC_GUEST_DIR", "the guest kernels");

    private static string Require(string variable, string what)
    {
        var value = Environment.GetEnvironmentVariable(variable);
        if (!string.IsNullOrEmpty(value) && (File.Exists(value) || Directory.Exists(value))) return value;
        Assert.Fail($"{variable} does not name {what} ('{value}'): run scripts/vmm-setup.sh and export what it prints " +
                    "(scripts/test.sh does both), or leave tests/Spmc.Vmm.Tests out of the run");
        return null!;
    }
}
