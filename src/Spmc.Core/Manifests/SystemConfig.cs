using Spmc.Abi.Descriptors;
using Spmc.Abi.Ffa;

namespace Spmc.Core.Manifests;

/// <summary>
/// A physical address range [Base, Base + Size), both 4 KiB aligned. A manifest region may also say that its owner
/// has read-only access (<see cref="ReadOnly"/>) and that it is device memory (<see cref="Device"/>), as Hafnium's
/// memory-regions attributes and device-regions do.
/// </summary>
public readonly record struct MemoryRange(ulong Base, ulong Size, bool ReadOnly = false, bool Device = false)
{
    public ulong End => Base + Size;
    public bool Overlaps(MemoryRange other) => Base < other.End && other.Base < End;
    public override string ToString() => $"0x{Base:X}..0x{End - 1:X}";
}

/// <summary>A normal-world VM. ID 0 is the host (the hypervisor's own FF-A ID at the physical instance).</summary>
public sealed record VmConfig(ushort Id, string Name, int Vcpus, IReadOnlyList<MemoryRange> Memory);

/// <summary>What a partition declares it can do (its manifest's messaging-method and notification-support).</summary>
public sealed record PartitionCapabilities(
    bool DirectRequestReceive,
    bool DirectRequestSend,
    bool DirectRequest2Receive,
    bool DirectRequest2Send,
    bool IndirectMessaging,
    bool Notifications,
    bool Smc64CpuCycles = false,
    bool VmCreatedMessages = false,
    bool VmDestroyedMessages = false);

/// <summary>A secure partition as its manifest declares it.</summary>
public sealed record PartitionConfig(
    ushort Id,
    string Name,
    IReadOnlyList<FfaUuid> Uuids,
    ushort ExecutionContexts,
    FfaVersion Version,
    PartitionCapabilities Capabilities,
    IReadOnlyList<MemoryRange> Memory,
    string? Behaviour,
    FfaUuid ImageUuid = default)
{
    /// <summary>
    /// The properties word as the SPMC reports it, before per-caller masking: messaging bits from the
    /// manifest, indirect/notification bits only for v1.1+ partitions, REQ2 bits only for v1.2+ ones, the VM
    /// availability subscriptions (bits 6/7: discovery reports them to normal-world callers only), and AArch64
    /// always (Hafnium `api_ffa_fill_partition_info`, `api_ffa_partitions_info_get_properties`).
    /// </summary>
    public PartitionProperties Properties
    {
        get
        {
            var p = PartitionProperties.AArch64;
            if (Capabilities.DirectRequestReceive) p |= PartitionProperties.DirectRequestReceive;
            if (Capabilities.DirectRequestSend) p |= PartitionProperties.DirectRequestSend;
            if (Version >= FfaVersion.V1_1 && Capabilities.IndirectMessaging) p |= PartitionProperties.IndirectMessaging;
            if (Version >= FfaVersion.V1_1 && Capabilities.Notifications) p |= PartitionProperties.NotificationReceive;
            if (Version >= FfaVersion.V1_2 && Capabilities.DirectRequest2Receive) p |= PartitionProperties.DirectRequest2Receive;
            if (Version >= FfaVersion.V1_2 && Capabilities.DirectRequest2Send) p |= PartitionProperties.DirectRequest2Send;
            if (Version >= FfaVersion.V1_3 && Capabilities.Smc64CpuCycles) p |= PartitionProperties.Smc64CpuCycles;
            if (Capabilities.DirectRequestReceive && Capabilities.VmCreatedMessages) p |= PartitionProperties.VmCreatedMessages;
            if (Capabilities.DirectRequestReceive && Capabilities.VmDestroyedMessages) p |= PartitionProperties.VmDestroyedMessages;
            return p;
        }
    }
}

/// <summary>A validated system manifest: everything needed to build one simulated machine.</summary>
public sealed record SystemConfig(
    ushort SpmcId,
    FfaVersion Version,
    uint RxTxMaxPages,
    string ProxyProfile,
    IReadOnlyList<VmConfig> Vms,
    IReadOnlyList<PartitionConfig> Partitions,
    uint RemoteTimeoutMs = SystemConfig.DefaultRemoteTimeoutMs,
    RegisterContract Registers = RegisterContract.Smccc,
    ProxyOptions? ProxyOptions = null,
    CompatSwitches Compat = CompatSwitches.None)
{
    public const uint DefaultRemoteTimeoutMs = 5000;

    /// <summary>The proxy options in force (defaults when the manifest names none).</summary>
    public ProxyOptions Proxy => ProxyOptions ?? Manifests.ProxyOptions.Default;
}

/// <summary>
/// Compatibility switches (manifest <c>spmc.compat</c>): known defects of real clients the SPMC accepts instead of
/// refusing them as Hafnium does, for users testing old kernels.
/// </summary>
[Flags]
public enum CompatSwitches
{
    None = 0,
    /// <summary>
    /// "arm-ffa-emad-reserved": non-zero bytes 8..15 of a 16-byte (FF-A 1.0/1.1) EMAD in a memory send are ignored — the
    /// Linux arm_ffa defect of 11fb1a82, fixed by 3383ffb7 (CVE-2026-68401).
    /// </summary>
    ArmFfaEmadReserved = 1,
}

/// <summary>
/// Options of a pKVM proxy profile: the host kernel's page size (4 KiB, or 16 KiB = 4 FF-A pages per kernel page) and
/// whether the host's arm_ffa driver is built in, so it probes the secure world before pKVM installs its traps.
/// </summary>
public sealed record ProxyOptions(uint PageSize = ProxyOptions.Page4K, bool FfaDriverBuiltIn = false)
{
    public const uint Page4K = 4096, Page16K = 16384;
    public static readonly ProxyOptions Default = new();
}

/// <summary>
/// What an SMC32 answer does with the caller's x8..x17 (FF-A 1.3 §11.1.2). <see cref="Smccc"/>: preserved, as
/// SMCCC 1.2 asks, except where an SMC64 function completes the call and overwrites them. <see cref="Poison"/>:
/// always overwritten with a recognisable pattern, so a caller that relies on preservation (not mitigation M1
/// safe) fails in its own tests.
/// </summary>
public enum RegisterContract
{
    Smccc,
    Poison,
}
