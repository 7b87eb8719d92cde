using Spmc.Abi.Calls;
using Spmc.Abi.Ffa;

namespace Spmc.Core.Proxy.Pkvm;

/// <summary>RX/TX buffers and partition discovery (do_ffa_rxtx_map, do_ffa_rxtx_unmap, do_ffa_part_get; digest §3).</summary>
public sealed partial class PkvmProxy
{
    /// <summary>
    /// FFA_FN64_RXTX_MAP(x1 = TX, x2 = RX, w3 = pages): the hypervisor registers its OWN pair with the SPMC, then
    /// shares the host's pages with itself (OWNED → SHARED_OWNED) and pins them. The host's pages never reach the SPMC.
    /// </summary>
    private Reply DoFfaRxTxMap(HostCall c)
    {
        // pKVM reads w3 as a u32 with no check of x3[63:32], which RxTxMap.Decode would refuse (rxtx-map.x3-high-mbz).
        var host = new RxTxMap(c.U64(1), c.U64(2), c.U32(3));
        ulong tx = host.Tx, rx = host.Rx;
        var pages = host.PageCount;
        var expected = _p.FfaPagesPerPage; // PAGE_SIZE / FFA_PAGE_SIZE: 1, or 4 on a 16K-page host
        if (pages != expected)
            return Err(PkvmRules.RxTxMapPageCount, $"FFA_RXTX_MAP page count {pages} is not PAGE_SIZE/4096 ({expected})");
        if (tx % PageSize != 0 || rx % PageSize != 0)
            return Err(PkvmRules.RxTxMapUnaligned, $"FFA_RXTX_MAP TX 0x{tx:X} and RX 0x{rx:X} must be PAGE_SIZE aligned");
        if (_hostTx is not null)
            return Err(PkvmRules.RxTxMapAlreadyMapped, $"FFA_RXTX_MAP: the host already registered TX 0x{_hostTx:X} / RX 0x{_hostRx:X} (FFA_RXTX_UNMAP first)");

        // Map the hypervisor's buffers into the SPMC before sharing the host's with the hypervisor.
        var map = Smc(c, new RxTxMap(_hypTx, _hypRx, pages));
        var mapRes = new Res(map.Frame);
        if (!mapRes.Is(Fid.Success))
        {
            // ffa_map_hyp_buffers returns res.a2 as an int whatever a0 was (and 0 as success).
            var ret = (int)(uint)mapRes.A2;
            if (ret != 0)
            {
                var reason = $"pKVM: FFA_RXTX_MAP: the SPMC refused the hypervisor's own buffers (w2 = {((FfaError)ret).Name()}): {map.Reason}";
                // The error is the SPMC's: so is the rule, when the SPMC gave one.
                var refusal = map.Rejection ?? PkvmRules.RxTxMapSpmcRefused.Reject();
                return Err(refusal with { Code = (FfaError)ret, Reason = reason });
            }
            c.Notes.Add("pKVM takes a failed map whose w2 is 0 (ret = res.a2) for success and carries on.");
        }

        var stage2 = _stage2!;
        if (stage2.ShareHyp(tx, "host TX") is { } txWhy)
        {
            Smc(c, new RxTxUnmap(HostId)); // rollback: the hypervisor's buffers out of the SPMC again
            return Err(PkvmRules.RxTxMapShareFailed, $"FFA_RXTX_MAP: __pkvm_host_share_hyp(TX 0x{tx:X}) failed: {txWhy}; the hyp buffers were unmapped again");
        }
        if (stage2.ShareHyp(rx, "host RX") is { } rxWhy)
        {
            stage2.UnshareHyp(tx);              // rollback: the TX share
            Smc(c, new RxTxUnmap(HostId));      // rollback: the hypervisor's buffers
            return Err(PkvmRules.RxTxMapShareFailed, $"FFA_RXTX_MAP: __pkvm_host_share_hyp(RX 0x{rx:X}) failed: {rxWhy}; TX unshared and the hyp buffers unmapped again");
        }
        // hyp_pin_shared_mem on both pages cannot fail on pages just shared with the hypervisor.
        (_hostTx, _hostRx) = (tx, rx);
        return Ok();
    }

    /// <summary>FFA_RXTX_UNMAP(w1 = 0): unshare the host's pages, forget them, unmap the hypervisor's pair (result ignored).</summary>
    private Reply DoFfaRxTxUnmap(HostCall c)
    {
        // pKVM compares all of w1 with HOST_FFA_ID; RxTxUnmap.Decode would refuse w1[15:0] ≠ 0 by an SPMC rule instead.
        var id = c.U32(1);
        if (id != HostId) return Err(PkvmRules.RxTxUnmapNotHost, $"FFA_RXTX_UNMAP w1 = 0x{id:X} is not HOST_FFA_ID (0)");
        if (_hostTx is not { } tx || _hostRx is not { } rx)
            return Err(PkvmRules.RxTxUnmapNotMapped, "FFA_RXTX_UNMAP: the host has no RX/TX buffers registered");

        var stage2 = _stage2!;
        if (stage2.UnshareHyp(tx) is { } txWhy) c.Notes.Add($"WARN: unsharing host TX failed: {txWhy}.");
        _hostTx = null;
        if (stage2.UnshareHyp(rx) is { } rxWhy) c.Notes.Add($"WARN: unsharing host RX failed: {rxWhy}.");
        _hostRx = null;
        var unmap = Smc(c, new RxTxUnmap(HostId));
        if (!new Res(unmap.Frame).Is(Fid.Success))
            c.Notes.Add($"The SPMC refused to unmap the hypervisor's buffers ({unmap.Error?.Name()}); pKVM ignores it and answers success.");
        return Ok();
    }

    /// <summary>
    /// FFA_PARTITION_INFO_GET (L1.1+): the SPMC fills the hypervisor's RX (the only one it knows for ID 0); pKVM
    /// copies count × size bytes into the host's RX. It never releases the hyp RX: the host must FFA_RX_RELEASE.
    /// </summary>
    private Reply DoFfaPartGet(HostCall c)
    {
        if (_hostRx is not { } hostRx)
            return Err(PkvmRules.PartitionInfoNoRx, "FFA_PARTITION_INFO_GET: the host has no RX buffer registered (pKVM answers BUSY)");
        // pKVM reads w1..w4 (UUID) and w5 (flags) as u32 and forwards them; PartitionInfoGet.Decode would refuse flags bits[31:1].
        var request = new PartitionInfoGet(FfaUuid.FromRegisters32(c.U32(1), c.U32(2), c.U32(3), c.U32(4)), c.U32(5));
        var answer = Smc(c, request);
        if (!new Res(answer.Frame).Is(Fid.Success)) return Verbatim(answer);
        var success = Success.Decode(answer.Frame).Value!; // FFA_SUCCESS_32: pKVM's count and size are u32 (w2, w3)
        var count = (uint)success.Arg(2);
        if (count == 0) return Verbatim(answer);

        uint size;
        if (_hypVersion > 0x1_0000)
        {
            if (request.CountOnly) return Verbatim(answer); // nothing in RX to copy
            size = (uint)success.Arg(3);                  // the entry size as the SPMC reports it
        }
        else
        {
            size = 8; // FFA_1_0_PARTITON_INFO_SZ: v1.0 has no size in w3
        }
        var copy = unchecked(size * count);
        if (copy > PageSize)
            return Err(PkvmRules.PartitionInfoTooLarge, $"FFA_PARTITION_INFO_GET: {count} entries × {size} bytes = {copy} (u32) exceed the host's {PageSize}-byte RX");
        Copy(_hypRx, hostRx, (int)copy);
        return Verbatim(answer);
    }
}
