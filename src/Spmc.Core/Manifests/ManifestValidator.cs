using Spmc.Abi.Ffa;

using Spmc.Core.Proxy;
using Spmc.Core.Spm.Behaviours;

namespace Spmc.Core.Manifests;

/// <summary>
/// Turns a <see cref="ManifestDocument"/> into a <see cref="SystemConfig"/>, collecting every error with the
/// path of the field it concerns ("partitions[1].uuids[0]: ..."). Rules follow Hafnium's manifest parser where
/// it has one (at most 4 UUIDs, no nil or duplicate UUID, at least one messaging method, REQ2 only for v1.2
/// partitions, 4 KiB-aligned non-overlapping regions).
/// </summary>
public static class ManifestValidator
{
    public const int MaxVms = 64;
    public const int MaxPartitions = 64;
    public const int MaxUuidsPerPartition = 4;
    public const int MaxRegionsPerEndpoint = 64;
    public const int MaxVcpus = 64;
    public const int MaxNameLength = 64;
    public const uint MaxRxTxPages = 64;
    public const uint MaxRemoteTimeoutMs = 600_000;
    public const ulong PageSize = FfaPage.Size;

    public static SystemConfig Validate(string json) => Validate(ManifestDocument.Parse(json));

    public static SystemConfig Validate(ManifestDocument doc)
    {
        var errors = new List<string>();
        var spmcId = EndpointId.DefaultSpmc;
        var version = FfaVersion.V1_3;
        uint rxtxMaxPages = 1;
        var remoteTimeoutMs = SystemConfig.DefaultRemoteTimeoutMs;
        var registers = RegisterContract.Smccc;
        var compat = CompatSwitches.None;

        if (doc.Spmc is { } spmc)
        {
            if (spmc.Id is not null && TryEndpoint(spmc.Id, "spmc.id", errors, out var id))
            {
                if (!EndpointId.IsSecure(id)) errors.Add($"spmc.id: 0x{id:X4} must have bit 15 set (a secure-world ID)");
                else spmcId = id;
            }
            if (spmc.Version is not null) version = ParseVersion(spmc.Version, "spmc.version", errors) ?? version;
            if (spmc.RxtxMaxPages is not null && TryNumber(spmc.RxtxMaxPages, "spmc.rxtxMaxPages", errors, out var pages))
            {
                if (pages is < 1 or > MaxRxTxPages) errors.Add($"spmc.rxtxMaxPages: {pages} is outside 1..{MaxRxTxPages}");
                else rxtxMaxPages = (uint)pages;
            }
            if (spmc.RemoteTimeoutMs is not null && TryNumber(spmc.RemoteTimeoutMs, "spmc.remoteTimeoutMs", errors, out var ms))
            {
                if (ms is < 1 or > MaxRemoteTimeoutMs) errors.Add($"spmc.remoteTimeoutMs: {ms} is outside 1..{MaxRemoteTimeoutMs}");
                else remoteTimeoutMs = (uint)ms;
            }
            if (spmc.Registers is not null)
            {
                RegisterContract? parsed = spmc.Registers switch { "smccc" => RegisterContract.Smccc, "poison" => RegisterContract.Poison, _ => null };
                if (parsed is { } contract) registers = contract;
                else errors.Add($"spmc.registers: '{Truncate(spmc.Registers)}' is not a register contract (expected smccc or poison)");
            }
            if (spmc.Compat is { } switches)
            {
                if (switches.Count > CompatNames.Count) errors.Add($"spmc.compat: {switches.Count} entries, at most {CompatNames.Count}");
                else
                    for (var i = 0; i < switches.Count; i++)
                    {
                        if (switches[i] is { } name && CompatNames.TryGetValue(name, out var flag)) compat |= flag;
                        else errors.Add($"spmc.compat[{i}]: '{Truncate(switches[i] ?? "null")}' is not a compatibility switch (known: {string.Join(", ", CompatNames.Keys)})");
                    }
            }
        }

        var proxy = doc.Proxy ?? ProxyProfiles.Default;
        if (!ProxyProfiles.IsKnown(proxy))
            errors.Add($"proxy: unknown profile '{proxy}' (known: {string.Join(", ", ProxyProfiles.Known)})");
        ProxyOptions? proxyOptions = null;
        if (doc.ProxyOptions is { } po)
        {
            var pageSize = ProxyOptions.Page4K;
            if (po.PageSize is not null && TryNumber(po.PageSize, "proxyOptions.pageSize", errors, out var ps))
            {
                if (ps is not (ProxyOptions.Page4K or ProxyOptions.Page16K)) errors.Add($"proxyOptions.pageSize: {ps} is not 4096 or 16384");
                else pageSize = (uint)ps;
            }
            if (ProxyProfiles.HostMemoryNeeded(proxy) is null && (pageSize != ProxyOptions.Page4K || po.FfaDriverBuiltIn))
                errors.Add($"proxyOptions: pageSize and ffaDriverBuiltIn apply to the pKVM profiles only, not '{proxy}'");
            proxyOptions = new ProxyOptions(pageSize, po.FfaDriverBuiltIn);
        }

        var ids = new Dictionary<ushort, string>();
        var regions = new List<(MemoryRange Range, string Path)>();

        var vms = new List<VmConfig>();
        var vmDocs = doc.Vms ?? [];
        if (vmDocs.Count > MaxVms) errors.Add($"vms: {vmDocs.Count} VMs, at most {MaxVms}");
        for (var i = 0; i < vmDocs.Count && i < MaxVms; i++)
        {
            var path = $"vms[{i}]";
            var vm = vmDocs[i];
            if (vm is null) { errors.Add($"{path}: null"); continue; }
            if (!TryEndpoint(vm.Id, $"{path}.id", errors, out var id)) continue;
            if (EndpointId.IsSecure(id)) { errors.Add($"{path}.id: 0x{id:X4} has bit 15 set; VM IDs are normal-world IDs (bit 15 clear)"); continue; }
            if (id == EndpointId.Invalid) { errors.Add($"{path}.id: 0x7FFF is the reserved invalid ID"); continue; }
            CheckUnique(id, $"{path}.id", ids, errors);
            var name = CheckName(vm.Name, $"{path}.name", errors);
            var vcpus = 1;
            if (vm.Vcpus is not null && TryNumber(vm.Vcpus, $"{path}.vcpus", errors, out var v))
            {
                if (v is < 1 or > MaxVcpus) errors.Add($"{path}.vcpus: {v} is outside 1..{MaxVcpus}");
                else vcpus = (int)v;
            }
            vms.Add(new VmConfig(id, name, vcpus, ParseRegions(vm.Memory, path, errors, regions)));
        }

        var partitions = new List<PartitionConfig>();
        var spDocs = doc.Partitions ?? [];
        if (spDocs.Count > MaxPartitions) errors.Add($"partitions: {spDocs.Count} partitions, at most {MaxPartitions}");
        for (var i = 0; i < spDocs.Count && i < MaxPartitions; i++)
        {
            var path = $"partitions[{i}]";
            var sp = spDocs[i];
            if (sp is null) { errors.Add($"{path}: null"); continue; }
            if (!TryEndpoint(sp.Id, $"{path}.id", errors, out var id)) continue;
            if (!EndpointId.IsSecure(id)) { errors.Add($"{path}.id: 0x{id:X4} lacks bit 15; secure partition IDs are 0x8000..0xFFFF"); continue; }
            if (id == spmcId) { errors.Add($"{path}.id: 0x{id:X4} is the SPMC's own ID"); continue; }
            if (id >= 0xFFC0) { errors.Add($"{path}.id: 0x{id:X4} is reserved for the SPMD and its logical partitions (0xFFC0..0xFFFF)"); continue; }
            CheckUnique(id, $"{path}.id", ids, errors);
            var name = CheckName(sp.Name, $"{path}.name", errors);

            var uuids = new List<FfaUuid>();
            if (sp.Uuids is null || sp.Uuids.Count == 0) errors.Add($"{path}.uuids: at least one UUID is required");
            else if (sp.Uuids.Count > MaxUuidsPerPartition) errors.Add($"{path}.uuids: {sp.Uuids.Count} UUIDs, at most {MaxUuidsPerPartition}");
            else
            {
                for (var u = 0; u < sp.Uuids.Count; u++)
                {
                    if (!FfaUuid.TryParse(sp.Uuids[u], out var uuid)) { errors.Add($"{path}.uuids[{u}]: '{sp.Uuids[u]}' is not a UUID (8-4-4-4-12 hex digits)"); continue; }
                    if (uuid.IsNil) { errors.Add($"{path}.uuids[{u}]: the nil UUID cannot name a partition"); continue; }
                    if (uuids.Contains(uuid)) { errors.Add($"{path}.uuids[{u}]: duplicate UUID {uuid}"); continue; }
                    uuids.Add(uuid);
                }
            }

            ushort contexts = 1;
            if (sp.ExecutionContexts is not null && TryNumber(sp.ExecutionContexts, $"{path}.executionContexts", errors, out var ctx))
            {
                if (ctx is < 1 or > MaxVcpus) errors.Add($"{path}.executionContexts: {ctx} is outside 1..{MaxVcpus}");
                else contexts = (ushort)ctx;
            }

            var spVersion = version;
            if (sp.Version is not null && ParseVersion(sp.Version, $"{path}.version", errors) is { } pv)
            {
                if (!pv.IsCompatibleWith(version)) errors.Add($"{path}.version: {pv} is above the SPMC's {version}");
                else spVersion = pv;
            }

            var imageUuid = default(FfaUuid);
            if (sp.ImageUuid is not null)
            {
                if (!FfaUuid.TryParse(sp.ImageUuid, out imageUuid)) errors.Add($"{path}.imageUuid: '{Truncate(sp.ImageUuid)}' is not a UUID (8-4-4-4-12 hex digits)");
                else if (spVersion < FfaVersion.V1_3) errors.Add($"{path}.imageUuid: an image UUID is reported from FF-A 1.3, the partition is at {spVersion}");
            }

            var props = sp.Properties ?? new ManifestDocument.PropertiesSection();
            var caps = new PartitionCapabilities(props.DirectRequestReceive, props.DirectRequestSend, props.DirectRequest2Receive,
                props.DirectRequest2Send, props.IndirectMessaging, props.Notifications, props.Smc64CpuCycles,
                props.VmCreatedMessages, props.VmDestroyedMessages);
            if ((caps.VmCreatedMessages || caps.VmDestroyedMessages) && !caps.DirectRequestReceive)
                errors.Add($"{path}.properties: VM availability messages are direct requests: they need directRequestReceive");
            if (caps.Smc64CpuCycles && spVersion < FfaVersion.V1_3)
                errors.Add($"{path}.properties: smc64CpuCycles (the SMC64 CPU-cycle IDs) needs FF-A 1.3, the partition is at {spVersion}");
            if (!caps.DirectRequestReceive && !caps.DirectRequestSend && !caps.DirectRequest2Receive && !caps.DirectRequest2Send && !caps.IndirectMessaging)
                errors.Add($"{path}.properties: at least one messaging method must be set (Hafnium rejects messaging-method 0)");
            if ((caps.DirectRequest2Receive || caps.DirectRequest2Send) && spVersion < FfaVersion.V1_2)
                errors.Add($"{path}.properties: direct request 2 needs FF-A 1.2, the partition is at {spVersion}");
            if ((caps.IndirectMessaging || caps.Notifications) && spVersion < FfaVersion.V1_1)
                errors.Add($"{path}.properties: indirect messaging and notifications need FF-A 1.1, the partition is at {spVersion}");

            string? behaviour = null;
            if (sp.Behaviour is not null)
            {
                if (!Behaviours.Names.Contains(sp.Behaviour))
                    errors.Add($"{path}.behaviour: unknown behaviour '{Truncate(sp.Behaviour)}' (known: {string.Join(", ", Behaviours.Names)})");
                else behaviour = sp.Behaviour;
                if (behaviour == Behaviours.Relay && !(caps.DirectRequestReceive && caps.DirectRequestSend))
                    errors.Add($"{path}.behaviour: 'relay' forwards direct requests: it needs directRequestReceive and directRequestSend");
                if (behaviour == Behaviours.Memory && !(sp.Memory is { Count: > 0 }))
                    errors.Add($"{path}.behaviour: 'memory' needs a memory region (it maps its RX/TX in the last two pages of the first one)");
                else if (behaviour == Behaviours.Memory && sp.Memory![0] is { } first && (first.Access == "ro" || first.Device == true))
                    errors.Add($"{path}.behaviour: 'memory' maps its RX/TX in its first region, which must be normal read-write memory");
            }

            partitions.Add(new PartitionConfig(id, name, uuids, contexts, spVersion, caps, ParseRegions(sp.Memory, path, errors, regions), behaviour, imageUuid));
        }

        // A pKVM proxy takes its own RX/TX pages from the top of the host's (VM 0's) highest memory region.
        if (ProxyProfiles.HostMemoryProblem(proxy, proxyOptions ?? ProxyOptions.Default, vms.FirstOrDefault(v => v.Id == EndpointId.Hypervisor)) is { } hostProblem)
            errors.Add(hostProblem);

        if (errors.Count > 0) throw new InvalidRequestException("invalid manifest: " + string.Join("; ", errors));
        return new SystemConfig(spmcId, version, rxtxMaxPages, proxy, vms, partitions, remoteTimeoutMs, registers, proxyOptions, compat);
    }

    private static IReadOnlyList<MemoryRange> ParseRegions(List<ManifestDocument.RegionSection>? docs, string owner, List<string> errors,
        List<(MemoryRange Range, string Path)> all)
    {
        var result = new List<MemoryRange>();
        if (docs is null) return result;
        if (docs.Count > MaxRegionsPerEndpoint) { errors.Add($"{owner}.memory: {docs.Count} regions, at most {MaxRegionsPerEndpoint}"); return result; }
        for (var r = 0; r < docs.Count; r++)
        {
            var path = $"{owner}.memory[{r}]";
            var doc = docs[r];
            if (doc is null) { errors.Add($"{path}: null"); continue; }
            var okBase = TryNumber(doc.Base, $"{path}.base", errors, out var @base);
            var okSize = TryNumber(doc.Size, $"{path}.size", errors, out var size);
            if (!okBase || !okSize) continue;
            if (@base % PageSize != 0) { errors.Add($"{path}.base: 0x{@base:X} is not 4 KiB aligned"); continue; }
            if (size == 0 || size % PageSize != 0) { errors.Add($"{path}.size: 0x{size:X} is not a non-zero multiple of 4 KiB"); continue; }
            if (@base > ulong.MaxValue - size) { errors.Add($"{path}: 0x{@base:X} + 0x{size:X} overflows the 64-bit address space"); continue; }
            var readOnly = false;
            if (doc.Access is not null)
            {
                if (doc.Access is not ("rw" or "ro")) { errors.Add($"{path}.access: '{Truncate(doc.Access)}' is not an access (expected rw or ro)"); continue; }
                readOnly = doc.Access == "ro";
            }
            var range = new MemoryRange(@base, size, readOnly, doc.Device ?? false);
            var clash = all.FirstOrDefault(x => x.Range.Overlaps(range));
            if (clash.Path is not null) { errors.Add($"{path}: {range} overlaps {clash.Path} ({clash.Range})"); continue; }
            all.Add((range, path));
            result.Add(range);
        }
        return result;
    }

    private static FfaVersion? ParseVersion(string text, string field, List<string> errors)
    {
        if (!FfaVersion.TryParse(text, out var v)) { errors.Add($"{field}: '{text}' is not a version (expected 1.0, 1.1, 1.2 or 1.3)"); return null; }
        if (!FfaVersion.Supported.Contains(v)) { errors.Add($"{field}: {v} is not supported (expected 1.0, 1.1, 1.2 or 1.3)"); return null; }
        return v;
    }

    private static bool TryEndpoint(string? text, string field, List<string> errors, out ushort id)
    {
        id = 0;
        if (!TryNumber(text, field, errors, out var value)) return false;
        if (value > 0xFFFF) { errors.Add($"{field}: 0x{value:X} is not a 16-bit endpoint ID"); return false; }
        id = (ushort)value;
        return true;
    }

    private static bool TryNumber(string? text, string field, List<string> errors, out ulong value)
    {
        if (Numbers.TryParseU64(text, out value)) return true;
        errors.Add(text is null ? $"{field}: required" : $"{field}: '{text}' is not a number (use 0x-prefixed hex or decimal)");
        return false;
    }

    private static void CheckUnique(ushort id, string field, Dictionary<ushort, string> ids, List<string> errors)
    {
        if (ids.TryGetValue(id, out var first)) errors.Add($"{field}: duplicate endpoint ID 0x{id:X4} (also {first})");
        else ids[id] = field;
    }

    /// <summary>The manifest names of <see cref="CompatSwitches"/>.</summary>
    private static readonly Dictionary<string, CompatSwitches> CompatNames = new(StringComparer.Ordinal)
    {
        ["arm-ffa-emad-reserved"] = CompatSwitches.ArmFfaEmadReserved,
    };

    private static string Truncate(string text) => text.Length > MaxNameLength ? text[..MaxNameLength] + "..." : text;

    private static string CheckName(string? name, string field, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(name)) { errors.Add($"{field}: required"); return ""; }
        if (name.Length > MaxNameLength) { errors.Add($"{field}: longer than {MaxNameLength} characters"); return name[..MaxNameLength]; }
        return name;
    }

    /// <summary>The canonical manifest of a validated configuration (hex numbers, every default written out).</summary>
    public static ManifestDocument ToDocument(SystemConfig config) => new()
    {
        Spmc = new ManifestDocument.SpmcSection
        {
            Id = $"0x{config.SpmcId:X4}",
            Version = config.Version.ToString(),
            RxtxMaxPages = config.RxTxMaxPages.ToString(),
            RemoteTimeoutMs = config.RemoteTimeoutMs.ToString(),
            Registers = config.Registers.ToString().ToLowerInvariant(),
            Compat = config.Compat == CompatSwitches.None ? null
                : CompatNames.Where(n => config.Compat.HasFlag(n.Value)).Select(n => n.Key).ToList(),
        },
        Proxy = config.ProxyProfile,
        ProxyOptions = config.ProxyOptions is { } o
            ? new ManifestDocument.ProxyOptionsSection { PageSize = o.PageSize.ToString(), FfaDriverBuiltIn = o.FfaDriverBuiltIn }
            : null,
        Vms = config.Vms.Select(vm => new ManifestDocument.VmSection
        {
            Id = $"0x{vm.Id:X4}",
            Name = vm.Name,
            Vcpus = vm.Vcpus.ToString(),
            Memory = Regions(vm.Memory),
        }).ToList(),
        Partitions = config.Partitions.Select(sp => new ManifestDocument.PartitionSection
        {
            Id = $"0x{sp.Id:X4}",
            Name = sp.Name,
            Uuids = sp.Uuids.Select(u => u.ToString()).ToList(),
            ImageUuid = sp.ImageUuid.IsNil ? null : sp.ImageUuid.ToString(),
            ExecutionContexts = sp.ExecutionContexts.ToString(),
            Version = sp.Version.ToString(),
            Properties = new ManifestDocument.PropertiesSection
            {
                DirectRequestReceive = sp.Capabilities.DirectRequestReceive,
                DirectRequestSend = sp.Capabilities.DirectRequestSend,
                DirectRequest2Receive = sp.Capabilities.DirectRequest2Receive,
                DirectRequest2Send = sp.Capabilities.DirectRequest2Send,
                IndirectMessaging = sp.Capabilities.IndirectMessaging,
                Notifications = sp.Capabilities.Notifications,
                Smc64CpuCycles = sp.Capabilities.Smc64CpuCycles,
                VmCreatedMessages = sp.Capabilities.VmCreatedMessages,
                VmDestroyedMessages = sp.Capabilities.VmDestroyedMessages,
            },
            Memory = Regions(sp.Memory),
            Behaviour = sp.Behaviour,
        }).ToList(),
    };

    private static List<ManifestDocument.RegionSection> Regions(IEnumerable<MemoryRange> ranges) =>
        ranges.Select(r => new ManifestDocument.RegionSection
        {
            Base = $"0x{r.Base:X}",
            Size = $"0x{r.Size:X}",
            Access = r.ReadOnly ? "ro" : null,
            Device = r.Device ? true : null,
        }).ToList();
}
