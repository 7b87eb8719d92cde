using Spmc.Abi.Descriptors.Memory;
using Spmc.Abi.Ffa;
using Spmc.Core.Memory;

namespace Spmc.Core.Spm.Shares;

/// <summary>
/// Answers the memory map's question for pages that are in a memory transaction: who may access them, from the
/// SPMC's share states. The map is given this when it checks an access; it never reaches into the SPMC itself.
/// </summary>
internal sealed class ShareAccess(SpmcState state) : IShareAccess
{
    /// <summary>Who may touch pages of a transaction: the sender keeps access only for SHARE; borrowers once retrieved.</summary>
    public (PageAccess Access, string? Why) AccessOf(ulong handle, ushort endpoint)
    {
        if (!state.Shares.TryGetValue(handle, out var share)) return (PageAccess.None, $"in unknown transaction 0x{handle:X}");
        if (endpoint == share.Sender)
            return share.Operation == MemoryOperation.Share ? (PageAccess.ReadWrite, null)
                : (PageAccess.None, $"{share.Name} by {EndpointId.Format(endpoint)} in handle 0x{handle:X}: no access until FFA_MEM_RECLAIM");
        var receiver = share.Receiver(endpoint);
        if (receiver is { HoldsMemory: true })
            return (receiver.GrantedData == DataAccess.ReadOnly ? PageAccess.ReadOnly : PageAccess.ReadWrite, null);
        return (PageAccess.None, $"{share.Name} by {EndpointId.Format(share.Sender)} in handle 0x{handle:X}; " +
            $"{EndpointId.Format(endpoint)} {(receiver is null ? "is not a receiver" : "has not retrieved it")}");
    }
}
