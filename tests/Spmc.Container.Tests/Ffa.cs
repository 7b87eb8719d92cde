namespace Spmc.Container.Tests;

/// <summary>The FF-A function IDs and values the container scenarios use (FF-A v1.2, DEN0077A).</summary>
internal static class Ffa
{
    public const ulong Error = 0x84000060;
    public const ulong Success32 = 0x84000061;
    public const ulong Version = 0x84000063;
    public const ulong RxRelease = 0x84000065;
    public const ulong RxTxMap64 = 0xC4000066;
    public const ulong PartitionInfoGet = 0x84000068;
    public const ulong MemShare64 = 0xC4000073;
    public const ulong MemRetrieveReq64 = 0xC4000074;
    public const ulong MemRetrieveResp = 0x84000075;
    public const ulong MemRelinquish = 0x84000076;
    public const ulong MemReclaim = 0x84000077;

    /// <summary>Version 1.2 as FFA_VERSION encodes it: major in bits 30:16, minor in 15:0.</summary>
    public const ulong V1_2 = 0x10002;

    /// <summary>The host VM's endpoint ID.</summary>
    public const uint Host = 0;

    // Buffers inside the host VM's memory of the default manifest (0x80000000, 256 MiB).
    public const ulong RxBuffer = 0x80000000;
    public const ulong TxBuffer = 0x80001000;

    // The default system's proxy (pkvm-7.4) takes its own TX/RX from the top of the host's memory and registers
    // those with the SPMC as endpoint 0; the host's buffers stay between the host and the proxy.
    public const ulong HypTx = 0x8FFFE000;
    public const ulong HypRx = 0x8FFFF000;

    /// <summary>Size of one partition information descriptor for a v1.1+ caller.</summary>
    public const int PartitionInfoSize = 24;

    /// <summary>What FFA_PARTITION_INFO_GET (null UUID) reports on the default system: one descriptor per
    /// UUID of each partition, so the notifier partition with two UUIDs counts twice.</summary>
    public static readonly ushort[] DefaultPartitionDescriptors = [0x8001, 0x8002, 0x8003, 0x8003];
}
