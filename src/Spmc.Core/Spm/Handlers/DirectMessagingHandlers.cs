using Spmc.Abi.Descriptors;
using Spmc.Abi.Ffa;
using Spmc.Abi.Smccc;
using Spmc.Core.Calls;
using Spmc.Core.Spm.Runtime;

namespace Spmc.Core.Spm.Handlers;

/// <summary>
/// Direct messaging (DEN0077 v1.2 §15.2-§15.5): FFA_MSG_SEND_DIRECT_REQ/RESP (32/64) and REQ2/RESP2 (64), checked
/// in the order of Hafnium's api_ffa_msg_send_direct_req / _resp. A request lends the caller's cycles to the
/// receiving execution context; the caller's answer is whatever the partition gives them back with (a response,
/// FFA_YIELD, or FFA_INTERRUPT when a remote partition overruns its timeout).
/// </summary>
internal sealed class DirectMessagingHandlers(SpmcContext spmc, RuntimeHandlers scheduler)
{
    public void Register(HandlerTable table)
    {
        table.Register(FfaFunction.MsgSendDirectReq, Callers.Any, c => DirectRequest(c, req2: false), smc64: true);
        table.Register(FfaFunction.MsgSendDirectResp, Callers.Any, c => DirectResponse(c, resp2: false), smc64: true);
        table.Register(FfaFunction.MsgSendDirectReq2, Callers.Any, c => DirectRequest(c, req2: true), smc32: false, smc64: true,
            servesOlderCallers: true); // a pre-1.2 sender gets DENIED from the capability check (spmc-behaviour.md §9 step 6)
        table.Register(FfaFunction.MsgSendDirectResp2, Callers.Any, c => DirectResponse(c, resp2: true), smc32: false, smc64: true);
    }

    private const uint FrameworkBit = 0x8000_0000;

    private FfaAnswer DirectRequest(Call c, bool req2)
    {
        var sender = EndpointId.Sender(c[1]);
        var receiver = EndpointId.Receiver(c[1]);
        var framework = !req2 && ((uint)c[2] & FrameworkBit) != 0;

        // 1. Partition messages carry w2 = 0 (REQ only: REQ2 has the UUID there).
        if (!req2 && !framework && (uint)c[2] != 0)
            return c.Fail(FfaError.InvalidParameters, $"w2 must be zero for a partition message (w2 = 0x{c[2]:X}); bit 31 marks a framework message");
        // 2. Framework messages: VM availability messages need a subscribed SP; nothing here subscribes.
        if (framework)
        {
            var type = (uint)c[2] & 0xFF;
            if (c.Caller.IsSecure) return c.Fail(FfaError.InvalidParameters, "secure partitions cannot send framework messages");
            return c.Fail(FfaError.InvalidParameters, type is 4 or 6
                ? $"framework message type {type} (VM {(type == 4 ? "created" : "destroyed")}): {EndpointId.Format(receiver)} does not subscribe to VM availability messages"
                : $"framework message type {type} is sent by the SPMD only");
        }
        // 3. Valid pairs (ffa_direct_msg_is_direct_request_valid).
        if (!EndpointId.IsSecure(receiver))
            return c.Fail(FfaError.InvalidParameters, $"receiver {EndpointId.Format(receiver)} is not a secure partition: direct requests go to SPs only");
        if (sender == receiver) return c.Fail(FfaError.InvalidParameters, $"sender and receiver are both {EndpointId.Format(sender)}");
        if (c.FromHypervisor)
        {
            // ID 0 relays requests for any normal-world endpoint (the hypervisor names the VM).
            if (EndpointId.IsSecure(sender))
                return c.Fail(FfaError.InvalidParameters, $"sender {EndpointId.Format(sender)} is a secure partition; the hypervisor may only name VMs");
        }
        else if (sender != c.Caller.Id)
            return c.Fail(FfaError.InvalidParameters, $"sender {EndpointId.Format(sender)} in w1[31:16] is not the caller {EndpointId.Format(c.Caller.Id)}");
        // 4. The receiver exists.
        if (spmc.FindEndpoint(receiver) is not { Runtime: { } runtime, Partition: { } partition } target)
            return c.Fail(FfaError.InvalidParameters, $"receiver {EndpointId.Format(receiver)} is not a partition of this system");
        // 5. REQ2 names a service by UUID (nil = any).
        if (req2)
        {
            var uuid = FfaUuid.FromRegisters64(c[2], c[3]);
            if (!uuid.IsNil && !partition.Uuids.Contains(uuid))
                return c.Fail(FfaError.InvalidParameters, $"UUID {uuid} in x2/x3 is not a service of {EndpointId.Format(receiver)}");
        }
        // 6. Capabilities: versions (REQ2 is v1.2), the sender's send bit, the receiver's receive bit.
        if (req2 && c.Caller.Version < FfaVersion.V1_2)
            return c.Fail(FfaError.Denied, $"the sender uses FF-A {c.Caller.Version}; REQ2 needs 1.2");
        if (req2 && target.Version < FfaVersion.V1_2)
            return c.Fail(FfaError.Denied, $"{EndpointId.Format(receiver)} uses FF-A {target.Version}; REQ2 needs 1.2");
        if (c.Caller.Partition is { } me)
        {
            var may = req2 ? me.Properties.HasFlag(PartitionProperties.DirectRequest2Send) : me.Properties.HasFlag(PartitionProperties.DirectRequestSend);
            if (!may) return c.Fail(FfaError.Denied, $"{EndpointId.Format(me.Id)} does not declare direct request{(req2 ? " 2" : "")} send in its manifest");
        }
        var receive = req2 ? PartitionProperties.DirectRequest2Receive : PartitionProperties.DirectRequestReceive;
        if (!partition.Properties.HasFlag(receive))
            return c.Fail(FfaError.Denied, $"{EndpointId.Format(receiver)} does not declare direct request{(req2 ? " 2" : "")} receive in its manifest");
        // 7. The receiving context: an MP partition takes the request on the caller's vCPU; a UP one on its only context.
        var index = runtime.Contexts.Length == 1 ? 0 : (int)c.Request.Vcpu;
        if (index >= runtime.Contexts.Length)
            return c.Fail(FfaError.InvalidParameters, $"vCPU {c.Request.Vcpu} has no execution context in {EndpointId.Format(receiver)} ({runtime.Contexts.Length})");
        var ctx = runtime.Contexts[index];
        // 8. Its state.
        if (NotReady(ctx, runtime, c.Caller.Id) is { } notReady) return notReady(c);

        var request = c.Request.Args;
        var delivered = new SmcFrame();
        var last = req2 ? Registers.Count - 1 : 7;
        for (var i = 0; i <= last; i++) delivered[i] = request[i];
        if (!req2) delivered[2] = 0;

        var waiter = new Waiter(c.Caller.Id, c.Request.Vcpu, $"{c.Request.Name} to {EndpointId.Format(receiver)}");
        ctx.State = ContextState.Running;
        ctx.Reason = req2 ? RunReason.DirectRequest2 : RunReason.DirectRequest;
        ctx.Request = new ActiveRequest(sender, c.Caller.Id, c.Request.Is64, req2, framework);
        ctx.Resumer = waiter;
        if (CallerContext(c) is { State: ContextState.Running } mine)
        {
            mine.State = ContextState.Blocked;
            mine.WaitingFor = receiver;
        }
        return scheduler.Deliver(target, ctx, delivered, waiter);
    }

    /// <summary>Why a context cannot take a direct request now, as Hafnium answers it (null when it is waiting).</summary>
    private Func<Call, FfaAnswer>? NotReady(PartitionContext ctx, PartitionRuntime runtime, ushort caller)
    {
        var who = $"{EndpointId.Format(ctx.Partition)} context {ctx.Index}";
        return ctx.State switch
        {
            ContextState.Waiting => null,
            ContextState.Off => c => c.Fail(FfaError.Busy, $"{who} is not running: it is driven by {runtime.Driver}"),
            ContextState.Aborted => c => c.Fail(FfaError.Aborted, $"{who} aborted (its client detached while it held cycles)"),
            ContextState.Blocked when InCallChain(ctx, caller) => c => c.Fail(FfaError.Denied, $"{who} is waiting in a call chain that {EndpointId.Format(caller)} is part of"),
            _ => c => c.Fail(FfaError.Busy, $"{who} is {ctx.State.ToString().ToLowerInvariant()}, not waiting for a message"),
        };
    }

    /// <summary>True when <paramref name="ctx"/> waits (directly or through other SPs) on a request that <paramref name="caller"/> must answer.</summary>
    private bool InCallChain(PartitionContext ctx, ushort caller)
    {
        var seen = new HashSet<ushort>();
        for (var at = ctx; at?.WaitingFor is { } next && seen.Add(next);)
        {
            if (next == caller) return true;
            at = spmc.FindEndpoint(next)?.Runtime?.Contexts.FirstOrDefault(x => x.WaitingFor is not null);
        }
        return false;
    }

    /// <summary>The calling SP's own context, when it is tracked.</summary>
    private PartitionContext? CallerContext(Call c) =>
        c.Caller.Runtime is { } r ? r.Contexts[r.Contexts.Length == 1 ? 0 : (int)Math.Min(c.Request.Vcpu, (uint)r.Contexts.Length - 1)] : null;

    private FfaAnswer DirectResponse(Call c, bool resp2)
    {
        var sender = EndpointId.Sender(c[1]);
        var receiver = EndpointId.Receiver(c[1]);
        if (!c.Caller.IsSecure) return c.Fail(FfaError.InvalidParameters, "the normal world cannot send direct responses");
        if (sender != c.Caller.Id) return c.Fail(FfaError.InvalidParameters, $"sender {EndpointId.Format(sender)} in w1[31:16] is not the caller {EndpointId.Format(c.Caller.Id)}");
        if (receiver == sender) return c.Fail(FfaError.InvalidParameters, $"sender and receiver are both {EndpointId.Format(sender)}");
        var framework = !resp2 && ((uint)c[2] & FrameworkBit) != 0;
        if (!resp2 && !framework && (uint)c[2] != 0)
            return c.Fail(FfaError.InvalidParameters, $"w2 must be zero for a partition message (w2 = 0x{c[2]:X})");
        // v1.2: RESP carries w3..w7 only; x8..x17 must be zero (Hafnium api_ffa_msg_send_direct_resp).
        if (!resp2 && c.Request.Is64 && c.Caller.Version >= FfaVersion.V1_2 && !c.Request.Args.ExtendedRegistersAreZero())
            return c.Fail(FfaError.InvalidParameters, "x8..x17 must be zero in a direct response (use RESP2 for a longer payload)");
        if (RuntimeHandlers.DriverOnly(c) is { } notDriver) return notDriver;

        var runtime = c.Caller.Runtime!;
        if (c.Request.Vcpu >= runtime.Contexts.Length)
            return c.Fail(FfaError.InvalidParameters, $"vCPU {c.Request.Vcpu} is not a context of {EndpointId.Format(c.Caller.Id)}");
        var ctx = runtime.Contexts[c.Request.Vcpu];
        // Run-time model checks (Hafnium: DENIED).
        if (ctx.Request is not { } active || ctx.State is not (ContextState.Running or ContextState.Preempted))
            return c.Fail(FfaError.Denied, $"context {ctx.Index} of {EndpointId.Format(c.Caller.Id)} is not handling a direct request");
        if (active.Sender != receiver)
            return c.Fail(FfaError.Denied, $"the request being handled came from {EndpointId.Format(active.Sender)}, not {EndpointId.Format(receiver)}");
        if (active.Req2 != resp2)
            return c.Fail(FfaError.Denied, $"a {(active.Req2 ? "REQ2" : "REQ")} request must be answered with {(active.Req2 ? "FFA_MSG_SEND_DIRECT_RESP2" : "FFA_MSG_SEND_DIRECT_RESP")}");
        if (active.Framework != framework)
            return c.Fail(FfaError.Denied, "a framework request needs a framework response and a partition request a partition one");

        // The answer the requester sees: the response registers; a 32-bit request gets 32-bit values.
        var response = new SmcFrame();
        var last = resp2 ? Registers.Count - 1 : 7;
        for (var i = 0; i <= last; i++) response[i] = c.Request.Args[i];
        response[1] = (ulong)c.Caller.Id << 16 | active.Sender;
        if (resp2) response[2] = response[3] = 0;
        else if (!framework) response[2] = 0;
        if (!active.Is64 && !resp2)
            for (var i = 0; i < 8; i++) response[i] = (uint)response[i];

        ctx.Request = null;
        ctx.Reason = null;
        scheduler.ReleaseCaller(active.Caller, c.Caller.Id);
        if (ctx.State == ContextState.Preempted)
        {
            // The requester was told FFA_INTERRUPT; it gets this answer when it resumes the context with FFA_RUN.
            ctx.HeldAnswer = response;
        }
        else
        {
            ctx.State = ContextState.Waiting;
            ctx.Resumer?.Complete(new FfaAnswer(response));
            ctx.Resumer = null;
        }
        return RuntimeHandlers.Park(c, ctx);
    }
}
