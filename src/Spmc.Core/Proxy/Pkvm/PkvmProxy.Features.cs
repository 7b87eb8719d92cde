using Spmc.Core.Calls;

namespace Spmc.Core.Proxy.Pkvm;

/// <summary>FFA_FEATURES filtering (do_ffa_features, digest §1a).</summary>
public sealed partial class PkvmProxy
{
    /// <summary>
    /// w1 (a u32) is the ID asked about; w2 is not examined. A denied ID is NOT_SUPPORTED; SHARE and LEND (both
    /// widths) are answered at EL2 with w2 = 0 (no dynamically allocated buffers); anything else — feature IDs
    /// included — goes to the SPMC unmodified and its answer comes back verbatim.
    /// </summary>
    private FfaAnswer DoFfaFeatures(HostCall c)
    {
        // pKVM reads w1 as a u32 and checks nothing else; Features.Decode would refuse a feature ID with bits[30:8] set
        // or with input properties, which pKVM forwards for the SPMC to refuse.
        var id = c.U32(1);
        if (_p.DenyList.Contains(id))
            return Finish(c, Err(PkvmRules.FeaturesDenied, $"FFA_FEATURES: {Fid.Name(id)} is on pKVM's deny list (ffa_call_supported)"));
        if (id is Fid.MemShare32 or Fid.MemShare64 or Fid.MemLend32 or Fid.MemLend64)
            return Finish(c, Ok(0));
        return Pass(c);
    }
}
