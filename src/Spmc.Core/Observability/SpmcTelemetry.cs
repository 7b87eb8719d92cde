using System.Diagnostics;
using System.Runtime.CompilerServices;
using Spmc.Abi.Ffa;
using Spmc.Core.Calls;

namespace Spmc.Core.Observability;

/// <summary>
/// The "Spmc" <see cref="ActivitySource"/>: a span per SMC (<c>smc FFA_MEM_SHARE_64</c>), child of whatever span is
/// current when the call arrives (the HTTP or gRPC request's), with a child span per frame the hypervisor proxy sent to
/// the SPMC (<c>hop FFA_ID_GET</c>). With no listener every method returns at its first test: nothing is allocated.
/// </summary>
public static class SpmcTelemetry
{
    /// <summary>The name of the activity source and of the meter (<see cref="SpmcMetrics"/>).</summary>
    public const string Name = "Spmc";

    public static readonly ActivitySource Source = new(Name, typeof(SpmcTelemetry).Assembly.GetName().Version?.ToString());

    /// <summary>Span tag names.</summary>
    public static class Tags
    {
        public const string System = "spmc.system", Sequence = "spmc.sequence", Caller = "spmc.caller", Vcpu = "spmc.vcpu",
            Function = "spmc.function", Width = "spmc.width", Result = "spmc.result", Error = "spmc.error", Rule = "spmc.rule",
            Reason = "spmc.reason", Hops = "spmc.hops", Attached = "spmc.from_attached_partition", Pending = "spmc.pending",
            FunctionId = "spmc.function_id", ErrorType = "error.type";
    }

    /// <summary>Starts the span of an SMC (null when nobody listens or samples it).</summary>
    public static Activity? StartCall(string system, SmcCall call, bool fromAttachedPartition)
    {
        if (!Source.HasListeners()) return null;
        var activity = Source.StartActivity(SpanName("smc ", call.Frame.FunctionId, out var known));
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(Tags.System, system);
            if (!known) activity.SetTag(Tags.FunctionId, $"0x{call.Frame.FunctionId:X8}");
            activity.SetTag(Tags.Caller, EndpointId.Format(call.Caller));
            activity.SetTag(Tags.Vcpu, call.Vcpu);
            if (fromAttachedPartition) activity.SetTag(Tags.Attached, true);
        }
        return activity;
    }

    /// <summary>Tags the SMC's span with its answer (the span ends with the call); returns <paramref name="outcome"/>.</summary>
    public static SmcOutcome EndCall(Activity? activity, long sequence, SmcOutcome outcome)
    {
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(Tags.Sequence, sequence);
            SetAnswer(activity, outcome.Decoded);
            if (outcome.Decoded.Hops is { Count: > 0 } hops) activity.SetTag(Tags.Hops, hops.Count);
        }
        return outcome;
    }

    /// <summary>
    /// The call ended with <paramref name="error"/> instead of an answer (a refused request, a deleted system, a
    /// cancellation): its span gets status Error, the exception's type and an exception event, and ends as usual.
    /// </summary>
    public static void Fail(Activity? activity, Exception error)
    {
        if (activity is null) return;
        activity.SetStatus(ActivityStatusCode.Error, error.Message);
        if (!activity.IsAllDataRequested) return;
        activity.SetTag(Tags.ErrorType, error.GetType().FullName);
        activity.AddException(error);
    }

    /// <summary>Starts the span of a frame the proxy sends to the SPMC, under the SMC's span (null when nobody listens).</summary>
    public static Activity? StartHop(FfaRequest request)
    {
        if (!Source.HasListeners() || Activity.Current is null) return null;
        var activity = Source.StartActivity(SpanName("hop ", request.Args.FunctionId, out var known));
        if (activity is { IsAllDataRequested: true })
        {
            if (!known) activity.SetTag(Tags.FunctionId, $"0x{request.Args.FunctionId:X8}");
            activity.SetTag(Tags.Caller, EndpointId.Format(request.Caller));
            activity.SetTag(Tags.Vcpu, request.Vcpu);
        }
        return activity;
    }

    private static readonly ConditionalWeakTable<FfaRequest, Activity> PendingHops = [];

    /// <summary>
    /// Ends a hop's span with its answer; a pending hop (cycles lent to an attached partition) stays open, no longer
    /// current, until <see cref="CompleteHop"/> gives it its answer.
    /// </summary>
    public static void EndHop(Activity? activity, FfaRequest request, Hop hop, bool pending)
    {
        if (activity is null) return;
        if (pending)
        {
            activity.SetTag(Tags.Pending, true);
            PendingHops.AddOrUpdate(request, activity);
            Activity.Current = activity.Parent;
            return;
        }
        if (activity.IsAllDataRequested) SetAnswer(activity, hop.Decoded);
        activity.Stop();
    }

    /// <summary>The answer of a hop that was pending has come: its span gets it and ends.</summary>
    public static void CompleteHop(FfaRequest request, Hop hop)
    {
        if (!PendingHops.TryGetValue(request, out var activity)) return;
        PendingHops.Remove(request);
        if (activity.IsAllDataRequested) SetAnswer(activity, hop.Decoded);
        var current = Activity.Current;
        activity.Stop();
        Activity.Current = current;
    }

    /// <summary>The call of a pending hop ended with <paramref name="error"/> before the partition's answer: its span ends too.</summary>
    public static void AbandonHop(FfaRequest request, Exception error)
    {
        if (!PendingHops.TryGetValue(request, out var activity)) return;
        PendingHops.Remove(request);
        Fail(activity, error);
        var current = Activity.Current;
        activity.Stop();
        Activity.Current = current;
    }

    private static void SetAnswer(Activity activity, Decoded decoded)
    {
        activity.SetTag(Tags.Function, decoded.Function);
        activity.SetTag(Tags.Width, decoded.Width);
        activity.SetTag(Tags.Result, decoded.Result);
        if (decoded.Error is null) return;
        activity.SetTag(Tags.Error, decoded.Error);
        activity.SetTag(Tags.Rule, decoded.Rule);
        activity.SetTag(Tags.Reason, decoded.Reason);
        activity.SetStatus(ActivityStatusCode.Error, decoded.Error);
    }

    /// <summary>
    /// "smc FFA_VERSION": one name per function of the table; any other ID is "unknown" (its ID is the tag
    /// <c>spmc.function_id</c>), so clients cannot make span names (which backends index) without bound.
    /// </summary>
    private static string SpanName(string prefix, uint functionId, out bool known)
    {
        var name = functionId == Abi.Smccc.SmcccFunctionId.SmcccVersion ? "SMCCC_VERSION" : FfaFunctions.NameOf(functionId);
        known = name is not null;
        return prefix + (name ?? "unknown");
    }
}
