using System.Buffers.Binary;
using Spmc.Abi.Calls;
using Spmc.Abi.Ffa;
using Spmc.Abi.Rules;
using Spmc.Abi.Smccc;
using Spmc.Core.Calls;
using Spmc.Core.Memory;

namespace Spmc.Core.Proxy.Pkvm;

/// <summary>
/// Function IDs the proxy dispatches on or issues, as constants for its switches: FFA_SMC_32(n) = 0x84000000|n and
/// FFA_SMC_64(n) = 0xC4000000|n of the <see cref="FfaFunction"/> numbers (what FfaFunctions.Id32/Id64 compute).
/// </summary>
internal static class Fid
{
    private const uint Smc32 = 0x8400_0000, Smc64 = 0xC400_0000;

    public const uint Error = Smc32 | (ushort)FfaFunction.Error, Success = Smc32 | (ushort)FfaFunction.Success,
        Version = Smc32 | (ushort)FfaFunction.Version, Features = Smc32 | (ushort)FfaFunction.Features,
        RxTxMap64 = Smc64 | (ushort)FfaFunction.RxTxMap, RxTxUnmap = Smc32 | (ushort)FfaFunction.RxTxUnmap,
        PartitionInfoGet = Smc32 | (ushort)FfaFunction.PartitionInfoGet,
        MemLend32 = Smc32 | (ushort)FfaFunction.MemLend, MemLend64 = Smc64 | (ushort)FfaFunction.MemLend,
        MemShare32 = Smc32 | (ushort)FfaFunction.MemShare, MemShare64 = Smc64 | (ushort)FfaFunction.MemShare,
        MemRetrieveResp = Smc32 | (ushort)FfaFunction.MemRetrieveResp, MemReclaim = Smc32 | (ushort)FfaFunction.MemReclaim,
        MemFragRx = Smc32 | (ushort)FfaFunction.MemFragRx, MemFragTx = Smc32 | (ushort)FfaFunction.MemFragTx,
        NotificationBitmapCreate = Smc32 | (ushort)FfaFunction.NotificationBitmapCreate,
        NotificationBitmapDestroy = Smc32 | (ushort)FfaFunction.NotificationBitmapDestroy,
        NotificationBind = Smc32 | (ushort)FfaFunction.NotificationBind, NotificationUnbind = Smc32 | (ushort)FfaFunction.NotificationUnbind,
        NotificationSet = Smc32 | (ushort)FfaFunction.NotificationSet, NotificationGet = Smc32 | (ushort)FfaFunction.NotificationGet,
        DirectReq32 = Smc32 | (ushort)FfaFunction.MsgSendDirectReq, DirectReq64 = Smc64 | (ushort)FfaFunction.MsgSendDirectReq,
        DirectReq2 = Smc64 | (ushort)FfaFunction.MsgSendDirectReq2;

    public static string Name(uint id) => FfaFunctions.NameOf(id) ?? $"0x{id:X8}";
}

/// <summary>
/// pKVM's EL2 FF-A proxy (arch/arm64/kvm/hyp/nvhe/ffa.c) for one release, chosen by a <see cref="PkvmProfile"/>.
/// The host (VM 0) is trapped here: IDs outside FF-A are forwarded as generic SMCs, the version gate refuses
/// everything but FFA_VERSION until the host negotiates, then each ID is handled at EL2, refused with
/// NOT_SUPPORTED (the deny list) or forwarded unmodified. The proxy talks to the SPMC as ID 0 with frames it
/// builds itself (unused registers zero), through its own RX/TX pages, and tracks the host stage 2.
/// Guests (other VM IDs) get what upstream gives them: no FF-A at all. Handlers validate, mutate, answer;
/// each rollback sits next to the step it undoes. Not thread-safe: the system serialises calls (the model of
/// host_buffers.lock and version_lock).
/// </summary>
public sealed partial class PkvmProxy : IHypervisorProxy
{
    /// <summary>HOST_FFA_ID: the host shares ID 0 with the hypervisor at the non-secure physical FF-A instance.</summary>
    public const ushort HostId = 0;

    private const ulong SmcccNotSupported = SmcccFunctionId.NotSupported;

    private readonly PkvmProfile _p;
    private readonly PhysicalMemory _memory;
    private readonly HostStage2? _stage2;
    private readonly ulong _hypTx, _hypRx;
    private readonly List<string> _bootNotes = [];
    private readonly string? _initFailure;
    private readonly BuiltInDriverProbe? _builtInProbe;
    private uint _hypVersion;
    private bool _negotiated;
    private ulong? _hostTx, _hostRx;

    /// <summary>
    /// Takes the top two kernel pages of VM 0's highest memory region (TX, then RX; <see cref="PkvmLayout"/>) as the
    /// hypervisor's FF-A buffers and runs hyp_ffa_init against the SPMC of <paramref name="context"/> (those calls are
    /// not shown as hops). The release is taken at the manifest's page size (proxyOptions.pageSize). With
    /// proxyOptions.ffaDriverBuiltIn the host's arm_ffa driver probes the SPMC first, before pKVM is up.
    /// </summary>
    public PkvmProxy(PkvmProfile profile, ProxyContext context)
    {
        var options = context.Config.Proxy;
        _p = profile.ForPageSize(options.PageSize);
        _memory = context.Memory;
        var host = context.Config.Vms.FirstOrDefault(v => v.Id == HostId)
            ?? throw new InvalidRequestException($"proxy: profile '{profile.Name}' needs a host VM with ID 0");
        var (layout, problem) = PkvmLayout.Of(host, options);
        if (layout is null) throw new InvalidRequestException($"proxy: profile '{profile.Name}' {problem}");
        (_hypTx, _hypRx) = (layout.HypTx, layout.HypRx);

        // A built-in arm_ffa (rootfs_initcall) probes before kvm_arm_init runs __pkvm_init: its SMCs reach EL3 directly.
        if (layout.DriverTx is { } driverTx && layout.DriverRx is { } driverRx)
            _builtInProbe = ProbeBeforePkvm(context.Spmc, driverTx, driverRx);
        _initFailure = HypFfaInit(context.Spmc);
        if (_initFailure is null) _stage2 = new HostStage2(context.Config, _hypTx, _hypRx, _p.PageSize);
    }

    public string Profile => _p.Name;

    private string? _stage2Fault;

    /// <summary>
    /// A stage-2 fault rule (docs/faults.md) for the next host call: its first stage-2 step that can fail the way
    /// the rule models (a share in FFA_MEM_SHARE/LEND/FRAG_TX, the unshare after FFA_MEM_RECLAIM) fails with this
    /// reason instead of changing the stage 2. Cleared by the system after the call.
    /// </summary>
    internal string? Stage2Fault
    {
        get => _stage2Fault;
        set => (_stage2Fault, Stage2FaultApplied) = (value, null);
    }

    /// <summary>What the armed stage-2 fault did (null: the call did not reach a stage-2 step).</summary>
    internal string? Stage2FaultApplied { get; private set; }

    private string? TakeStage2Fault(string step)
    {
        if (_stage2Fault is not { } rule) return null;
        _stage2Fault = null;
        Stage2FaultApplied = $"{rule}: {step} failed (injected), so pKVM's rollback path ran";
        return $"{step} failed ({rule})";
    }

    /// <summary>The release this proxy models, at the host's page size (<see cref="PkvmProfile.PageSize"/>).</summary>
    public PkvmProfile Settings => _p;

    /// <summary>PAGE_SIZE of the modelled host kernel: 4096, or 16384 (4 FF-A pages) with proxyOptions.pageSize 16384.</summary>
    public uint PageSize => _p.PageSize;

    /// <summary>hyp_ffa_version, the version the proxy speaks to the SPMC (and the layout of descriptors).</summary>
    public uint HypVersion => _hypVersion;

    public bool Negotiated => _negotiated;
    public ulong HypTx => _hypTx;
    public ulong HypRx => _hypRx;

    /// <summary>The host stage 2 (null when pKVM did not initialise).</summary>
    public HostStage2? Stage2 => _stage2;

    public Snapshots.ProxySnapshot? Export() =>
        new(_p.Name, _hypVersion, _negotiated, _hostTx, _hostRx, _stage2?.Entries.Select(e => new Snapshots.Stage2Range(e.Start, e.End, e.Value.State, e.Value.Label)).ToList());

    public void Load(Snapshots.ProxySnapshot? snapshot)
    {
        if (snapshot is null || snapshot.Profile != _p.Name)
            throw new InvalidRequestException($"proxy: the snapshot holds {(snapshot is null ? "no proxy state" : $"'{snapshot.Profile}' state")}, the system's proxy is '{_p.Name}'");
        if ((snapshot.Stage2 is null) != (_stage2 is null))
            throw new InvalidRequestException("proxy.stage2: present exactly when pKVM initialised with the snapshot's manifest");
        (_hypVersion, _negotiated, _hostTx, _hostRx) = (snapshot.HypVersion, snapshot.Negotiated, snapshot.HostTx, snapshot.HostRx);
        _stage2?.Load(snapshot.Stage2!.Select(r => new RangeMap<Stage2Page>.Entry(r.Start, r.End, new Stage2Page(r.State, r.Label))));
    }

    public FfaAnswer Forward(FfaRequest request, ISecureWorld spmc)
    {
        if (request.Caller != HostId) return Guest(request);
        if (_initFailure is not null)
        {
            var direct = spmc.Handle(request);
            return direct with { Note = Join(direct.Note, $"pKVM is not running ({_initFailure}): the host's SMC went to EL3 directly") };
        }

        // hyp-main.c: bit 16 (SMCCC 1.3 SVE hint) cleared from the ID the handlers see; the host's x0 is forwarded as it was.
        var funcId = request.Args.FunctionId;
        if (_p.ClearsCallHints) funcId &= ~SmcccFunctionId.SveHintMask;
        if (!IsFfaCall(funcId)) return spmc.Handle(request);

        var c = new HostCall(request, spmc, funcId);
        // kvm_host_ffa_handler: nothing but FFA_VERSION until has_version_negotiated (6.10+), PASS IDs and undefined ones included.
        if (_p.NegotiatesVersion && funcId != Fid.Version && !_negotiated)
        {
            if (_builtInProbe is not null) c.Notes.Add(BuiltInDriverNote());
            return Finish(c, Err(PkvmRules.VersionNotNegotiated,
                $"{Fid.Name(funcId)} before the host negotiated a version: only FFA_VERSION (0x84000063) is allowed until then"));
        }

        // 3e9df0b0 (7.4): each handler, and the forwarding path, first checks the call's unused registers.
        if (Route(funcId) is { } handler) return SbzRefusal(c) is { } sbz ? Finish(c, sbz) : handler(c);
        if (!_p.DenyList.Contains(funcId)) return SbzRefusal(c) is { } refused ? Finish(c, refused) : Pass(c);
        return Finish(c, Err(PkvmRules.DenyList, $"{Fid.Name(funcId)} is on pKVM's deny list (ffa_call_supported)"));
    }

    /// <summary>The IDs handled at EL2 in this release; anything else is passed through or denied.</summary>
    private Func<HostCall, FfaAnswer>? Route(uint id) => id switch
    {
        Fid.Features => DoFfaFeatures,
        Fid.RxTxMap64 => c => Finish(c, DoFfaRxTxMap(c)),
        Fid.RxTxUnmap => c => Finish(c, DoFfaRxTxUnmap(c)),
        Fid.MemShare32 or Fid.MemShare64 => c => Finish(c, DoFfaMemXfer(c, share: true)),
        Fid.MemLend32 or Fid.MemLend64 => c => Finish(c, DoFfaMemXfer(c, share: false)),
        Fid.MemFragTx => c => Finish(c, DoFfaMemFragTx(c)),
        Fid.MemReclaim => c => Finish(c, DoFfaMemReclaim(c)),
        Fid.Version when _p.NegotiatesVersion => c => Finish(c, DoFfaVersion(c)),
        Fid.PartitionInfoGet when _p.PartitionInfoAtEl2 => c => Finish(c, DoFfaPartGet(c)),
        Fid.NotificationBitmapCreate or Fid.NotificationBitmapDestroy or Fid.NotificationBind or Fid.NotificationUnbind
            or Fid.NotificationSet or Fid.NotificationGet when _p.NotificationsAtEl2 => c => Finish(c, DoFfaNotification(c)),
        Fid.DirectReq32 or Fid.DirectReq64 or Fid.DirectReq2 when _p.DirectMessagesAtEl2 => c => Finish(c, DoFfaDirectMsg(c)),
        _ => null,
    };

    /// <summary>is_ffa_call: fast call, standard-secure owner (4), function number 0x60..FFA_MAX_FUNC_NUM; bit 30 and bits[23:16] ignored.</summary>
    public bool IsFfaCall(uint id) =>
        (id & 0x8000_0000) != 0 && ((id >> 24) & 0x3F) == 4 && (id & 0xFFFF) >= 0x60 && (id & 0xFFFF) <= _p.MaxFunctionNumber;

    /// <summary>Not handled: __kvm_hyp_host_forward_smc sends the host's x0..x17 and returns EL3's x0..x17.</summary>
    private static FfaAnswer Pass(HostCall c) => c.Spmc.Handle(c.Request);

    /// <summary>
    /// Upstream pKVM has no FF-A for guests: their SMCs exit to the host's KVM, whose SMCCC handler answers
    /// SMCCC_VERSION with 1.1 and everything else — FF-A included — with NOT_SUPPORTED (x0 = -1, x1..x3 = 0;
    /// x4..x17 as the guest left them). The Android Common Kernel's guest FF-A proxy is not modelled.
    /// </summary>
    private static FfaAnswer Guest(FfaRequest request)
    {
        if (request.Args.FunctionId == SmcccFunctionId.SmcccVersion) return new FfaAnswer(SmcccRetval(request.Args, 0x1_0001));
        return new FfaAnswer(SmcccRetval(request.Args, SmcccNotSupported), PkvmRules.GuestNoFfa.Reject(
            $"pKVM: guest {EndpointId.Format(request.Caller)}: upstream pKVM does not proxy FF-A (or any SMC) for guests; KVM answers SMCCC NOT_SUPPORTED"));
    }

    /// <summary>
    /// KVM's smccc_set_retval: x0 = <paramref name="a0"/>, x1..x3 = 0, and x4..x17 keep what the guest left there.
    /// Register-level on purpose: that the upper registers are untouched is the behaviour modelled.
    /// </summary>
    private static SmcFrame SmcccRetval(SmcFrame guest, ulong a0)
    {
        var frame = guest;
        frame[0] = a0;
        frame[1] = frame[2] = frame[3] = 0;
        return frame;
    }

    public string? HostAccess(ushort vm, ulong address, ulong length, bool write) => _stage2?.HostAccess(address, length);

    public ProxyStateView State
    {
        get
        {
            var notes = new List<string> { $"{_p.Layer}: {_p.Summary}" };
            if (_p.PageSize != FfaPage.Size)
                notes.Add($"host PAGE_SIZE {_p.PageSize / 1024}K: RXTX_MAP takes {_p.FfaPagesPerPage} FF-A pages, the hyp's own TX/RX are {_p.PageSize / 1024} KiB each, " +
                          $"fragments and partition info up to {_p.PageSize} bytes");
            if (_builtInProbe is { } probe) notes.Add(probe.Summary);
            notes.AddRange(_bootNotes);
            if (_initFailure is null)
                notes.Add($"descriptor buffer (ffa_desc_buf) {_p.DescriptorBufferBytes} bytes: a longer share or retrieved descriptor is NO_MEMORY");
            if (_initFailure is null && !_negotiated) notes.Add($"hyp_ffa_version {FormatVersion(_hypVersion)}; the host has not negotiated yet (only FFA_VERSION passes the gate)");
            // The version shown is the one negotiated with the host (none until then), as the inspector's contract says.
            return new ProxyStateView(_p.Name, _initFailure is null && _negotiated ? FormatVersion(_hypVersion) : null, _negotiated, _hostTx, _hostRx,
                _initFailure is null ? _hypTx : null, _initFailure is null ? _hypRx : null, _stage2?.View() ?? [], notes);
        }
    }

    // ------------------------------------------------------------------------------------------------------
    // Calls and replies

    /// <summary>One trapped host SMC: the request, the secure world to call, the ID as dispatched, notes gathered.</summary>
    private sealed class HostCall(FfaRequest request, ISecureWorld spmc, uint funcId)
    {
        public FfaRequest Request { get; } = request;
        public ISecureWorld Spmc { get; } = spmc;
        public uint FuncId { get; } = funcId;
        public List<string> Notes { get; } = [];

        /// <summary>The host's x0..x17 as trapped.</summary>
        public SmcFrame Frame => Request.Args;

        /// <summary>
        /// DECLARE_REG(u32, name, ctxt, n) of an ffa.c handler: the host's xn truncated to 32 bits, whatever the width
        /// of the call. Register-level on purpose, only where pKVM reads a register otherwise than the FF-A decoder of
        /// the call would: w1/w2 of an SMC64 FFA_MEM_SHARE, all of w1 of FFA_RXTX_UNMAP, all of w4 of FFA_MEM_FRAG_TX, w3
        /// of FFA_RXTX_MAP_64 without the x3[63:32] MBZ check, w1 of FFA_FEATURES and the flags (w3) of FFA_MEM_RECLAIM without
        /// their MBZ checks, the flags (w5) of FFA_PARTITION_INFO_GET without theirs.
        /// </summary>
        public uint U32(int n) => (uint)Request.Args[n];

        /// <summary>DECLARE_REG(u64, name, ctxt, n): all of the host's xn, even of an SMC32 call (x3 of FFA_MEM_SHARE_32).</summary>
        public ulong U64(int n) => Request.Args[n];
    }

    /// <summary>
    /// The host's call decoded by <typeparamref name="T"/>, for the ABIs whose decoders check nothing that pKVM does not
    /// (they refuse nothing: FFA_VERSION and the notification calls). A decoder with an MBZ check pKVM lacks must not come
    /// here (read the registers with <see cref="HostCall.U32"/>): should one ever refuse, the model would no longer be the
    /// kernel, so fail loudly. PkvmCaseTests.RegisterReads sends every such call with all bits set to keep this unreachable.
    /// </summary>
    private static T Decode<T>(HostCall c) where T : IFfaCall<T>
    {
        var decoded = T.Decode(c.Frame);
        return decoded.Ok ? decoded.Value!
            : throw new InvalidOperationException($"pKVM model: {typeof(T).Name}.Decode refused a frame pKVM reads without that check: {decoded.Rejection}");
    }

    /// <summary>
    /// The SPMC's answer as ffa.c reads it: the fields a0.. of its arm_smccc_res (or arm_smccc_1_2_regs), each a
    /// whole 64-bit register whatever the width of the call. Register-level on purpose: pKVM compares all of a0 with
    /// FFA_SUCCESS (an FFA_SUCCESS_64 or stray upper bits are a failure), all of a2 with HOST_FFA_ID and all of a3 with
    /// the fragment length, where an FF-A decoder would read the 32-bit view of an SMC32 answer.
    /// </summary>
    private readonly struct Res(SmcFrame regs)
    {
        public ulong A0 => regs[0];
        public ulong A2 => regs[2];
        public ulong A3 => regs[3];

        /// <summary>True when all of a0 is <paramref name="functionId"/>.</summary>
        public bool Is(uint functionId) => regs[0] == functionId;
    }

    /// <summary>pKVM's res struct on its way to ffa_set_retval, with the rejection when it is a refusal (notes gather on the HostCall).</summary>
    private sealed record Reply(SmcFrame Regs, Rejection? Rejection = null);

    /// <summary>A proxy-made FFA_ERROR refused by <paramref name="rule"/>; the reason gets the "pKVM: " prefix.</summary>
    private static Reply Err(Rule rule, string reason) => Err(rule.Reject($"pKVM: {reason}"));

    /// <summary>
    /// A proxy-made FFA_ERROR: x2 = the code sign-extended to 64 bits, every other register 0 (ffa_to_smccc_error
    /// stores the negative int in the unsigned long a2). Register-level on purpose: the SPMC's FFA_ERROR carries the
    /// code zero-extended (w2 only), and the difference is visible to the host.
    /// </summary>
    private static Reply Err(Rejection rejection) =>
        new(SmcFrame.From(Fid.Error, 0, (ulong)(long)(int)rejection.Code), rejection);

    /// <summary>A proxy-made FFA_SUCCESS_32 with w2 = prop, every other register 0.</summary>
    private static Reply Ok(uint prop = 0) => new(new Success(false, 0, prop).Encode());

    /// <summary>The SPMC's registers as pKVM got them, to go to the host unchanged.</summary>
    private static Reply Verbatim(FfaAnswer answer) => new(answer.Frame, answer.Rejection);

    /// <summary>An SMC the proxy makes, as ID 0 on the host's vCPU: the call's frame, unused registers zero.</summary>
    private FfaAnswer Smc(HostCall c, IFfaCall call) => Smc(c.Spmc, c.Request.Vcpu, call.Encode());

    /// <summary>
    /// The SMC itself. Before SMCCC 1.2 support (arm_smccc_1_1_smc) only x0..x3 of the result come back: x4..x17 are
    /// zeroed here, register-level on purpose (what the host can see of a verbatim answer depends on it).
    /// </summary>
    private FfaAnswer Smc(ISecureWorld spmc, uint vcpu, SmcFrame frame)
    {
        var answer = spmc.Handle(new FfaRequest(HostId, vcpu, frame));
        if (_p.Results == ResultRegisters.X0ToX17) return answer;
        var result = answer.Frame;
        for (var i = 4; i < Registers.Count; i++) result[i] = 0;
        return answer with { Frame = result };
    }

    /// <summary>
    /// ffa_set_retval: x0..x3 (x4..x17 keep the host's input) or x0..x17, per release. Register-level on purpose: which
    /// registers a release writes back is the behaviour modelled.
    /// </summary>
    private FfaAnswer Finish(HostCall c, Reply reply)
    {
        var frame = reply.Regs;
        if (_p.Results == ResultRegisters.X0ToX3)
        {
            frame = c.Request.Args;
            for (var i = 0; i < 4; i++) frame[i] = reply.Regs[i];
        }
        return new FfaAnswer(frame, reply.Rejection, c.Notes.Count == 0 ? null : string.Join(" ", c.Notes));
    }

    /// <summary>Firmware's NOT_SUPPORTED as this release recognises it.</summary>
    private bool IsNotSupported(ulong x0) =>
        _p.NotSupported == NotSupportedTest.Full64 ? x0 == SmcccNotSupported : (int)(uint)x0 == -1;

    private static ushort Major(uint version) => (ushort)((version >> 16) & 0x7FFF);
    private static ushort Minor(uint version) => (ushort)version;
    private static string FormatVersion(uint version) => $"{Major(version)}.{Minor(version)}";

    private static string? Join(string? a, string b) => a is null ? b : $"{a} {b}";

    private ulong ReadU64(ulong address) => BinaryPrimitives.ReadUInt64LittleEndian(_memory.Read(address, 8));
    private uint ReadU32(ulong address) => BinaryPrimitives.ReadUInt32LittleEndian(_memory.Read(address, 4));
    private ushort ReadU16(ulong address) => BinaryPrimitives.ReadUInt16LittleEndian(_memory.Read(address, 2));

    /// <summary>A memcpy between two buffers of physical memory (host TX → hyp TX, hyp RX → host RX).</summary>
    private void Copy(ulong from, ulong to, int length)
    {
        if (length > 0) _memory.WriteOnBehalf(to, _memory.Read(from, length));
    }
}
