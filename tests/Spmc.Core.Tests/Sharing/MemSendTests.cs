using Spmc.Abi.Descriptors.Memory;
using Spmc.Core.Tests.Support;
using static Spmc.Core.Tests.Sharing.Pages;

namespace Spmc.Core.Tests.Sharing;

/// <summary>
/// FFA_MEM_SHARE / FFA_MEM_LEND / FFA_MEM_DONATE: registers, lengths, buffers and the descriptor's structure
/// (spmc-behaviour.md §8.2 steps 1-14, ffa-abi.md §5).
/// </summary>
public class MemSendTests
{
    public static TheoryData<ulong> AllSendIds => new(SendIds);

    private static byte[] Valid(ulong fid, ushort sender = Host, ushort receiver = Sp1, ulong? address = null) =>
        SharingDescriptors.Simple(SendOps.FromId(fid), sender, receiver, address ?? HostPage(0));

    [Theory]
    [MemberData(nameof(AllSendIds))]
    public void Send_ValidDescriptor_SucceedsWithAnSpmcHandle(ulong fid)
    {
        var s = SharingSystem.Default();
        var o = Expect.Success(s.Send(Host, fid, Valid(fid)));
        Assert.Equal(fid >= 0xC400_0000 ? "SMC64" : "SMC32", o.Decoded.Width);
        var handle = SharingSystem.Handle(o);
        Assert.Equal(0ul, handle >> 63);
        var share = Assert.Single(s.State.Shares);
        Assert.Equal(handle, share.Handle);
        Assert.Equal(SendOps.FromId(fid).ToString(), share.Operation.ToString());
        Assert.True(share.SendingComplete);
    }

    [Theory]
    [MemberData(nameof(AllSendIds))]
    public void Send_X3NonZero_IsInvalid(ulong fid)
    {
        var s = SharingSystem.Default();
        var d = Valid(fid);
        Expect.Error(s.Send(Host, fid, d, x3: 0x8020_0000), Err.InvalidParameters, "mem-send.dynamic-buffer");
        Assert.Empty(s.State.Shares);
    }

    [Theory]
    [MemberData(nameof(AllSendIds))]
    public void Send_X4NonZero_IsInvalid(ulong fid)
    {
        var s = SharingSystem.Default();
        Expect.Error(s.Send(Host, fid, Valid(fid), x4: 1), Err.InvalidParameters, "mem-send.dynamic-buffer");
        Assert.Empty(s.State.Shares);
    }

    [Theory]
    [MemberData(nameof(AllSendIds))]
    public void Send_FragmentLongerThanTotal_IsInvalid(ulong fid)
    {
        var s = SharingSystem.Default();
        var d = Valid(fid);
        Expect.Error(s.Send(Host, fid, d, total: (ulong)d.Length, fragment: (ulong)d.Length + 16), Err.InvalidParameters, "mem-send.fragment-exceeds-total");
    }

    [Theory]
    [MemberData(nameof(AllSendIds))]
    public void Send_NoTxMapped_IsInvalid(ulong fid)
    {
        var s = SharingSystem.Default(map: false);
        Expect.Error(s.Call(Host, fid, 112, 112, 0, 0), Err.InvalidParameters, "mem-send.no-tx-buffer");
    }

    [Fact]
    public void Send_FragmentLargerThanTxBuffer_IsInvalid()
    {
        var s = SharingSystem.Default();
        Expect.Error(s.Send(Host, MemIds.Share32, Valid(MemIds.Share32), total: 8192, fragment: 4112), Err.InvalidParameters, "mem-send.fragment-exceeds-tx");
    }

    /// <summary>§8.2 step 4: a v1.0 sender's fragment may not exceed 4 KiB even with a larger TX buffer.</summary>
    [Fact]
    public void Send_V10CallerFragmentAbove4KiB_IsInvalid()
    {
        var s = SharingSystem.FromJson(SharingManifests.TwoVms); // RX/TX may be 2 pages
        s.Test.Negotiate(Host, Ffa.V1_0);
        s.Map(Host, 0x8000_0000, 0x8000_2000, 2);
        var d = SharingDescriptors.Send(Host, [(Sp1, Perm.RW)], Enumerable.Range(0, 253).Select(i => (0x8001_0000UL + (ulong)i * 0x1000, 1u)),
            0x2F, layout: MemoryDescriptorLayout.V1_0);
        Assert.Equal(4112, d.Length);
        Expect.Error(s.Send(Host, SendOp.Share, d), Err.InvalidParameters, "mem-send.v1-0-fragment-too-long");
    }

    [Fact]
    public void Send_FragmentUpToATwoPageTxBuffer_IsAccepted()
    {
        var s = SharingSystem.FromJson(SharingManifests.TwoVms);
        s.Map(Host, 0x8000_0000, 0x8000_2000, 2);
        var d = SharingDescriptors.Send(Host, [(Sp1, Perm.RW)], Enumerable.Range(0, 251).Select(i => (0x8001_0000UL + (ulong)i * 0x1000, 1u)), 0x2F);
        Assert.Equal(4112, d.Length);
        Expect.Success(s.Send(Host, SendOp.Share, d));
    }

    [Fact]
    public void Send_HeaderTooShort_IsInvalid()
    {
        var s = SharingSystem.Default();
        var d = Valid(MemIds.Share32)[..32];
        // Refused by the descriptor decoder, whose rule the SPMC passes on.
        SharingExpect.DescriptorError(s.Send(Host, MemIds.Share32, d), MemoryTransactionDescriptor.ReadHeader(d, false));
    }

    [Fact]
    public void Send_V11CallerWith32ByteEmads_IsInvalid()
    {
        var s = SharingSystem.Default(map: false);
        s.Test.Negotiate(Host, Ffa.V1_1);
        s.MapDefault(Host);
        s.MapDefault(Sp1);
        var v12 = SharingDescriptors.Simple(SendOp.Share, Host, Sp1, HostPage(0), layout: MemoryDescriptorLayout.V1_2);
        Expect.Error(s.Send(Host, SendOp.Share, v12), Err.InvalidParameters, "mem-send.emad-size");
        // The v1.1 layout from the same caller is fine.
        s.SendOk(Host, SendOp.Share, SharingDescriptors.Simple(SendOp.Share, Host, Sp1, HostPage(0), layout: MemoryDescriptorLayout.V1_1));
    }

    [Fact]
    public void Send_V12CallerWith16ByteEmads_Succeeds()
    {
        var s = SharingSystem.Default();
        var v11 = SharingDescriptors.Simple(SendOp.Lend, Host, Sp1, HostPage(0), layout: MemoryDescriptorLayout.V1_1);
        var handle = s.SendOk(Host, SendOp.Lend, v11);
        // A v1.1-layout send is retrievable with a v1.2 request (§8.1: the sizes interoperate).
        var response = s.RetrieveOk(Sp1, Host, handle, Perm.RW | Perm.NX);
        Assert.Equal(handle, SharingDescriptors.ParseResponse(response).Handle);
    }

    [Fact]
    public void Send_V10CallerWithV10Layout_WorksEndToEnd()
    {
        // Rich: SP 0x8003 is a v1.0 partition; the host negotiates v1.0 too. Host memory is 0x80000000..0x800FFFFF.
        var s = SharingSystem.Rich();
        s.Test.Negotiate(Host, Ffa.V1_0);
        s.Map(Host, 0x8000_0000, 0x8000_1000);
        s.Map(Sp3, 0x6020_0000, 0x6020_1000);
        const ulong page = 0x8008_0000;
        s.Poke(Host, page, [1, 2, 3, 4]);

        var d = SharingDescriptors.Send(Host, [(Sp3, Perm.RW)], [(page, 2)], 0x2F, layout: MemoryDescriptorLayout.V1_0);
        Assert.Equal(32 + 16 + 16 + 16, d.Length);
        var handle = s.SendOk(Host, SendOp.Share, d);

        var request = SharingDescriptors.Retrieve(Host, handle, [(Sp3, Perm.RW)], (uint)MemoryTransactionType.Share << 3, layout: MemoryDescriptorLayout.V1_0);
        Assert.Equal(48, request.Length);
        var (first, response) = s.Retrieve(Sp3, request, handle);
        SharingExpect.Answer(first, MemIds.RetrieveResp);
        Assert.Equal(80ul, first.Frame[1]);

        // v1.0 layout: 32-byte header, 8-bit attributes without the NS bit, EMAD at 32, composite at 48.
        Assert.Equal(0x2F, response![2]);
        Assert.Equal(0, response[3]);
        var r = SharingDescriptors.ParseResponse(response, v1_0: true);
        Assert.False(r.Attributes.NonSecure);
        Assert.Equal(handle, r.Handle);
        Assert.Equal(MemoryTransactionType.Share, r.Flags.Type);
        var emad = Assert.Single(r.Receivers);
        Assert.Equal(Sp3, emad.Access.Endpoint);
        Assert.Equal(Perm.RW | Perm.NX, emad.Access.Permissions);
        Assert.Equal(48u, emad.CompositeOffset);
        Assert.Equal((page, 2u), (r.Composite!.Constituents[0].Address, r.Composite.Constituents[0].PageCount));

        Assert.Equal(new byte[] { 1, 2, 3, 4 }, s.System.ReadMemory(Sp3, page, 4));
        Expect.Success(s.Relinquish(Sp3, handle));
        Expect.Success(s.Reclaim(Host, handle));
    }

    [Fact]
    public void Send_ReceiverCountZero_IsInvalid()
    {
        var s = SharingSystem.Default();
        var d = SharingDescriptors.Send(Host, [], [(HostPage(0), 1)], 0x2F);
        Expect.Error(s.Send(Host, SendOp.Share, d), Err.InvalidParameters, "mem-send.no-receivers");
        Assert.Empty(s.State.Shares);
    }

    [Fact]
    public void Send_ThreeReceivers_IsInvalid()
    {
        var s = SharingSystem.Default();
        var d = SharingDescriptors.Send(Host, [(Sp1, Perm.RW), (Sp2, Perm.RW), (Sp3, Perm.RW)], [(HostPage(0), 1)], 0x2F);
        Expect.Error(s.Send(Host, SendOp.Share, d), Err.InvalidParameters, "mem-send.too-many-receivers");
    }

    [Fact]
    public void Donate_TwoReceivers_IsInvalid()
    {
        var s = SharingSystem.Default();
        var d = SharingDescriptors.Send(Host, [(Sp1, Perm.None), (Sp2, Perm.None)], [(HostPage(0), 1)]);
        Expect.Error(s.Send(Host, SendOp.Donate, d), Err.InvalidParameters, "mem-send.donate-one-receiver");
    }

    [Theory]
    [InlineData(SendOp.Share)]
    [InlineData(SendOp.Lend)]
    [InlineData(SendOp.Donate)]
    public void Send_ReceiverIsTheSender_IsInvalid(SendOp op)
    {
        var s = SharingSystem.Default();
        var d = SharingDescriptors.Simple(op, Sp1, Sp1, Sp1Page(0));
        Expect.Error(s.Send(Sp1, op, d), Err.InvalidParameters, "mem-send.receiver-is-sender");
    }

    [Fact]
    public void Send_DuplicateReceiver_IsInvalid()
    {
        var s = SharingSystem.Default();
        var d = SharingDescriptors.Send(Host, [(Sp1, Perm.RW), (Sp1, Perm.RO)], [(HostPage(0), 1)], 0x2F);
        Expect.Error(s.Send(Host, SendOp.Share, d), Err.InvalidParameters, "mem-send.receiver-duplicate");
    }

    [Fact]
    public void Send_UnknownReceiver_IsInvalid()
    {
        var s = SharingSystem.Default();
        var d = SharingDescriptors.Simple(SendOp.Lend, Host, 0x8009, HostPage(0));
        Expect.Error(s.Send(Host, SendOp.Lend, d), Err.InvalidParameters, "mem-send.receiver-unknown");
    }

    [Theory]
    [InlineData(SendOp.Share)]
    [InlineData(SendOp.Lend)]
    [InlineData(SendOp.Donate)]
    public void Send_SpToVm_IsDenied(SendOp op)
    {
        var s = SharingSystem.Default();
        var d = SharingDescriptors.Simple(op, Sp1, Host, Sp1Page(0));
        Expect.Error(s.Send(Sp1, op, d), Err.Denied, "mem-send.sp-to-nwd");
        Assert.Empty(s.State.Shares);
    }

    [Fact]
    public void Send_VmToVmOnly_IsDenied()
    {
        var s = SharingSystem.Rich();
        s.Map(Host, 0x8000_0000, 0x8000_1000);
        var d = SharingDescriptors.Simple(SendOp.Share, Host, Support.Manifests.Vm1, 0x8008_0000);
        Expect.Error(s.Send(Host, SendOp.Share, d), Err.Denied, "mem-send.no-sp-receiver");
    }

    /// <summary>
    /// Hafnium's ffa_memory_is_send_valid accepts a normal-world SHARE with several receivers whatever their world
    /// (its "!is_sender_sp &amp;&amp; multiple_borrower" case), so a SHARE to two VMs and no SP is accepted — modelled
    /// as Hafnium does it (before issue 14 Spmc answered DENIED, mem-send.no-sp-receiver). The SPMC keeps the record;
    /// the host reclaims it and gets its page back.
    /// </summary>
    [Fact]
    public void Share_ToSeveralVmsOnly_IsAccepted_AsHafniumDoes()
    {
        var s = SharingSystem.Rich();
        s.Map(Host, 0x8000_0000, 0x8000_1000);
        var d = SharingDescriptors.Send(Host, [(Support.Manifests.Vm1, Perm.RW), (Support.Manifests.Vm2, Perm.RO)], [(0x8008_0000, 1)], 0x2F);
        var h = s.SendOk(Host, SendOp.Share, d);
        Assert.Equal([Support.Manifests.Vm1, Support.Manifests.Vm2], Assert.Single(s.State.Shares).Receivers.Select(r => r.Id));
        Expect.Success(s.Reclaim(Host, h));
        Assert.Empty(s.State.Shares);
        Assert.True(s.CanWrite(Host, 0x8008_0000));
    }

    /// <summary>
    /// The direction (ffa_memory_is_send_valid, DENIED) is checked in api_ffa_mem_send's receiver loop, before
    /// ffa_memory_send_validate's permission checks: a send that is wrong both ways is DENIED, and nothing is recorded.
    /// </summary>
    [Theory]
    [InlineData(SendOp.Share, Perm.RW | Perm.X)]  // instruction access given by the sender
    [InlineData(SendOp.Lend, 0x3)]                 // reserved data access
    [InlineData(SendOp.Donate, Perm.RW)]           // data access given to a DONATE
    public void Send_SpToVm_WithBadPermissions_IsDeniedForItsDirection(SendOp op, byte perm)
    {
        var s = SharingSystem.Default();
        var d = SharingDescriptors.Send(Sp1, [(Host, perm)], [(Sp1Page(0), 1)], op.ValidAttributes());
        Expect.Error(s.Send(Sp1, op, d), Err.Denied, "mem-send.sp-to-nwd");
        Assert.Empty(s.State.Shares);
    }

    [Theory]
    [InlineData(SendOp.Lend)]
    [InlineData(SendOp.Donate)]
    public void Send_HostToVm_LendOrDonate_WithBadPermissions_IsDeniedForItsDirection(SendOp op)
    {
        var s = SharingSystem.Rich();
        s.Map(Host, 0x8000_0000, 0x8000_1000);
        var d = SharingDescriptors.Send(Host, [(Support.Manifests.Vm1, Perm.RW | Perm.X)], [(0x8008_0000, 1)], op.ValidAttributes());
        Expect.Error(s.Send(Host, op, d), Err.Denied, "mem-send.nwd-lend-to-vm");
        Assert.Empty(s.State.Shares);
    }

    [Fact]
    public void Share_HostToOneVm_WithoutDataAccess_IsDeniedForItsDirection()
    {
        var s = SharingSystem.Rich();
        s.Map(Host, 0x8000_0000, 0x8000_1000);
        var d = SharingDescriptors.Send(Host, [(Support.Manifests.Vm1, Perm.None)], [(0x8008_0000, 1)], 0x2F);
        Expect.Error(s.Send(Host, SendOp.Share, d), Err.Denied, "mem-send.no-sp-receiver");
        Assert.Empty(s.State.Shares);
    }

    [Fact]
    public void Lend_ToVmAndSp_IsDenied_WhileShareToVmAndSp_Succeeds()
    {
        var s = SharingSystem.Rich();
        s.Map(Host, 0x8000_0000, 0x8000_1000);
        var receivers = new (ushort, byte)[] { (Support.Manifests.Vm1, Perm.RW), (Sp1, Perm.RW) };
        var lend = SharingDescriptors.Send(Host, receivers, [(0x8008_0000, 1)], 0x2F);
        Expect.Error(s.Send(Host, SendOp.Lend, lend), Err.Denied, "mem-send.nwd-lend-to-vm");
        var share = SharingDescriptors.Send(Host, receivers, [(0x8008_0000, 1)], 0x2F);
        s.SendOk(Host, SendOp.Share, share);
    }

    [Fact]
    public void Send_SpNamingAnotherSpAsSender_IsDenied()
    {
        var s = SharingSystem.Default();
        var d = SharingDescriptors.Simple(SendOp.Share, Sp2, Sp3, Sp2Page(0));
        Expect.Error(s.Send(Sp1, SendOp.Share, d), Err.Denied, "mem-send.sender-not-caller");
    }

    [Fact]
    public void Send_Vm1NamingVm0AsSender_IsDenied()
    {
        var s = SharingSystem.Rich();
        s.Map(Support.Manifests.Vm1, 0x9000_0000, 0x9000_1000);
        var d = SharingDescriptors.Simple(SendOp.Share, Host, Sp1, 0x8008_0000);
        Expect.Error(s.Send(Support.Manifests.Vm1, SendOp.Share, d), Err.Denied, "mem-send.sender-not-caller");
    }

    [Fact]
    public void Send_HypervisorSendingForVm1WithVm1Pages_Succeeds()
    {
        var s = SharingSystem.Rich();
        s.Map(Host, 0x8000_0000, 0x8000_1000);
        s.Map(Sp1, 0x6000_0000, 0x6000_1000);
        const ushort vm1 = Support.Manifests.Vm1;
        var handle = s.SendOk(Host, SendOp.Lend, SharingDescriptors.Simple(SendOp.Lend, vm1, Sp1, 0x9008_0000));
        Assert.Equal(vm1, Assert.Single(s.State.Shares).Sender);
        Assert.False(s.CanRead(vm1, 0x9008_0000));
        s.RetrieveOk(Sp1, vm1, handle, Perm.RW | Perm.NX);
        Assert.True(s.CanWrite(Sp1, 0x9008_0000));
        Expect.Success(s.Relinquish(Sp1, handle));
        Expect.Success(s.Reclaim(Host, handle));
        Assert.True(s.CanWrite(vm1, 0x9008_0000));
    }

    /// <summary>SMC64: the lengths are 32-bit values, so the decoder refuses bits[63:32] before the SPMC looks at anything.</summary>
    [Fact]
    public void Send64_LengthsWiderThan32Bits_AreInvalid()
    {
        var s = SharingSystem.Default();
        Expect.Error(s.Call(Host, MemIds.Share64, 1UL << 32, 112, 0, 0), Err.InvalidParameters, "mem-send.lengths-32-bit");
        Expect.Error(s.Call(Host, MemIds.Lend64, 112, 1UL << 32 | 112, 0, 0), Err.InvalidParameters, "mem-send.lengths-32-bit");
    }

    [Fact]
    public void Send_LengthAbove2To31_IsInvalid()
    {
        var s = SharingSystem.Default();
        Expect.Error(s.Call(Host, MemIds.Donate32, 0x8000_0000, 112, 0, 0), Err.InvalidParameters, "mem-send.lengths-absurd");
        Assert.Empty(s.State.Shares);
    }

    /// <summary>For SMC64 all of x4 counts: a page count only in x4[63:32] still names a buffer of the caller's own.</summary>
    [Fact]
    public void Send64_X4HighBitsOnly_IsADynamicBuffer()
    {
        var s = SharingSystem.Default();
        Expect.Error(s.Send(Host, MemIds.Share64, Valid(MemIds.Share64), x4: 1UL << 32), Err.InvalidParameters, "mem-send.dynamic-buffer");
        Assert.Empty(s.State.Shares);
    }

    /// <summary>More than 20 fragments of the TX buffer's size (Hafnium's MAX_FRAGMENTS) is NO_MEMORY before the descriptor is read.</summary>
    [Fact]
    public void Send_TotalLengthNeedingMoreThan20Fragments_IsNoMemory()
    {
        var s = SharingSystem.Default();
        var d = Valid(MemIds.Share32);
        Expect.Error(s.Send(Host, MemIds.Share32, d, total: 20 * 4096 + 16, fragment: (ulong)d.Length), Err.NoMemory, "mem-send.too-many-fragments");
        Assert.Empty(s.State.Shares);
    }

    [Fact]
    public void Send_HostNamingAnSpAsSender_IsDenied()
    {
        var s = SharingSystem.Default();
        var d = SharingDescriptors.Simple(SendOp.Share, Sp1, Sp2, Sp1Page(0));
        Expect.Error(s.Send(Host, SendOp.Share, d), Err.Denied, "mem-send.nwd-sender-is-sp");
    }

    [Fact]
    public void Send_HypervisorSendingForAnUndeclaredVm_IsAccepted()
    {
        // Hafnium ffa_memory_send_validate only checks that a normal-world sender is not secure (more in UndeclaredVmMemoryTests).
        var s = SharingSystem.Default();
        var d = SharingDescriptors.Simple(SendOp.Share, 0x0005, Sp1, HostPage(0));
        Expect.Success(s.Send(Host, SendOp.Share, d));
    }
}
