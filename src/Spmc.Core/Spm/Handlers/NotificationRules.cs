using Spmc.Abi.Ffa;
using Spmc.Abi.Rules;

namespace Spmc.Core.Spm.Handlers;

// References name the ABI's function description in DEN0077 v1.2 (the notification interfaces; the concepts are
// v1.1 §10) and the Hafnium function whose check the rule mirrors. Hafnium HEAD supports global notifications only,
// so the per-vCPU flag is a rule of its own wherever it appears.

/// <summary>The SPMC's rules for FFA_NOTIFICATION_BITMAP_CREATE (Hafnium ffa_notifications_bitmap_create).</summary>
public static class NotificationBitmapCreateRules
{
    private const string Create = "DEN0077 v1.2 FFA_NOTIFICATION_BITMAP_CREATE";

    public static readonly Rule NotAVm = new("notification-bitmap-create.not-a-vm", FfaError.InvalidParameters,
        "w1[15:0] must be a VM ID, and not 0x7FFF (the invalid ID, Hafnium's free-slot sentinel)", $"{Create}; Hafnium ffa_notifications_is_bitmap_access_valid");
    public static readonly Rule NoVmSlot = new("notification-bitmap-create.no-vm-slot", FfaError.NoMemory,
        "a VM the SPMC has no record of needs a free VM record (at most 16, Hafnium's max_vms)",
        $"{Create}; Hafnium ffa_notifications_bitmap_create (ffa_vm_nwd_alloc, src/ffa/spmc/vm.c); hafnium-project-reference max_vms = 16");
    public static readonly Rule AlreadyCreated = new("notification-bitmap-create.already-created", FfaError.Denied,
        "a VM's notification bitmap is created once (until destroyed)", $"{Create}; Hafnium ffa_notifications_bitmap_create");
    public static readonly Rule CountTooLarge = new("notification-bitmap-create.count-too-large", FfaError.NoMemory,
        "a 1.3 caller may ask for at most 320 notifications beyond 64 (w3[8:0] <= 320, 384 in all)",
        "DEN0077 v1.3 ALP4 table 16.3/16.5 (NO_MEMORY: not enough memory for the bitmap) and table 13.14 (0 <= i <= 320)");
}

/// <summary>The SPMC's rules for FFA_NOTIFICATION_BITMAP_DESTROY (Hafnium ffa_notifications_bitmap_destroy).</summary>
public static class NotificationBitmapDestroyRules
{
    private const string Destroy = "DEN0077 v1.2 FFA_NOTIFICATION_BITMAP_DESTROY";

    public static readonly Rule NotAVm = new("notification-bitmap-destroy.not-a-vm", FfaError.InvalidParameters,
        "w1[15:0] must be a VM ID", $"{Destroy}; Hafnium ffa_notifications_is_bitmap_access_valid");
    public static readonly Rule NoRecord = new("notification-bitmap-destroy.no-record", FfaError.Denied,
        "the SPMC must have a record of the VM (its bitmap created, or its RX/TX pair forwarded)",
        $"{Destroy}; Hafnium ffa_notifications_bitmap_destroy (ffa_vm_find_locked)");
    public static readonly Rule NotCreated = new("notification-bitmap-destroy.not-created", FfaError.Denied,
        "the VM's notification bitmap must exist (created and not destroyed since)", $"{Destroy}; Hafnium ffa_notifications_bitmap_destroy");
    public static readonly Rule Pending = new("notification-bitmap-destroy.pending", FfaError.Denied,
        "no notification from SPs may be pending for the VM (an RX-full framework notification does not count)",
        $"{Destroy}; Hafnium ffa_notifications_bitmap_destroy (vm_are_notifications_pending, SP bitmaps only)");
}

/// <summary>
/// The SPMC's rules for FFA_NOTIFICATION_BIND and UNBIND, which share one path (Hafnium
/// api_ffa_notification_update_bindings): <c>notification-bind.*</c> applies to both, <c>notification-unbind.*</c>
/// to UNBIND only.
/// </summary>
public static class NotificationBindRules
{
    private const string Bind = "DEN0077 v1.2 FFA_NOTIFICATION_BIND/UNBIND";
    private const string BindValid = $"{Bind}; Hafnium ffa_notifications_is_bind_valid";

    // ---- BIND's flags (UNBIND has none) ------------------------------------------------------------------------

    public static readonly Rule PerVcpu = new("notification-bind.per-vcpu", FfaError.InvalidParameters,
        "w2 bit 0 (per-vCPU notifications) must be clear: only global notifications exist",
        "DEN0077 v1.2 FFA_NOTIFICATION_BIND; Hafnium api_ffa_notification_update_bindings (HEAD removed per-vCPU notifications)");
    public static readonly Rule FlagsMbz = new("notification-bind.flags-mbz", FfaError.InvalidParameters,
        "w2 bits[31:1] are reserved (MBZ)",
        "DEN0077 v1.2 FFA_NOTIFICATION_BIND; Hafnium api_ffa_notification_update_bindings (HEAD: every flag bit is MBZ)");

    // ---- the sender/receiver pair (ffa_notifications_is_bind_valid) ---------------------------------------------

    public static readonly Rule SpmdLogicalPartition = new("notification-bind.spmd-logical-partition", FfaError.InvalidParameters,
        "neither the sender nor the receiver may be an SPMD logical partition (0xFFC0..0xFFFE)", BindValid);
    public static readonly Rule InvalidId = new("notification-bind.invalid-id", FfaError.InvalidParameters,
        "neither the sender nor the receiver may be 0x7FFF, the invalid endpoint ID",
        $"{Bind}; Spmc: Hafnium marks unbound bits with 0x7FFF, so binding it would be a silent no-op");
    public static readonly Rule SenderIsReceiver = new("notification-bind.sender-is-receiver", FfaError.InvalidParameters,
        "the sender and the receiver must differ", BindValid);
    public static readonly Rule SpNotReceiver = new("notification-bind.sp-not-receiver", FfaError.InvalidParameters,
        "a partition binds its own notifications: the receiver is the caller", BindValid);
    public static readonly Rule NormalWorldPair = new("notification-bind.normal-world-pair", FfaError.InvalidParameters,
        "from the normal world the sender must be a partition and the receiver a VM", BindValid);
    public static readonly Rule VmNotReceiver = new("notification-bind.vm-not-receiver", FfaError.InvalidParameters,
        "only the hypervisor (ID 0) binds for another VM: a VM binds its own notifications",
        $"{Bind}; Spmc: a VM under a passthrough hypervisor (Hafnium sees every normal-world call as ID 0)");

    // ---- the bitmap and the receiver ----------------------------------------------------------------------------

    public static readonly Rule EmptyBitmap = new("notification-bind.empty-bitmap", FfaError.InvalidParameters,
        "the bitmap in w3/w4 must select at least one notification", $"{Bind}; Hafnium api_ffa_notification_update_bindings");
    public static readonly Rule UnknownReceiver = new("notification-bind.unknown-receiver", FfaError.InvalidParameters,
        "the SPMC must have a record of the receiver (a VM's bitmap created or its RX/TX pair forwarded)",
        $"{Bind}; Hafnium api_ffa_notification_update_bindings (ffa_vm_find_locked)");
    public static readonly Rule ReceiverVersion = new("notification-bind.receiver-version", FfaError.NotSupported,
        "the receiver must use FF-A 1.1 or later", $"{Bind}; Hafnium api_ffa_notification_update_bindings");
    public static readonly Rule NotEnabled = new("notification-bind.not-enabled", FfaError.NotSupported,
        "the receiver must have notifications enabled (a partition from its manifest, a VM by its bitmap)",
        $"{Bind}; Hafnium api_ffa_notification_update_bindings (vm_locked_are_notifications_enabled)");
    public static readonly Rule ExceedsCount = new("notification-bind.exceeds-count", FfaError.InvalidParameters,
        "BIND2/UNBIND2: every selected notification must be below the receiver's notification count",
        "DEN0077 v1.3 ALP4 tables 16.30/16.34 (a notification set that exceeds the supported number of notifications)");
    public static readonly Rule SenderAborted = new("notification-bind.sender-aborted", FfaError.Aborted,
        "FF-A 1.3 callers: the sender partition must not have aborted",
        "DEN0077 v1.3 ALP4 tables 16.13/16.17/16.30/16.34 (ABORTED: sender partition has aborted)");
    public static readonly Rule UnknownSender = new("notification-bind.unknown-sender", FfaError.InvalidParameters,
        "a partition named as sender must be one of this system (BIND only)",
        "DEN0077 v1.2 FFA_NOTIFICATION_BIND; Hafnium api_ffa_notification_update_bindings");
    public static readonly Rule AlreadyBound = new("notification-bind.already-bound", FfaError.Denied,
        "every selected notification must be unbound, even to bind it to the same sender again (BIND only)",
        "DEN0077 v1.2 FFA_NOTIFICATION_BIND; Hafnium api_ffa_notification_update_bindings (vm_notifications_validate_bound_sender)");
    public static readonly Rule Pending = new("notification-bind.pending", FfaError.Denied,
        "no selected notification may be pending (FFA_NOTIFICATION_GET it first)",
        $"{Bind}; Hafnium api_ffa_notification_update_bindings (vm_are_notifications_pending)");

    // ---- UNBIND only ----------------------------------------------------------------------------------------------

    public static readonly Rule UnbindNotBoundToSender = new("notification-unbind.not-bound-to-sender", FfaError.Denied,
        "every selected notification must be bound to the named sender",
        "DEN0077 v1.2 FFA_NOTIFICATION_UNBIND; Hafnium api_ffa_notification_update_bindings (vm_notifications_validate_bound_sender)");
}

/// <summary>The SPMC's rules for FFA_NOTIFICATION_SET (Hafnium api_ffa_notification_set).</summary>
public static class NotificationSetRules
{
    private const string Set = "DEN0077 v1.2 FFA_NOTIFICATION_SET";
    private const string SetApi = $"{Set}; Hafnium api_ffa_notification_set";
    private const string SetValid = $"{Set}; Hafnium ffa_notifications_is_set_valid";

    public static readonly Rule PerVcpu = new("notification-set.per-vcpu", FfaError.InvalidParameters,
        "w2 bit 0 (per-vCPU notification) must be clear: only global notifications exist",
        $"{Set}; Hafnium api_ffa_notification_set (HEAD removed per-vCPU notifications)");
    public static readonly Rule VcpuNotZero = new("notification-set.vcpu-not-zero", FfaError.InvalidParameters,
        "w2[31:16], the vCPU ID, must be 0 for a global notification", SetApi);
    public static readonly Rule FlagsMbz = new("notification-set.flags-mbz", FfaError.InvalidParameters,
        "w2 bits[15:2] are reserved (MBZ)", SetApi);

    public static readonly Rule SpmdLogicalPartition = new("notification-set.spmd-logical-partition", FfaError.InvalidParameters,
        "neither the sender nor the receiver may be an SPMD logical partition (0xFFC0..0xFFFE)", SetValid);
    public static readonly Rule InvalidId = new("notification-set.invalid-id", FfaError.InvalidParameters,
        "neither the sender nor the receiver may be 0x7FFF, the invalid endpoint ID",
        $"{Set}; Spmc: Hafnium marks unbound bits with 0x7FFF, so that sender would match every unbound bit");
    public static readonly Rule SenderIsReceiver = new("notification-set.sender-is-receiver", FfaError.InvalidParameters,
        "the sender and the receiver must differ", SetValid);
    public static readonly Rule SpNotSender = new("notification-set.sp-not-sender", FfaError.InvalidParameters,
        "a partition signals as itself: the sender is the caller", SetValid);
    public static readonly Rule NormalWorldPair = new("notification-set.normal-world-pair", FfaError.InvalidParameters,
        "from the normal world the sender must be a VM and the receiver a partition", SetValid);
    public static readonly Rule VmNotSender = new("notification-set.vm-not-sender", FfaError.InvalidParameters,
        "only the hypervisor (ID 0) signals for another VM: a VM signals as itself",
        $"{Set}; Spmc: a VM under a passthrough hypervisor (Hafnium sees every normal-world call as ID 0)");

    public static readonly Rule EmptyBitmap = new("notification-set.empty-bitmap", FfaError.InvalidParameters,
        "the bitmap in w3/w4 must select at least one notification", SetApi);
    public static readonly Rule DelaySriVmSender = new("notification-set.delay-sri-vm-sender", FfaError.InvalidParameters,
        "w2 bit 1 (delay the schedule-receiver interrupt) is for partition senders only", SetApi);
    public static readonly Rule UnknownReceiver = new("notification-set.unknown-receiver", FfaError.InvalidParameters,
        "the SPMC must have a record of the receiver", $"{Set}; Hafnium api_ffa_notification_set (ffa_vm_find_locked)");
    public static readonly Rule NotEnabled = new("notification-set.not-enabled", FfaError.Denied,
        "the receiver must have notifications enabled (a partition from its manifest, a VM by its bitmap)",
        $"{Set}; Hafnium api_ffa_notification_set (vm_locked_are_notifications_enabled)");
    public static readonly Rule ReceiverAborted = new("notification-set.receiver-aborted", FfaError.Aborted,
        "FF-A 1.3 callers: the receiver partition must not have aborted",
        "DEN0077 v1.3 ALP4 tables 16.21/16.38 (ABORTED: receiver partition has aborted)");
    public static readonly Rule ExceedsCount = new("notification-set.exceeds-count", FfaError.InvalidParameters,
        "SET2: every selected notification must be below the receiver's notification count",
        "DEN0077 v1.3 ALP4 table 16.38 (a notification set that exceeds the supported number of notifications)");
    public static readonly Rule NotBoundToSender = new("notification-set.not-bound-to-sender", FfaError.Denied,
        "every selected notification must be bound to the sender",
        $"{Set}; Hafnium api_ffa_notification_set (vm_notifications_validate_binding)");
}

/// <summary>The SPMC's rules for FFA_NOTIFICATION_GET (Hafnium api_ffa_notification_get).</summary>
public static class NotificationGetRules
{
    private const string Get = "DEN0077 v1.2 FFA_NOTIFICATION_GET";

    public static readonly Rule FlagsMbz = new("notification-get.flags-mbz", FfaError.InvalidParameters,
        "w2 bits[31:4] are reserved (MBZ)", $"{Get}; Hafnium api_ffa_notification_get");
    public static readonly Rule NotTheReceiver = new("notification-get.not-the-receiver", FfaError.InvalidParameters,
        "an endpoint gets its own notifications; only the hypervisor (ID 0) gets a VM's",
        $"{Get}; Hafnium ffa_notifications_is_get_valid");
    public static readonly Rule VmReceiverFlags = new("notification-get.vm-receiver-flags", FfaError.InvalidParameters,
        "for a VM receiver w2 bits 1 and 3 (from VMs, hypervisor framework) must be clear: those are the hypervisor's",
        $"{Get}; Hafnium ffa_notifications_is_get_valid");
    public static readonly Rule UnknownReceiver = new("notification-get.unknown-receiver", FfaError.InvalidParameters,
        "the SPMC must have a record of the receiver",
        $"{Get}; Spmc: Hafnium api_ffa_notification_get CHECK-fails (panics) for a VM it has no record of");
    public static readonly Rule Vcpu = new("notification-get.vcpu", FfaError.InvalidParameters,
        "w1[31:16], the vCPU ID, must be below the receiver's vCPU count", $"{Get}; Hafnium api_ffa_notification_get");
    public static readonly Rule NoBitmap = new("notification-get.no-bitmap", FfaError.InvalidParameters,
        "GET2: x2 must select at least one bitmap",
        "DEN0077 v1.3 ALP4 table 16.43 (empty notification bitmap specified); Spmc: GET2 takes no bitmap, so we read it as no bitmap selected");
    public static readonly Rule ExceedsCount = new("notification-get.exceeds-count", FfaError.InvalidParameters,
        "GET2: a mask of a selected bitmap must name only notifications below the receiver's count",
        "DEN0077 v1.3 ALP4 tables 16.41/16.43 (mask bits of unimplemented notifications MBZ; notification set exceeds the supported number)");
}

/// <summary>The SPMC's rule for FFA_NOTIFICATION_INFO_GET (Hafnium api_ffa_notification_info_get).</summary>
public static class NotificationInfoGetRules
{
    public static readonly Rule NoData = new("notification-info-get.no-data", FfaError.NoData,
        "some endpoint must have pending notifications that INFO_GET has not reported yet",
        "DEN0077 v1.2 FFA_NOTIFICATION_INFO_GET; Hafnium api_ffa_notification_info_get");
}
