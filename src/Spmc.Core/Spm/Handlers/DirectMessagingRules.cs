using Spmc.Abi.Ffa;
using Spmc.Abi.Rules;

namespace Spmc.Core.Spm.Handlers;

/// <summary>
/// The SPMC's rules for direct requests (REQ and REQ2 share the <c>direct-req.</c> rules) and direct responses
/// (RESP and RESP2 share the <c>direct-resp.</c> rules), in Hafnium's order (spmc-behaviour.md §9).
/// </summary>
public static class DirectMessagingRules
{
    // ---- requests: framework messages (Hafnium ffa_direct_msg_handle_framework_msg) ----
    public static readonly Rule FrameworkFromSp = new("direct-req.framework-from-sp", FfaError.InvalidParameters,
        "secure partitions cannot send framework messages", "DEN0077 v1.2 framework messages; Hafnium ffa_direct_msg_handle_framework_msg");
    public static readonly Rule FrameworkNotSubscribed = new("direct-req.framework-not-subscribed", FfaError.InvalidParameters,
        "a VM availability message (type 4 created, 6 destroyed) goes to a partition whose manifest subscribes to that message (vmCreatedMessages, vmDestroyedMessages)",
        "DEN0077 v1.2 VM availability messages; Hafnium check_vm_availability_message");
    public static readonly Rule FrameworkSpmdOnly = new("direct-req.framework-spmd-only", FfaError.InvalidParameters,
        "framework messages other than VM availability come from the SPMD only", "DEN0077 v1.2 framework messages; Hafnium ffa_direct_msg_handle_framework_msg");

    // ---- requests: valid pairs (Hafnium ffa_direct_msg_is_direct_request_valid) ----
    public static readonly Rule ReceiverNotSp = new("direct-req.receiver-not-sp", FfaError.InvalidParameters,
        "direct requests go to secure partitions only", "DEN0077 v1.2 §16; Hafnium ffa_direct_msg_is_direct_request_valid");
    public static readonly Rule SenderIsReceiver = new("direct-req.sender-is-receiver", FfaError.InvalidParameters,
        "the sender and the receiver of a direct request differ", "Hafnium ffa_direct_msg_is_direct_request_valid");
    public static readonly Rule HypervisorNamesSp = new("direct-req.hypervisor-names-sp", FfaError.InvalidParameters,
        "the hypervisor (ID 0) relays requests for normal-world endpoints only: the sender it names is a VM",
        "Hafnium ffa_direct_msg_is_direct_request_valid");
    public static readonly Rule SenderNotCaller = new("direct-req.sender-not-caller", FfaError.InvalidParameters,
        "the sender in w1[31:16] is the caller (only ID 0 may name another endpoint)", "Hafnium ffa_direct_msg_is_direct_request_valid");

    // ---- requests: receiver, service, capabilities, context ----
    public static readonly Rule ReceiverUnknown = new("direct-req.receiver-unknown", FfaError.InvalidParameters,
        "the receiver is a partition of this system", "Hafnium api_ffa_msg_send_direct_req (vm_find)");
    public static readonly Rule Req2UuidUnknown = new("direct-req2.uuid-unknown", FfaError.InvalidParameters,
        "a non-nil UUID in x2/x3 of FFA_MSG_SEND_DIRECT_REQ2 names one of the receiver's services", "DEN0077 v1.2 §16; Hafnium api_ffa_dir_msg_req2_is_uuid_valid");
    public static readonly Rule Req2SenderVersion = new("direct-req2.sender-version", FfaError.Denied,
        "the sender of FFA_MSG_SEND_DIRECT_REQ2 uses FF-A 1.2 or later", "spmc-behaviour.md §9 step 6; Hafnium ffa_direct_msg_is_direct_request_supported");
    public static readonly Rule Req2ReceiverVersion = new("direct-req2.receiver-version", FfaError.Denied,
        "the receiver of FFA_MSG_SEND_DIRECT_REQ2 uses FF-A 1.2 or later", "spmc-behaviour.md §9 step 6; Hafnium ffa_direct_msg_is_direct_request_supported");
    public static readonly Rule SendNotDeclared = new("direct-req.send-not-declared", FfaError.Denied,
        "a partition sending a direct request declares direct request send (REQ) or direct request 2 send (REQ2) in its manifest",
        "DEN0077 v1.2 partition properties bits 1 and 10; Hafnium ffa_direct_msg_is_direct_request_supported");
    public static readonly Rule ReceiveNotDeclared = new("direct-req.receive-not-declared", FfaError.Denied,
        "the receiver declares direct request receive (REQ) or direct request 2 receive (REQ2) in its manifest",
        "DEN0077 v1.2 partition properties bits 0 and 9; Hafnium ffa_direct_msg_is_direct_request_supported");
    public static readonly Rule NoContext = new("direct-req.no-context", FfaError.InvalidParameters,
        "an MP receiver has an execution context for the caller's vCPU", "Hafnium api_ffa_get_vm_vcpu");

    // ---- requests: the receiving context's state (Hafnium api_ffa_msg_send_direct_req) ----
    public static readonly Rule ReceiverOff = new("direct-req.receiver-off", FfaError.Busy,
        "the receiving context has booted (a built-in behaviour, or an attached client that called FFA_MSG_WAIT)",
        "Hafnium api_ffa_msg_send_direct_req (VCPU_STATE_OFF: BUSY)");
    public static readonly Rule ReceiverAborted = new("direct-req.receiver-aborted", FfaError.Aborted,
        "the receiver has not called FFA_ABORT (every caller, as in Hafnium)",
        "DEN0077 v1.3 §15.2 errors (ABORTED); Hafnium api_ffa_msg_send_direct_req (VCPU_STATE_ABORTED without lifecycle support)");
    public static readonly Rule ReceiverNotReady = new("direct-req.not-ready", FfaError.NotReady,
        "for an FF-A 1.3 sender, the receiver is available: one of its contexts has booted (waiting, running, preempted or blocked)",
        "DEN0077 v1.3 §7.2.1 R0069 (NOT_READY); Spmc: older senders keep direct-req.receiver-off (BUSY)");
    public static readonly Rule CallChain = new("direct-req.call-chain", FfaError.Denied,
        "a request does not go to a context waiting in a call chain the caller is part of",
        "DEN0077 v1.2 run-time model (call chains); Hafnium ffa_cpu_cycles_check_runtime_state_transition");
    public static readonly Rule ReceiverBusy = new("direct-req.receiver-busy", FfaError.Busy,
        "the receiving context is waiting for a message (not running, blocked or preempted)", "Hafnium api_ffa_msg_send_direct_req");

    // ---- responses (Hafnium api_ffa_msg_send_direct_resp_validate_args, ffa_direct_msg_is_direct_response_valid) ----
    public static readonly Rule RespFromNormalWorld = new("direct-resp.from-normal-world", FfaError.InvalidParameters,
        "the normal world cannot send direct responses", "Hafnium ffa_direct_msg_is_direct_response_valid");
    public static readonly Rule RespSenderNotCaller = new("direct-resp.sender-not-caller", FfaError.InvalidParameters,
        "the sender in w1[31:16] of a direct response is the caller", "Hafnium ffa_direct_msg_is_direct_response_valid");
    public static readonly Rule RespSenderIsReceiver = new("direct-resp.sender-is-receiver", FfaError.InvalidParameters,
        "the sender and the receiver of a direct response differ", "Hafnium ffa_direct_msg_is_direct_response_valid");
    public static readonly Rule RespW2Mbz = new("direct-resp.w2-mbz", FfaError.InvalidParameters,
        "FFA_MSG_SEND_DIRECT_RESP: w2 bits[31:0] are zero for a partition message (bit 31 set marks a framework message)",
        "DEN0077 v1.3 table 15.11; Hafnium api_ffa_msg_send_direct_resp_validate_args");
    public static readonly Rule RespExtendedMbz = new("direct-resp.x8-x17-mbz", FfaError.InvalidParameters,
        "from an FF-A 1.2 responder, FFA_MSG_SEND_DIRECT_RESP_64 leaves x8..x17 zero (RESP2 carries a longer payload; 1.3 responders may use them)",
        "DEN0077 v1.2 §11.2, v1.3 table 8.2 (MBZ for a 1.2 receiver); Hafnium api_ffa_msg_send_direct_resp_validate_args (api_extended_args_are_zero)");

    // ---- responses: the run-time model (Hafnium api_ffa_msg_send_direct_resp_validate_ongoing_request) ----
    public static readonly Rule RespNoRequest = new("direct-resp.no-request", FfaError.Denied,
        "the responding context is handling a direct request", "Hafnium api_ffa_msg_send_direct_resp_validate_ongoing_request");
    public static readonly Rule RespWrongReceiver = new("direct-resp.wrong-receiver", FfaError.Denied,
        "a direct response goes to the endpoint that sent the request", "Hafnium ffa_cpu_cycles_check_runtime_state_transition");
    public static readonly Rule RespWrongAbi = new("direct-resp.wrong-abi", FfaError.Denied,
        "FFA_MSG_SEND_DIRECT_REQ is answered with FFA_MSG_SEND_DIRECT_RESP, REQ2 with RESP2",
        "Hafnium api_ffa_msg_send_direct_resp_validate_ongoing_request");
    public static readonly Rule RespSmc64ForSmc32 = new("direct-resp.smc64-for-smc32", FfaError.Denied,
        "from an FF-A 1.3 responder, FFA_MSG_SEND_DIRECT_RESP_64 completes only an SMC64 request (RESP_32 completes either width)",
        "DEN0077 v1.3 table 15.11; DENIED as Hafnium api_ffa_msg_send_direct_resp_validate_ongoing_request refuses a response of the wrong ABI");
    public static readonly Rule RespFrameworkMismatch = new("direct-resp.framework-mismatch", FfaError.Denied,
        "a framework request needs a framework response and a partition request a partition one",
        "Hafnium api_ffa_msg_send_direct_resp_validate_ongoing_request (framework request); Spmc also refuses a framework answer to a partition request");
}
