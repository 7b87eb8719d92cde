using Spmc.Abi.Descriptors.Memory;
using Spmc.Core.Tests.Support;
using static Spmc.Core.Tests.Sharing.Pages;

namespace Spmc.Core.Tests.Sharing;

/// <summary>FFA_MEM_SHARE / LEND / DONATE: permissions, attributes, flags and the composite's place and lengths (spmc-behaviour.md §8.2 steps 5-14, §13 rule 6).</summary>
public class MemSendDescriptorTests
{
    private static byte[] Valid(ulong fid) => SharingDescriptors.Simple(SendOps.FromId(fid), Host, Sp1, HostPage(0));

    [Theory]
    [InlineData(SendOp.Share, Perm.NX)]
    [InlineData(SendOp.Share, Perm.X)]
    [InlineData(SendOp.Lend, Perm.NX)]
    [InlineData(SendOp.Lend, Perm.X)]
    public void Send_SenderSpecifiesInstructionAccess_IsInvalid(SendOp op, byte instruction)
    {
        var s = SharingSystem.Default();
        var d = SharingDescriptors.Send(Host, [(Sp1, (byte)(Perm.RW | instruction))], [(HostPage(0), 1)], op.ValidAttributes());
        Expect.Error(s.Send(Host, op, d), Err.InvalidParameters, "mem-send.instruction-access-specified");
    }

    [Fact]
    public void Donate_SenderSpecifiesInstructionAccess_IsInvalid()
    {
        var s = SharingSystem.Default();
        var d = SharingDescriptors.Send(Host, [(Sp1, Perm.NX)], [(HostPage(0), 1)]);
        Expect.Error(s.Send(Host, SendOp.Donate, d), Err.InvalidParameters, "mem-send.instruction-access-specified");
    }

    [Theory]
    [InlineData(SendOp.Share)]
    [InlineData(SendOp.Lend)]
    public void Send_DataAccessUnspecified_IsInvalid(SendOp op)
    {
        var s = SharingSystem.Default();
        var d = SharingDescriptors.Send(Host, [(Sp1, Perm.None)], [(HostPage(0), 1)], op.ValidAttributes());
        Expect.Error(s.Send(Host, op, d), Err.InvalidParameters, "mem-send.data-access-missing");
    }

    [Theory]
    [InlineData(Perm.RO)]
    [InlineData(Perm.RW)]
    public void Donate_DataAccessSpecified_IsInvalid(byte data)
    {
        var s = SharingSystem.Default();
        var d = SharingDescriptors.Send(Host, [(Sp1, data)], [(HostPage(0), 1)]);
        Expect.Error(s.Send(Host, SendOp.Donate, d), Err.InvalidParameters, "mem-send.donate-data-access");
    }

    [Theory]
    [InlineData(0x03, "mem-send.permission-reserved")] // data access 3
    [InlineData(0x0E, "mem-send.permission-reserved")] // instruction access 3
    [InlineData(0x12, "mem-send.receiver-reserved-bits")] // bits[7:4] set
    public void Send_ReservedPermissionValue_IsInvalid(byte permissions, string rule)
    {
        var s = SharingSystem.Default();
        var d = SharingDescriptors.Send(Host, [(Sp1, permissions)], [(HostPage(0), 1)], 0x2F);
        Expect.Error(s.Send(Host, SendOp.Share, d), Err.InvalidParameters, rule);
    }

    [Theory]
    [InlineData(0x01, "mem-send.receiver-flags")]
    [InlineData(0x80, "mem-send.receiver-reserved-bits")]
    public void Send_EmadFlagsNonZero_IsInvalid(byte flags, string rule)
    {
        var s = SharingSystem.Default();
        var d = SharingDescriptors.Send(Host, [(Sp1, Perm.RW)], [(HostPage(0), 1)], 0x2F, emadFlags: flags);
        Expect.Error(s.Send(Host, SendOp.Share, d), Err.InvalidParameters, rule);
    }

    [Theory]
    [InlineData(SendOp.Share, 0x6F)]
    [InlineData(SendOp.Lend, 0x40)]
    [InlineData(SendOp.Donate, 0x40)]
    public void Send_NsAttributeBit_IsInvalid(SendOp op, ushort attributes)
    {
        var s = SharingSystem.Default();
        var d = SharingDescriptors.Send(Host, [(Sp1, op.ValidPermission())], [(HostPage(0), 1)], attributes);
        Expect.Error(s.Send(Host, op, d), Err.InvalidParameters, "mem-attributes.ns-bit");
    }

    [Theory]
    [InlineData(SendOp.Donate, 0x2F)]
    [InlineData(SendOp.Donate, 0x13)]
    [InlineData(SendOp.Lend, 0x2F)]
    [InlineData(SendOp.Lend, 0x20)]
    public void Send_SingleBorrowerWithMemoryType_IsInvalid(SendOp op, ushort attributes)
    {
        var s = SharingSystem.Default();
        var d = SharingDescriptors.Send(Host, [(Sp1, op.ValidPermission())], [(HostPage(0), 1)], attributes);
        Expect.Error(s.Send(Host, op, d), Err.InvalidParameters, "mem-attributes.type-for-single-borrower");
    }

    [Theory]
    [InlineData(0x27, "mem-attributes.normal-not-write-back")] // normal, non-cacheable, inner shareable
    [InlineData(0x2E, "mem-attributes.not-inner-shareable")] // normal, write-back, outer shareable
    [InlineData(0x2C, "mem-attributes.not-inner-shareable")] // normal, write-back, non-shareable
    [InlineData(0x17, "mem-attributes.device-not-ngnrne")] // device nGnRE
    public void Share_UnsupportedAttributes_IsDenied(ushort attributes, string rule)
    {
        var s = SharingSystem.Default();
        var d = SharingDescriptors.Send(Host, [(Sp1, Perm.RW)], [(HostPage(0), 1)], attributes);
        Expect.Error(s.Send(Host, SendOp.Share, d), Err.Denied, rule);
        Assert.Empty(s.State.Shares);
    }

    /// <summary>Hafnium ffa_memory_attributes_validate: shareability must be inner even with no type, so 0x00 is DENIED for SHARE (§8.2 step 14).</summary>
    [Fact]
    public void Share_AttributesUnspecified_IsDenied()
    {
        var s = SharingSystem.Default();
        var d = SharingDescriptors.Send(Host, [(Sp1, Perm.RW)], [(HostPage(0), 1)], 0x00);
        Expect.Error(s.Send(Host, SendOp.Share, d), Err.Denied, "mem-attributes.not-inner-shareable");
    }

    /// <summary>Multi-borrower LEND must give the attributes like SHARE (ffa-abi.md §6.4); 0x00 is not inner shareable → DENIED.</summary>
    [Fact]
    public void Lend_TwoBorrowersAttributesUnspecified_IsDenied()
    {
        var s = SharingSystem.Default();
        var d = SharingDescriptors.Send(Host, [(Sp1, Perm.RW), (Sp2, Perm.RW)], [(HostPage(0), 1)], 0x00);
        Expect.Error(s.Send(Host, SendOp.Lend, d), Err.Denied, "mem-attributes.not-inner-shareable");
    }

    [Fact]
    public void Share_NormalWriteBackInner_Succeeds()
    {
        var s = SharingSystem.Default();
        s.SendOk(Host, SendOp.Share, SharingDescriptors.Send(Host, [(Sp1, Perm.RO)], [(HostPage(0), 1)], 0x2F));
        Assert.Equal(0x2F, Assert.Single(s.State.Shares).Attributes.Value);
    }

    [Fact]
    public void Lend_TwoBorrowersNormalWriteBackInner_Succeeds()
    {
        var s = SharingSystem.Default();
        s.SendOk(Host, SendOp.Lend, SharingDescriptors.Send(Host, [(Sp1, Perm.RW), (Sp2, Perm.RO)], [(HostPage(0), 1)], 0x2F));
    }

    [Fact]
    public void Share_ZeroFlag_IsInvalid()
    {
        var s = SharingSystem.Default();
        var d = SharingDescriptors.Simple(SendOp.Share, Host, Sp1, HostPage(0), flags: MemoryTransactionFlags.ZeroMemory);
        Expect.Error(s.Send(Host, SendOp.Share, d), Err.InvalidParameters, "mem-send.share-zero-memory");
    }

    [Theory]
    [InlineData(SendOp.Share)]
    [InlineData(SendOp.Lend)]
    [InlineData(SendOp.Donate)]
    public void Send_TimeSlicingFlag_IsInvalid(SendOp op)
    {
        var s = SharingSystem.Default();
        var d = SharingDescriptors.Simple(op, Host, Sp1, HostPage(0), flags: MemoryTransactionFlags.TimeSlicing);
        Expect.Error(s.Send(Host, op, d), Err.InvalidParameters, "mem-send.flags-reserved");
    }

    [Theory]
    [InlineData(SendOp.Lend, 1u << 2)]
    [InlineData(SendOp.Lend, 2u << 3)] // a transaction type: only the relayer records it
    [InlineData(SendOp.Donate, 1u << 9)]
    [InlineData(SendOp.Share, 1u << 31)]
    public void Send_OtherFlagBits_AreInvalid(SendOp op, uint flags)
    {
        var s = SharingSystem.Default();
        var d = SharingDescriptors.Simple(op, Host, Sp1, HostPage(0), flags: flags);
        Expect.Error(s.Send(Host, op, d), Err.InvalidParameters, "mem-send.flags-reserved");
    }

    [Fact]
    public void Send_CompositeOffsetZero_IsInvalid()
    {
        var s = SharingSystem.Default();
        var d = SharingDescriptors.WithCompositeOffset(Valid(MemIds.Lend32), 1, 0);
        Expect.Error(s.Send(Host, MemIds.Lend32, d), Err.InvalidParameters, "mem-send.composite-offset-zero");
    }

    [Theory]
    [InlineData(48u)] // the EMAD itself
    [InlineData(64u)] // inside the 32-byte EMAD
    [InlineData(32u)] // inside the header
    public void Send_CompositeOffsetInsideHeaderOrEmads_IsInvalid(uint offset)
    {
        var s = SharingSystem.Default();
        var d = SharingDescriptors.WithCompositeOffset(Valid(MemIds.Lend32), 1, offset);
        Expect.Error(s.Send(Host, MemIds.Lend32, d), Err.InvalidParameters, "mem-send.composite-offset-overlaps");
    }

    [Fact]
    public void Send_CompositeOffsetUnaligned_IsInvalid()
    {
        var s = SharingSystem.Default();
        var d = SharingDescriptors.WithCompositeOffset(Valid(MemIds.Lend32), 1, 88);
        Expect.Error(s.Send(Host, MemIds.Lend32, d), Err.InvalidParameters, "mem-send.composite-offset-unaligned");
    }

    [Fact]
    public void Send_CompositeOutsideFirstFragment_IsInvalid()
    {
        var s = SharingSystem.Default();
        var d = SharingDescriptors.WithCompositeOffset(Valid(MemIds.Lend32), 1, 0x1000);
        Expect.Error(s.Send(Host, MemIds.Lend32, d), Err.InvalidParameters, "mem-send.composite-outside-fragment");
    }

    [Fact]
    public void Send_EmadsNamingDifferentComposites_IsInvalid()
    {
        var s = SharingSystem.Default();
        var d = SharingDescriptors.Send(Host, [(Sp1, Perm.RW), (Sp2, Perm.RW)], [(HostPage(0), 1)], 0x2F);
        d = SharingDescriptors.WithU32(d, SharingDescriptors.EmadAt(1) + 4, 0x200);
        Expect.Error(s.Send(Host, SendOp.Share, d), Err.InvalidParameters, "mem-send.composite-offsets-differ");
    }

    [Fact]
    public void Send_ConstituentCountMoreThanTheLengthHolds_IsInvalid()
    {
        var s = SharingSystem.Default();
        var d = SharingDescriptors.WithU32(Valid(MemIds.Lend32), SharingDescriptors.CompositeAt(1) + 4, 2);
        Expect.Error(s.Send(Host, MemIds.Lend32, d), Err.InvalidParameters, "mem-send.total-length-mismatch");
    }

    [Fact]
    public void Send_TotalLengthLongerThanTheConstituents_IsInvalid()
    {
        var s = SharingSystem.Default();
        var d = SharingDescriptors.Padded(Valid(MemIds.Lend32), 16);
        Expect.Error(s.Send(Host, MemIds.Lend32, d), Err.InvalidParameters, "mem-send.total-length-mismatch");
    }

    [Fact]
    public void Send_LengthNotMultipleOf16_IsInvalid()
    {
        var s = SharingSystem.Default();
        var d = SharingDescriptors.Padded(Valid(MemIds.Lend32), 8);
        Expect.Error(s.Send(Host, MemIds.Lend32, d), Err.InvalidParameters, "mem-send.lengths-unaligned");
    }

    [Fact]
    public void Send_HeaderReservedBytesNonZero_IsInvalid()
    {
        var s = SharingSystem.Default();
        var d = SharingDescriptors.WithU32(Valid(MemIds.Lend32), 40, 1);
        // Refused by the descriptor decoder, whose rule the SPMC passes on.
        SharingExpect.DescriptorError(s.Send(Host, MemIds.Lend32, d), MemoryTransactionDescriptor.ReadHeader(d, false));
    }

    [Fact]
    public void Send_AttributesReservedBits_AreInvalid()
    {
        var s = SharingSystem.Default();
        var d = SharingDescriptors.Send(Host, [(Sp1, Perm.RW)], [(HostPage(0), 1)], 0x2F | 0x80);
        Expect.Error(s.Send(Host, SendOp.Share, d), Err.InvalidParameters, "mem-attributes.reserved-bits");
    }

    /// <summary>The first fragment must reach past the composite header: here it stops after the receiver descriptor.</summary>
    [Fact]
    public void Send_FirstFragmentEndingBeforeTheCompositeHeader_IsInvalid()
    {
        var s = SharingSystem.Default();
        var d = Valid(MemIds.Lend32);
        var emadsEnd = (ulong)SharingDescriptors.CompositeAt(1);
        Expect.Error(s.Send(Host, MemIds.Lend32, d, (ulong)d.Length, emadsEnd), Err.InvalidParameters, "mem-send.first-fragment-too-short");
        Assert.Empty(s.State.Shares);
    }

    [Fact]
    public void Send_CompositeWithoutConstituents_IsInvalid()
    {
        var s = SharingSystem.Default();
        var d = SharingDescriptors.Send(Host, [(Sp1, Perm.RW)], [], 0x2F);
        Expect.Error(s.Send(Host, SendOp.Share, d), Err.InvalidParameters, "mem-send.no-constituents");
    }
}
