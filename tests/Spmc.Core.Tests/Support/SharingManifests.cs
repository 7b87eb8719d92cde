namespace Spmc.Core.Tests.Support;

/// <summary>Manifests for the memory-sharing tests.</summary>
public static class SharingManifests
{
    public const ushort Host = 0x0000, Vm1 = 0x0001, Sp1 = 0x8001, Sp2 = 0x8002, Sp3 = 0x8003;
    public const ulong HostBase = 0x8000_0000, Vm1Base = 0x9000_0000, Sp1Base = 0x6000_0000, Sp2Base = 0x6010_0000, Sp3Base = 0x6020_0000;
    public const ulong RegionSize = 0x10_0000;

    /// <summary>The endpoints of <see cref="TwoVms"/> and the base of each one's 1 MiB region.</summary>
    public static readonly IReadOnlyList<(ushort Id, ulong Base)> TwoVmsRegions =
        [(Host, HostBase), (Vm1, Vm1Base), (Sp1, Sp1Base), (Sp2, Sp2Base), (Sp3, Sp3Base)];

    /// <summary>Host (ID 0) with 16 MiB and VM 1 with 1 MiB; SPs 0x8001..0x8003 at v1.2 with 1 MiB each; RX/TX up to 2 pages.</summary>
    public const string TwoVms = """
        {
          "spmc": { "rxtxMaxPages": 2 },
          "vms": [
            { "id": 0, "name": "host", "memory": [ { "base": "0x80000000", "size": "0x1000000" } ] },
            { "id": 1, "name": "vm1", "memory": [ { "base": "0x90000000", "size": "0x100000" } ] }
          ],
          "partitions": [
            { "id": "0x8001", "name": "sp1", "uuids": [ "22222222-0000-0000-0000-000000008001" ],
              "properties": { "directRequestReceive": true }, "memory": [ { "base": "0x60000000", "size": "0x100000" } ] },
            { "id": "0x8002", "name": "sp2", "uuids": [ "22222222-0000-0000-0000-000000008002" ],
              "properties": { "directRequestReceive": true }, "memory": [ { "base": "0x60100000", "size": "0x100000" } ] },
            { "id": "0x8003", "name": "sp3", "uuids": [ "22222222-0000-0000-0000-000000008003" ],
              "properties": { "directRequestReceive": true }, "memory": [ { "base": "0x60200000", "size": "0x100000" } ] }
          ]
        }
        """;

    /// <summary>A host with 2 GiB at 0x80000000 and one SP, to share a whole GiB in one constituent.</summary>
    public const string LargeHost = """
        {
          "vms": [ { "id": 0, "name": "host", "memory": [ { "base": "0x80000000", "size": "0x80000000" } ] } ],
          "partitions": [
            { "id": "0x8001", "name": "sp1", "uuids": [ "33333333-0000-0000-0000-000000008001" ],
              "properties": { "directRequestReceive": true }, "memory": [ { "base": "0x60000000", "size": "0x100000" } ] }
          ]
        }
        """;
}
