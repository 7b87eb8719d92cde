using Spmc.Abi.Calls;
using Spmc.Abi.Ffa;
using Spmc.Abi.Rules;
using Spmc.Abi.Smccc;
using Spmc.Core.Calls;

namespace Spmc.Core.Proxy.Pkvm;

/// <summary>Boot (hyp_ffa_init), version negotiation (do_ffa_version) and hyp_ffa_post_init (digest §2, §6).</summary>
public sealed partial class PkvmProxy
{
    /// <summary>The recognisable stand-in for uninitialised EL2 stack: 0xDEADBEEF000000nn in xnn.</summary>
    public const ulong UninitialisedPattern = 0xDEAD_BEEF_0000_0000;

    /// <summary>
    /// hyp_ffa_init at pKVM boot: the SMCCC version check, FFA_VERSION(profile's version), the major check and
    /// the clamp; in L1.0 also FFA_ID_GET and FFA_FEATURES(RXTX_MAP). Null when pKVM came up (FF-A present or
    /// treated as absent), else why hyp setup failed — then the host runs without the hypervisor.
    /// </summary>
    private string? HypFfaInit(ISecureWorld spmc)
    {
        // SMCCC_VERSION is not an FF-A call: its frame is x0 alone, its answer the version in (the low half of) a0.
        var smccc = (uint)new Res(spmc.Handle(new FfaRequest(HostId, 0, SmcFrame.From(SmcccFunctionId.SmcccVersion))).Frame).A0;
        if ((int)smccc < 0 || smccc < _p.MinSmcccVersion)
        {
            _bootNotes.Add($"boot: SMCCC version 0x{smccc:X} is below {FormatVersion(_p.MinSmcccVersion)}: hyp_ffa_init returned 0 without initialising FF-A (hyp version 0)");
            return null;
        }

        var version = Smc(spmc, 0, new VersionCall(_p.InitVersion).Encode());
        var reply = new Res(version.Frame).A0; // FFA_VERSION answers a bare version (or -1) in a0, not an FF-A return
        if (IsNotSupported(reply))
        {
            _bootNotes.Add($"boot: FFA_VERSION({FormatVersion(_p.InitVersion)}) answered NOT_SUPPORTED: FF-A treated as absent (hyp version 0); host calls still meet the gate");
            return null;
        }
        if (Major((uint)reply) != 1)
        {
            var failure = $"hyp_ffa_init: FFA_VERSION({FormatVersion(_p.InitVersion)}) answered x0 = 0x{reply:X}, major {Major((uint)reply)} is not 1 (-EOPNOTSUPP)";
            if ((uint)reply == uint.MaxValue && _p.NotSupported == NotSupportedTest.Full64)
                failure += "; the SPMC's zero-extended NOT_SUPPORTED is not -1 to this release's 64-bit compare (fixed by the (s32) casts of 7.2)";
            _bootNotes.Add($"boot: {failure}; pKVM did not initialise, the host runs without the hypervisor");
            return failure;
        }
        _hypVersion = Minor((uint)reply) < Minor(_p.InitVersion) ? (uint)reply : _p.InitVersion;
        _bootNotes.Add($"boot: FFA_VERSION({FormatVersion(_p.InitVersion)}) → {FormatVersion((uint)reply)}; hyp_ffa_version {FormatVersion(_hypVersion)}; " +
                       $"proxy TX 0x{_hypTx:X}, RX 0x{_hypRx:X} taken from the host's memory");

        if (!_p.PostInitAtBoot) return null;
        if (PostInit(spmc, 0) is { } failed)
        {
            _bootNotes.Add($"boot: {failed.Why}; pKVM did not initialise, the host runs without the hypervisor");
            return failed.Why;
        }
        _negotiated = true; // L1.0 has no negotiation with the host: the version is fixed at boot.
        _bootNotes.Add("boot: FFA_ID_GET and FFA_FEATURES(FFA_RXTX_MAP_64) checked at init (L1.0); FFA_VERSION from the host passes through");
        return null;
    }

    /// <summary>
    /// hyp_ffa_post_init: FFA_ID_GET must give HOST_FFA_ID and FFA_FEATURES(FFA_FN64_RXTX_MAP) a minimum buffer
    /// size (0 → 4K, 1 → 64K, 2 → 16K, from w2 &amp; 3 or the whole w2) no larger than PAGE_SIZE. Null when both hold,
    /// else the rule that failed and why (at the host's FFA_VERSION its NOT_SUPPORTED; at boot a failed hyp init).
    /// </summary>
    private (Rule Rule, string Why)? PostInit(ISecureWorld spmc, uint vcpu)
    {
        var id = new Res(Smc(spmc, vcpu, new IdGet().Encode()).Frame);
        if (!id.Is(Fid.Success)) return (PkvmRules.PostInitIdGet, $"hyp_ffa_post_init: FFA_ID_GET answered 0x{id.A0:X}, not FFA_SUCCESS (-EOPNOTSUPP)");
        if (id.A2 != HostId) return (PkvmRules.PostInitNotHostId, $"hyp_ffa_post_init: FFA_ID_GET gave ID 0x{id.A2:X}, not HOST_FFA_ID 0 (-EINVAL)");

        var features = new Res(Smc(spmc, vcpu, new Features(Fid.RxTxMap64, 0).Encode()).Frame);
        if (!features.Is(Fid.Success))
            return (PkvmRules.PostInitFeatures, $"hyp_ffa_post_init: FFA_FEATURES(FFA_RXTX_MAP_64) answered 0x{features.A0:X}, not FFA_SUCCESS (-EOPNOTSUPP)");
        var field = _p.MasksMinBufferSize ? features.A2 & 3 : features.A2;
        ulong? minimum = field switch { 0 => FfaPage.Size, 1 => 64 * 1024, 2 => 16 * 1024, _ => null };
        if (minimum is null)
            return (PkvmRules.PostInitMinBufferSize, $"hyp_ffa_post_init: FFA_FEATURES(FFA_RXTX_MAP_64) w2 = 0x{features.A2:X}: " +
                   (_p.MasksMinBufferSize ? $"w2 & 3 = {field} is no minimum buffer size (-EINVAL)"
                       : $"this release switches on the whole w2, which is no minimum buffer size (-EINVAL; the & 3 mask came with 3f595291)"));
        if (minimum > PageSize)
            return (PkvmRules.PostInitMinBufferAbovePage, $"hyp_ffa_post_init: the SPMC's minimum RX/TX size {minimum / 1024}K exceeds PAGE_SIZE ({PageSize / 1024}K) (-EOPNOTSUPP)");
        return null;
    }

    /// <summary>
    /// do_ffa_version (L1.1+): major ≠ 1 → NOT_SUPPORTED; once negotiated, the hyp version (or, from L1.2,
    /// NOT_SUPPORTED for a lower minor); a first request below the hyp minor asks the SPMC and lowers the hyp
    /// version to the request; then hyp_ffa_post_init decides. Only x0 is set by pKVM on most paths: x1.. are
    /// whatever the release leaves in its res struct.
    /// </summary>
    private Reply DoFfaVersion(HostCall c)
    {
        var requested = Decode<VersionCall>(c).Requested;
        var res = FreshRes();
        var leaks = _p.VersionFill == VersionFill.UninitialisedStack;

        // do_ffa_version writes res.a0 alone: the version or a bare NOT_SUPPORTED; x1.. stay as res was. Register-level
        // on purpose (what x1.. hold is the behaviour modelled).
        Reply Answer(ulong x0, Rule? rule = null, string? reason = null)
        {
            res[0] = x0;
            if (leaks)
                c.Notes.Add($"pKVM {_p.Name} bug: FFA_VERSION returns uninitialised EL2 stack in x1..x{(_p.Results == ResultRegisters.X0ToX3 ? 3 : 17)} " +
                            "(do_ffa_version sets only x0 of an uninitialised res struct; zeroed by 2bd3c6c7 in 7.2); " +
                            $"modelled as 0x{UninitialisedPattern:X16} | n in xn.");
            return new Reply(res, rule?.Reject($"pKVM: FFA_VERSION: {reason}"));
        }

        if (Major(requested) != 1)
            return Answer(SmcccNotSupported, PkvmRules.VersionMajor, $"requested 0x{requested:X8}: major {Major(requested)} is not 1");
        if (_negotiated)
        {
            // f4142693 (6.18): a lower minor is refused once negotiated; 6.10 answered the negotiated version.
            if (_p.RefusesDowngradeAfterNegotiation && Minor(requested) < Minor(_hypVersion))
                return Answer(SmcccNotSupported, PkvmRules.VersionDowngradeAfterNegotiation,
                    $"{FormatVersion(requested)} is below the {FormatVersion(_hypVersion)} already negotiated (no downgrade once negotiated)");
            return Answer(_hypVersion);
        }

        if (Minor(requested) < Minor(_hypVersion))
        {
            // A downgrade: ask the SPMC first. Its reply becomes res (x1..x17 stay the SPMC's).
            var spmc = Smc(c, new VersionCall(requested));
            var a0 = new Res(spmc.Frame).A0;
            if (IsNotSupported(a0))
            {
                // The SPMC's answer goes to the host as is: it keeps the SPMC's rule when the SPMC gave one.
                var refusal = spmc.Rejection ?? PkvmRules.VersionDowngradeRefused.Reject();
                var reason = $"pKVM: FFA_VERSION: the SPMC refused the downgrade to {FormatVersion(requested)}; its answer goes to the host verbatim";
                return new Reply(spmc.Frame, refusal with { Reason = reason });
            }
            if ((int)(uint)a0 == -1)
                c.Notes.Add($"pKVM {_p.Name} compares the SPMC's whole 64-bit x0 with -1: the zero-extended NOT_SUPPORTED (0x{a0:X}) " +
                            "is taken as acceptance and the hyp version is lowered anyway (fixed by the (s32) casts of 7.2).");
            res = spmc.Frame;
            leaks = false;
            _hypVersion = requested;
        }

        if (PostInit(c.Spmc, c.Request.Vcpu) is { } failed)
            return Answer(SmcccNotSupported, failed.Rule, $"{failed.Why}; the version stays un-negotiated (hyp version {FormatVersion(_hypVersion)})");
        _negotiated = true;
        return Answer(_hypVersion);
    }

    /// <summary>
    /// The res struct before do_ffa_version writes x0: zeroed from 2bd3c6c7 (7.2); before, uninitialised EL2 stack,
    /// modelled as <see cref="UninitialisedPattern"/> | n in xn (the answer's note says so). Register-level on purpose.
    /// </summary>
    private SmcFrame FreshRes()
    {
        var res = new SmcFrame();
        if (_p.VersionFill == VersionFill.Zero) return res;
        for (var i = 1; i < Registers.Count; i++) res[i] = UninitialisedPattern | (uint)i;
        return res;
    }
}
