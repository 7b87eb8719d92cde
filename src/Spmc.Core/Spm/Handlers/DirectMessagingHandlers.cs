using Spmc.Abi.Calls;
using Spmc.Abi.Descriptors;
using Spmc.Abi.Ffa;
using Spmc.Abi.Rules;
using Spmc.Abi.Smccc;
using Spmc.Core.Calls;
using Spmc.Core.Spm.Behaviours;
using Spmc.Core.Spm.Runtime;

namespace Spmc.Core.Spm.Handlers;

/// <summary>
/// Direct messaging (DEN0077 v1.2 §16): FFA_MSG_SEND_DIRECT_REQ/RESP (32/64) and REQ2/RESP2 (64), checked
/// in the order of Hafnium's api_ffa_msg_send_direct_req / _resp. A request lends the caller's cycles to the
/// receiving execution context; the caller's answer is whatever the partition gives them back with (a response,
/// FFA_YIELD, or FFA_INTERRUPT when a remote partition overruns its timeout).
/// </summary>
internal sealed class DirectMessagingHandlers(SpmcContext spmc, RuntimeHandlers scheduler)
{
    public void Register(HandlerTable table)
    {
        table.Register<DirectReq>(FfaFunction.MsgSendDirectReq, Callers.Any, DirectRequest, smc64: true);
        table.Register<DirectResp>(FfaFunction.MsgSendDirectResp, Callers.Any, (c, resp) => DirectResponse(c, resp, resp.Sender, resp.Receiver), smc64: true);
        // A pre-1.2 sender gets DENIED from the capability check (spmc-behaviour.md §9 step 6).
        table.Register<DirectReq2>(FfaFunction.MsgSendDirectReq2, Callers.Any, DirectRequest, smc32: false, smc64: true);
        table.Register<DirectResp2>(FfaFunction.MsgSendDirectResp2, Callers.Any, (c, resp) => DirectResponse(c, resp, resp.Sender, resp.Receiver),
            smc32: false, smc64: true);
    }

    /// <summary>REQ and REQ2; step 1 (w2 of a partition message) is the <see cref="DirectReq"/> decoder's.</summary>
    private FfaAnswer DirectRequest(Call c, IDirectRequest request)
    {
        var req2 = request is DirectReq2;
        var sender = request.Sender;
        var receiver = request.Receiver;
        var framework = request is DirectReq { IsFramework: true };

        // 2. Framework messages (Hafnium ffa_direct_msg_handle_framework_msg, check_vm_availability_message): a VM
        // availability message (func 4 created, 6 destroyed; VM ID in w5[15:0]) goes to an SP subscribed to that
        // message, then takes the checks of any direct request; every other function is the SPMD's.
        if (request is DirectReq { IsFramework: true } message)
        {
            var type = DirectMessageFlags.Type(message.Flags);
            if (c.Caller.IsSecure) return c.Reject(DirectMessagingRules.FrameworkFromSp, "secure partitions cannot send framework messages");
            if (type is not (VmAvailability.Created or VmAvailability.Destroyed))
                return c.Reject(DirectMessagingRules.FrameworkSpmdOnly, $"framework message type {type} is sent by the SPMD only");
            var what = $"framework message type {type} (VM {(type == VmAvailability.Created ? "created" : "destroyed")})";
            if (spmc.FindEndpoint(receiver)?.Partition is not { } subscriber)
                return c.Reject(DirectMessagingRules.ReceiverUnknown, $"{what}: receiver {EndpointId.Format(receiver)} is not a partition of this system");
            var subscribed = type == VmAvailability.Created ? subscriber.Capabilities.VmCreatedMessages : subscriber.Capabilities.VmDestroyedMessages;
            if (!subscribed)
                return c.Reject(DirectMessagingRules.FrameworkNotSubscribed,
                    $"{what}: {EndpointId.Format(receiver)} does not subscribe to VM {(type == VmAvailability.Created ? "created" : "destroyed")} messages (manifest properties vm{(type == VmAvailability.Created ? "Created" : "Destroyed")}Messages)");
        }
        // 3. Valid pairs (ffa_direct_msg_is_direct_request_valid).
        if (!EndpointId.IsSecure(receiver))
            return c.Reject(DirectMessagingRules.ReceiverNotSp, $"receiver {EndpointId.Format(receiver)} is not a secure partition: direct requests go to SPs only");
        if (sender == receiver) return c.Reject(DirectMessagingRules.SenderIsReceiver, $"sender and receiver are both {EndpointId.Format(sender)}");
        if (c.FromHypervisor)
        {
            // ID 0 relays requests for any normal-world endpoint (the hypervisor names the VM).
            if (EndpointId.IsSecure(sender))
                return c.Reject(DirectMessagingRules.HypervisorNamesSp, $"sender {EndpointId.Format(sender)} is a secure partition; the hypervisor may only name VMs");
        }
        else if (sender != c.Caller.Id)
            return c.Reject(DirectMessagingRules.SenderNotCaller, $"sender {EndpointId.Format(sender)} in w1[31:16] is not the caller {EndpointId.Format(c.Caller.Id)}");
        // 4. The receiver exists.
        if (spmc.FindEndpoint(receiver) is not { Runtime: { } runtime, Partition: { } partition } target)
            return c.Reject(DirectMessagingRules.ReceiverUnknown, $"receiver {EndpointId.Format(receiver)} is not a partition of this system");
        // 5. REQ2 names a service by UUID (nil = any).
        if (request is DirectReq2 { Uuid: var uuid } && !uuid.IsNil && !partition.Uuids.Contains(uuid))
            return c.Reject(DirectMessagingRules.Req2UuidUnknown, $"UUID {uuid} in x2/x3 is not a service of {EndpointId.Format(receiver)}");
        // 6. Capabilities: versions (REQ2 is v1.2), the sender's send bit, the receiver's receive bit.
        if (req2 && c.Caller.Version < FfaVersion.V1_2)
            return c.Reject(DirectMessagingRules.Req2SenderVersion, $"the sender uses FF-A {c.Caller.Version}; REQ2 needs 1.2");
        if (req2 && target.Version < FfaVersion.V1_2)
            return c.Reject(DirectMessagingRules.Req2ReceiverVersion, $"{EndpointId.Format(receiver)} uses FF-A {target.Version}; REQ2 needs 1.2");
        if (c.Caller.Partition is { } me)
        {
            var may = req2 ? me.Properties.HasFlag(PartitionProperties.DirectRequest2Send) : me.Properties.HasFlag(PartitionProperties.DirectRequestSend);
            if (!may) return c.Reject(DirectMessagingRules.SendNotDeclared, $"{EndpointId.Format(me.Id)} does not declare direct request{(req2 ? " 2" : "")} send in its manifest");
        }
        var receive = req2 ? PartitionProperties.DirectRequest2Receive : PartitionProperties.DirectRequestReceive;
        if (!partition.Properties.HasFlag(receive))
            return c.Reject(DirectMessagingRules.ReceiveNotDeclared, $"{EndpointId.Format(receiver)} does not declare direct request{(req2 ? " 2" : "")} receive in its manifest");
        // 7. The receiving context: an MP partition takes the request on the caller's vCPU; a UP one on its only context.
        var index = runtime.Contexts.Length == 1 ? 0 : (int)c.Request.Vcpu;
        if (index >= runtime.Contexts.Length)
            return c.Reject(DirectMessagingRules.NoContext, $"vCPU {c.Request.Vcpu} has no execution context in {EndpointId.Format(receiver)} ({runtime.Contexts.Length})");
        var ctx = runtime.Contexts[index];
        // 8. Its state.
        if (Unavailable(ctx, runtime, c) is { } notReady) return c.Reject(notReady);

        // Delivered as sent (Hafnium api_ffa_dir_msg_value): REQ w0..w7 with w2 cleared, REQ2 x0..x17. x8..x17 of
        // REQ_64 are payload only when sender and receiver are both above 1.2 (FF-A 1.3 table 8.2); else zero.
        var above12 = c.Caller.Version >= FfaVersion.V1_3;
        string? note = null;
        SmcFrame delivered;
        if (request is DirectReq req)
        {
            var forward = above12 && target.Version >= FfaVersion.V1_3;
            if (req.HasExtendedPayload && !forward)
                note = !above12
                    ? $"x8..x17 are not payload from an FF-A {c.Caller.Version} sender (FF-A 1.3 table 8.2: SBZ/preserved): {EndpointId.Format(receiver)} sees them as zero"
                    : $"{EndpointId.Format(receiver)} uses FF-A {target.Version}: it ignores x8..x17 (FF-A 1.3 table 8.2), they are not forwarded";
            // A framework message keeps its w2 (bit 31 and the function): the receiver reads what it is from there.
            delivered = (req with { Flags = framework ? req.Flags : 0, Extended = forward ? req.Extended : [] }).Encode();
        }
        else delivered = request.Encode();

        var waiter = new Waiter(c.Caller.Id, c.Request.Vcpu, $"{c.Request.Name} to {EndpointId.Format(receiver)}");
        ctx.State = ContextState.Running;
        ctx.Reason = req2 ? RunReason.DirectRequest2 : RunReason.DirectRequest;
        ctx.Request = new ActiveRequest(sender, c.Caller.Id, c.Request.Is64, req2, framework)
        { SenderAbove12 = above12, Note = note, CallerVcpu = c.Request.Vcpu };
        ctx.Resumer = waiter;
        ctx.LenderIs64 = c.Request.Is64 && above12;
        ctx.Smc64Run = false;
        if (CallerContext(c) is { State: ContextState.Running } mine)
        {
            mine.State = ContextState.Blocked;
            mine.WaitingFor = receiver;
        }
        return scheduler.Deliver(target, ctx, delivered, waiter);
    }

    /// <summary>
    /// Why a context cannot take a direct request now, as Hafnium answers it (null when it is waiting). FF-A 1.3
    /// lifecycle first: an aborted receiver answers ABORTED to every sender (Hafnium); one with no booted context
    /// answers NOT_READY to a 1.3 sender (R0069), BUSY to older ones as before.
    /// </summary>
    private Rejection? Unavailable(PartitionContext ctx, PartitionRuntime runtime, Call c)
    {
        var caller = c.Caller.Id;
        var who = $"{EndpointId.Format(ctx.Partition)} context {ctx.Index}";
        if (runtime.Lifecycle == PartitionLifecycle.Aborted)
            return DirectMessagingRules.ReceiverAborted.Reject($"{EndpointId.Format(ctx.Partition)} aborted (it called FFA_ABORT)");
        if (c.Caller.Version >= FfaVersion.V1_3 && !runtime.Available)
            return DirectMessagingRules.ReceiverNotReady.Reject(
                $"{EndpointId.Format(ctx.Partition)} is {runtime.Lifecycle.ToString().ToLowerInvariant()}: no context has booted (driven by {runtime.Driver})");
        return ctx.State switch
        {
            ContextState.Waiting => null,
            ContextState.Off => DirectMessagingRules.ReceiverOff.Reject($"{who} is not running: it is driven by {runtime.Driver}"),
            ContextState.Aborted => DirectMessagingRules.ReceiverAborted.Reject($"{who} aborted"),
            ContextState.Blocked when InCallChain(ctx, caller) =>
                DirectMessagingRules.CallChain.Reject($"{who} is waiting in a call chain that {EndpointId.Format(caller)} is part of"),
            _ => DirectMessagingRules.ReceiverBusy.Reject($"{who} is {ctx.State.ToString().ToLowerInvariant()}, not waiting for a message"),
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

    /// <summary>RESP (<see cref="DirectResp"/>) and RESP2 (<see cref="DirectResp2"/>), from <paramref name="sender"/> to <paramref name="receiver"/>.</summary>
    private FfaAnswer DirectResponse(Call c, IFfaCall response, ushort sender, ushort receiver)
    {
        var resp = response as DirectResp;
        var resp2 = resp is null;
        if (!c.Caller.IsSecure) return c.Reject(DirectMessagingRules.RespFromNormalWorld, "the normal world cannot send direct responses");
        if (sender != c.Caller.Id)
            return c.Reject(DirectMessagingRules.RespSenderNotCaller, $"sender {EndpointId.Format(sender)} in w1[31:16] is not the caller {EndpointId.Format(c.Caller.Id)}");
        if (receiver == sender) return c.Reject(DirectMessagingRules.RespSenderIsReceiver, $"sender and receiver are both {EndpointId.Format(sender)}");
        var framework = resp is { IsFramework: true };
        if (resp is { IsFramework: false, Flags: not 0 })
            return c.Reject(DirectMessagingRules.RespW2Mbz, $"w2 must be zero for a partition message (w2 = 0x{resp.X2:X})");
        // v1.2: RESP carries w3..w7 only; x8..x17 must be zero (Hafnium api_ffa_msg_send_direct_resp). FF-A 1.3
        // responders may fill them (table 15.11).
        var responder13 = c.Caller.Version >= FfaVersion.V1_3;
        if (resp is { Is64: true, HasExtendedPayload: true } && c.Caller.Version >= FfaVersion.V1_2 && !responder13)
            return c.Reject(DirectMessagingRules.RespExtendedMbz, "x8..x17 must be zero in a direct response (use RESP2 for a longer payload)");
        if (RuntimeHandlers.DriverOnly(c) is { } notDriver) return c.Reject(notDriver);

        var runtime = c.Caller.Runtime!;
        if (c.Request.Vcpu >= runtime.Contexts.Length)
            return c.Reject(RuntimeRules.VcpuNotAContext, $"vCPU {c.Request.Vcpu} is not a context of {EndpointId.Format(c.Caller.Id)}");
        var ctx = runtime.Contexts[c.Request.Vcpu];
        // Run-time model checks (Hafnium: DENIED).
        if (ctx.Request is not { } active || ctx.State is not (ContextState.Running or ContextState.Preempted))
            return c.Reject(DirectMessagingRules.RespNoRequest, $"context {ctx.Index} of {EndpointId.Format(c.Caller.Id)} is not handling a direct request");
        if (active.Sender != receiver)
            return c.Reject(DirectMessagingRules.RespWrongReceiver, $"the request being handled came from {EndpointId.Format(active.Sender)}, not {EndpointId.Format(receiver)}");
        if (active.Req2 != resp2)
            return c.Reject(DirectMessagingRules.RespWrongAbi,
                $"a {(active.Req2 ? "REQ2" : "REQ")} request must be answered with {(active.Req2 ? "FFA_MSG_SEND_DIRECT_RESP2" : "FFA_MSG_SEND_DIRECT_RESP")}");
        if (active.Framework != framework)
            return c.Reject(DirectMessagingRules.RespFrameworkMismatch, "a framework request needs a framework response and a partition request a partition one");
        // Table 15.11: RESP_32 completes a request of either width, RESP_64 only an SMC64 one.
        string? note = null;
        if (resp is { Is64: true } && !active.Is64)
        {
            if (responder13)
                return c.Reject(DirectMessagingRules.RespSmc64ForSmc32, $"the request from {EndpointId.Format(active.Sender)} was SMC32: answer it with FFA_MSG_SEND_DIRECT_RESP_32 (0x84000070)");
            note = "FF-A 1.3 table 15.11: an SMC64 response completes only an SMC64 request; the values are cut to 32 bits";
        }

        // The answer the requester sees: the response with w1 = responder | requester (both checked above), w2 cleared
        // for a partition message, RESP2's x2/x3 zero; a 32-bit request gets 32-bit values. x8..x17 of RESP_64 reach
        // the requester when responder and requester are above 1.2 and the request was SMC64 (table 8.2).
        var keep = responder13 && active.SenderAbove12 && active.Is64;
        if (resp is { Is64: true, HasExtendedPayload: true } && responder13 && !keep)
            note = Notes.Join(note, active.Is64
                ? $"x8..x17 of the response are not forwarded: {EndpointId.Format(active.Sender)} uses FF-A 1.2 or earlier (FF-A 1.3 table 8.2)"
                : null);
        var answer = resp is null ? response.Encode()
            : (active.Is64 ? resp.Forwarded(keep) : resp.Forwarded().As32BitValues()).Encode();

        var lender = ctx.Resumer;
        ctx.Request = active with { Note = Notes.Join(active.Note, note) };
        ctx.Reason = null;
        scheduler.ReleaseCaller(active.Caller, active.CallerVcpu, c.Caller.Id);
        if (ctx.State == ContextState.Preempted)
        {
            // The requester was told FFA_INTERRUPT (with the request's note); it gets this answer, and the
            // response's note, when it resumes the context with FFA_RUN.
            ctx.HeldAnswer = answer;
            ctx.LenderNote = note;
        }
        else
        {
            ctx.State = ContextState.Waiting;
            RuntimeHandlers.CompleteLender(ctx, new FfaAnswer(answer));
        }
        ctx.Request = null;
        ctx.LenderIs64 = ctx.Smc64Run = false;
        ctx.Parked64 = c.Request.Is64 && responder13;
        var parked = RuntimeHandlers.Park(c, ctx);
        // A built-in requester blocked in a call chain (`relay`) continues now that it has its answer.
        if (ctx.State == ContextState.Waiting && lender is not null) scheduler.Resume(lender);
        return parked;
    }
}
