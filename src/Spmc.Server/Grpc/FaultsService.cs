using global::Grpc.Core;
using Spmc.Abi.Ffa;
using Spmc.Core.Faults;
using Spmc.Core.Systems;
using Spmc.V1;

namespace Spmc.Server.Grpc;

/// <summary>spmc.v1.Faults: a system's fault rules (docs/faults.md).</summary>
public sealed class FaultsService(SystemRegistry registry, Security.SystemAccess access) : V1.Faults.FaultsBase
{
    public override async Task<FaultRule> Add(AddFaultRequest request, ServerCallContext context)
    {
        var system = await access.OpenAsync(registry, context, ProtoMapping.RequireSystemId(request.SystemId));
        var spec = request.Rule ?? throw new Core.InvalidRequestException("rule: required");
        return FaultMapping.ToProto(system.AddFault(FaultMapping.ToDomain(spec)));
    }

    public override async Task<ListFaultsResponse> List(ListFaultsRequest request, ServerCallContext context)
    {
        var response = new ListFaultsResponse();
        response.Rules.Add((await access.OpenAsync(registry, context, ProtoMapping.RequireSystemId(request.SystemId))).ListFaults().Select(FaultMapping.ToProto));
        return response;
    }

    public override async Task<RemoveFaultResponse> Remove(RemoveFaultRequest request, ServerCallContext context)
    {
        (await access.OpenAsync(registry, context, ProtoMapping.RequireSystemId(request.SystemId))).RemoveFault(FaultMapping.RuleId(request.RuleId));
        return new RemoveFaultResponse();
    }

    public override async Task<ClearFaultsResponse> Clear(ClearFaultsRequest request, ServerCallContext context)
    {
        (await access.OpenAsync(registry, context, ProtoMapping.RequireSystemId(request.SystemId))).ClearFaults();
        return new ClearFaultsResponse();
    }
}

/// <summary>Fault rules between the contract and the domain.</summary>
public static class FaultMapping
{
    public static Core.Faults.FaultRuleSpec ToDomain(V1.FaultRuleSpec s) => new(s.Function, s.Error,
        s.HasCaller ? s.Caller : null, s.HasReceiver ? s.Receiver : null, s.HasHandle ? s.Handle : null,
        s.HasNth ? s.Nth : null, s.HasEvery ? s.Every : null, s.HasNext ? s.Next : null,
        s.HasProbability ? s.Probability : null, s.HasSeed ? s.Seed : null,
        s.HasDelay ? s.Delay : null, s.HasFragment ? s.Fragment : null, s.HasAbort ? s.Abort : null, s.HasStage2 ? s.Stage2 : null)
    {
        // proto3 strings have no presence: an empty error is "not given", so another action may stand alone.
        Error = string.IsNullOrEmpty(s.Error) && (s.HasDelay || s.HasFragment || s.HasAbort || s.HasStage2) ? null : s.Error,
    };

    public static FaultRule ToProto(FaultRuleView v)
    {
        var rule = new FaultRule
        {
            Id = (uint)v.Id,
            Function = v.Function,
            Action = ActionName(v.Action),
            Error = v.Error?.Name() ?? "",
            When = WhenName(v.When),
            Matched = v.Matched,
            Hits = v.Hits,
        };
        if (v.Caller is { } c) rule.Caller = c;
        if (v.Receiver is { } r) rule.Receiver = r;
        if (v.Handle is { } h) rule.Handle = h;
        if (v.Count is { } n) rule.Count = n;
        if (v.Probability is { } p) rule.Probability = p;
        if (v.Seed is { } seed) rule.Seed = seed;
        if (v.Fragment is { } fragment) rule.Fragment = (uint)fragment;
        return rule;
    }

    public static string WhenName(FaultWhen when) => when.ToString().ToLowerInvariant();

    public static string ActionName(FaultAction action) => action.ToString().ToLowerInvariant();

    /// <summary>A rule ID from the API: 1 or more, within int.</summary>
    public static int RuleId(ulong id) =>
        id is >= 1 and <= int.MaxValue ? (int)id : throw new Core.InvalidRequestException($"ruleId: {id} is not a rule ID (1, 2, ...)");
}
