using Spmc.Abi.Ffa;
using Spmc.Core.Spm.Runtime;

namespace Spmc.Core.Spm.Handlers;

/// <summary>Why a v1.3 version request did not negotiate the requested version.</summary>
public enum VersionRefusal
{
    /// <summary>Negotiated (or a query answered).</summary>
    None,
    /// <summary>The callee implements no version compatible with the input: w0 = its closest incompatible version.</summary>
    NoCompatibleVersion,
    /// <summary>The callee implements no version at all: SMCCC NOT_SUPPORTED.</summary>
    NothingImplemented,
    /// <summary>The Firmware Framework is in use by the caller (D0212): w0 = the Null version.</summary>
    InUse,
    /// <summary>A downgrade of the negotiated version the callee does not permit: w0 = the Null version.</summary>
    DowngradeRefused,
}

/// <summary>
/// The outcome of a v1.3 FFA_VERSION request: <paramref name="Output"/> is w0 (null: SMCCC NOT_SUPPORTED),
/// <paramref name="NegotiatedAfter"/> the caller's negotiated version afterwards.
/// </summary>
public readonly record struct VersionOutcome(FfaVersion? Output, FfaVersion NegotiatedAfter, VersionRefusal Refusal)
{
    public bool Negotiated => Refusal == VersionRefusal.None;
}

/// <summary>
/// The version rules of DEN0077 v1.3 §13.2.1–13.2.2.3 as pure functions (the outcome table and the reference
/// pseudocode of S0231). A callee's implemented versions are given as the highest version of each major it
/// implements: x.y stands for x.0 to x.y.
/// </summary>
public static class VersionNegotiation
{
    /// <summary>D0201: major 0, minor 0.</summary>
    public static readonly FfaVersion Null = new(0, 0);

    /// <summary>The highest implemented version compatible with <paramref name="input"/> (same major, minor not below), or null.</summary>
    public static FfaVersion? Compatible(IReadOnlyList<FfaVersion> implemented, FfaVersion input)
    {
        FfaVersion? best = null;
        foreach (var v in implemented)
            if (input.IsCompatibleWith(v) && (best is null || v > best.Value)) best = v;
        return best;
    }

    /// <summary>
    /// The version w0 carries when nothing implemented is compatible with <paramref name="input"/> (§13.2.2.1): the
    /// highest implemented version below the input if there is one (only lower, or both lower and higher), else the
    /// lowest implemented version above it (the text's strong recommendation). Null when nothing is implemented.
    /// </summary>
    public static FfaVersion? ClosestIncompatible(IReadOnlyList<FfaVersion> implemented, FfaVersion input)
    {
        FfaVersion? lower = null, higher = null;
        foreach (var v in implemented)
        {
            if (input.IsCompatibleWith(v)) continue;
            if (v < input) { if (lower is null || v > lower.Value) lower = v; }
            else
            {
                // Incompatible and higher means a higher major: its lowest implemented version is x.0.
                var lowest = new FfaVersion(v.Major, 0);
                if (higher is null || lowest < higher.Value) higher = lowest;
            }
        }
        return lower ?? higher;
    }

    /// <summary>Query type b'01: a compatible version, else the closest incompatible one; never negotiates.</summary>
    public static FfaVersion? Discover(IReadOnlyList<FfaVersion> implemented, FfaVersion input) =>
        Compatible(implemented, input) ?? ClosestIncompatible(implemented, input);

    /// <summary>
    /// Query type b'00 (S0231 ffa_version, REQUEST_NEGOTIATE_VER): an input no implemented version is compatible with
    /// gets the closest incompatible version; a caller that has negotiated a version and uses the Framework, or that
    /// asks for a lower version of a callee that permits no downgrade, gets the Null version; otherwise the input
    /// becomes the negotiated version and w0 is the highest compatible version. A refusal leaves the negotiated
    /// version as it was.
    /// </summary>
    public static VersionOutcome Negotiate(IReadOnlyList<FfaVersion> implemented, FfaVersion input, FfaVersion negotiatedBefore,
        bool inUse, bool downgradeAllowed)
    {
        if (Compatible(implemented, input) is not { } compatible)
            return ClosestIncompatible(implemented, input) is { } closest
                ? new(closest, negotiatedBefore, VersionRefusal.NoCompatibleVersion)
                : new(null, negotiatedBefore, VersionRefusal.NothingImplemented);
        if (negotiatedBefore != Null && inUse) return new(Null, negotiatedBefore, VersionRefusal.InUse);
        if (negotiatedBefore != Null && input < negotiatedBefore && !downgradeAllowed)
            return new(Null, negotiatedBefore, VersionRefusal.DowngradeRefused);
        return new(compatible, input, VersionRefusal.None);
    }
}

/// <summary>
/// Whether the Firmware Framework is in use by a caller (DEN0077 v1.3 §13.2.2.1 D0212), read from the SPMC's state.
/// For a partition or an OS kernel: its RX/TX pair is mapped; notifications of it (from SPs or VMs) are bound;
/// framework notifications of it are pending; memory it shared, lent or donated is not reclaimed; memory shared
/// with, lent or donated to it is not yet reclaimed by its owner; a call of it is outstanding (a direct request it
/// sent still being handled, cycles it lent with FFA_RUN or a direct request not yet given back, or — for a
/// partition — one of its contexts waiting for a direct response). For the Hypervisor (ID 0 when the system has
/// other VMs): its own and every VM's RX/TX pair, SP notifications of any VM and VM notifications of any SP bound,
/// framework notifications of any VM pending, memory shared or lent by any VM, and its own outstanding calls.
/// A partition's own FFA_MSG_WAIT or FFA_YIELD is not counted: it ends its cycles rather than awaiting an answer.
/// </summary>
internal static class FrameworkUse
{
    /// <summary>Why the Framework is in use by <paramref name="caller"/>: empty when it is not.</summary>
    public static List<string> Reasons(SpmcState state, Endpoint caller)
    {
        var id = caller.Id;
        var hypervisor = id == EndpointId.Hypervisor && state.Endpoints.Values.Any(e => !e.IsSecure && e.Id != id);
        var reasons = new List<string>();
        bool IsMine(ushort endpoint) => hypervisor ? EndpointId.IsVm(endpoint) : endpoint == id;

        foreach (var e in state.Endpoints.Values.Where(e => e.Mailbox is not null && (e.Id == id || (hypervisor && !e.IsSecure))))
            reasons.Add($"the RX/TX pair of {EndpointId.Format(e.Id)} is mapped");

        foreach (var record in state.Notifications.Values)
        {
            var receiver = EndpointId.Format(record.Receiver);
            if (hypervisor)
            {
                // SP notifications of any VM, VM notifications of any SP; SPMC framework notifications of any VM.
                if (EndpointId.IsVm(record.Receiver) && record.FromSps.Bindings().Any()) reasons.Add($"SP notifications of {receiver} are bound");
                if (!EndpointId.IsVm(record.Receiver) && record.FromVms.Bindings().Any()) reasons.Add($"VM notifications of {receiver} are bound");
                if (EndpointId.IsVm(record.Receiver) && record.Framework.Pending != 0) reasons.Add($"framework notifications of {receiver} are pending");
            }
            else if (record.Receiver == id)
            {
                if (record.FromSps.Bindings().Any() || record.FromVms.Bindings().Any()) reasons.Add($"notifications of {receiver} are bound");
                if (record.Framework.Pending != 0) reasons.Add($"framework notifications of {receiver} are pending");
            }
        }

        foreach (var share in state.Shares.Values)
        {
            if (IsMine(share.Sender)) reasons.Add($"memory transaction {share} is not reclaimed");
            else if (!hypervisor && share.Receiver(id) is not null) reasons.Add($"memory transaction {share} lists it as a borrower and is not reclaimed");
        }

        foreach (var sp in state.Endpoints.Values.Where(e => e.Runtime is not null))
        {
            foreach (var ctx in sp.Runtime!.Contexts)
            {
                var where = $"{EndpointId.Format(sp.Id)} context {ctx.Index}";
                if (ctx.Request is { } r && (r.Sender == id || r.Caller == id))
                    reasons.Add($"its direct request to {where} is outstanding");
                else if (ctx.Resumer is { IsParked: false, Completed: false } w && w.Caller == id)
                    reasons.Add($"{where} has not given back the cycles it lent");
                if (sp.Id == id && ctx.WaitingFor is { } target && ctx.State == ContextState.Blocked)
                    reasons.Add($"its context {ctx.Index} waits for a direct response from {EndpointId.Format(target)}");
            }
        }
        return [.. reasons.Distinct()];
    }
}
