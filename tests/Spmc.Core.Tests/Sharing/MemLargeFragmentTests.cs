using Spmc.Core.Tests.Support;
using static Spmc.Core.Tests.Support.SharingManifests;

namespace Spmc.Core.Tests.Sharing;

/// <summary>
/// Memory-send fragments larger than one page with a two-page TX (spmc.rxtxMaxPages 2). Hafnium 723e1d25
/// (api_ffa_mem_send, api_ffa_mem_frag_tx): a fragment may be as large as the sender's TX buffer; beyond it is
/// INVALID_PARAMETERS; v1.0 senders stay capped at 4 KiB (test 784b84b9).
/// </summary>
public sealed class MemLargeFragmentTests
{
    private static SharingSystem TwoPageHost()
    {
        var s = SharingSystem.FromJson(TwoVms);
        s.Map(Host, HostBase, HostBase + 0x2000, 2);
        return s;
    }

    /// <summary>A v1.2 SHARE from the host to 0x8001 of <paramref name="n"/> one-page constituents (96 + 16 n bytes).</summary>
    private static byte[] Descriptor(int n) =>
        SharingDescriptors.Send(Host, [(Sp1, Perm.RW)], Enumerable.Range(0, n).Select(i => (HostBase + 0x1_0000UL + (ulong)i * 0x1000, 1u)), 0x2F);

    [Fact]
    public void Send_8KiBFragments_FirstAndFragTx_AreAccepted()
    {
        var s = TwoPageHost();
        var d = Descriptor(1000);
        Assert.Equal(16096, d.Length);
        var answers = s.SendFragments(Host, MemIds.Share32, d, 8192, 7904);
        Assert.Equal(MemIds.FragRx, answers[0].Frame[0]);
        Assert.Equal(8192UL, answers[0].Frame[3]); // bytes received so far
        Expect.Success(answers[1]);
        var share = s.State.Shares.Single();
        Assert.Equal(1000, share.ConstituentCount);
        Assert.Equal(2, share.Fragments);
    }

    [Fact]
    public void FragTx_LargerThanTheTwoPageTx_IsInvalid_AndKeepsTheTransactionPending()
    {
        var s = TwoPageHost();
        var d = Descriptor(1100);
        var first = s.Send(Host, MemIds.Share32, d, (ulong)d.Length, 8192);
        Assert.Equal(MemIds.FragRx, first.Frame[0]);
        var handle = SharingSystem.FragHandle(first);
        Expect.Error(s.FragTx(Host, handle, 8208), Err.InvalidParameters, "mem-frag-tx.bad-length");
        Assert.Equal(8192, s.State.Shares.Single().ReceivedBytes);
        // The rest in TX-sized pieces completes it.
        var second = s.CallWithTx(Host, d[8192..16384], MemIds.FragTx, (uint)handle, handle >> 32, 8192);
        Assert.Equal(MemIds.FragRx, second.Frame[0]);
        Expect.Success(s.CallWithTx(Host, d[16384..], MemIds.FragTx, (uint)handle, handle >> 32, (ulong)(d.Length - 16384)));
    }

    [Fact]
    public void Send_FirstFragmentLargerThanTheTwoPageTx_IsInvalid()
    {
        var s = TwoPageHost();
        var d = Descriptor(1100);
        Expect.Error(s.Send(Host, MemIds.Share32, d, (ulong)d.Length, 8208), Err.InvalidParameters, "mem-send.fragment-exceeds-tx");
        Assert.Empty(s.State.Shares);
    }

    [Fact]
    public void Send_V10SenderWithTwoPageTx_ExactlyOnePageFragment_IsAccepted()
    {
        // 784b84b9: the cap is one page, inclusive.
        var s = SharingSystem.FromJson(TwoVms);
        s.Test.Negotiate(Host, Ffa.V1_0);
        s.Map(Host, HostBase, HostBase + 0x2000, 2);
        var d = SharingDescriptors.Send(Host, [(Sp1, Perm.RW)], Enumerable.Range(0, 300).Select(i => (HostBase + 0x1_0000UL + (ulong)i * 0x1000, 1u)),
            0x2F, layout: Spmc.Abi.Descriptors.Memory.MemoryDescriptorLayout.V1_0);
        var answers = s.SendFragments(Host, MemIds.Share32, d, 4096, d.Length - 4096);
        Assert.Equal(MemIds.FragRx, answers[0].Frame[0]);
        Expect.Success(answers[^1]);
    }
}
