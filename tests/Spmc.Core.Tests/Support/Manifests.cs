using System.Text;
using System.Text.Json.Nodes;

namespace Spmc.Core.Tests.Support;

/// <summary>Manifests used by the tests: the repository's default one, a richer inline one, and generated ones.</summary>
public static class Manifests
{
    private static readonly Lazy<string> Default = new(() => File.ReadAllText(
        Path.Combine(RepositoryRoot(), "src", "Spmc.Server", "manifests", "default.json")));

    /// <summary>src/Spmc.Server/manifests/default.json, found by walking up from the test assembly to Spmc.sln (proxy pkvm-7.4).</summary>
    public static string DefaultJson => Default.Value;

    /// <summary>
    /// The default manifest with the proxy overridden to passthrough: VM calls reach the SPMC as made, so tests of
    /// the SPMC's own rules for VM callers see those rules and not the pKVM proxy's.
    /// </summary>
    public static string DefaultPassthroughJson => WithProxy(DefaultJson, "passthrough");

    /// <summary>A manifest with its "proxy" field set to <paramref name="profile"/>.</summary>
    public static string WithProxy(string json, string profile)
    {
        var node = JsonNode.Parse(json)!.AsObject();
        node["proxy"] = profile;
        return node.ToJsonString();
    }

    /// <summary>A manifest with the SPMC's version set to <paramref name="version"/> ("1.2"); partitions without their own version follow it.</summary>
    public static string WithSpmcVersion(string json, string version)
    {
        var node = JsonNode.Parse(json)!.AsObject();
        node["spmc"]!["version"] = version;
        return node.ToJsonString();
    }

    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Spmc.sln"))) return dir.FullName;
        throw new InvalidOperationException($"Spmc.sln not found above {AppContext.BaseDirectory}");
    }

    // The default manifest's endpoints.
    public const ushort Host = 0x0000, Echo = 0x8001, MemorySp = 0x8002, Notifier = 0x8003;
    public const ulong HostMemory = 0x8000_0000, EchoMemory = 0x6000_0000, MemorySpMemory = 0x6010_0000, NotifierMemory = 0x6020_0000;
    public const string EchoUuid = "7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4a01", MemorySpUuid = "7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4a02",
        NotifierUuid1 = "7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4a03", NotifierUuid2 = "7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4a04";

    /// <summary>Default partitions' properties as the SPMC reports them: AArch64 | REQ2 recv | notif | indirect | REQ recv.</summary>
    public const uint DefaultSpProperties = 0x30D;

    // The rich manifest's endpoints.
    public const ushort Vm1 = 0x0001, Vm2 = 0x0002, Sp12 = 0x8001, Sp11 = 0x8002, Sp10 = 0x8003;
    public const ulong Vm1Memory = 0x9000_0000, Vm2Memory = 0x9100_0000, Sp12Memory = 0x6000_0000, Sp11Memory = 0x6010_0000,
        Sp10Memory = 0x6020_0000, Unowned = 0x1000_0000;
    public const string Sp12Uuid = "11111111-2222-3333-4444-000000008001", Sp11Uuid = "11111111-2222-3333-4444-000000008002",
        Sp10Uuid = "11111111-2222-3333-4444-000000008003", UnknownUuid = "deadbeef-0000-0000-0000-000000000001";

    /// <summary>
    /// Host (ID 0, 2 vCPUs) and VMs 1 and 2, each with 1 MiB; SP 0x8001 at v1.2 with every capability, SP 0x8002
    /// at v1.1 (direct receive, indirect, notifications), SP 0x8003 at v1.0 with two contexts (direct send and
    /// receive). RX/TX buffers may be up to 2 pages.
    /// </summary>
    public const string Rich = """
        {
          "spmc": { "rxtxMaxPages": 2, "version": "1.2" },
          "vms": [
            { "id": 0, "name": "host", "vcpus": 2, "memory": [ { "base": "0x80000000", "size": "0x100000" } ] },
            { "id": 1, "name": "vm1", "memory": [ { "base": "0x90000000", "size": "0x100000" } ] },
            { "id": 2, "name": "vm2", "memory": [ { "base": "0x91000000", "size": "0x100000" } ] }
          ],
          "partitions": [
            { "id": "0x8001", "name": "sp12", "uuids": [ "11111111-2222-3333-4444-000000008001" ],
              "properties": { "directRequestReceive": true, "directRequestSend": true, "directRequest2Receive": true,
                              "directRequest2Send": true, "indirectMessaging": true, "notifications": true },
              "memory": [ { "base": "0x60000000", "size": "0x100000" } ] },
            { "id": "0x8002", "name": "sp11", "version": "1.1", "uuids": [ "11111111-2222-3333-4444-000000008002" ],
              "properties": { "directRequestReceive": true, "indirectMessaging": true, "notifications": true },
              "memory": [ { "base": "0x60100000", "size": "0x100000" } ] },
            { "id": "0x8003", "name": "sp10", "version": "1.0", "executionContexts": 2,
              "uuids": [ "11111111-2222-3333-4444-000000008003" ],
              "properties": { "directRequestReceive": true, "directRequestSend": true },
              "memory": [ { "base": "0x60200000", "size": "0x100000" } ] }
          ]
        }
        """;

    /// <summary>The UUID of entry <paramref name="index"/> (0-based) of partition <paramref name="partition"/> in <see cref="Many"/>.</summary>
    public static string ManyUuid(int partition, int index) => $"00000000-0000-0000-0000-{partition + 1:x4}{index:x8}";

    /// <summary>
    /// A host with 1 MiB at 0x80000000 and enough partitions (four UUIDs each, the last one fewer) to give a v1.2
    /// caller <paramref name="entries"/> partition-info descriptors.
    /// </summary>
    public static string Many(int entries, int rxtxMaxPages = 1)
    {
        var sb = new StringBuilder();
        sb.Append($$"""{ "spmc": { "rxtxMaxPages": {{rxtxMaxPages}} }, "vms": [ { "id": 0, "name": "host", "memory": [ { "base": "0x80000000", "size": "0x100000" } ] } ], "partitions": [""");
        for (int p = 0, left = entries; left > 0; p++, left -= 4)
        {
            if (p > 0) sb.Append(',');
            var uuids = string.Join(", ", Enumerable.Range(0, Math.Min(4, left)).Select(u => $"\"{ManyUuid(p, u)}\""));
            sb.Append($$"""{ "id": "0x{{0x8001 + p:X4}}", "name": "sp{{p}}", "uuids": [ {{uuids}} ], "properties": { "directRequestReceive": true } }""");
        }
        sb.Append("] }");
        return sb.ToString();
    }
}
