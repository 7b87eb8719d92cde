using System.Buffers.Binary;
using Spmc.Abi.Smccc;
using Spmc.Core.Calls;
using Spmc.Core.Manifests;
using Spmc.Core.Memory;
using Spmc.Core.Proxy;
using Spmc.Core.Proxy.Pkvm;

namespace Spmc.Core.Tests.Proxy;

/// <summary>Profile sets for [MemberData]: the digest's "newest" is L-hard + L7.4 (pkvm-7.2, pkvm-7.4).</summary>
public static class Profiles
{
    public static readonly string[] AllNames = [.. PkvmProfile.All.Select(p => p.Name)];

    private static TheoryData<string> Of(IEnumerable<string> names)
    {
        var data = new TheoryData<string>();
        foreach (var n in names) data.Add(n);
        return data;
    }

    /// <summary>Every pKVM release.</summary>
    public static TheoryData<string> All => Of(AllNames);

    /// <summary>Releases with the version gate and EL2 negotiation (6.10 and later).</summary>
    public static TheoryData<string> Gated => Of(["pkvm-6.10", "pkvm-6.18", "pkvm-7.2", "pkvm-7.4"]);

    /// <summary>FF-A 1.2 / SMCCC 1.2 releases (6.18 and later).</summary>
    public static TheoryData<string> Smccc12 => Of(["pkvm-6.18", "pkvm-7.2", "pkvm-7.4"]);

    /// <summary>The digest's "newest": L-hard (7.2) and L7.4.</summary>
    public static TheoryData<string> Newest => Of(["pkvm-7.2", "pkvm-7.4"]);

    /// <summary>L7.4 alone (the notification calls).</summary>
    public static TheoryData<string> L74 => Of(["pkvm-7.4"]);

    public static TheoryData<string> Only(params string[] names) => Of(names);
}

/// <summary>
/// A <see cref="PkvmProxy"/> in front of the <see cref="SpmcMock"/>, on a machine with a host (VM 0, 4 MiB at
/// 0x80000000), a guest (VM 1, 1 MiB at 0x90000000) and one SP. The proxy's own TX/RX are the top two pages
/// of the host's memory. R/T are the host's RX/TX pages of the digest's MAPPED state; P and Q ordinary pages.
/// </summary>
public sealed class ProxyHarness
{
    public const ulong R = 0x8000_0000, T = 0x8000_1000, P = 0x8001_0000, Q = 0x8002_0000, HypTx = 0x803F_E000, HypRx = 0x803F_F000;
    public const ulong GuestPage = 0x9000_0000, SpPage = 0x6000_0000;
    public const ushort Host = 0, Guest = 1, Sp = 0x8001;

    public static string Manifest(string proxy, string spmcVersion = "1.2") => $$"""
        {
          "spmc": { "version": "{{spmcVersion}}" },
          "proxy": "{{proxy}}",
          "vms": [
            { "id": 0, "name": "host", "memory": [ { "base": "0x80000000", "size": "0x400000" } ] },
            { "id": 1, "name": "guest", "memory": [ { "base": "0x90000000", "size": "0x100000" } ] }
          ],
          "partitions": [
            { "id": "0x8001", "name": "sp", "uuids": [ "11111111-2222-3333-4444-000000008001" ],
              "properties": { "directRequestReceive": true }, "memory": [ { "base": "0x60000000", "size": "0x100000" } ] }
          ]
        }
        """;

    private ProxyHarness(PkvmProfile profile, SpmcMock spmc, PhysicalMemory memory, PkvmProxy proxy)
    {
        Profile = profile;
        Spmc = spmc;
        Memory = memory;
        Proxy = proxy;
    }

    public PkvmProfile Profile { get; }
    public SpmcMock Spmc { get; }
    public PhysicalMemory Memory { get; }
    public PkvmProxy Proxy { get; }

    public static ProxyHarness Create(string profile, Action<SpmcMock>? beforeBoot = null, ProxyOptions? options = null) =>
        Create(PkvmProfile.Find(profile) ?? throw new ArgumentException(profile), beforeBoot, options);

    /// <summary>
    /// Boots the proxy against a fresh mock (the boot frames are recorded, then marked as seen), with the manifest's
    /// proxyOptions replaced by <paramref name="options"/> when given (16K pages, a built-in arm_ffa).
    /// </summary>
    public static ProxyHarness Create(PkvmProfile profile, Action<SpmcMock>? beforeBoot = null, ProxyOptions? options = null)
    {
        var config = ManifestValidator.Validate(Manifest(profile.Name)) with { ProxyOptions = options };
        var memory = new PhysicalMemory();
        var spmc = new SpmcMock();
        beforeBoot?.Invoke(spmc);
        var proxy = new PkvmProxy(profile, new ProxyContext(config, memory, new MemoryMap(config), spmc));
        spmc.Mark();
        return new ProxyHarness(profile, spmc, memory, proxy);
    }

    public bool Smccc12 => Profile.Results == ResultRegisters.X0ToX17;

    public FfaAnswer Call(params ulong[] x) => Call(SmcFrame.From(x));

    public FfaAnswer Call(SmcFrame frame, ushort caller = Host) => Proxy.Forward(new FfaRequest(caller, 0, frame), Spmc);

    /// <summary>NEG: the host's FFA_VERSION succeeded (L1.0 has none: its FFA_VERSION passes through).</summary>
    public ProxyHarness Negotiated(uint version = 0x1_0002)
    {
        var a = Call(0x8400_0063, version);
        Assert.True(a.Error is null, $"FFA_VERSION: {a.Reason}");
        Spmc.Mark();
        return this;
    }

    /// <summary>MAPPED: NEG, then FFA_FN64_RXTX_MAP(T, R, 1) succeeded.</summary>
    public ProxyHarness Mapped(uint version = 0x1_0002)
    {
        Negotiated(version);
        var a = Call(0xC400_0066, T, R, 1);
        Assert.True(a.Frame[0] == SpmcMock.Success, $"FFA_RXTX_MAP: {a.Reason}");
        Spmc.Mark();
        return this;
    }

    public Stage2State? StateOf(ulong page) => Proxy.Stage2!.StateAt(page);

    /// <summary>A descriptor in the layout of the negotiated (hyp) version.</summary>
    public PkvmDescriptor D(params (ulong Address, uint Pages)[] constituents) => new(Proxy.HypVersion, constituents);

    /// <summary>D(n) with n one-page constituents from <paramref name="first"/>, <paramref name="stride"/> apart.</summary>
    public PkvmDescriptor D(int n, ulong first = P, ulong stride = 0x2000) =>
        new(Proxy.HypVersion, [.. Enumerable.Range(0, n).Select(i => (first + (ulong)i * stride, 1u))]);

    /// <summary>Writes <paramref name="bytes"/> into the host's TX (T) and makes the call.</summary>
    public FfaAnswer WithTx(byte[] bytes, params ulong[] x)
    {
        Memory.Write(T, bytes);
        return Call(x);
    }

    /// <summary>FFA_MEM_SHARE_32 (or <paramref name="fid"/>) of a descriptor written into T: len = fraglen = its length unless given.</summary>
    public FfaAnswer Share(PkvmDescriptor d, uint? len = null, uint? fraglen = null, ulong fid = 0x8400_0073)
    {
        var frag = fraglen ?? (uint)Math.Min(d.Length, 4096);
        return WithTx(d.Bytes[..(int)Math.Min(frag, (uint)d.Length)], fid, len ?? (uint)d.Length, frag);
    }
}

/// <summary>
/// The digest's descriptor D(n) in the layout of a version: v1.2 = 48-byte header (ep_mem_offset 48), a 32-byte
/// EMAD with composite_off 80, the composite at 80, constituents at 96; v1.1 the same with a 16-byte EMAD
/// (composite at 64); v1.0 a 32-byte header, the EMAD at 32, the composite at 48. Sender 0, one receiver (0x8001, RW).
/// </summary>
public sealed class PkvmDescriptor
{
    public PkvmDescriptor(uint version, (ulong Address, uint Pages)[] constituents)
    {
        Version = version;
        HeaderSize = version <= 0x1_0000 ? 32 : 48;
        EmadSize = version >= 0x1_0002 ? 32 : 16;
        EmadAt = HeaderSize;
        CompositeAt = EmadAt + EmadSize;
        ConstituentsAt = CompositeAt + 16;
        Constituents = constituents;
        Bytes = new byte[ConstituentsAt + 16 * constituents.Length];
        if (HeaderSize == 32) Bytes[2] = 0x2F;
        else
        {
            BinaryPrimitives.WriteUInt16LittleEndian(Bytes.AsSpan(2), 0x2F);
            BinaryPrimitives.WriteUInt32LittleEndian(Bytes.AsSpan(24), (uint)EmadSize);
            BinaryPrimitives.WriteUInt32LittleEndian(Bytes.AsSpan(32), (uint)EmadAt);
        }
        BinaryPrimitives.WriteUInt32LittleEndian(Bytes.AsSpan(28), 1);
        BinaryPrimitives.WriteUInt16LittleEndian(Bytes.AsSpan(EmadAt), ProxyHarness.Sp);
        Bytes[EmadAt + 2] = 0x02;
        CompositeOffset = (uint)CompositeAt;
        BinaryPrimitives.WriteUInt32LittleEndian(Bytes.AsSpan(CompositeAt), (uint)constituents.Sum(c => c.Pages));
        BinaryPrimitives.WriteUInt32LittleEndian(Bytes.AsSpan(CompositeAt + 4), (uint)constituents.Length);
        for (var i = 0; i < constituents.Length; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(Bytes.AsSpan(ConstituentsAt + 16 * i), constituents[i].Address);
            BinaryPrimitives.WriteUInt32LittleEndian(Bytes.AsSpan(ConstituentsAt + 16 * i + 8), constituents[i].Pages);
        }
    }

    public uint Version { get; }
    public int HeaderSize { get; }
    public int EmadSize { get; }
    public int EmadAt { get; }
    public int CompositeAt { get; }
    public int ConstituentsAt { get; }
    public (ulong Address, uint Pages)[] Constituents { get; }
    public byte[] Bytes { get; }
    public int Length => Bytes.Length;

    public uint CompositeOffset
    {
        get => BinaryPrimitives.ReadUInt32LittleEndian(Bytes.AsSpan(EmadAt + 4));
        set => BinaryPrimitives.WriteUInt32LittleEndian(Bytes.AsSpan(EmadAt + 4), value);
    }

    public PkvmDescriptor With(Action<PkvmDescriptor> change)
    {
        change(this);
        return this;
    }

    public uint EpCount { set => BinaryPrimitives.WriteUInt32LittleEndian(Bytes.AsSpan(28), value); }
    public ushort Sender { set => BinaryPrimitives.WriteUInt16LittleEndian(Bytes, value); }
    public uint EpMemOffset { set => BinaryPrimitives.WriteUInt32LittleEndian(Bytes.AsSpan(32), value); }
}

/// <summary>Register-level expectations of the digest's §9 (ERR(e), OK(p), verbatim), per release's write-back width.</summary>
public static class PkvmAssert
{
    public const ulong Error = 0x8400_0060, Success = 0x8400_0061;

    private static string Show(FfaAnswer a) => $"{a.Frame} error={a.Error} rule={a.Rule} reason={a.Reason} note={a.Note}";

    /// <summary>x4..x17: zero (x0..x17 releases) or the host's input (x0..x3 releases).</summary>
    private static void Upper(ProxyHarness h, FfaAnswer a, SmcFrame input, SmcFrame? expected = null)
    {
        for (var i = 4; i < Registers.Count; i++)
            Assert.True(a.Frame[i] == (h.Smccc12 ? expected?[i] ?? 0 : input[i]), $"x{i}: {Show(a)}");
    }

    /// <summary>
    /// ERR(e): x0 = FFA_ERROR, x2 = e sign-extended, x1 = x3 = 0, x4..x17 per width; refused by a pKVM rule, by
    /// <paramref name="rule"/> when given (its ID, see PkvmRules).
    /// </summary>
    public static FfaAnswer Err(ProxyHarness h, FfaAnswer a, int code, SmcFrame input, string? rule = null)
    {
        Assert.True(a.Frame[0] == Error && a.Frame[2] == (ulong)(long)code && a.Frame[1] == 0 && a.Frame[3] == 0,
            $"expected ERR({code}): {Show(a)}");
        Upper(h, a, input);
        Assert.Equal(code, (int?)a.Error);
        Assert.StartsWith("pkvm.", a.Rule);
        Assert.StartsWith("pKVM: ", a.Reason);
        if (rule is not null) Assert.Equal(rule, a.Rule);
        return a;
    }

    public static FfaAnswer Err(ProxyHarness h, FfaAnswer a, int code, params ulong[] input) => Err(h, a, code, SmcFrame.From(input));

    /// <summary>ERR(e) refused by the rule with ID <paramref name="rule"/>.</summary>
    public static FfaAnswer Err(ProxyHarness h, FfaAnswer a, int code, string rule, params ulong[] input) =>
        Err(h, a, code, SmcFrame.From(input), rule);

    /// <summary>OK(p): x0 = FFA_SUCCESS_32, x2 = p, everything else 0 (x4..x17 per width).</summary>
    public static FfaAnswer Ok(ProxyHarness h, FfaAnswer a, ulong prop, SmcFrame input)
    {
        Assert.True(a.Frame[0] == Success && a.Frame[1] == 0 && a.Frame[2] == prop && a.Frame[3] == 0, $"expected OK({prop}): {Show(a)}");
        Upper(h, a, input);
        Assert.Null(a.Error);
        return a;
    }

    public static FfaAnswer Ok(ProxyHarness h, FfaAnswer a, ulong prop, params ulong[] input) => Ok(h, a, prop, SmcFrame.From(input));

    /// <summary>The SPMC's registers as EL3 answered them: x0..x17, or x0..x3 with the host's x4..x17 (x0..x3 releases).</summary>
    public static FfaAnswer Verbatim(ProxyHarness h, FfaAnswer a, SmcFrame el3, SmcFrame input)
    {
        for (var i = 0; i < 4; i++) Assert.True(a.Frame[i] == el3[i], $"x{i}: expected 0x{el3[i]:X}: {Show(a)}");
        Upper(h, a, input, el3);
        return a;
    }

    /// <summary>Generic forwarding (passthrough): EL3's x0..x17 whatever the release.</summary>
    public static FfaAnswer Passed(FfaAnswer a, SmcFrame el3)
    {
        for (var i = 0; i < Registers.Count; i++) Assert.True(a.Frame[i] == el3[i], $"x{i}: expected 0x{el3[i]:X}: {Show(a)}");
        return a;
    }

    /// <summary>The proxy made no SMC since the last mark.</summary>
    public static void NoEl3(ProxyHarness h) => Assert.True(h.Spmc.Frames.Count == 0, $"EL3 saw {string.Join(", ", h.Spmc.Ids.Select(i => $"0x{i:X8}"))}");

    /// <summary>EL3 saw exactly these function IDs since the last mark.</summary>
    public static void El3Saw(ProxyHarness h, params uint[] ids) =>
        Assert.True(h.Spmc.Ids.SequenceEqual(ids), $"EL3 saw [{string.Join(", ", h.Spmc.Ids.Select(i => $"0x{i:X8}"))}], expected [{string.Join(", ", ids.Select(i => $"0x{i:X8}"))}]");
}
