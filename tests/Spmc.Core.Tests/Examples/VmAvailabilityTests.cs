using Spmc.Abi.Calls;
using Spmc.Abi.Descriptors;
using Spmc.Abi.Smccc;
using Spmc.Core.Calls;
using Spmc.Core.Spm.Behaviours;
using Spmc.Core.Tests.Support;
using static Spmc.Core.Tests.Messaging.Dm;

namespace Spmc.Core.Tests.Examples;

/// <summary>
/// VM availability messages on examples/manifests/vm-availability.json, as Hafnium's suite
/// <c>vm_availability_messaging</c> (test/vmapi/primary_with_secondaries/dir_msg.c) checks them: the SPMC's
/// check_vm_availability_message (src/ffa/spmc/direct_messaging.c) delivers func 4/6 to subscribers only, and the
/// partition answers 5/7 with a status in w3 from its per-VM state machine (services/dir_msg.c).
/// </summary>
public sealed class VmAvailabilityTests
{
    private const ushort Host = 0, Sp1 = 0x8001, Sp2 = 0x8002, CreatedOnly = 0x8003, NotSubscribed = 0x8004;
    private const ushort Vm1 = 1;
    private const ulong Framework = 0x8000_0000;
    private const ulong InvalidParameters = 0xFFFF_FFFE;

    private static TestSystem Sys() => ExampleManifests.Load("vm-availability.json");

    private static SmcFrame Message(ushort receiver, byte function, ushort vm = Vm1, ushort sender = Host, bool smc64 = false) =>
        (VmAvailability.Request(sender, receiver, function, vm) with { Is64 = smc64 }).Encode();

    /// <summary>Sends func 4/6 and checks the framework response 5/7 with <paramref name="status"/> in w3.</summary>
    private static void Delivered(TestSystem sys, ushort receiver, byte function, ulong status, ushort vm = Vm1, bool smc64 = false)
    {
        var o = sys.Call(Host, Message(receiver, function, vm, smc64: smc64));
        Assert.Null(o.Decoded.Error);
        Assert.Equal(Resp32, o.Frame[0]);
        Assert.Equal(W1(receiver, Host), o.Frame[1]);
        Assert.Equal(Framework | (ulong)(function + 1), o.Frame[2]);
        Assert.Equal(status, o.Frame[3]);
    }

    private static void Success(TestSystem sys, ushort receiver, byte function, ushort vm = Vm1) => Delivered(sys, receiver, function, 0, vm);

    private static void InvalidTransition(TestSystem sys, ushort receiver, byte function, ushort vm = Vm1) =>
        Delivered(sys, receiver, function, InvalidParameters, vm);

    [Fact]
    public void vm_unavailable_created()
    {
        var sys = Sys();
        Success(sys, Sp1, VmAvailability.Created);
        Assert.Equal("Waiting", sys.State.Partitions.Single(p => p.Config.Id == Sp1).Contexts[0].State.ToString());
    }

    [Fact]
    public void vm_available_created()
    {
        var sys = Sys();
        Success(sys, Sp1, VmAvailability.Created);
        InvalidTransition(sys, Sp1, VmAvailability.Created);
    }

    [Fact]
    public void vm_unavailable_destroyed() => InvalidTransition(Sys(), Sp1, VmAvailability.Destroyed);

    [Fact]
    public void vm_available_destroyed()
    {
        var sys = Sys();
        Success(sys, Sp1, VmAvailability.Created);
        Success(sys, Sp1, VmAvailability.Destroyed);
        Success(sys, Sp1, VmAvailability.Created); // Unavailable again: created is a valid transition once more
    }

    [Fact]
    public void vm_error_created()
    {
        var sys = Sys();
        InvalidTransition(sys, Sp1, VmAvailability.Destroyed);
        InvalidTransition(sys, Sp1, VmAvailability.Created);
    }

    [Fact]
    public void vm_error_destroyed()
    {
        var sys = Sys();
        InvalidTransition(sys, Sp1, VmAvailability.Destroyed);
        InvalidTransition(sys, Sp1, VmAvailability.Destroyed);
    }

    [Fact]
    public void multiple_sps()
    {
        var sys = Sys();
        Success(sys, Sp1, VmAvailability.Created);
        Success(sys, Sp2, VmAvailability.Created); // the notifier keeps its own states
        InvalidTransition(sys, Sp1, VmAvailability.Created);
        Success(sys, Sp1, VmAvailability.Created, vm: 2); // and one state per VM
    }

    [Fact]
    public void sp_not_subscribed()
    {
        var sys = Sys();
        foreach (var function in new[] { VmAvailability.Created, VmAvailability.Destroyed })
            sys.Fails(Host, Message(NotSubscribed, function), Err.InvalidParameters, "direct-req.framework-not-subscribed");
        // Subscribed to one message only: the other is not delivered (check_vm_availability_message checks each).
        sys.Fails(Host, Message(CreatedOnly, VmAvailability.Destroyed), Err.InvalidParameters, "direct-req.framework-not-subscribed");
        Success(sys, CreatedOnly, VmAvailability.Created);
        Assert.Equal(0u, Properties(sys, Host, NotSubscribed) & (uint)(PartitionProperties.VmCreatedMessages | PartitionProperties.VmDestroyedMessages));
    }

    [Fact]
    public void sp_cannot_send_messages()
    {
        var sys = Sys();
        // An SP's framework request, to a VM or to another SP: INVALID_PARAMETERS (Hafnium: the SP-to-VM pair is invalid).
        sys.Fails(CreatedOnly, Message(Host, VmAvailability.Created, sender: CreatedOnly), Err.InvalidParameters, "direct-req.framework-from-sp");
        sys.Fails(CreatedOnly, Message(Sp1, VmAvailability.Created, sender: CreatedOnly), Err.InvalidParameters, "direct-req.framework-from-sp");
        Success(sys, Sp1, VmAvailability.Created); // nothing was delivered: VM 1 is still Unavailable for SP1
    }

    [Fact]
    public async Task sp_cannot_send_non_framework_messages()
    {
        // A partition answering a VM availability message with a partition response: DENIED
        // (Hafnium api_ffa_msg_send_direct_resp_validate_ongoing_request). Played by an attached client.
        var json = ExampleManifests.Json("vm-availability.json").Replace("\"name\": \"sp1-subscribed\", \"behaviour\": \"echo\"", "\"name\": \"sp1-subscribed\", \"behaviour\": \"remote\"");
        var sys = TestSystem.FromJson(json);
        using var client = sys.System.Attach(Sp1);
        var wait = client.CallAsync(0, Wait());
        var host = sys.System.CallAsync(Host, Message(Sp1, VmAvailability.Created));
        var delivered = await wait.WaitAsync(Limit);
        Assert.Equal(Framework | VmAvailability.Created, delivered.Frame[2]); // w2 is delivered as sent
        Assert.Equal(Vm1, delivered.Frame[5]);
        var wrong = await client.CallAsync(0, Resp(Sp1, Host, payload: 0)).WaitAsync(Limit);
        Expect.Error(wrong, Err.Denied, "direct-resp.framework-mismatch");
        var right = SmcFrame.From(Resp32, W1(Sp1, Host), Framework | VmAvailability.CreatedResponse, 0);
        _ = client.CallAsync(0, right);
        var answer = await host.WaitAsync(Limit);
        Assert.Equal(Framework | VmAvailability.CreatedResponse, answer.Frame[2]);
    }

    [Fact]
    public void UnknownReceiver_IsInvalidParameters()
    {
        var sys = Sys();
        sys.Fails(Host, Message(0x8009, VmAvailability.Created), Err.InvalidParameters, "direct-req.receiver-unknown");
    }

    [Fact]
    public void Smc64Request_IsAnsweredWithResp32()
    {
        var sys = Sys();
        Delivered(sys, Sp1, VmAvailability.Created, 0, smc64: true);
    }

    [Fact]
    public void PropertiesBits6And7_ReportedToTheNormalWorldOnly()
    {
        var sys = Sys();
        const uint both = (uint)(PartitionProperties.VmCreatedMessages | PartitionProperties.VmDestroyedMessages);
        Assert.Equal(both, Properties(sys, Host, Sp1) & both);
        Assert.Equal((uint)PartitionProperties.VmCreatedMessages, Properties(sys, Host, CreatedOnly) & both);
        // Hafnium api_ffa_partitions_info_get_properties: only when the caller is a VM ID.
        Assert.Equal(0u, Properties(sys, CreatedOnly, Sp1) & both);
    }

    private static readonly Dictionary<ushort, string> Uuids = new()
    {
        [Sp1] = "b4b5671e-4a90-4fe1-b81f-fb13dae1dacb",
        [CreatedOnly] = "1df938ef-d4c1-4d02-b8d8-7a4a8a9f6b33",
        [NotSubscribed] = "9b2f7c1a-3e4d-4a5b-8c6d-7e8f9a0b1c2d",
    };

    /// <summary>The properties FFA_PARTITION_INFO_GET_REGS reports to <paramref name="caller"/> for <paramref name="sp"/> (queried by its UUID: one entry, in x3).</summary>
    private static uint Properties(TestSystem sys, ushort caller, ushort sp)
    {
        var o = Expect.Success64(sys.Call(caller, Ffa.PartitionInfoGetRegs(Uuids[sp])));
        Assert.Equal(sp, (ushort)o.Frame[3]);
        return (uint)(o.Frame[3] >> 32);
    }
}
