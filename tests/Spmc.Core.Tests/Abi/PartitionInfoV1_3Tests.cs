using System.Buffers.Binary;
using Spmc.Abi.Smccc;
using Spmc.Core.Calls;
using Spmc.Core.Spm;
using Spmc.Core.Tests.Support;
using static Spmc.Core.Tests.Support.Manifests;

namespace Spmc.Core.Tests.Abi;

/// <summary>
/// FFA_PARTITION_INFO_GET and FFA_PARTITION_INFO_GET_REGS for a v1.3 caller (DEN0077 v1.3 ALP4 §6.2, tables 6.1, 6.2,
/// 13.36, 13.41): 48-byte descriptors with the image UUID and the partition's FF-A version, six registers per entry,
/// properties bits 11–13 — and the 24-byte answers a v1.2 caller keeps.
/// </summary>
public class PartitionInfoV1_3Tests
{
    private const ushort A = 0x8001, B = 0x8002, C = 0x8003;
    private const string AUuid1 = "aaaaaaaa-0000-0000-0000-000000000001", AUuid2 = "aaaaaaaa-0000-0000-0000-000000000002",
        AImage = "abababab-1111-2222-3333-444444444444", BUuid = "bbbbbbbb-0000-0000-0000-000000000001",
        CUuid = "cccccccc-0000-0000-0000-000000000001";
    private const ulong HostRx = HostMemory + 0x1000;

    // A: 1.3, two services, an image UUID, SMC64 CPU cycles (bit 13). B: 1.2, sends direct requests. C: 1.3, no image UUID.
    private const string Json = """
        {
          "spmc": { "version": "1.3" },
          "proxy": "passthrough",
          "vms": [ { "id": 0, "name": "host", "vcpus": 2, "memory": [ { "base": "0x80000000", "size": "0x100000" } ] } ],
          "partitions": [
            { "id": "0x8001", "name": "a", "executionContexts": 2, "imageUuid": "abababab-1111-2222-3333-444444444444",
              "uuids": [ "aaaaaaaa-0000-0000-0000-000000000001", "aaaaaaaa-0000-0000-0000-000000000002" ],
              "properties": { "directRequestReceive": true, "directRequest2Receive": true, "indirectMessaging": true,
                              "notifications": true, "smc64CpuCycles": true },
              "memory": [ { "base": "0x60000000", "size": "0x100000" } ] },
            { "id": "0x8002", "name": "b", "version": "1.2", "uuids": [ "bbbbbbbb-0000-0000-0000-000000000001" ],
              "properties": { "directRequestReceive": true, "directRequestSend": true },
              "memory": [ { "base": "0x60100000", "size": "0x100000" } ] },
            { "id": "0x8003", "name": "c", "uuids": [ "cccccccc-0000-0000-0000-000000000001" ],
              "properties": { "directRequestReceive": true },
              "memory": [ { "base": "0x60200000", "size": "0x100000" } ] }
          ]
        }
        """;

    /// <summary>The system with the host at <paramref name="version"/> (explicitly negotiated) and, if asked, its RX/TX mapped.</summary>
    private static TestSystem Sys(uint version, bool map = true)
    {
        var sys = TestSystem.FromJson(Json);
        sys.Negotiate(Host, version);
        if (map) sys.Map(Host, HostMemory, HostRx);
        return sys;
    }

    private const uint V1_3 = 0x0001_0003;

    /// <summary>The v1.3 layout (table 6.1): the v1.1 24 bytes, the image UUID at 24, the version at 40, 4 MBZ bytes.</summary>
    private static byte[] D13(ushort id, ushort contexts, uint properties, string? protocol, string? image, uint version)
    {
        var bytes = new byte[48];
        PartitionInfo.V1_1(id, contexts, properties, protocol).CopyTo(bytes, 0);
        if (image is not null) Uuid.Bytes(image).CopyTo(bytes, 24);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(40), version);
        return bytes;
    }

    private static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(p => p)];

    private static ulong X2(int last, int current, int size) => (uint)last | ((ulong)current << 16) | ((ulong)size << 48);

    /// <summary>Entry <paramref name="slot"/> of a v1.3 GET_REGS answer is the 48 bytes of <paramref name="expected"/> in six registers.</summary>
    private static void AssertEntry(SmcOutcome o, int slot, byte[] expected)
    {
        for (var r = 0; r < 6; r++)
            Assert.Equal(BinaryPrimitives.ReadUInt64LittleEndian(expected.AsSpan(8 * r)), o.Frame[3 + slot * 6 + r]);
    }

    // Host (normal world) view: no send bits. A = AArch64 | direct receive | indirect | notifications | REQ2 receive | bit 13.
    private const uint AProps = 0x230D, BProps = 0x101, CProps = 0x101;

    [Fact]
    public void InfoGet_NilUuid_V1_3Caller_Gets48ByteDescriptors_OnePerProtocolUuid()
    {
        var sys = Sys(V1_3);
        var o = Expect.Success(sys.Call(Host, Ffa.PartitionInfoGet(Uuid.Nil), reads: TestSystem.ReadBack(HostRx, 4 * 48 + 48)), w2: 4, w3: 48);
        Assert.Equal(Concat(
            D13(A, 2, AProps, AUuid1, AImage, 0x0001_0003),
            D13(A, 2, AProps, AUuid2, AImage, 0x0001_0003),   // same ID and image UUID (§6.2.2)
            D13(B, 1, BProps, BUuid, null, 0x0001_0002),      // B's FF-A version; no image UUID: Nil
            D13(C, 1, CProps, CUuid, null, 0x0001_0003),
            new byte[48]), o.Reads[0].Data);
        Assert.Equal(RxState.Full, sys.Endpoint(Host).Mailbox!.State);
    }

    [Fact]
    public void InfoGet_NilUuid_V1_2Caller_GetsTodays24ByteDescriptors_WithoutBit13()
    {
        var sys = Sys(Ffa.V1_2);
        var o = Expect.Success(sys.Call(Host, Ffa.PartitionInfoGet(Uuid.Nil), reads: TestSystem.ReadBack(HostRx, 4 * 24 + 24)), w2: 4, w3: 24);
        Assert.Equal(Concat(
            PartitionInfo.V1_1(A, 2, AProps & 0x7FF, AUuid1),
            PartitionInfo.V1_1(A, 2, AProps & 0x7FF, AUuid2),
            PartitionInfo.V1_1(B, 1, BProps, BUuid),
            PartitionInfo.V1_1(C, 1, CProps, CUuid),
            new byte[24]), o.Reads[0].Data);
    }

    [Fact]
    public void InfoGet_ProtocolUuid_V1_3Caller_ProtocolFieldMbz_ImageUuidAndVersionFilled()
    {
        var sys = Sys(V1_3);
        var o = Expect.Success(sys.Call(Host, Ffa.PartitionInfoGet(AUuid2), reads: TestSystem.ReadBack(HostRx, 96)), w2: 1, w3: 48);
        Assert.Equal(Concat(D13(A, 2, AProps, null, AImage, 0x0001_0003), new byte[48]), o.Reads[0].Data);
    }

    [Fact]
    public void InfoGet_ImageUuid_V1_3Caller_OneEntry_WithTheFirstProtocolUuid()
    {
        var sys = Sys(V1_3);
        Expect.Success(sys.Call(Host, Ffa.PartitionInfoGetCount(AImage)), w2: 1, w3: 0); // "the count is 1"
        var o = Expect.Success(sys.Call(Host, Ffa.PartitionInfoGet(AImage), reads: TestSystem.ReadBack(HostRx, 96)), w2: 1, w3: 48);
        Assert.Equal(Concat(D13(A, 2, AProps, AUuid1, AImage, 0x0001_0003), new byte[48]), o.Reads[0].Data);

        var regs = Expect.Success64(sys.Call(Host, Ffa.PartitionInfoGetRegs(AImage)));
        Assert.Equal(X2(0, 0, 48), regs.Frame[2]);
        AssertEntry(regs, 0, D13(A, 2, AProps, AUuid1, AImage, 0x0001_0003));
    }

    [Fact]
    public void InfoGet_ImageUuid_V1_2Caller_IsAnUnknownUuid_AsBefore_StateUnchanged()
    {
        var sys = Sys(Ffa.V1_2);
        Expect.Error(sys.Call(Host, Ffa.PartitionInfoGet(AImage)), Err.InvalidParameters, "partition-info-get.unknown-uuid");
        Expect.Error(sys.Call(Host, Ffa.PartitionInfoGetCount(AImage)), Err.InvalidParameters, "partition-info-get.unknown-uuid");
        Expect.Error(sys.Call(Host, Ffa.PartitionInfoGetRegs(AImage)), Err.InvalidParameters, "partition-info-get-regs.unknown-uuid");
        Assert.Equal(RxState.Empty, sys.Endpoint(Host).Mailbox!.State);
    }

    [Fact]
    public void InfoGet_CountOnly_V1_3_CountsOnePerProtocolUuid()
    {
        var sys = Sys(V1_3, map: false);
        Expect.Success(sys.Call(Host, Ffa.PartitionInfoGetCount(Uuid.Nil)), w2: 4, w3: 0);
        Expect.Success(sys.Call(Host, Ffa.PartitionInfoGetCount(AUuid1)), w2: 1, w3: 0);
    }

    [Fact]
    public void InfoGet_V1_3Errors_LeaveTheStateUnchanged()
    {
        var sys = Sys(V1_3);
        var before = sys.State.Endpoints;
        Expect.Error(sys.Call(Host, Ffa.PartitionInfoGet("dddddddd-0000-0000-0000-000000000001")), Err.InvalidParameters, "partition-info-get.unknown-uuid");
        Expect.Error(sys.Call(Host, Ffa.PartitionInfoGet(Uuid.Nil, 2)), Err.InvalidParameters, "partition-info-get.flags-mbz");
        Assert.Equal(before, sys.State.Endpoints);
        Expect.Success(sys.Call(Host, Ffa.PartitionInfoGet(Uuid.Nil)));
        before = sys.State.Endpoints;
        Expect.Error(sys.Call(Host, Ffa.PartitionInfoGet(Uuid.Nil)), Err.Busy, "partition-info-get.rx-busy");
        Assert.Equal(before, sys.State.Endpoints);
    }

    [Fact]
    public void InfoGet_48ByteDescriptors_MustFitRx()
    {
        // 86 entries: 86 * 48 = 4128 > 4096 at v1.3, 86 * 24 = 2064 at v1.2.
        var sys = TestSystem.FromJson(Many(86));
        sys.Map(Host, HostMemory, HostRx);
        Expect.Error(sys.Call(Host, Ffa.PartitionInfoGet(Uuid.Nil)), Err.NoMemory, "partition-info-get.rx-too-small");
        Assert.Equal(RxState.Empty, sys.Endpoint(Host).Mailbox!.State);
        Expect.Success(sys.Call(Host, Ffa.PartitionInfoGetCount(Uuid.Nil)), w2: 86);

        var at1_2 = TestSystem.FromJson(Many(86));
        at1_2.Negotiate(Host, Ffa.V1_2);
        at1_2.Map(Host, HostMemory, HostRx);
        Expect.Success(at1_2.Call(Host, Ffa.PartitionInfoGet(Uuid.Nil)), w2: 86, w3: 24);
    }

    [Fact]
    public void InfoGet_Partitions_SeeTheSendBitsAndBit13_PerTheirVersion()
    {
        var sys = Sys(V1_3, map: false);
        // C (1.3) sees B's send bit and A's bit 13 in 48-byte descriptors.
        sys.Map(C, 0x6020_0000, 0x6020_1000);
        var o = Expect.Success(sys.Call(C, Ffa.PartitionInfoGet(Uuid.Nil), reads: TestSystem.ReadBack(0x6020_1000, 4 * 48)), w2: 4, w3: 48);
        Assert.Equal(D13(B, 1, 0x103, BUuid, null, 0x0001_0002), o.Reads[0].Data![96..144]);
        Assert.Equal(D13(A, 2, AProps, AUuid1, AImage, 0x0001_0003), o.Reads[0].Data![..48]);
        // B (1.2) keeps the 24-byte layout and never sees bit 13.
        sys.Map(B, 0x6010_0000, 0x6010_1000);
        o = Expect.Success(sys.Call(B, Ffa.PartitionInfoGet(AUuid1), reads: TestSystem.ReadBack(0x6010_1000, 24)), w2: 1, w3: 24);
        Assert.Equal(PartitionInfo.V1_1(A, 2, AProps & 0x7FF, null), o.Reads[0].Data);
    }

    [Fact]
    public void InfoGet_PartitionVersion_IsTheVersionInForce()
    {
        var sys = Sys(V1_3, map: false);
        sys.Negotiate(C, Ffa.V1_2);   // C renegotiates (nothing in use): its descriptor now says 1.2
        var regs = Expect.Success64(sys.Call(Host, Ffa.PartitionInfoGetRegs(CUuid)));
        Assert.Equal(0x0001_0002ul, regs.Frame[8]);
    }

    [Fact]
    public void InfoGetRegs_V1_3Caller_SixRegistersPerEntry_TwoPerCall()
    {
        var sys = Sys(V1_3, map: false);
        var first = Expect.Success64(sys.Call(Host, Ffa.PartitionInfoGetRegs(Uuid.Nil)));
        Assert.Equal(X2(last: 3, current: 1, size: 48), first.Frame[2]);
        AssertEntry(first, 0, D13(A, 2, AProps, AUuid1, AImage, 0x0001_0003));
        AssertEntry(first, 1, D13(A, 2, AProps, AUuid2, AImage, 0x0001_0003));
        for (var i = 15; i < 18; i++) Assert.Equal(0ul, first.Frame[i]);

        var second = Expect.Success64(sys.Call(Host, Ffa.PartitionInfoGetRegs(Uuid.Nil, start: 2)));
        Assert.Equal(X2(last: 3, current: 3, size: 48), second.Frame[2]);
        AssertEntry(second, 0, D13(B, 1, BProps, BUuid, null, 0x0001_0002));
        AssertEntry(second, 1, D13(C, 1, CProps, CUuid, null, 0x0001_0003));

        var last = Expect.Success64(sys.Call(Host, Ffa.PartitionInfoGetRegs(Uuid.Nil, start: 3)));
        Assert.Equal(X2(last: 3, current: 3, size: 48), last.Frame[2]);
        for (var i = 9; i < 18; i++) Assert.Equal(0ul, last.Frame[i]);

        Expect.Error(sys.Call(Host, Ffa.PartitionInfoGetRegs(Uuid.Nil, start: 4)), Err.InvalidParameters, "partition-info-get-regs.start-index");
        Expect.Error(sys.Call(Host, Ffa.PartitionInfoGetRegs(Uuid.Nil, start: 2, tag: 1)), Err.Retry, "partition-info-get-regs.tag-not-current");
    }

    [Fact]
    public void InfoGetRegs_ProtocolUuid_V1_3_ProtocolRegistersMbz()
    {
        var regs = Expect.Success64(Sys(V1_3, map: false).Call(Host, Ffa.PartitionInfoGetRegs(AUuid1)));
        Assert.Equal(X2(0, 0, 48), regs.Frame[2]);
        Assert.Equal(0ul, regs.Frame[4]);
        Assert.Equal(0ul, regs.Frame[5]);
        AssertEntry(regs, 0, D13(A, 2, AProps, null, AImage, 0x0001_0003));
    }

    [Fact]
    public void InfoGetRegs_V1_2Caller_KeepsThreeRegistersPerEntry_FivePerCall()
    {
        var regs = Expect.Success64(Sys(Ffa.V1_2, map: false).Call(Host, Ffa.PartitionInfoGetRegs(Uuid.Nil)));
        Assert.Equal(X2(last: 3, current: 3, size: 24), regs.Frame[2]);
        Assert.Equal(PartitionInfo.Word0(A, 2, AProps & 0x7FF), regs.Frame[3]);
        Assert.Equal(Uuid.Words64(AUuid1).Lo, regs.Frame[4]);
        Assert.Equal(PartitionInfo.Word0(A, 2, AProps & 0x7FF), regs.Frame[6]);
        Assert.Equal(PartitionInfo.Word0(C, 1, CProps), regs.Frame[12]);
        for (var i = 15; i < 18; i++) Assert.Equal(0ul, regs.Frame[i]);
    }

    [Fact]
    public void Properties_Bits11And12_AreNeverSet()
    {
        var sys = Sys(V1_3);
        var o = Expect.Success(sys.Call(Host, Ffa.PartitionInfoGet(Uuid.Nil), reads: TestSystem.ReadBack(HostRx, 4 * 48)), w2: 4);
        for (var i = 0; i < 4; i++)
            Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(o.Reads[0].Data!.AsSpan(i * 48 + 4)) & 0x1800);
    }

    [Fact]
    public void DefaultSystem_HostAt1_3_Gets48Bytes_BehindPkvmTheSpmcSees1_2()
    {
        // The default manifest: a passthrough host at 1.3 gets the v1.3 layout...
        var sys = TestSystem.Default();
        sys.Map(Host, HostMemory, HostRx);
        Expect.Success(sys.Call(Host, Ffa.PartitionInfoGet(Uuid.Nil)), w2: 4, w3: 48);
        // ...while behind the pkvm-7.4 proxy, which negotiates 1.2 with the SPMC, the SPMC formats for 1.2 (the tests above).
        var pkvm = TestSystem.FromJson(DefaultJson);
        Assert.Equal(0x0001_0002ul, pkvm.Call(Host, Ffa.Version(Ffa.V1_2)).Frame[0]);
        Assert.Equal("1.2", pkvm.Endpoint(Host).Version.ToString());
    }
}
