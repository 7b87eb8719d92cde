using Spmc.Abi.Descriptors;
using Spmc.Abi.Descriptors.Memory;
using Spmc.Abi.Ffa;
using Spmc.Core.Calls;
using Spmc.Core.Spm.Shares;

namespace Spmc.Core.Spm.Handlers;

/// <summary>Checks that memory send, retrieve and reclaim share (Hafnium ffa_memory.c).</summary>
internal static class MemoryChecks
{
    /// <summary>Reads w1/w2 lengths; for SMC64 the upper halves must be zero (the lengths are 32-bit).</summary>
    public static string? Lengths(Call c, out int total, out int fragment)
    {
        total = fragment = 0;
        if (c[1] > uint.MaxValue || c[2] > uint.MaxValue) return "lengths in x1/x2 must fit in 32 bits";
        if (c[1] > int.MaxValue || c[2] > int.MaxValue) return $"total length {c[1]} or fragment length {c[2]} is absurdly large";
        (total, fragment) = ((int)c[1], (int)c[2]);
        return null;
    }

    /// <summary>EMAD size rules: 16 for v1.0/1.1 callers, 16 or 32 for v1.2 callers (Hafnium).</summary>
    public static string? LayoutError(MemoryTransactionDescriptor d, Endpoint caller)
    {
        if (d.Layout == MemoryDescriptorLayout.V1_0 || d.EmadSize == 0) return null;
        if (d.EmadSize > EndpointMemoryAccess.SizeV1_0 && caller.Version < FfaVersion.V1_2)
            return $"{d.EmadSize}-byte receiver descriptors are FF-A 1.2; the caller uses {caller.Version}";
        if (d.EmadSize > EndpointMemoryAccess.SizeV1_2)
            return $"{d.EmadSize}-byte receiver descriptors are newer than FF-A {caller.Version}";
        return null;
    }

    /// <summary>
    /// Memory region attributes (Hafnium): reserved bits and the NS bit are INVALID; DONATE and single-borrower
    /// LEND must leave the type unspecified (INVALID); SHARE and multi-borrower LEND must give Normal
    /// write-back inner-shareable or Device-nGnRnE inner-shareable, the only ones Hafnium accepts (DENIED).
    /// A retrieve request may leave the type unspecified.
    /// </summary>
    public static (FfaError?, string?) AttributesError(MemoryRegionAttributes attributes, MemoryOperation op, int receivers, bool forRetrieve)
    {
        if (attributes.ReservedBitsSet) return (FfaError.InvalidParameters, $"attributes {attributes}: bits[15:7] are reserved");
        if (attributes.NonSecure) return (FfaError.InvalidParameters, $"attributes {attributes}: the NS bit is set by the SPMC, never by the caller");
        var singleBorrower = op == MemoryOperation.Donate || (op == MemoryOperation.Lend && receivers == 1);
        if (forRetrieve)
        {
            // A retriever may leave the type unspecified and learn it from the response (Hafnium).
            if (attributes.Type == MemoryType.NotSpecified) return (null, null);
        }
        else if (singleBorrower)
        {
            return attributes.Type == MemoryType.NotSpecified ? (null, null)
                : (FfaError.InvalidParameters, $"attributes {attributes}: {(op == MemoryOperation.Donate ? "DONATE" : "LEND to one borrower")} must leave the memory type unspecified");
        }
        // Hafnium's ffa_memory_attributes_validate: Normal must be write-back, Device must be nGnRnE, and the
        // shareability must be inner for every type (so SHARE with attributes 0 is DENIED).
        if (attributes.Type == MemoryType.Normal && attributes.Cacheability != Cacheability.WriteBack)
            return (FfaError.Denied, $"attributes {attributes}: Normal memory must be write-back");
        if (attributes.Type == MemoryType.Device && attributes.DeviceAttributes != 0)
            return (FfaError.Denied, $"attributes {attributes}: Device memory must be nGnRnE");
        if (attributes.Shareability != Shareability.InnerShareable)
            return (FfaError.Denied, $"attributes {attributes}: the shareability must be inner (Normal write-back inner-shareable is 0x2F)");
        return (null, null);
    }

    public static ulong Handle(Call c) => (c[1] & 0xFFFF_FFFF) | ((c[2] & 0xFFFF_FFFF) << 32);

    /// <summary>The transaction a handle names, or the INVALID_PARAMETERS answer saying why there is none.</summary>
    public static FfaAnswer? ShareFor(Call c, SortedDictionary<ulong, ShareState> shares, ulong handle, out ShareState share)
    {
        share = null!;
        if ((handle & MemoryHandle.HypervisorAllocatedBit) != 0)
            return c.Fail(FfaError.InvalidParameters, $"handle 0x{handle:X} has bit 63 set: the hypervisor allocated it, the SPMC does not know it");
        if (!shares.TryGetValue(handle, out var found)) return c.Fail(FfaError.InvalidParameters, $"handle 0x{handle:X} is unknown");
        if (!found.SendingComplete) return c.Fail(FfaError.InvalidParameters, $"handle 0x{handle:X} is still being sent ({found.Received} of {found.Pending!.Length} bytes)");
        share = found;
        return null;
    }
}
