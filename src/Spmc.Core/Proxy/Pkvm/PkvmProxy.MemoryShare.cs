using Spmc.Abi.Calls;
using Spmc.Abi.Ffa;

namespace Spmc.Core.Proxy.Pkvm;

/// <summary>FFA_MEM_SHARE, FFA_MEM_LEND and FFA_MEM_FRAG_TX (__do_ffa_mem_xfer, do_ffa_mem_frag_tx; digest §4).</summary>
public sealed partial class PkvmProxy
{
    /// <summary>One 16-byte constituent as pKVM reads it: {u64 address, u32 pg_cnt, u32 reserved}.</summary>
    private readonly record struct Range(ulong Address, uint PageCount);

    /// <summary>
    /// A share or lend of either width, re-issued to the SPMC as the 64-bit form (x1 = len, x2 = fraglen, the rest 0)
    /// from the hypervisor's TX, after the checks below in order (the first failure wins) and after every
    /// constituent of the first fragment moved OWNED → SHARED_OWNED in the host stage 2. Whatever the SPMC answers
    /// goes to the host verbatim; if it is not the expected success, the pages are unshared again.
    /// </summary>
    private Reply DoFfaMemXfer(HostCall c, bool share)
    {
        var name = share ? "FFA_MEM_SHARE" : "FFA_MEM_LEND";
        // __do_ffa_mem_xfer reads w1/w2 as u32 and all of x3 whatever the width, and only the low 32 bits of x4;
        // MemShare.Decode would read x1/x2 of an SMC64 call and w3 of an SMC32 one, and refuse lengths above 2^31.
        MemTransactionCall host = share
            ? new MemShare(c.U32(1), c.U32(2), c.U64(3), c.U32(4), c.Frame.Is64)
            : new MemLend(c.U32(1), c.U32(2), c.U64(3), c.U32(4), c.Frame.Is64);
        uint len = host.TotalLength, fraglen = host.FragmentLength;
        if (host.UsesOwnBuffer)
            return Err(PkvmRules.ShareDynamicBuffer, $"{name}: x3 (address) and w4 (page count) must be zero: no dynamically allocated buffers (x3 = 0x{host.Buffer:X}, w4 = 0x{host.PageCount:X})");
        if (fraglen > len) return Err(PkvmRules.ShareFragmentExceedsTotal, $"{name}: fragment length {fraglen} exceeds the total length {len}");
        if (fraglen > PageSize) return Err(PkvmRules.ShareFragmentExceedsPage, $"{name}: fragment length {fraglen} exceeds PAGE_SIZE ({PageSize})");
        var minimum = MinFragment();
        if (fraglen < minimum)
            return Err(PkvmRules.ShareFragmentTooShort, $"{name}: fragment length {fraglen} is below the {minimum} bytes of a header and one EMAD ({MinFragmentWhy()})");
        if (_hostTx is not { } hostTx) return Err(PkvmRules.ShareNoTx, $"{name}: the host has no TX buffer registered (FFA_RXTX_MAP first)");
        // ffa_desc_buf.len: NO_MEMORY, not INVALID_PARAMETERS (6.10+; 6.3 leaves the length to the SPMC).
        if (_p.ChecksShareLength && len > _p.DescriptorBufferBytes)
            return Err(PkvmRules.ShareDescriptorTooLong, $"{name}: total length {len} exceeds the {_p.DescriptorBufferBytes}-byte descriptor buffer (ffa_desc_buf)");

        // Everything from here on reads the hypervisor's copy: exactly what the SPMC will see.
        Copy(hostTx, _hypTx, (int)fraglen);

        var emadOffset = EmadOffset(_hypTx);
        // a6b49d27 (7.2): the EMAD, found through the host's ep_mem_offset since b4d96135, must lie in the fragment.
        if (_p.ChecksEmadBounds && (ulong)emadOffset + EmadSize() > fraglen)
            return Err(PkvmRules.ShareEmadOutsideFragment, $"{name}: the EMAD at offset {emadOffset} (+{EmadSize()}) is not inside the {fraglen}-byte fragment");
        var compositeOffset = ReadU32(_hypTx + emadOffset + 4);
        var endpoints = ReadU32(_hypTx + 28);
        var sender = ReadU16(_hypTx);
        if (compositeOffset == 0) return Err(PkvmRules.ShareCompositeOffsetZero, $"{name}: the EMAD's composite offset is 0");
        if (endpoints != 1) return Err(PkvmRules.ShareEndpointCount, $"{name}: ep_count {endpoints} is not 1");
        if (sender != HostId) return Err(PkvmRules.ShareSenderNotHost, $"{name}: sender_id {EndpointId.Format(sender)} is not HOST_FFA_ID (0)");
        // check_add_overflow (6.10+); 6.3 lets the offset wrap and reads outside the TX page (noted below).
        if (_p.ChecksCompositeOverflow && compositeOffset > uint.MaxValue - 16)
            return Err(PkvmRules.ShareCompositeOverflow, $"{name}: composite offset 0x{compositeOffset:X} + 16 overflows a u32");
        var compositeEnd = unchecked(compositeOffset + 16);
        if (fraglen < compositeEnd)
            return Err(PkvmRules.ShareCompositeOutsideFragment, $"{name}: the composite header at {compositeOffset} (+16) is not inside the {fraglen}-byte fragment");
        if (compositeEnd < compositeOffset)
            c.Notes.Add($"pKVM {_p.Name} has no overflow check: composite offset 0x{compositeOffset:X} + 16 wrapped to {compositeEnd}, " +
                        "so the constituents are read outside the hypervisor's TX page (an EL2 out-of-bounds read).");
        var rangeBytes = unchecked(fraglen - compositeEnd); // pointer difference, as a u32: counted from fraglen
        if (rangeBytes % 16 != 0)
            return Err(PkvmRules.SharePartialConstituent, $"{name}: the {rangeBytes} bytes after the composite header are not whole 16-byte constituents");

        var ranges = ReadRanges(_hypTx + compositeOffset + 16, rangeBytes / 16);
        if (ShareRanges(c, ranges) is { } denied)
            return Err(denied.Unaligned ? PkvmRules.ShareRangeUnaligned : PkvmRules.ShareRangeNotOwned,
                $"{name}: {denied.Why}; the ranges shared before it were unshared, nothing was sent to the SPMC");

        IFfaCall reissued = share ? new MemShare(len, fraglen, Is64: true) : new MemLend(len, fraglen, Is64: true);
        var answer = Smc(c, reissued);
        var res = new Res(answer.Frame);
        var expected = fraglen != len ? res.Is(Fid.MemFragRx) && res.A3 == fraglen : res.Is(Fid.Success);
        if (!expected)
        {
            UnshareRanges(c, ranges); // rollback of this fragment's stage-2 change; the SPMC's answer still goes to the host
            c.Notes.Add(fraglen != len
                ? $"pKVM expected FFA_MEM_FRAG_RX with w3 = {fraglen}: the first fragment's pages were unshared again."
                : "pKVM expected FFA_SUCCESS: the pages were unshared again.");
        }
        return Verbatim(answer);
    }

    /// <summary>
    /// FFA_MEM_FRAG_TX(w1/w2 = handle, w3 = fragment length, w4 = endpoint): the fragment is an array of
    /// constituents. If sharing them fails the whole transaction is aborted with FFA_MEM_RECLAIM and the host
    /// gets DENIED; pages of earlier fragments stay shared for good. The handle is not checked.
    /// </summary>
    private Reply DoFfaMemFragTx(HostCall c)
    {
        // pKVM forwards all of w4 (MemFragTx.Decode would refuse w4[15:0] ≠ 0, and its encoder drops those bits).
        var handle = MemoryHandle.FromRegisters(c.U32(1), c.U32(2));
        uint fraglen = c.U32(3), endpoint = c.U32(4);
        if (fraglen > PageSize) return Err(PkvmRules.FragTxExceedsPage, $"FFA_MEM_FRAG_TX: fragment length {fraglen} exceeds PAGE_SIZE ({PageSize})");
        if (fraglen % 16 != 0) return Err(PkvmRules.FragTxPartialConstituent, $"FFA_MEM_FRAG_TX: fragment length {fraglen} is not whole 16-byte constituents");
        if (_hostTx is not { } hostTx) return Err(PkvmRules.FragTxNoTx, "FFA_MEM_FRAG_TX: the host has no TX buffer registered");

        Copy(hostTx, _hypTx, (int)fraglen);
        var ranges = ReadRanges(_hypTx, fraglen / 16);
        if (ShareRanges(c, ranges) is { } denied)
        {
            // Abort the transaction at the SPMC; its answer is overwritten by DENIED.
            var reclaim = Smc(c, new MemReclaim(handle, 0));
            var reclaimRes = new Res(reclaim.Frame);
            if (!reclaimRes.Is(Fid.Success)) c.Notes.Add($"WARN: the aborting FFA_MEM_RECLAIM answered 0x{reclaimRes.A0:X} ({reclaim.Error?.Name()}).");
            return Err(denied.Unaligned ? PkvmRules.FragTxRangeUnaligned : PkvmRules.FragTxRangeNotOwned,
                $"FFA_MEM_FRAG_TX: {denied.Why}; the transaction was aborted with FFA_MEM_RECLAIM and " +
                "pages shared by earlier fragments stay shared-owned for good");
        }

        var answer = Smc(c.Spmc, c.Request.Vcpu, Regs.Frame(Fid.MemFragTx, handle.Low, handle.High, fraglen, endpoint));
        var res = new Res(answer.Frame);
        if (!res.Is(Fid.Success) && !res.Is(Fid.MemFragRx))
        {
            UnshareRanges(c, ranges); // rollback of this fragment only
            c.Notes.Add("pKVM unshared this fragment's pages again (the SPMC answered neither FFA_SUCCESS nor FFA_MEM_FRAG_RX).");
        }
        return Verbatim(answer);
    }

    /// <summary>The minimum first fragment for this release and the negotiated version.</summary>
    private uint MinFragment() => _p.MinFragment switch
    {
        MinFragmentRule.V1_0Structs => 32 + 16,
        MinFragmentRule.V1_1Structs => 48 + 16,
        MinFragmentRule.V1_2Structs => 48 + 32,
        _ => HeaderSize() + EmadSize(),
    };

    private string MinFragmentWhy() => _p.MinFragment switch
    {
        MinFragmentRule.V1_0Structs => "v1.0 structs: 32 + 16",
        MinFragmentRule.V1_1Structs => "sizeof the 48-byte header + 16-byte EMAD",
        MinFragmentRule.V1_2Structs => "sizeof the 48-byte header + 32-byte v1.2 EMAD, whatever was negotiated",
        _ => $"FFA_MEM_REGION_SZ + EMAD size at v{FormatVersion(_hypVersion)}: {HeaderSize()} + {EmadSize()}",
    };

    /// <summary>FFA_MEM_REGION_SZ(hyp version): the 32-byte v1.0 header or the 48-byte one.</summary>
    private uint HeaderSize() => _hypVersion <= 0x1_0000 ? 32u : 48u;

    /// <summary>ffa_emad_size_get(hyp version): 16 bytes up to v1.1, 32 from v1.2.</summary>
    private uint EmadSize() => _hypVersion < 0x1_0002 ? 16u : 32u;

    /// <summary>ffa_mem_desc_offset(buf, 0, hyp version) of the descriptor at <paramref name="descriptor"/>.</summary>
    private uint EmadOffset(ulong descriptor)
    {
        if (_hypVersion <= 0x1_0000) return 32;
        return _p.EmadOffset == EmadOffsetRule.EpMemOffset ? ReadU32(descriptor + 32) : 48;
    }

    /// <summary>The <paramref name="count"/> constituents at <paramref name="at"/>: at most a PAGE_SIZE fragment's 256.</summary>
    private List<Range> ReadRanges(ulong at, uint count)
    {
        var ranges = new List<Range>((int)count);
        for (var i = 0u; i < count; i++) ranges.Add(new Range(ReadU64(at + 16 * i), ReadU32(at + 16 * i + 8)));
        return ranges;
    }

    /// <summary>Why ffa_host_share_ranges stopped: an unaligned constituent (7.2+) or one that is not host-owned memory.</summary>
    private readonly record struct ShareFailure(bool Unaligned, string Why);

    /// <summary>
    /// ffa_host_share_ranges: each constituent in turn; stop at the first that is unaligned or cannot move OWNED →
    /// SHARED_OWNED, unshare those already done and say why (→ DENIED). Null when every range was shared.
    /// </summary>
    private ShareFailure? ShareRanges(HostCall c, List<Range> ranges)
    {
        for (var i = 0; i < ranges.Count; i++)
        {
            var (address, size, why) = Page(c, ranges[i], i);
            var unaligned = why is not null;
            // A stage-2 fault rule fails the last constituent, so the ones before it are rolled back.
            if (why is null && i == ranges.Count - 1) why = TakeStage2Fault("__pkvm_host_share_ffa");
            why ??= _stage2!.ShareFfa(address, size / PageSize);
            if (why is null) continue;
            var undone = UnshareRanges(c, ranges.GetRange(0, i));
            if (undone != i) c.Notes.Add($"WARN: rolling back the first {i} constituents unshared only {undone}.");
            return new ShareFailure(unaligned,
                $"constituent {i} (0x{ranges[i].Address:X}, {ranges[i].PageCount} page{(ranges[i].PageCount == 1 ? "" : "s")}) cannot be shared with FF-A: {why}");
        }
        return null;
    }

    /// <summary>ffa_host_unshare_ranges: SHARED_OWNED → OWNED for each constituent until one fails; how many were done.</summary>
    private int UnshareRanges(HostCall c, List<Range> ranges, bool faultable = false)
    {
        for (var i = 0; i < ranges.Count; i++)
        {
            var (address, size, why) = Page(c, ranges[i], i, quiet: true);
            // A stage-2 fault rule fails the reclaim's first unshare (ffa_host_unshare_ranges stops there).
            if (why is null && faultable && i == 0) why = TakeStage2Fault("__pkvm_host_unshare_ffa");
            why ??= _stage2!.UnshareFfa(address, size / PageSize);
            if (why is null) continue;
            c.Notes.Add($"WARN: unsharing constituent {i} (0x{ranges[i].Address:X}) failed: {why}.");
            return i;
        }
        return ranges.Count;
    }

    /// <summary>
    /// The page range pKVM derives from a constituent: size = pg_cnt × 4096 must be PAGE_SIZE aligned, and from
    /// 6a7a181f the address too; before, the address is truncated to its pfn.
    /// </summary>
    private (ulong Address, ulong Size, string? Why) Page(HostCall c, Range range, int index, bool quiet = false)
    {
        var size = (ulong)range.PageCount * FfaPage.Size;
        var misaligned = _p.ChecksConstituentAlignment ? ((size | range.Address) % PageSize) != 0 : size % PageSize != 0;
        if (misaligned) return (0, 0, $"address 0x{range.Address:X} is not PAGE_SIZE aligned");
        var page = range.Address & ~(ulong)(PageSize - 1);
        if (page != range.Address && !quiet)
            c.Notes.Add($"pKVM {_p.Name} truncates constituent {index}'s address 0x{range.Address:X} to its page 0x{page:X} (alignment checked from 6a7a181f, 7.2).");
        return (page, size, null);
    }
}
