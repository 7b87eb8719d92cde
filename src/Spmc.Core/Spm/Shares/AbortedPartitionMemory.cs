using Spmc.Abi.Ffa;

namespace Spmc.Core.Spm.Shares;

/// <summary>
/// What happens to the memory transactions of a partition that calls FFA_ABORT (FF-A 1.3 §7.2.4: the partition
/// manager forcibly reclaims what the partition would have given back; R0077 lists it), as Hafnium's
/// ffa_memory_reclaim_relinquish_vm_regions does (2da53c70, b902a4d6):
/// <list type="bullet">
/// <item>memory it borrowed is relinquished on its behalf, also when it is mid-retrieve (fragments of the
/// response still to pull: Hafnium resets the retrieved count either way);</item>
/// <item>memory it lent or shared is reclaimed at once when no borrower holds it; otherwise the transaction is
/// marked for deferred reclaim: no one can retrieve it, and it is reclaimed when the last borrower relinquishes;</item>
/// <item>a transaction it was still sending (fragments outstanding) is dropped: no one could retrieve it
/// (Spmc: Hafnium skips it and its reclaim fails, leaving it pending for ever).</item>
/// </list>
/// </summary>
internal static class AbortedPartitionMemory
{
    /// <summary>Releases <paramref name="partition"/>'s transactions; returns a summary for the abort's note.</summary>
    public static string Release(SpmcContext spmc, ushort partition)
    {
        var shares = spmc.State.Shares;
        List<string> relinquished = [], reclaimed = [], deferred = [], dropped = [];
        foreach (var share in shares.Values.ToList())
        {
            if (share.Sender == partition)
            {
                if (!share.SendingComplete) { shares.Remove(share.Handle); dropped.Add(Hex(share.Handle)); continue; }
                if (share.Receivers.Any(r => r.HoldsMemory)) { share.DeferredReclaim = true; deferred.Add(Hex(share.Handle)); }
                else { spmc.Reclaim(share); reclaimed.Add(Hex(share.Handle)); }
                continue;
            }
            if (share.Receiver(partition) is { HoldsMemory: true } me)
            {
                me.State = RetrieveState.NotRetrieved;
                me.Response = null;
                relinquished.Add(Hex(share.Handle));
                ReclaimIfDeferred(spmc, share);
            }
        }
        var parts = new List<string>();
        if (relinquished.Count > 0) parts.Add($"relinquished for it: {string.Join(", ", relinquished)}");
        if (reclaimed.Count > 0) parts.Add($"reclaimed: {string.Join(", ", reclaimed)}");
        if (deferred.Count > 0) parts.Add($"reclaimed once their borrowers relinquish (no more retrieves): {string.Join(", ", deferred)}");
        if (dropped.Count > 0) parts.Add($"dropped (still being sent): {string.Join(", ", dropped)}");
        return parts.Count == 0 ? "it had no memory transactions" : $"its memory transactions: {string.Join("; ", parts)}";
    }

    /// <summary>
    /// After a borrower relinquished: a transaction whose sender aborted is reclaimed for it once no borrower holds
    /// it (Hafnium ffa_memory_relinquish: deferred reclaim). True when it was.
    /// </summary>
    public static bool ReclaimIfDeferred(SpmcContext spmc, ShareState share)
    {
        if (!share.DeferredReclaim || share.Receivers.Any(r => r.HoldsMemory)) return false;
        spmc.Reclaim(share);
        return true;
    }

    private static string Hex(ulong handle) => $"0x{handle:X}";
}
