using Spmc.Abi.Descriptors.Memory;
using Spmc.Abi.Ffa;
using Spmc.Abi.Rules;
using Spmc.Core.Spm.Shares;

namespace Spmc.Core.Spm.Handlers;

/// <summary>
/// Memory region attribute rules (<c>mem-attributes</c>), shared by the send ABIs and FFA_MEM_RETRIEVE_REQ
/// (Hafnium ffa_memory_send_validate, ffa_memory_retrieve_validate, ffa_memory_attributes_validate).
/// </summary>
public static class MemoryAttributeRules
{
    private const string Attributes = "DEN0077 v1.2 memory region attributes";

    public static readonly Rule ReservedBits = new("mem-attributes.reserved-bits", FfaError.InvalidParameters,
        "attribute bits[15:7] are reserved (MBZ)", $"{Attributes}; Hafnium ffa_memory_region_sanity_check");
    public static readonly Rule NsBit = new("mem-attributes.ns-bit", FfaError.InvalidParameters,
        "the NS bit (bit 6) is set by the SPMC in a retrieve response, never by the caller",
        $"{Attributes}; Hafnium ffa_memory_send_validate, ffa_memory_retrieve_validate");
    public static readonly Rule TypeForSingleBorrower = new("mem-attributes.type-for-single-borrower", FfaError.InvalidParameters,
        "DONATE and LEND to one borrower leave the memory type unspecified (the borrower chooses)",
        $"{Attributes}; Hafnium ffa_memory_send_validate");
    public static readonly Rule NormalNotWriteBack = new("mem-attributes.normal-not-write-back", FfaError.Denied,
        "Normal memory must be write-back cacheable", "Hafnium ffa_memory_attributes_validate");
    public static readonly Rule DeviceNotNgnrne = new("mem-attributes.device-not-ngnrne", FfaError.Denied,
        "Device memory must be nGnRnE", "Hafnium ffa_memory_attributes_validate");
    public static readonly Rule NotInnerShareable = new("mem-attributes.not-inner-shareable", FfaError.Denied,
        "the shareability must be inner, whatever the type (so SHARE with attributes 0 is refused)",
        "Hafnium ffa_memory_attributes_validate");
}

/// <summary>The rules an ABI refuses a handle by: allocated by the hypervisor, unknown, or still being sent.</summary>
internal sealed record HandleRules(Rule HypervisorAllocated, Rule Unknown, Rule Incomplete);

/// <summary>Checks that memory send, retrieve and reclaim share (Hafnium ffa_memory.c).</summary>
internal static class MemoryChecks
{
    /// <summary>EMAD size rules: 16 for v1.0/1.1 callers, 16 or 32 for v1.2 callers (Hafnium receiver_size_and_offset_valid_for_version).</summary>
    public static Rejection? LayoutError(MemoryTransactionDescriptor d, Endpoint caller, Rule rule)
    {
        if (d.Layout == MemoryDescriptorLayout.V1_0 || d.EmadSize == 0) return null;
        if (d.EmadSize > EndpointMemoryAccess.SizeV1_0 && caller.Version < FfaVersion.V1_2)
            return rule.Reject($"{d.EmadSize}-byte receiver descriptors are FF-A 1.2; the caller uses {caller.Version}");
        if (d.EmadSize > EndpointMemoryAccess.SizeV1_2)
            return rule.Reject($"{d.EmadSize}-byte receiver descriptors are newer than FF-A {caller.Version}");
        return null;
    }

    /// <summary>
    /// Memory region attributes (Hafnium): reserved bits and the NS bit are INVALID; DONATE and single-borrower
    /// LEND must leave the type unspecified (INVALID); SHARE and multi-borrower LEND must give Normal
    /// write-back inner-shareable or Device-nGnRnE inner-shareable, the only ones Hafnium accepts (DENIED).
    /// A retrieve request may leave the type unspecified.
    /// </summary>
    public static Rejection? AttributesError(MemoryRegionAttributes attributes, MemoryOperation op, int receivers, bool forRetrieve)
    {
        if (attributes.ReservedBitsSet) return MemoryAttributeRules.ReservedBits.Reject($"attributes {attributes}: bits[15:7] are reserved");
        if (attributes.NonSecure) return MemoryAttributeRules.NsBit.Reject($"attributes {attributes}: the NS bit is set by the SPMC, never by the caller");
        var singleBorrower = op == MemoryOperation.Donate || (op == MemoryOperation.Lend && receivers == 1);
        if (forRetrieve)
        {
            // A retriever may leave the type unspecified and learn it from the response (Hafnium).
            if (attributes.Type == MemoryType.NotSpecified) return null;
        }
        else if (singleBorrower)
        {
            return attributes.Type == MemoryType.NotSpecified ? null
                : MemoryAttributeRules.TypeForSingleBorrower.Reject(
                    $"attributes {attributes}: {(op == MemoryOperation.Donate ? "DONATE" : "LEND to one borrower")} must leave the memory type unspecified");
        }
        // Hafnium's ffa_memory_attributes_validate: Normal must be write-back, Device must be nGnRnE, and the
        // shareability must be inner for every type (so SHARE with attributes 0 is DENIED).
        if (attributes.Type == MemoryType.Normal && attributes.Cacheability != Cacheability.WriteBack)
            return MemoryAttributeRules.NormalNotWriteBack.Reject($"attributes {attributes}: Normal memory must be write-back");
        if (attributes.Type == MemoryType.Device && attributes.DeviceAttributes != 0)
            return MemoryAttributeRules.DeviceNotNgnrne.Reject($"attributes {attributes}: Device memory must be nGnRnE");
        if (attributes.Shareability != Shareability.InnerShareable)
            return MemoryAttributeRules.NotInnerShareable.Reject(
                $"attributes {attributes}: the shareability must be inner (Normal write-back inner-shareable is 0x2F)");
        return null;
    }

    /// <summary>
    /// True when the caller may act as <paramref name="endpoint"/> in a transaction: it is that endpoint, or it is the
    /// hypervisor (ID 0) and <paramref name="endpoint"/> is one of its VMs (Hafnium trusts the hypervisor to forward).
    /// </summary>
    public static bool ActsFor(Call c, ushort endpoint) => endpoint == c.Caller.Id || (c.FromHypervisor && EndpointId.IsVm(endpoint));

    /// <summary>The transaction a handle names, or the rejection (by one of <paramref name="rules"/>) saying why there is none.</summary>
    public static Rejection? ShareFor(SortedDictionary<ulong, ShareState> shares, MemoryHandle handle, HandleRules rules, out ShareState share)
    {
        share = null!;
        if (handle.IsHypervisorAllocated)
            return rules.HypervisorAllocated.Reject($"handle 0x{handle.Value:X} has bit 63 set: the hypervisor allocated it, the SPMC does not know it");
        if (!shares.TryGetValue(handle, out var found)) return rules.Unknown.Reject($"handle 0x{handle.Value:X} is unknown");
        if (!found.SendingComplete)
            return rules.Incomplete.Reject($"handle 0x{handle.Value:X} is still being sent ({found.Received} of {found.Pending!.Length} bytes)");
        share = found;
        return null;
    }
}
