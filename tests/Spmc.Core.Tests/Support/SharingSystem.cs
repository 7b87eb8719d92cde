using Spmc.Abi.Descriptors;
using Spmc.Abi.Smccc;
using Spmc.Core.Calls;
using Spmc.Core.Systems;

namespace Spmc.Core.Tests.Support;

/// <summary>
/// A <see cref="TestSystem"/> with the memory-sharing call sequences of MemorySharingEndToEndTests: descriptors
/// written into the caller's TX with the call's writes, FRAG_RX/FRAG_TX loops for sending, FRAG_RX with
/// FFA_RX_RELEASE between fragments for retrieving.
/// </summary>
public sealed class SharingSystem(TestSystem test)
{
    private readonly Dictionary<ushort, (ulong Tx, ulong Rx, int Size)> _buffers = [];

    public TestSystem Test { get; } = test;
    public SimulatedSystem System => Test.System;
    public SystemState State => Test.State;

    /// <summary>The default manifest (host 0 with 256 MiB, SPs 0x8001..0x8003 with 1 MiB each, all v1.2).</summary>
    public static SharingSystem Default(bool map = true, params ushort[] only)
    {
        var s = new SharingSystem(TestSystem.Default());
        if (map)
            foreach (var id in only.Length > 0 ? only : [Manifests.Host, Manifests.Echo, Manifests.MemorySp, Manifests.Notifier]) s.MapDefault(id);
        return s;
    }

    /// <summary>The rich manifest (host, VM 1, VM 2; SPs at v1.2, v1.1, v1.0). Nothing is mapped.</summary>
    public static SharingSystem Rich() => new(TestSystem.Rich());

    public static SharingSystem FromJson(string json) => new(TestSystem.FromJson(json));

    /// <summary>Maps TX at the first page of the endpoint's first region and RX at the second, and remembers them.</summary>
    public void MapDefault(ushort id)
    {
        var region = System.Config.Vms.Where(v => v.Id == id).Select(v => v.Memory[0])
            .Concat(System.Config.Partitions.Where(p => p.Id == id).Select(p => p.Memory[0])).First();
        Map(id, region.Base, region.Base + 0x1000);
    }

    public void Map(ushort id, ulong tx, ulong rx, uint pages = 1)
    {
        Test.Map(id, tx, rx, pages);
        _buffers[id] = (tx, rx, (int)pages * 4096);
    }

    public ulong Tx(ushort id) => _buffers[id].Tx;
    public ulong Rx(ushort id) => _buffers[id].Rx;
    public int BufferSize(ushort id) => _buffers[id].Size;

    public SmcOutcome Call(ushort caller, params ulong[] x) => Test.Call(caller, SmcFrame.From(x));

    /// <summary>A call with <paramref name="txBytes"/> written into the caller's TX first (at most one TX buffer's worth).</summary>
    public SmcOutcome CallWithTx(ushort caller, byte[] txBytes, params ulong[] x)
    {
        var room = Math.Min(txBytes.Length, BufferSize(caller));
        return Test.Call(caller, SmcFrame.From(x), writes: [new MemoryWrite(Tx(caller), txBytes[..room])]);
    }

    /// <summary>A call that reads the caller's whole RX back after it.</summary>
    public SmcOutcome CallReadingRx(ushort caller, byte[]? txBytes, params ulong[] x) =>
        Test.Call(caller, SmcFrame.From(x), writes: txBytes is null ? null : [new MemoryWrite(Tx(caller), txBytes)],
            reads: [new MemoryReadRequest(Rx(caller), BufferSize(caller))]);

    // ---- send ---------------------------------------------------------------------------------------------

    /// <summary>SHARE/LEND/DONATE with the first <paramref name="fragment"/> bytes in TX; lengths default to the whole descriptor.</summary>
    public SmcOutcome Send(ushort caller, ulong fid, byte[] descriptor, ulong? total = null, ulong? fragment = null, ulong x3 = 0, ulong x4 = 0)
    {
        var frag = fragment ?? (ulong)descriptor.Length;
        return CallWithTx(caller, descriptor[..(int)Math.Min(frag, (ulong)descriptor.Length)], fid, total ?? (ulong)descriptor.Length, frag, x3, x4);
    }

    public SmcOutcome Send(ushort caller, SendOp op, byte[] descriptor, bool smc64 = false) => Send(caller, op.Id(smc64), descriptor);

    /// <summary>Sends in fragments of the given sizes (the last takes the rest); returns every answer.</summary>
    public List<SmcOutcome> SendFragments(ushort caller, ulong fid, byte[] descriptor, params int[] sizes)
    {
        var answers = new List<SmcOutcome>();
        var first = sizes.Length > 0 ? sizes[0] : Math.Min(descriptor.Length, BufferSize(caller));
        var o = Send(caller, fid, descriptor, (ulong)descriptor.Length, (ulong)first);
        answers.Add(o);
        var sent = first;
        var i = 1;
        while (o.Frame[0] == MemIds.FragRx && sent < descriptor.Length)
        {
            var handle = FragHandle(o);
            var next = i < sizes.Length ? sizes[i] : Math.Min(descriptor.Length - sent, BufferSize(caller));
            o = CallWithTx(caller, descriptor[sent..(sent + next)], MemIds.FragTx, (uint)handle, handle >> 32, (ulong)next);
            answers.Add(o);
            sent += next;
            i++;
        }
        return answers;
    }

    /// <summary>Sends the whole descriptor (fragmenting at the TX size) and returns the handle, failing the test otherwise.</summary>
    public ulong SendOk(ushort caller, ulong fid, byte[] descriptor)
    {
        var last = SendFragments(caller, fid, descriptor)[^1];
        return Handle(Expect.Success(last));
    }

    public ulong SendOk(ushort caller, SendOp op, byte[] descriptor) => SendOk(caller, op.Id(), descriptor);

    /// <summary>The one-receiver transaction most tests start from.</summary>
    public ulong SendSimple(SendOp op, ushort sender, ushort receiver, ulong address, uint pages = 1, uint flags = 0) =>
        SendOk(sender, op, SharingDescriptors.Simple(op, sender, receiver, address, pages, flags));

    /// <summary>The handle of FFA_SUCCESS (w2 = low, w3 = high).</summary>
    public static ulong Handle(SmcOutcome o) => o.Frame[2] | (o.Frame[3] << 32);

    /// <summary>The handle of FFA_MEM_FRAG_RX / FFA_MEM_FRAG_TX (w1 = low, w2 = high).</summary>
    public static ulong FragHandle(SmcOutcome o) => (o.Frame[1] & 0xFFFF_FFFF) | (o.Frame[2] << 32);

    public SmcOutcome FragTx(ushort caller, ulong handle, ulong length, byte[]? bytes = null, ulong w4 = 0) =>
        bytes is null ? Call(caller, MemIds.FragTx, (uint)handle, handle >> 32, length, w4)
            : CallWithTx(caller, bytes, MemIds.FragTx, (uint)handle, handle >> 32, length, w4);

    // ---- retrieve -----------------------------------------------------------------------------------------

    /// <summary>FFA_MEM_RETRIEVE_REQ with the request in TX; reads the caller's RX back. Does not release RX.</summary>
    public SmcOutcome RetrieveRaw(ushort caller, byte[] request, ulong fid = MemIds.RetrieveReq32, ulong? total = null, ulong? fragment = null)
    {
        var length = (ulong)request.Length;
        return CallReadingRx(caller, request, fid, total ?? length, fragment ?? length, 0, 0);
    }

    /// <summary>
    /// Retrieves and pulls every fragment of the response with FRAG_RX (releasing RX between them and at the end).
    /// Returns the first answer and, when it was FFA_MEM_RETRIEVE_RESP, the whole response.
    /// </summary>
    public (SmcOutcome First, byte[]? Response) Retrieve(ushort caller, byte[] request, ulong handle, ulong fid = MemIds.RetrieveReq32)
    {
        var first = RetrieveRaw(caller, request, fid);
        if (first.Frame[0] != MemIds.RetrieveResp) return (first, null);
        return (first, Pull(caller, first, handle, 0));
    }

    /// <summary>The whole response of a RETRIEVE_RESP answer, pulling further fragments with FRAG_RX (w4 = sender &lt;&lt; 16).</summary>
    public byte[] Pull(ushort caller, SmcOutcome first, ulong handle, ushort w4Sender)
    {
        var total = (int)first.Frame[1];
        var response = new List<byte>(first.Reads[0].Data![..(int)first.Frame[2]]);
        while (response.Count < total)
        {
            Expect.Success(Call(caller, MemIds.RxRelease));
            var next = CallReadingRx(caller, null, MemIds.FragRx, (uint)handle, handle >> 32, (ulong)response.Count, (ulong)w4Sender << 16);
            Assert.True(next.Frame[0] == MemIds.FragTx, $"FRAG_RX: {next.Decoded}");
            Assert.Equal(handle, FragHandle(next));
            response.AddRange(next.Reads[0].Data![..(int)next.Frame[3]]);
        }
        Expect.Success(Call(caller, MemIds.RxRelease));
        return [.. response];
    }

    /// <summary>Retrieves as <paramref name="caller"/>, the only receiver listed, and returns the whole response.</summary>
    public byte[] RetrieveOk(ushort caller, ushort sender, ulong handle, byte perm = Perm.None, uint flags = 0,
        IEnumerable<(ushort Id, byte Perm)>? receivers = null)
    {
        var (first, response) = Retrieve(caller, SharingDescriptors.Retrieve(sender, handle, receivers ?? [(caller, perm)], flags), handle);
        Assert.True(first.Frame[0] == MemIds.RetrieveResp, $"expected FFA_MEM_RETRIEVE_RESP, got {first.Decoded}");
        return response!;
    }

    // ---- give back ----------------------------------------------------------------------------------------

    public SmcOutcome Relinquish(ushort caller, ulong handle, uint flags = 0, params ushort[] endpoints) =>
        CallWithTx(caller, SharingDescriptors.Relinquish(handle, flags, endpoints.Length > 0 ? endpoints : [caller]), MemIds.Relinquish);

    public SmcOutcome Reclaim(ushort caller, ulong handle, ulong flags = 0) => Call(caller, MemIds.Reclaim, (uint)handle, handle >> 32, flags);

    // ---- memory API ---------------------------------------------------------------------------------------

    public bool CanRead(ushort who, ulong address, int length = 8)
    {
        try { System.ReadMemory(who, address, length); return true; }
        catch (AccessDeniedException) { return false; }
    }

    public bool CanWrite(ushort who, ulong address, byte[]? data = null)
    {
        try { System.WriteMemory(who, address, data ?? [0xA5]); return true; }
        catch (AccessDeniedException) { return false; }
    }

    /// <summary>Reads as the SPMC (ID 0x8000), which may read all memory.</summary>
    public byte[] Peek(ulong address, int length) => Test.Peek(address, length);

    public void Poke(ushort asEndpoint, ulong address, byte[] data) => System.WriteMemory(asEndpoint, address, data);
}

/// <summary>Assertions for sharing tests beyond <see cref="Expect"/>.</summary>
public static class SharingExpect
{
    /// <summary>
    /// INVALID_PARAMETERS by the rule the descriptor decoder gives for the same bytes: the SPMC passes a parse
    /// failure on with the decoder's own rule (<paramref name="parsed"/> must be that failure).
    /// </summary>
    public static SmcOutcome DescriptorError<T>(SmcOutcome o, ParseResult<T> parsed)
    {
        Assert.False(parsed.Ok, "the descriptor should not parse");
        return Expect.Error(o, Err.InvalidParameters, parsed.Rejection!.Rule);
    }

    /// <summary>An answer with function ID <paramref name="x0"/> and no error.</summary>
    public static SmcOutcome Answer(SmcOutcome o, ulong x0)
    {
        Assert.True(o.Frame[0] == x0 && o.Decoded.Error is null, $"expected x0 = 0x{x0:X}, got x0 = 0x{o.Frame[0]:X}; {o.Decoded}");
        return o;
    }
}
