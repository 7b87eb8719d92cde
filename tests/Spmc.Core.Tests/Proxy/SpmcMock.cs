using Spmc.Abi.Rules;
using Spmc.Abi.Smccc;
using Spmc.Core.Calls;
using Spmc.Core.Proxy;

namespace Spmc.Core.Tests.Proxy;

/// <summary>
/// The scripted SPMC of the digest's §9: records every frame it receives (as EL3 would see it) and answers
/// FFA_VERSION with 1.2, FFA_ID_GET with SUCCESS w2 = 0, FEATURES(FFA_RXTX_MAP_64) with SUCCESS w2 = 0,
/// RXTX_MAP / RXTX_UNMAP / RX_RELEASE with SUCCESS, SHARE/LEND with SUCCESS and handle <see cref="ShareHandle"/>,
/// and anything else with an "EL3 echo" (FFA_SUCCESS, xn = <see cref="EchoMarker"/> | n) so a test can tell
/// EL3's registers from the proxy's. A test overrides any ID with <see cref="On"/>.
/// </summary>
public sealed class SpmcMock : ISecureWorld
{
    public const ulong Success = 0x8400_0061, Error = 0x8400_0060;
    public const ulong EchoMarker = 0xE300_0000_0000_0000;
    public const ulong ShareHandle = 0x0000_0007_0000_1234, HandleLo = 0x1234, HandleHi = 7;

    private readonly Dictionary<uint, Func<SmcFrame, SmcFrame>> _scripts = [];
    private readonly Dictionary<uint, Rejection> _rejections = [];
    private int _mark;

    /// <summary>Every frame received, boot included, with its caller.</summary>
    public List<(ushort Caller, SmcFrame Frame)> Received { get; } = [];

    /// <summary>Frames received since the last <see cref="Mark"/> (the harness marks after boot and after each setup step).</summary>
    public IReadOnlyList<SmcFrame> Frames => Received.Skip(_mark).Select(r => r.Frame).ToList();

    /// <summary>Function IDs (low 32 bits of x0) received since the last mark.</summary>
    public IReadOnlyList<uint> Ids => Frames.Select(f => (uint)f[0]).ToList();

    public void Mark() => _mark = Received.Count;

    /// <summary>Answers <paramref name="functionId"/> (exact low 32 bits of x0) with <paramref name="script"/> from now on.</summary>
    public void On(uint functionId, Func<SmcFrame, SmcFrame> script) => _scripts[functionId] = script;

    public void On(uint functionId, params ulong[] answer) => On(functionId, _ => SmcFrame.From(answer));

    /// <summary>
    /// Answers <paramref name="functionId"/> with <paramref name="answer"/> and <paramref name="rejection"/>, as the
    /// real SPMC names the rule of each refusal (the scripts alone give answers without one).
    /// </summary>
    public void Refuse(uint functionId, Rejection rejection, params ulong[] answer)
    {
        On(functionId, answer);
        _rejections[functionId] = rejection;
    }

    public FfaAnswer Handle(FfaRequest request)
    {
        Received.Add((request.Caller, request.Args));
        var id = request.Args.FunctionId;
        var frame = _scripts.TryGetValue(id, out var script) ? script(request.Args) : Default(request.Args);
        return new FfaAnswer(frame, _rejections.GetValueOrDefault(id));
    }

    public static SmcFrame Echo()
    {
        var frame = SmcFrame.From(Success);
        for (var i = 1; i < Registers.Count; i++) frame[i] = EchoMarker | (uint)i;
        return frame;
    }

    /// <summary>What the mock answers when no script overrides the ID.</summary>
    public static SmcFrame Default(SmcFrame args) => args.FunctionId switch
    {
        0x8000_0000 => SmcFrame.From(0x1_0002),
        0x8400_0063 => SmcFrame.From(0x1_0002),
        0x8400_0069 => SmcFrame.From(Success, 0, 0),
        0x8400_0064 when (uint)args[1] == 0xC400_0066 => SmcFrame.From(Success, 0, 0),
        0xC400_0066 or 0x8400_0067 or 0x8400_0065 => SmcFrame.From(Success),
        0xC400_0073 or 0xC400_0072 => SmcFrame.From(Success, 0, HandleLo, HandleHi),
        _ => Echo(),
    };

    public static SmcFrame FfaError(int code) => SmcFrame.From(Error, 0, (uint)code);
}
