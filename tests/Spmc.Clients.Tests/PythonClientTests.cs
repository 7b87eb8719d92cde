using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Spmc.Abi.Descriptors;
using Spmc.Abi.Descriptors.Memory;

namespace Spmc.Clients.Tests;

/// <summary>The Python client (clients/python) against the real host on loopback.</summary>
[Collection(PythonCollection.Name)]
public sealed class PythonClientTests(LiveSpmc spmc, PythonClient python)
{
    private static readonly string Example = Path.Combine(PythonClient.Dir, "examples", "discover_echo_share.py");

    [Fact]
    public async Task The_example_discovers_echoes_shares_and_reclaims_on_its_own_system()
    {
        var run = await python.RunAsync(Example, "--target", spmc.GrpcTarget);

        Assert.True(run.ExitCode == 0, run.ToString());
        var lines = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        ExampleSteps.AssertPassed(lines, "py-example");

        // It deleted its system: none of its systems is left on the server.
        using var http = spmc.Http();
        var systems = await http.GetStringAsync("/api/v1/systems");
        Assert.DoesNotContain("py-example-", systems);
    }

    [Fact]
    public async Task The_example_says_no_server_answers_and_exits_2()
    {
        var port = UnusedPort();
        var run = await python.RunAsync(Example, "--target", $"127.0.0.1:{port}");

        Assert.True(run.ExitCode == 2, run.ToString());
        Assert.Contains($"error: no Spmc answers at 127.0.0.1:{port} (is the server running?", run.Stderr);
        Assert.DoesNotContain("Traceback", run.Stderr);
        Assert.Equal("", run.Stdout);
    }

    [Fact]
    public async Task The_client_raises_server_unavailable_and_not_found_by_grpc_code()
    {
        var port = UnusedPort();
        var run = await python.RunAsync("-c", $$"""
            from spmc_client import Spmc, SpmcError, ServerUnavailable
            try:
                Spmc("127.0.0.1:{{port}}").list_systems()
            except ServerUnavailable as e:
                print("unavailable", e.code)
            try:
                Spmc("{{spmc.GrpcTarget}}").state("no-such-system")
            except ServerUnavailable:
                print("wrong: unavailable")
            except SpmcError as e:
                print("error", e.code)
            """);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("unavailable Unavailable\nerror NotFound\n", run.Stdout);
    }

    [Theory]
    [InlineData("1.0", MemoryDescriptorLayout.V1_0)]
    [InlineData("1.1", MemoryDescriptorLayout.V1_1)]
    [InlineData("1.2", MemoryDescriptorLayout.V1_2)]
    public async Task The_descriptor_builder_writes_the_bytes_Spmc_Abi_writes(string layout, MemoryDescriptorLayout abiLayout)
    {
        var run = await python.RunAsync("-c", $"""
            from spmc_client import ffa
            d = ffa.memory_descriptor(0x1, [(0x8002, ffa.ACCESS_RW), (0x8003, ffa.ACCESS_RO)],
                                      [(0x80100000, 2), (0x80200000, 1)], layout="{layout}", tag=7, flags=0x1)
            print(d.hex())
            """);
        Assert.True(run.ExitCode == 0, run.ToString());

        var composite = new CompositeMemoryRegion(3, [new MemoryRegionConstituent(0x80100000, 2), new MemoryRegionConstituent(0x80200000, 1)]);
        var abi = new MemoryTransactionDescriptor(0x1, MemoryRegionAttributes.NormalWriteBackInner, new MemoryTransactionFlags(0x1), 0, 7,
            [new EndpointMemoryAccess(new MemoryAccessPermissions(0x8002, 0x2), 0), new EndpointMemoryAccess(new MemoryAccessPermissions(0x8003, 0x1), 0)],
            composite);
        Assert.Equal(Convert.ToHexStringLower(abi.ToBytes(abiLayout)), run.Stdout.Trim());
    }

    [Fact]
    public async Task Memory_written_through_the_client_reads_back_over_rest()
    {
        var id = $"py-mem-{Guid.NewGuid():N}"[..20];
        var manifest = Repo.Path("src", "Spmc.Server", "manifests", "default.json");
        var run = await python.RunAsync("-c", $"""
            from spmc_client import Spmc
            s = Spmc("{spmc.GrpcTarget}")
            s.create_system(path="{manifest}", id="{id}")
            s.write_memory("{id}", 0x80000000, bytes([1, 2, 3, 4]))
            print(s.read_memory("{id}", 0x80000000, 4).hex())
            """);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("01020304", run.Stdout.Trim());

        using var http = spmc.Http();
        var read = await http.GetFromJsonAsync<JsonElement>($"/api/v1/systems/{id}/memory/0x80000000?length=4&as=0x0");
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, read.GetProperty("data").GetBytesFromBase64());
        Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync($"/api/v1/systems/{id}")).StatusCode);
    }

    private static int UnusedPort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }
}
