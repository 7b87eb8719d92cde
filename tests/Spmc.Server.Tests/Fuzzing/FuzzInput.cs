using System.Buffers.Binary;
using Google.Protobuf;
using Spmc.V1;

namespace Spmc.Server.Tests.Fuzzing;

/// <summary>
/// Seeded, deterministic generators of fuzz input for the gRPC API: random and mutated-valid SMC frames (descriptors in
/// their memory writes included), Watch requests, PartitionHost.Attach messages and Memory reads and writes. The same
/// seed gives the same sequence (System.Random with a seed is stable across runs and platforms).
/// </summary>
public sealed class FuzzInput(int seed, string system)
{
    private readonly Random _random = new(seed);

    /// <summary>The system most input names (the rest names none, another or garbage).</summary>
    public string System { get; set; } = system;

    public const ulong HostBase = 0x8000_0000, Tx = HostBase, Rx = HostBase + 0x1000;

    /// <summary>Register values that sit on boundaries: endpoint IDs, memory bases, width limits.</summary>
    private static readonly ulong[] Interesting =
    [
        0, 1, 2, 0xF, 0x10, 0xFF, 0x1000, 0xFFFF, 0x8000, 0x8001, 0x8002, 0x8003, 0x8004, 0x10000, 0x1_0001, 0x7FFF_FFFF,
        0x8000_0000, 0x8000_1000, 0x8000_2000, 0x6000_0000, 0x6010_0000, 0xFFFF_FFFF, 0x1_0000_0000, 0x10002, 0x10003, 0x20000,
        0x8000_0000_0000_0000, 0xFFFF_FFFF_FFFF_F000, ulong.MaxValue,
    ];

    private static readonly uint[] Callers = [0, 0, 0, 1, 2, 0x7FFF, 0x8000, 0x8001, 0x8002, 0x8003, 0x8004, 0xFFFF, 0x1_0000, 0xFFFF_FFFF];

    public int Next(int max) => _random.Next(max);
    public bool Chance(int percent) => _random.Next(100) < percent;

    private ulong Value() => _random.Next(4) switch
    {
        0 => (ulong)_random.NextInt64(),
        1 => (ulong)_random.Next(),
        _ => Interesting[_random.Next(Interesting.Length)],
    };

    private uint Caller() => Callers[_random.Next(Callers.Length)];

    /// <summary>An FF-A or SMCCC function ID: mostly inside the FF-A range, in both widths, sometimes anything.</summary>
    private ulong FunctionId() => _random.Next(10) switch
    {
        < 6 => 0x8400_0060UL + (ulong)_random.Next(0xA0),
        < 8 => 0xC400_0060UL + (ulong)_random.Next(0xA0),
        8 => 0x8000_0000UL + (ulong)_random.Next(0x10),
        _ => Value(),
    };

    private byte[] Bytes(int max)
    {
        var data = new byte[_random.Next(max + 1)];
        _random.NextBytes(data);
        return data;
    }

    /// <summary>A frame of random registers, writes and reads (sometimes more than the API allows: 19 registers, 17 writes).</summary>
    public SmcRequest RandomFrame(ulong tag)
    {
        var frame = new SmcRequest { SystemId = System, Caller = Caller(), Vcpu = (uint)_random.Next(6), Tag = tag };
        if (Chance(5)) frame.Conduit = (Conduit)_random.Next(4);
        frame.X.Add(FunctionId());
        var registers = Chance(2) ? 19 : _random.Next(8);
        for (var i = 1; i < registers; i++) frame.X.Add(Value());
        var writes = Chance(1) ? 17 : Chance(20) ? _random.Next(3) : 0;
        for (var i = 0; i < writes; i++) frame.Writes.Add(new V1.MemoryWrite { Address = Value(), Data = ByteString.CopyFrom(Bytes(64)) });
        var reads = Chance(1) ? 17 : Chance(20) ? _random.Next(3) : 0;
        for (var i = 0; i < reads; i++) frame.Reads.Add(new MemoryReadRequest { Address = Value(), Length = (uint)(Chance(5) ? Value() : (ulong)_random.Next(4097)) });
        return frame;
    }

    /// <summary>A valid frame of a few common ABIs (the host's RX/TX at <see cref="Tx"/>, a SHARE descriptor in TX), then 1-3 mutations.</summary>
    public SmcRequest MutatedFrame(ulong tag)
    {
        var frame = ValidFrame(tag);
        var mutations = 1 + _random.Next(3);
        for (var m = 0; m < mutations; m++)
        {
            switch (_random.Next(7))
            {
                case 0 when frame.X.Count > 0:
                    frame.X[_random.Next(frame.X.Count)] = Value();
                    break;
                case 1 when frame.X.Count > 0:
                    var r = _random.Next(frame.X.Count);
                    frame.X[r] ^= 1UL << _random.Next(64);
                    break;
                case 2:
                    frame.X[0] ^= 0x4000_0000; // the other width
                    break;
                case 3:
                    frame.Caller = Caller();
                    break;
                case 4:
                    frame.Vcpu = (uint)_random.Next(6);
                    break;
                case 5 when frame.Writes.Count > 0:
                    var data = frame.Writes[0].Data.ToByteArray();
                    if (data.Length == 0) break;
                    for (var i = 0; i < 1 + _random.Next(4); i++)
                        if (Chance(50)) data[_random.Next(data.Length)] ^= (byte)(1 << _random.Next(8));
                        else BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(_random.Next(data.Length / 4) * 4), (uint)Value());
                    if (Chance(10)) data = data[..(_random.Next(data.Length) & ~15)];
                    frame.Writes[0].Data = ByteString.CopyFrom(data);
                    break;
                default:
                    if (frame.X.Count < 18) frame.X.Add(Value());
                    break;
            }
        }
        return frame;
    }

    private SmcRequest ValidFrame(ulong tag)
    {
        var frame = new SmcRequest { SystemId = System, Caller = 0, Tag = tag };
        void X(params ulong[] x) => frame.X.Add(x);
        switch (_random.Next(12))
        {
            case 0: X(0x8400_0063, 0x1_0002); break;                  // FFA_VERSION 1.2
            case 1: X(0x8400_0069); break;                            // FFA_ID_GET
            case 2: X(0x8400_0064, 0x8400_0073); break;               // FFA_FEATURES(MEM_SHARE)
            case 3: X(0x8400_0068, 0, 0, 0, 0, 0); break;             // FFA_PARTITION_INFO_GET (all)
            case 4: X(0xC400_0066, Tx, Rx, 1); break;                 // FFA_RXTX_MAP_64
            case 5: X(0x8400_0065); break;                            // FFA_RX_RELEASE
            case 6: X(0x8400_006F, 0x8001, 0, 1, 2, 3, 4, 5); break;  // FFA_MSG_SEND_DIRECT_REQ to echo
            case 7: X(0x8400_0077, 0, 0, 0); break;                   // FFA_MEM_RECLAIM
            case 8: X(0x8400_007F, 0, 0, 0); break;                   // FFA_NOTIFICATION_BITMAP_CREATE
            case 9:                                                   // FFA_MEM_RETRIEVE_REQ as an SP
                frame.Caller = 0x8002;
                X(0x8400_0074, 48 + 16, 48 + 16, 0, 0);
                break;
            default:                                                  // FFA_MEM_SHARE / LEND with a descriptor in TX
                var d = ShareDescriptor();
                X(_random.Next(2) == 0 ? 0x8400_0073UL : 0x8400_0072UL, (ulong)d.Length, (ulong)d.Length, 0, 0);
                frame.Writes.Add(new V1.MemoryWrite { Address = Tx, Data = ByteString.CopyFrom(d) });
                break;
        }
        return frame;
    }

    /// <summary>An FF-A v1.1+ memory transaction descriptor: host 0 to 0x8001/0x8002, 1-3 constituents in host memory.</summary>
    private byte[] ShareDescriptor()
    {
        var receivers = 1 + _random.Next(2);
        var constituents = 1 + _random.Next(3);
        var composite = 48 + 16 * receivers;
        var d = new byte[composite + 16 + 16 * constituents];
        var s = d.AsSpan();
        BinaryPrimitives.WriteUInt16LittleEndian(s, 0);               // sender
        BinaryPrimitives.WriteUInt16LittleEndian(s[2..], 0x2F);       // normal memory, write-back, inner shareable
        BinaryPrimitives.WriteUInt32LittleEndian(s[24..], 16);        // EMAD size
        BinaryPrimitives.WriteUInt32LittleEndian(s[28..], (uint)receivers);
        BinaryPrimitives.WriteUInt32LittleEndian(s[32..], 48);        // receivers offset
        for (var i = 0; i < receivers; i++)
        {
            var e = s[(48 + 16 * i)..];
            BinaryPrimitives.WriteUInt16LittleEndian(e, (ushort)(0x8001 + i));
            e[2] = 0x6;                                               // RW
            BinaryPrimitives.WriteUInt32LittleEndian(e[4..], (uint)composite);
        }
        BinaryPrimitives.WriteUInt32LittleEndian(s[composite..], (uint)constituents);
        BinaryPrimitives.WriteUInt32LittleEndian(s[(composite + 4)..], (uint)constituents);
        for (var i = 0; i < constituents; i++)
        {
            var c = s[(composite + 16 + 16 * i)..];
            BinaryPrimitives.WriteUInt64LittleEndian(c, HostBase + 0x10_0000UL + (ulong)_random.Next(64) * 0x1000);
            BinaryPrimitives.WriteUInt32LittleEndian(c[8..], 1);
        }
        return d;
    }

    /// <summary>A Watch request: the system, another, none or garbage; an endpoint or not, valid or not.</summary>
    public WatchRequest Watch()
    {
        var request = new WatchRequest { SystemId = SystemId() };
        if (Chance(60)) request.Endpoint = Caller();
        return request;
    }

    private string SystemId() => _random.Next(10) switch
    {
        < 6 => System,
        6 => "",
        7 => "no-such-system",
        8 => new string('x', 1 + _random.Next(300)),
        _ => "sys-\u00e9\u0000" + _random.Next(),
    };

    /// <summary>The first message of an Attach stream: mostly an attach (for a remote partition or not), sometimes a frame or nothing.</summary>
    public PartitionMessage Hello(uint remote) => _random.Next(10) switch
    {
        < 6 => new PartitionMessage { Attach = new AttachRequest { SystemId = System, PartitionId = remote } },
        6 => new PartitionMessage { Attach = new AttachRequest { SystemId = SystemId(), PartitionId = Caller() } },
        7 => new PartitionMessage { Frame = RandomFrame(0) },
        8 => new PartitionMessage(),
        _ => new PartitionMessage { Attach = new AttachRequest { SystemId = System, PartitionId = (uint)Value() } },
    };

    /// <summary>A message after the hello: a frame as the partition (random or FF-A run-time ABIs), another attach, or nothing.</summary>
    public PartitionMessage Answer(ulong tag)
    {
        switch (_random.Next(10))
        {
            case 0: return new PartitionMessage { Attach = new AttachRequest { SystemId = System, PartitionId = Caller() } };
            case 1: return new PartitionMessage();
            case < 5:
                var runtime = new SmcRequest { Tag = tag, Vcpu = (uint)_random.Next(2) };
                runtime.X.Add(_random.Next(4) switch
                {
                    0 => 0x8400_006B, // FFA_MSG_WAIT
                    1 => 0x8400_006C, // FFA_YIELD
                    2 => 0x8400_0070, // FFA_MSG_SEND_DIRECT_RESP
                    _ => 0x8400_0063, // FFA_VERSION
                });
                for (var i = 0; i < _random.Next(8); i++) runtime.X.Add(Value());
                if (Chance(20)) runtime.Caller = Caller();
                return new PartitionMessage { Frame = runtime };
            default:
                var frame = RandomFrame(tag);
                frame.SystemId = "";
                frame.Caller = Chance(80) ? 0 : Caller();
                return new PartitionMessage { Frame = frame };
        }
    }

    /// <summary>A memory read: random addresses, lengths (0, a page, 1 MiB, just over), endpoints (0x8000 and invalid ones too).</summary>
    public ReadMemoryRequest Read() => new()
    {
        SystemId = Chance(90) ? System : SystemId(),
        Address = Address(),
        Length = _random.Next(8) switch { 0 => 0, 1 => 1u << 20, 2 => (1u << 20) + 1, 3 => (uint)Value(), _ => (uint)_random.Next(4097) },
        AsEndpoint = Caller(),
    };

    /// <summary>A memory write: random addresses, endpoints and small data (sometimes empty or just over 1 MiB).</summary>
    public WriteMemoryRequest Write() => new()
    {
        SystemId = Chance(90) ? System : SystemId(),
        Address = Address(),
        Data = Chance(1) ? ByteString.CopyFrom(new byte[(1 << 20) + 1]) : ByteString.CopyFrom(Bytes(256)),
        AsEndpoint = Caller(),
    };

    private ulong Address() => _random.Next(4) switch
    {
        0 => Value(),
        1 => HostBase + (ulong)_random.Next(0x1000_0000),
        2 => 0x6000_0000UL + (ulong)_random.Next(0x30_0000),
        _ => ulong.MaxValue - (ulong)_random.Next(0x2000),
    };
}
