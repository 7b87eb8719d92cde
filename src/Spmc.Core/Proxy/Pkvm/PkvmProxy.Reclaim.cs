using System.Buffers.Binary;
using Spmc.Abi.Calls;
using Spmc.Abi.Descriptors.Memory;
using Spmc.Abi.Ffa;

namespace Spmc.Core.Proxy.Pkvm;

/// <summary>FFA_MEM_RECLAIM (do_ffa_mem_reclaim, digest §4).</summary>
public sealed partial class PkvmProxy
{
    /// <summary>
    /// FFA_MEM_RECLAIM(w1/w2 = handle, w3 = flags). pKVM keeps no record of what it shared, so it asks the SPMC:
    /// a hypervisor retrieve request (sender 0, the handle, everything else zero) from its TX, the descriptor
    /// pulled from its RX (FFA_MEM_FRAG_RX for the rest) into the descriptor buffer, then FFA_MEM_RECLAIM; on
    /// success the constituents the SPMC described go SHARED_OWNED → OWNED. The host's buffers are not needed.
    /// The request is sizeof(struct ffa_mem_region) whatever version was negotiated (32 in 6.3, 48 from 6.10, so 48
    /// from a hyp at 1.0 too); the SPMC tells it apart by its receiver count and answers in the hyp's version's
    /// layout, cut where the host cut its send, which is how this loop reads it: one FFA_MEM_FRAG_RX per remaining
    /// fragment, w4 = 0 (the host, the sender of everything it reclaims).
    /// </summary>
    private Reply DoFfaMemReclaim(HostCall c)
    {
        // pKVM reads w1..w3 as u32 and forwards the flags unchecked; MemReclaim.Decode would refuse flags bits[31:1].
        var host = new MemReclaim(MemoryHandle.FromRegisters(c.U32(1), c.U32(2)), c.U32(3));
        var handle = host.Handle;

        var size = _p.RetrieveRequestSize;
        var request = new byte[size];
        BinaryPrimitives.WriteUInt16LittleEndian(request.AsSpan(MemoryTransactionDescriptor.Offsets.Sender), HostId);
        BinaryPrimitives.WriteUInt64LittleEndian(request.AsSpan(MemoryTransactionDescriptor.Offsets.Handle), handle.Value);
        _memory.WriteOnBehalf(_hypTx, request);
        var answer = Smc(c, new MemRetrieveReq((uint)size, (uint)size, Is64: true));
        if (!new Res(answer.Frame).Is(Fid.MemRetrieveResp)) return Verbatim(answer);

        var (len, fraglen) = MemRetrieveResp.Decode(answer.Frame).Value!; // pKVM's len and fraglen are u32: w1, w2
        var emadOffset = EmadOffset(_hypRx);
        if (_p.ChecksEmadBounds && (ulong)emadOffset + EmadSize() > fraglen)
        {
            ReleaseRx(c);
            return Err(PkvmRules.ReclaimEmadOutsideFragment, $"FFA_MEM_RECLAIM: the SPMC's EMAD at offset {emadOffset} (+{EmadSize()}) is not inside its {fraglen}-byte fragment");
        }
        var compositeOffset = ReadU32(_hypRx + emadOffset + 4);
        // 8c6db30d (7.2) checks the whole composite header; before, only its offset, inside a WARN_ON.
        var bogus = _p.ReclaimChecksBounds ? (ulong)compositeOffset + 16 > len : compositeOffset > len;
        if (bogus || fraglen > PageSize)
        {
            if (_p.ReclaimReleasesRx) ReleaseRx(c);
            if (!_p.ReclaimChecksBounds) c.Notes.Add($"pKVM {_p.Name} tests this inside WARN_ON, which panics the hypervisor when panic_on_warn is set.");
            return bogus
                ? Err(PkvmRules.ReclaimCompositeBeyondLength,
                    $"FFA_MEM_RECLAIM: the SPMC's composite offset {compositeOffset}{(_p.ReclaimChecksBounds ? " + 16" : "")} exceeds its total length {len}")
                : Err(PkvmRules.ReclaimFragmentExceedsPage, $"FFA_MEM_RECLAIM: the SPMC's fragment length {fraglen} exceeds PAGE_SIZE");
        }
        if (len > _p.DescriptorBufferBytes)
        {
            if (_p.ReclaimReleasesRx) ReleaseRx(c);
            return Err(PkvmRules.ReclaimDescriptorTooLong, $"FFA_MEM_RECLAIM: the SPMC's descriptor of {len} bytes exceeds the {_p.DescriptorBufferBytes}-byte descriptor buffer");
        }

        var descriptor = new byte[_p.DescriptorBufferBytes];
        _memory.Read(_hypRx, descriptor.AsSpan(0, (int)fraglen));
        if (_p.ReclaimReleasesRx) ReleaseRx(c);
        for (var offset = fraglen; offset < len; offset = unchecked(offset + fraglen))
        {
            var next = Smc(c, new MemFragRx(handle, offset, HostId));
            var nextRes = new Res(next.Frame);
            if (!nextRes.Is(Fid.MemFragTx))
                return Err(PkvmRules.ReclaimFragRxFailed, $"FFA_MEM_RECLAIM: FFA_MEM_FRAG_RX at offset {offset} answered 0x{nextRes.A0:X} ({next.Error?.Name() ?? "not FFA_MEM_FRAG_TX"}), not FFA_MEM_FRAG_TX");
            // pKVM's fraglen is a u32 taken from a3; MemFragTx.Decode would refuse an answer with w4[15:0] ≠ 0 instead.
            fraglen = (uint)nextRes.A3;
            if (fraglen == 0)
            {
                c.Notes.Add("Model: pKVM trusts per-fragment lengths and loops for ever on a 0-byte fragment; the model stops here.");
                return Err(PkvmRules.ReclaimEmptyFragment, $"FFA_MEM_RECLAIM: FFA_MEM_FRAG_RX at offset {offset} returned a 0-byte fragment (pKVM would hang)");
            }
            var room = (int)Math.Min(fraglen, (ulong)Math.Max(0, descriptor.Length - (long)offset));
            if (room < fraglen)
                c.Notes.Add($"pKVM copies the {fraglen}-byte fragment at offset {offset} past the end of its descriptor buffer (an EL2 overflow); the model keeps {room} bytes.");
            if (room > 0) _memory.Read(_hypRx, descriptor.AsSpan((int)offset, room));
            if (_p.ReclaimReleasesRx) ReleaseRx(c);
        }

        var ranges = ReadU32(descriptor, compositeOffset + 4);
        // 8c6db30d (7.2): addr_range_cnt constituents must lie within the SPMC's length; before, they were read regardless.
        if (_p.ReclaimChecksBounds && (ulong)compositeOffset + 16 + 16UL * ranges > len)
            return Err(PkvmRules.ReclaimRangesBeyondLength, $"FFA_MEM_RECLAIM: the SPMC's composite at {compositeOffset} claims {ranges} constituents, more than its {len} bytes hold");

        var reclaim = Smc(c, host);
        if (!new Res(reclaim.Frame).Is(Fid.Success)) return Verbatim(reclaim);

        // "If the SPMD was happy, then we should be too": unshare what the SPMC's descriptor lists.
        // Past the buffer everything reads as zero and the first such range fails, so one beyond is enough to read.
        var constituents = new List<Range>();
        for (var i = 0UL; i < Math.Min(ranges, (ulong)descriptor.Length / 16 + 1); i++)
        {
            var at = (ulong)compositeOffset + 16 + 16 * i;
            constituents.Add(new Range(ReadU64(descriptor, at), ReadU32(descriptor, at + 8)));
        }
        var undone = UnshareRanges(c, constituents, faultable: true);
        if (undone != constituents.Count) c.Notes.Add($"WARN: only {undone} of {constituents.Count} constituents went back to owned.");
        return Verbatim(reclaim);
    }

    /// <summary>FFA_RX_RELEASE of the hypervisor's RX at the SPMC (its result is not looked at).</summary>
    private void ReleaseRx(HostCall c) => Smc(c, new RxRelease(HostId));

    /// <summary>Reads of the descriptor buffer; bytes past its end read as zero (in the kernel, whatever follows at EL2).</summary>
    private static uint ReadU32(byte[] buffer, ulong at) => at + 4 <= (ulong)buffer.Length ? BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan((int)at)) : 0;

    private static ulong ReadU64(byte[] buffer, ulong at) => at + 8 <= (ulong)buffer.Length ? BinaryPrimitives.ReadUInt64LittleEndian(buffer.AsSpan((int)at)) : 0;
}
