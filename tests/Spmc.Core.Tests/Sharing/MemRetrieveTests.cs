using Spmc.Abi.Descriptors.Memory;
using Spmc.Abi.Ffa;
using Spmc.Abi.Smccc;
using Spmc.Core.Calls;
using Spmc.Core.Manifests;
using Spmc.Core.Memory;
using Spmc.Core.Spm;
using Spmc.Core.Spm.Shares;
using Spmc.Core.Tests.Support;
using static Spmc.Core.Tests.Sharing.Pages;

namespace Spmc.Core.Tests.Sharing;

/// <summary>FFA_MEM_RETRIEVE_REQ by a borrower (spmc-behaviour.md §8.4, ffa-abi.md §6.3, §13 rule 10).</summary>
public class MemRetrieveTests
{
    private const uint ShareType = (uint)MemoryTransactionType.Share << 3, LendType = (uint)MemoryTransactionType.Lend << 3,
        DonateType = (uint)MemoryTransactionType.Donate << 3;

    private static byte[] Request(ulong handle, byte perm, uint flags = 0, ushort sender = Host, ushort caller = Sp1) =>
        SharingDescriptors.Retrieve(sender, handle, [(caller, perm)], flags);

    private static (SharingSystem S, ulong Handle) Shared(SendOp op = SendOp.Share, uint pages = 1, uint flags = 0)
    {
        var s = SharingSystem.Default();
        return (s, s.SendSimple(op, Host, Sp1, HostPage(0), pages, flags));
    }

    [Fact]
    public void Retrieve_UnknownHandle_IsInvalid()
    {
        var (s, _) = Shared();
        Expect.Error(s.RetrieveRaw(Sp1, Request(0x4242, Perm.RW)), Err.InvalidParameters, "mem-retrieve.unknown-handle");
    }

    [Fact]
    public void Retrieve_HandleWithBit63Set_IsInvalid()
    {
        var (s, h) = Shared();
        Expect.Error(s.RetrieveRaw(Sp1, Request(h | (1UL << 63), Perm.RW)), Err.InvalidParameters, "mem-retrieve.handle-hypervisor-allocated");
    }

    [Fact]
    public void Retrieve_CompositeOffsetNonZero_IsInvalid()
    {
        var (s, h) = Shared();
        var request = SharingDescriptors.WithCompositeOffset(Request(h, Perm.RW), 1, 80);
        Expect.Error(s.RetrieveRaw(Sp1, request), Err.InvalidParameters, "mem-retrieve.composite-offset-nonzero");
    }

    [Fact]
    public void Retrieve_FragmentedRequest_IsInvalid()
    {
        var (s, h) = Shared();
        var request = Request(h, Perm.RW);
        Expect.Error(s.RetrieveRaw(Sp1, request, total: (ulong)request.Length + 16), Err.InvalidParameters, "mem-retrieve.fragmented");
    }

    [Fact]
    public void Retrieve_X3NonZero_IsInvalid()
    {
        var (s, h) = Shared();
        var request = Request(h, Perm.RW);
        var o = s.CallWithTx(Sp1, request, MemIds.RetrieveReq32, (ulong)request.Length, (ulong)request.Length, 0x6001_0000, 1);
        Expect.Error(o, Err.InvalidParameters, "mem-retrieve.dynamic-buffer");
    }

    /// <summary>§8.4 step 1 comes first: with no RX/TX pair at all, TX is missing (INVALID) before RX is looked at.</summary>
    [Fact]
    public void Retrieve_NoRxTxMapped_IsInvalid()
    {
        var s = SharingSystem.Default(only: Host);
        var h = s.SendSimple(SendOp.Share, Host, Sp1, HostPage(0));
        Expect.Error(s.Call(Sp1, MemIds.RetrieveReq32, 80, 80, 0, 0), Err.InvalidParameters, "mem-retrieve.no-tx-buffer");
        Assert.Single(s.State.Shares, x => x.Handle == h && x.Receivers[0].Retrievals == 0);
    }

    [Fact]
    public void Retrieve_RxFull_IsBusy()
    {
        var s = SharingSystem.Default();
        var a = s.SendSimple(SendOp.Share, Host, Sp1, HostPage(0));
        var b = s.SendSimple(SendOp.Share, Host, Sp1, HostPage(1));
        SharingExpect.Answer(s.RetrieveRaw(Sp1, Request(a, Perm.RW)), MemIds.RetrieveResp); // RX stays full
        Expect.Error(s.RetrieveRaw(Sp1, Request(b, Perm.RW)), Err.Busy, "mem-retrieve.rx-busy");
        Expect.Success(s.Call(Sp1, MemIds.RxRelease));
        SharingExpect.Answer(s.RetrieveRaw(Sp1, Request(b, Perm.RW)), MemIds.RetrieveResp);
    }

    [Fact]
    public void Retrieve_SenderMismatch_IsDenied()
    {
        var (s, h) = Shared();
        Expect.Error(s.RetrieveRaw(Sp1, Request(h, Perm.RW, sender: Sp2)), Err.Denied, "mem-retrieve.wrong-sender");
    }

    [Fact]
    public void Retrieve_TagMismatch_IsInvalid()
    {
        var (s, h) = Shared();
        var request = SharingDescriptors.Retrieve(Host, h, [(Sp1, Perm.RW)], tag: SharingDescriptors.Tag + 1);
        Expect.Error(s.RetrieveRaw(Sp1, request), Err.InvalidParameters, "mem-retrieve.wrong-tag");
    }

    public static TheoryData<SendOp, uint, byte> TypeMismatches => new()
    {
        { SendOp.Share, LendType, Perm.RW },
        { SendOp.Share, DonateType, Perm.RW },
        { SendOp.Lend, ShareType, Perm.RW | Perm.NX },
        { SendOp.Lend, DonateType, Perm.RW | Perm.NX },
        { SendOp.Donate, LendType, Perm.RW | Perm.NX },
    };

    [Theory]
    [MemberData(nameof(TypeMismatches))]
    public void Retrieve_TransactionTypeMismatch_IsInvalid(SendOp op, uint type, byte perm)
    {
        var (s, h) = Shared(op);
        Expect.Error(s.RetrieveRaw(Sp1, Request(h, perm, type)), Err.InvalidParameters, "mem-retrieve.wrong-type");
    }

    public static TheoryData<SendOp, uint, byte> TypeMatches => new()
    {
        { SendOp.Share, ShareType, Perm.RW },
        { SendOp.Share, 0, Perm.RW },
        { SendOp.Lend, LendType, Perm.RW | Perm.NX },
        { SendOp.Lend, 0, Perm.RW | Perm.NX },
        { SendOp.Donate, DonateType, Perm.RW | Perm.NX },
        { SendOp.Donate, 0, Perm.RW | Perm.NX },
    };

    [Theory]
    [MemberData(nameof(TypeMatches))]
    public void Retrieve_TransactionTypeMatchingOrUnspecified_Succeeds(SendOp op, uint type, byte perm)
    {
        var (s, h) = Shared(op);
        var (first, response) = s.Retrieve(Sp1, Request(h, perm, type), h);
        SharingExpect.Answer(first, MemIds.RetrieveResp);
        Assert.Equal(op.Type(), SharingDescriptors.ParseResponse(response!).Flags.Type);
    }

    [Fact]
    public void Retrieve_CallerNotAReceiver_IsInvalid()
    {
        var (s, h) = Shared();
        Expect.Error(s.RetrieveRaw(Sp2, Request(h, Perm.RW, caller: Sp2)), Err.InvalidParameters, "mem-retrieve.not-a-receiver");
    }

    [Fact]
    public void Retrieve_ListedReceiverNotInTheTransaction_IsDenied()
    {
        var s = SharingSystem.Default();
        var h = s.SendOk(Host, SendOp.Share, SharingDescriptors.Send(Host, [(Sp1, Perm.RW), (Sp2, Perm.RW)], [(HostPage(0), 1)], 0x2F));
        var request = SharingDescriptors.Retrieve(Host, h, [(Sp1, Perm.RW), (Sp3, Perm.RW)]);
        Expect.Error(s.RetrieveRaw(Sp1, request), Err.Denied, "mem-retrieve.receiver-not-in-transaction");
    }

    [Fact]
    public void Retrieve_ReceiverCountMismatch_IsInvalid()
    {
        var s = SharingSystem.Default();
        var h = s.SendOk(Host, SendOp.Share, SharingDescriptors.Send(Host, [(Sp1, Perm.RW), (Sp2, Perm.RW)], [(HostPage(0), 1)], 0x2F));
        Expect.Error(s.RetrieveRaw(Sp1, Request(h, Perm.RW)), Err.InvalidParameters, "mem-retrieve.receiver-count");
    }

    [Fact]
    public void Retrieve_BypassFlagOnSingleReceiverTransaction_IsInvalid()
    {
        var (s, h) = Shared();
        Expect.Error(s.RetrieveRaw(Sp1, Request(h, Perm.RW, MemoryTransactionFlags.BypassMultipleBorrowerCheck)), Err.InvalidParameters, "mem-retrieve.bypass-misuse");
    }

    [Fact]
    public void Retrieve_BypassFlagListingOnlyTheCaller_OfTwoReceiverTransaction_Succeeds()
    {
        var s = SharingSystem.Default();
        var h = s.SendOk(Host, SendOp.Share, SharingDescriptors.Send(Host, [(Sp1, Perm.RW), (Sp2, Perm.RO)], [(HostPage(0), 1)], 0x2F));
        var response = s.RetrieveOk(Sp2, Host, h, flags: MemoryTransactionFlags.BypassMultipleBorrowerCheck, receivers: [(Sp2, Perm.RO)]);
        var emad = Assert.Single(SharingDescriptors.ParseResponse(response).Receivers);
        Assert.Equal((Sp2, (byte)(Perm.RO | Perm.NX)), (emad.Access.Endpoint, emad.Access.Permissions));
        // Without bypass the other receiver lists both.
        s.RetrieveOk(Sp1, Host, h, receivers: [(Sp1, Perm.RW), (Sp2, Perm.None)]);
    }

    [Fact]
    public void Retrieve_RwRequestedWhenRoGranted_IsDenied()
    {
        var s = SharingSystem.Default();
        var h = s.SendOk(Host, SendOp.Share, SharingDescriptors.Send(Host, [(Sp1, Perm.RO)], [(HostPage(0), 1)], 0x2F));
        Expect.Error(s.RetrieveRaw(Sp1, Request(h, Perm.RW)), Err.Denied, "mem-retrieve.rw-over-ro");
        Assert.False(s.CanRead(Sp1, HostPage(0)));
    }

    [Fact]
    public void Retrieve_RoRequestedWhenRwGranted_GrantsRo()
    {
        var (s, h) = Shared();
        var response = s.RetrieveOk(Sp1, Host, h, Perm.RO);
        Assert.Equal(Perm.RO | Perm.NX, SharingDescriptors.ParseResponse(response).Receivers[0].Access.Permissions);
        Assert.Equal(DataAccess.ReadOnly, s.State.Shares[0].Receivers[0].GrantedData);
        Assert.True(s.CanRead(Sp1, HostPage(0)));
        Assert.Throws<AccessDeniedException>(() => s.System.WriteMemory(Sp1, HostPage(0), [1]));
        Assert.True(s.CanWrite(Host, HostPage(0)));
    }

    [Theory]
    [InlineData(Perm.NX)]
    [InlineData(Perm.X)]
    public void Retrieve_ShareWithInstructionAccessSpecified_IsInvalid(byte instruction)
    {
        var (s, h) = Shared();
        Expect.Error(s.RetrieveRaw(Sp1, Request(h, (byte)(Perm.RW | instruction))), Err.InvalidParameters, "mem-retrieve.instruction-access-specified");
    }

    [Fact]
    public void Retrieve_Share_IsGrantedNx()
    {
        var (s, h) = Shared();
        var response = s.RetrieveOk(Sp1, Host, h, Perm.RW);
        Assert.Equal(0x06, SharingDescriptors.ParseResponse(response).Receivers[0].Access.Permissions);
        Assert.Equal(InstructionAccess.NotExecutable, s.State.Shares[0].Receivers[0].GrantedInstruction);
    }

    [Theory]
    [InlineData(SendOp.Lend)]
    [InlineData(SendOp.Donate)]
    public void Retrieve_SingleBorrowerWithInstructionUnspecified_IsInvalid(SendOp op)
    {
        var (s, h) = Shared(op);
        Expect.Error(s.RetrieveRaw(Sp1, Request(h, Perm.RW)), Err.InvalidParameters, "mem-retrieve.instruction-access-missing");
    }

    [Fact]
    public void Retrieve_LendSingleBorrowerWithNx_Succeeds()
    {
        var (s, h) = Shared(SendOp.Lend);
        var response = s.RetrieveOk(Sp1, Host, h, Perm.RW | Perm.NX);
        Assert.Equal(0x06, SharingDescriptors.ParseResponse(response).Receivers[0].Access.Permissions);
    }

    [Fact]
    public void Retrieve_LendToTwoBorrowersWithInstructionSpecified_IsInvalid()
    {
        var s = SharingSystem.Default();
        var h = s.SendOk(Host, SendOp.Lend, SharingDescriptors.Send(Host, [(Sp1, Perm.RW), (Sp2, Perm.RW)], [(HostPage(0), 1)], 0x2F));
        var request = SharingDescriptors.Retrieve(Host, h, [(Sp1, Perm.RW | Perm.NX), (Sp2, Perm.None)]);
        Expect.Error(s.RetrieveRaw(Sp1, request), Err.InvalidParameters, "mem-retrieve.instruction-access-specified");
    }

    [Theory]
    [InlineData(SendOp.Lend)]
    [InlineData(SendOp.Donate)]
    public void Retrieve_ExecutableOnNonSecureMemoryForAnSp_IsInvalid(SendOp op)
    {
        var (s, h) = Shared(op);
        Expect.Error(s.RetrieveRaw(Sp1, Request(h, Perm.RW | Perm.X)), Err.InvalidParameters, "mem-retrieve.executable-ns-memory");
        Assert.False(s.CanRead(Sp1, HostPage(0)));
    }

    [Fact]
    public void Retrieve_ExecutableOnSecureMemoryLentBetweenSps_Succeeds()
    {
        var s = SharingSystem.Default();
        var h = s.SendSimple(SendOp.Lend, Sp1, Sp2, Sp1Page(0));
        var response = s.RetrieveOk(Sp2, Sp1, h, Perm.RW | Perm.X);
        var r = SharingDescriptors.ParseResponse(response);
        Assert.Equal(0x0A, r.Receivers[0].Access.Permissions);
        Assert.False(r.Attributes.NonSecure);
    }

    [Fact]
    public void Retrieve_ZeroBeforeRetrieveWithoutSendersZeroFlag_IsDenied()
    {
        var (s, h) = Shared(SendOp.Lend);
        Expect.Error(s.RetrieveRaw(Sp1, Request(h, Perm.RW | Perm.NX, MemoryTransactionFlags.ZeroMemory)), Err.Denied, "mem-retrieve.zero-without-consent");
    }

    [Fact]
    public void Retrieve_ZeroBeforeRetrieveWithSendersZeroFlag_Succeeds()
    {
        var (s, h) = Shared(SendOp.Lend, flags: MemoryTransactionFlags.ZeroMemory);
        var response = s.RetrieveOk(Sp1, Host, h, Perm.RW | Perm.NX, MemoryTransactionFlags.ZeroMemory);
        Assert.True(SharingDescriptors.ParseResponse(response).Flags.Has(MemoryTransactionFlags.ZeroMemory));
    }

    [Theory]
    [InlineData(MemoryTransactionFlags.ZeroMemory)]
    [InlineData(MemoryTransactionFlags.ZeroAfterRelinquish)]
    public void Retrieve_ShareWithZeroFlags_IsInvalid(uint flag)
    {
        var (s, h) = Shared();
        Expect.Error(s.RetrieveRaw(Sp1, Request(h, Perm.RW, flag)), Err.InvalidParameters, "mem-retrieve.share-zero");
    }

    [Theory]
    [InlineData(MemoryTransactionFlags.ZeroMemory)]
    [InlineData(MemoryTransactionFlags.ZeroAfterRelinquish)]
    public void Retrieve_ReadOnlyWithZeroFlag_IsDenied(uint flag)
    {
        var s = SharingSystem.Default();
        var h = s.SendOk(Host, SendOp.Lend, SharingDescriptors.Send(Host, [(Sp1, Perm.RO)], [(HostPage(0), 1)], flags: MemoryTransactionFlags.ZeroMemory));
        Expect.Error(s.RetrieveRaw(Sp1, Request(h, Perm.RO | Perm.NX, flag)), Err.Denied, "mem-retrieve.read-only-zero");
    }

    [Fact]
    public void Retrieve_ZeroAfterRelinquishWithRw_Succeeds()
    {
        var (s, h) = Shared(SendOp.Lend);
        s.RetrieveOk(Sp1, Host, h, Perm.RW | Perm.NX, MemoryTransactionFlags.ZeroAfterRelinquish);
    }

    [Theory]
    [InlineData(MemoryTransactionFlags.AlignmentHintValid)]
    [InlineData(1u << 5)]
    [InlineData((3u << 5) | MemoryTransactionFlags.AlignmentHintValid)]
    public void Retrieve_AlignmentHint_IsInvalid(uint flags)
    {
        var (s, h) = Shared(SendOp.Lend);
        Expect.Error(s.RetrieveRaw(Sp1, Request(h, Perm.RW | Perm.NX, flags)), Err.InvalidParameters, "mem-retrieve.alignment-hint");
    }

    [Fact]
    public void Retrieve_ReservedFlagBits_AreInvalid()
    {
        var (s, h) = Shared(SendOp.Lend);
        Expect.Error(s.RetrieveRaw(Sp1, Request(h, Perm.RW | Perm.NX, 1u << 11)), Err.InvalidParameters, "mem-retrieve.flags-reserved");
    }

    [Fact]
    public void Retrieve_NsAttributeBitInRequest_IsInvalid()
    {
        var (s, h) = Shared();
        var request = SharingDescriptors.Retrieve(Host, h, [(Sp1, Perm.RW)], attributes: 0x6F);
        Expect.Error(s.RetrieveRaw(Sp1, request), Err.InvalidParameters, "mem-attributes.ns-bit");
    }

    /// <summary>§8.4 step 12: a request with a type is checked like a SHARE's attributes (Normal/WB/inner is fine), not compared with the sender's.</summary>
    [Fact]
    public void Retrieve_ValidAttributesOtherThanTheSenders_AreAccepted()
    {
        var (s, h) = Shared(SendOp.Lend); // sent with attributes 0 (single borrower)
        var request = SharingDescriptors.Retrieve(Host, h, [(Sp1, Perm.RW | Perm.NX)], attributes: 0x2F);
        SharingExpect.Answer(s.RetrieveRaw(Sp1, request), MemIds.RetrieveResp);
    }

    [Theory]
    [InlineData(0x27, "mem-attributes.normal-not-write-back")]
    [InlineData(0x2E, "mem-attributes.not-inner-shareable")]
    public void Retrieve_UnsupportedAttributes_AreDenied(ushort attributes, string rule)
    {
        var (s, h) = Shared();
        var request = SharingDescriptors.Retrieve(Host, h, [(Sp1, Perm.RW)], attributes: attributes);
        Expect.Error(s.RetrieveRaw(Sp1, request), Err.Denied, rule);
    }

    /// <summary>§8.4 step 11 rejects bits 9, 8:5 and 31:11 only; Hafnium accepts the time-slicing bit (1) in a retrieve request.</summary>
    [Fact]
    public void Retrieve_TimeSlicingFlag_IsAccepted()
    {
        var (s, h) = Shared(SendOp.Lend);
        SharingExpect.Answer(s.RetrieveRaw(Sp1, Request(h, Perm.RW | Perm.NX, MemoryTransactionFlags.TimeSlicing)), MemIds.RetrieveResp);
    }

    /// <summary>§8.4 step 10: when the normal world (ID 0) retrieves through the SPMC, the single normal-world receiver in the list is the retriever.</summary>
    [Fact]
    public void Retrieve_ByTheHypervisorForTheSingleVmReceiver_Succeeds()
    {
        var s = SharingSystem.Rich();
        s.Map(Host, 0x8000_0000, 0x8000_1000);
        const ushort vm1 = Support.Manifests.Vm1;
        var h = s.SendOk(Host, SendOp.Share, SharingDescriptors.Send(Host, [(vm1, Perm.RO), (Sp1, Perm.RW)], [(0x8008_0000, 1)], 0x2F));
        var request = SharingDescriptors.Retrieve(Host, h, [(vm1, Perm.RO), (Sp1, Perm.None)]);
        var (first, response) = s.Retrieve(Host, request, h);
        SharingExpect.Answer(first, MemIds.RetrieveResp);
        Assert.Equal(vm1, SharingDescriptors.ParseResponse(response!).Receivers[0].Access.Endpoint);
    }

    [Fact]
    public void Retrieve_Twice_IsDenied()
    {
        var (s, h) = Shared();
        s.RetrieveOk(Sp1, Host, h, Perm.RW);
        Expect.Error(s.RetrieveRaw(Sp1, Request(h, Perm.RW)), Err.Denied, "mem-retrieve.already-retrieved");
        Assert.Equal(1, s.State.Shares[0].Receivers[0].Retrievals);
    }

    [Fact]
    public void Retrieve_AgainAfterRelinquish_Succeeds()
    {
        var (s, h) = Shared(SendOp.Lend);
        s.RetrieveOk(Sp1, Host, h, Perm.RW | Perm.NX);
        Expect.Success(s.Relinquish(Sp1, h));
        Assert.False(s.CanRead(Sp1, HostPage(0)));
        s.RetrieveOk(Sp1, Host, h, Perm.RO | Perm.NX);
        var receiver = s.State.Shares[0].Receivers[0];
        Assert.Equal(2, receiver.Retrievals);
        Assert.Equal(DataAccess.ReadOnly, receiver.GrantedData);
        Assert.True(s.CanRead(Sp1, HostPage(0)));
        Assert.False(s.CanWrite(Sp1, HostPage(0)));
    }

    [Fact]
    public void Donate_AfterRetrieve_TheReceiverOwnsThePages_AndTheHandleIsGone()
    {
        var s = SharingSystem.Default();
        s.Poke(Host, HostPage(1), [0x42]);
        var h = s.SendSimple(SendOp.Donate, Host, Sp1, HostPage(0), 2);
        Assert.False(s.CanRead(Host, HostPage(0)));
        var response = s.RetrieveOk(Sp1, Host, h, Perm.RW | Perm.NX);
        Assert.Equal(MemoryTransactionType.Donate, SharingDescriptors.ParseResponse(response).Flags.Type);

        Assert.False(s.CanRead(Host, HostPage(0)));
        Assert.False(s.CanWrite(Host, HostPage(1)));
        Assert.True(s.CanWrite(Sp1, HostPage(0)));
        Assert.Equal(0x42, s.System.ReadMemory(Sp1, HostPage(1), 1)[0]);
        Assert.Empty(s.State.Shares);
        Assert.Contains(s.State.Memory, r => r.Base <= HostPage(0) && HostPage(2) <= r.Base + r.Size && r.Owner == Sp1 && r.Share is null);
        Expect.Error(s.Reclaim(Host, h), Err.InvalidParameters, "mem-reclaim.unknown-handle");
        Expect.Error(s.Relinquish(Sp1, h), Err.InvalidParameters, "mem-relinquish.unknown-handle");
        // The new owner can pass them on (SP to SP).
        s.SendSimple(SendOp.Lend, Sp1, Sp2, HostPage(0), 2);
    }

    [Fact]
    public void Donate_ReclaimedBeforeAnyRetrieve_Succeeds()
    {
        var (s, h) = Shared(SendOp.Donate);
        Expect.Success(s.Reclaim(Host, h));
        Assert.True(s.CanWrite(Host, HostPage(0)));
        Assert.False(s.CanRead(Sp1, HostPage(0)));
        Assert.Empty(s.State.Shares);
    }

    [Theory]
    [InlineData(SendOp.Share, 0x2F)]
    [InlineData(SendOp.Lend, 0x00)]
    public void Retrieve_Response_DescribesTheTransaction(SendOp op, ushort attributes)
    {
        var s = SharingSystem.Default();
        var h = s.SendOk(Host, op, SharingDescriptors.Send(Host, [(Sp1, Perm.RW)], [(HostPage(0), 2), (HostPage(5), 1)], attributes, tag: 0x1234_5678));
        var request = SharingDescriptors.Retrieve(Host, h, [(Sp1, op == SendOp.Share ? Perm.RW : (byte)(Perm.RW | Perm.NX))], tag: 0x1234_5678);
        var (first, response) = s.Retrieve(Sp1, request, h, MemIds.RetrieveReq64);
        SharingExpect.Answer(first, MemIds.RetrieveResp);
        Assert.Equal((ulong)response!.Length, first.Frame[1]);
        Assert.Equal(first.Frame[1], first.Frame[2]);

        var r = SharingDescriptors.ParseResponse(response);
        Assert.Equal(Host, r.Sender);
        Assert.Equal(h, r.Handle);
        Assert.Equal(op.Type(), r.Flags.Type);
        Assert.True(r.Attributes.NonSecure, "host memory is non-secure: the response sets the NS bit");
        Assert.Equal(attributes | MemoryRegionAttributes.NsBit, r.Attributes.Value);
        Assert.Equal(0ul, r.Tag); // Hafnium writes tag 0 in responses (§8.8)
        Assert.Equal(MemoryDescriptorLayout.V1_2, r.Layout);
        var emad = Assert.Single(r.Receivers);
        Assert.Equal(Sp1, emad.Access.Endpoint);
        Assert.Equal(0x06, emad.Access.Permissions);
        Assert.Equal(3u, r.Composite!.TotalPageCount);
        Assert.Equal([(HostPage(0), 2u), (HostPage(5), 1u)], r.Composite.Constituents.Select(k => (k.Address, k.PageCount)));
    }

    [Fact]
    public void Retrieve_ByAV11Partition_AnswersInTheV11Layout()
    {
        var s = SharingSystem.Rich();
        s.Map(Host, 0x8000_0000, 0x8000_1000);
        s.Map(Sp2, 0x6010_0000, 0x6010_1000); // SP 0x8002 is v1.1 in the rich manifest
        var h = s.SendSimple(SendOp.Share, Host, Sp2, 0x8008_0000);
        var request = SharingDescriptors.Retrieve(Host, h, [(Sp2, Perm.RW)], layout: MemoryDescriptorLayout.V1_1);
        var (first, response) = s.Retrieve(Sp2, request, h);
        SharingExpect.Answer(first, MemIds.RetrieveResp);
        var r = SharingDescriptors.ParseResponse(response!);
        Assert.Equal(MemoryDescriptorLayout.V1_1, r.Layout);
        Assert.Equal(16, r.EmadSize);
        Assert.True(r.Attributes.NonSecure);
    }

    private static (SharingSystem S, ulong Handle) SharedWithTwo()
    {
        var s = SharingSystem.Default();
        return (s, s.SendOk(Host, SendOp.Share, SharingDescriptors.Send(Host, [(Sp1, Perm.RW), (Sp2, Perm.RW)], [(HostPage(0), 1)], 0x2F)));
    }

    /// <summary>A v1.2 retrieve request whose receivers are given as whole access descriptors (flags, implementation-defined value).</summary>
    private static byte[] RequestWith(ulong handle, params EndpointMemoryAccess[] receivers) =>
        new MemoryTransactionDescriptor(Host, new MemoryRegionAttributes(0), new MemoryTransactionFlags(0), handle, SharingDescriptors.Tag, receivers)
            .ToBytes(MemoryDescriptorLayout.V1_2);

    [Fact]
    public void Retrieve64_LengthsWiderThan32Bits_AreInvalid()
    {
        var (s, _) = Shared();
        Expect.Error(s.Call(Sp1, MemIds.RetrieveReq64, 1UL << 32 | 80, 80, 0, 0), Err.InvalidParameters, "mem-retrieve.lengths-32-bit");
    }

    [Fact]
    public void Retrieve_LengthAbove2To31_IsInvalid()
    {
        var (s, _) = Shared();
        Expect.Error(s.Call(Sp1, MemIds.RetrieveReq32, 0x8000_0000, 0x8000_0000, 0, 0), Err.InvalidParameters, "mem-retrieve.lengths-absurd");
    }

    [Fact]
    public void Retrieve_LongerThanTheTxBuffer_IsInvalid()
    {
        var (s, _) = Shared();
        Expect.Error(s.Call(Sp1, MemIds.RetrieveReq32, 8192, 8192, 0, 0), Err.InvalidParameters, "mem-retrieve.exceeds-tx");
    }

    /// <summary>A v1.1 caller may not use the 32-byte receiver descriptors of v1.2 (Hafnium receiver_size_and_offset_valid_for_version).</summary>
    [Fact]
    public void Retrieve_ByAV11PartitionWithV12Descriptors_IsInvalid()
    {
        var s = SharingSystem.Rich();
        s.Map(Host, 0x8000_0000, 0x8000_1000);
        s.Map(Sp2, 0x6010_0000, 0x6010_1000); // SP 0x8002 is v1.1 in the rich manifest
        var h = s.SendSimple(SendOp.Share, Host, Sp2, 0x8008_0000);
        var request = SharingDescriptors.Retrieve(Host, h, [(Sp2, Perm.RW)], layout: MemoryDescriptorLayout.V1_2);
        Expect.Error(s.RetrieveRaw(Sp2, request), Err.InvalidParameters, "mem-retrieve.emad-size");
    }

    [Fact]
    public void Retrieve_RequestLongerThanItsReceivers_IsInvalid()
    {
        var (s, h) = Shared();
        Expect.Error(s.RetrieveRaw(Sp1, SharingDescriptors.Padded(Request(h, Perm.RW), 16)), Err.InvalidParameters, "mem-retrieve.length-mismatch");
    }

    [Fact]
    public void Retrieve_ReceiverListedTwice_IsInvalid()
    {
        var (s, h) = SharedWithTwo();
        var request = SharingDescriptors.Retrieve(Host, h, [(Sp1, Perm.RW), (Sp1, Perm.RO)]);
        Expect.Error(s.RetrieveRaw(Sp1, request), Err.InvalidParameters, "mem-retrieve.receiver-duplicate");
    }

    [Fact]
    public void Retrieve_ReservedPermissionBits_AreInvalid()
    {
        var (s, h) = Shared();
        Expect.Error(s.RetrieveRaw(Sp1, Request(h, 0x12)), Err.InvalidParameters, "mem-retrieve.receiver-reserved-bits");
    }

    [Theory]
    [InlineData(0x03)] // data access 3
    [InlineData(0x0C)] // instruction access 3
    public void Retrieve_ReservedPermissionValue_IsInvalid(byte permissions)
    {
        var (s, h) = Shared();
        Expect.Error(s.RetrieveRaw(Sp1, Request(h, permissions)), Err.InvalidParameters, "mem-retrieve.permission-reserved");
    }

    /// <summary>With the bypass flag one receiver may be listed, but it must be the retriever itself.</summary>
    [Fact]
    public void Retrieve_BypassListingOnlyAnotherReceiver_IsInvalid()
    {
        var (s, h) = SharedWithTwo();
        var request = SharingDescriptors.Retrieve(Host, h, [(Sp2, Perm.RW)], MemoryTransactionFlags.BypassMultipleBorrowerCheck);
        Expect.Error(s.RetrieveRaw(Sp1, request), Err.InvalidParameters, "mem-retrieve.retriever-not-listed");
    }

    [Fact]
    public void Retrieve_OwnDescriptorWithTheBorrowerFlag_IsInvalid()
    {
        var (s, h) = Shared();
        var request = RequestWith(h, new EndpointMemoryAccess(new MemoryAccessPermissions(Sp1, Perm.RW, 0x01), 0));
        Expect.Error(s.RetrieveRaw(Sp1, request), Err.InvalidParameters, "mem-retrieve.borrower-flag");
    }

    /// <summary>Both sides use v1.2 descriptors: the implementation-defined value must be the one the sender gave.</summary>
    [Fact]
    public void Retrieve_ImplementationDefinedValueNotTheSenders_IsInvalid()
    {
        var (s, h) = Shared();
        var request = RequestWith(h, new EndpointMemoryAccess(new MemoryAccessPermissions(Sp1, Perm.RW), 0, 0x1234));
        Expect.Error(s.RetrieveRaw(Sp1, request), Err.InvalidParameters, "mem-retrieve.impdef-mismatch");
        SharingExpect.Answer(s.RetrieveRaw(Sp1, RequestWith(h, new EndpointMemoryAccess(new MemoryAccessPermissions(Sp1, Perm.RW), 0))), MemIds.RetrieveResp);
    }

    /// <summary>FFA_MEM_RETRIEVE_RESP is the SPMC's answer: called as a function it is NOT_SUPPORTED.</summary>
    [Fact]
    public void RetrieveResp_AsACall_IsNotSupported()
    {
        var (s, _) = Shared();
        Expect.Error(s.Call(Sp1, MemIds.RetrieveResp, 80, 80), Err.NotSupported, "dispatch.return-value");
        Expect.Error(s.Call(Host, MemIds.RetrieveResp, 80, 80), Err.NotSupported, "dispatch.return-value");
    }

    /// <summary>
    /// §8.4 step 10: the hypervisor retrieves for one normal-world receiver at a time. A send cannot name two VMs while
    /// Hafnium's MaxReceivers is 2 (it needs a secure partition too), so the share state gets its second VM directly.
    /// </summary>
    [Fact]
    public void Retrieve_ByTheHypervisorListingTwoVmReceivers_IsNotSupported()
    {
        var config = ManifestValidator.Validate(Support.Manifests.Rich);
        var memory = new PhysicalMemory();
        var spm = new PartitionManager(config, memory, new MemoryMap(config));
        FfaAnswer Call(SmcFrame frame) => spm.Handle(new FfaRequest(Host, 0, frame));
        const ulong tx = 0x8000_0000, rx = 0x8000_1000;
        const ushort vm1 = Support.Manifests.Vm1, vm2 = Support.Manifests.Vm2;
        Assert.Null(Call(Ffa.RxTxMap(tx, rx, 1)).Rejection);

        var send = SharingDescriptors.Send(Host, [(vm1, Perm.RO), (Sp1, Perm.RW)], [(0x8008_0000, 1)], 0x2F);
        memory.Write(tx, send);
        var sent = Call(SmcFrame.From(MemIds.Share32, (ulong)send.Length, (ulong)send.Length));
        Assert.Null(sent.Rejection);
        var h = sent.Frame[2] | sent.Frame[3] << 32;
        spm.State.Shares[h].Receivers.Add(new ShareReceiver { Id = vm2, Sent = new MemoryAccessPermissions(vm2, Perm.RO) });

        var request = SharingDescriptors.Retrieve(Host, h, [(vm1, Perm.RO), (vm2, Perm.RO)]);
        memory.Write(tx, request);
        var o = Call(SmcFrame.From(MemIds.RetrieveReq32, (ulong)request.Length, (ulong)request.Length));
        Assert.Equal(FfaError.NotSupported, o.Error);
        Assert.Equal("mem-retrieve.hypervisor-several-vms", o.Rule);
    }
}
