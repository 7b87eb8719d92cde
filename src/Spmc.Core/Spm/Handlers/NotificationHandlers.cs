using Spmc.Abi.Calls;
using Spmc.Abi.Descriptors;
using Spmc.Abi.Ffa;
using Spmc.Abi.Rules;
using Spmc.Core.Calls;
using Spmc.Core.Manifests;
using Spmc.Core.Spm.Notifications;

namespace Spmc.Core.Spm.Handlers;

/// <summary>
/// Notifications (FF-A v1.1 §10): FFA_NOTIFICATION_BITMAP_CREATE/DESTROY, BIND/UNBIND, SET, GET and INFO_GET, with
/// Hafnium's checks in Hafnium's order (src/api.c `api_ffa_notification_*`, src/ffa/spmc/notifications.c, src/vm.c),
/// and the FF-A 1.3 extended notifications (DEN0077 v1.3 §16.7..§16.10): BIND2/UNBIND2/SET2/GET2 with 384-bit
/// bitmaps in x3..x8, which share every check with their 32-bit forms. Only global notifications exist: Hafnium HEAD
/// removed per-vCPU notifications (and FF-A 1.3 made them optional: FFA_FEATURES feature 0x4 reports them
/// unsupported), so the per-vCPU flag is INVALID_PARAMETERS wherever it appears. The records' decoders check no
/// register (their flags and IDs are checked here, interleaved with state checks in Hafnium's order); every refusal
/// is a rule of <see cref="NotificationBindRules"/> and its siblings in NotificationRules.cs.
/// </summary>
internal sealed class NotificationHandlers(SpmcContext spmc)
{
    /// <summary>Framework notification "RX buffer full" set by the SPM (sender an SP), bit 0 of the framework bitmap.</summary>
    public const ulong SpmRxFullNotification = 1ul << 0;

    /// <summary>Framework notification "RX buffer full" set for the hypervisor (sender a VM), bit 32 (bit 0 of w7).</summary>
    public const ulong HypervisorRxFullNotification = 1ul << 32;

    /// <summary>FFA_NOTIFICATION_SET w2 / SET2 x2 bits[15:2], reserved.</summary>
    private const ulong SetReservedFlags = 0xFFFC;

    /// <summary>FFA_NOTIFICATION_GET w2 bits[31:4] / GET2 x2 bits[63:4], reserved.</summary>
    private const ulong GetReservedFlags = ~0xFul;

    /// <summary>FFA_NOTIFICATION_GET2: the framework bitmap's SPM half (bits 0..31) and hypervisor half (bits 32..63).</summary>
    private const ulong SpmFrameworkBits = 0xFFFF_FFFF, HypervisorFrameworkBits = 0xFFFF_FFFF_0000_0000;

    /// <summary>
    /// The notifications this SPMC holds beyond the first 64 when it is FF-A 1.3: the most the text allows (384 in
    /// all, DEN0077 v1.3 table 13.14), for SPs' bitmaps and for VMs' bitmaps that ask for them.
    /// </summary>
    public const int MaxExtraNotifications = NotificationBits.MaxCount - NotificationBits.BaseCount;

    private readonly SystemConfig _config = spmc.Config;
    private readonly Dictionary<ushort, Endpoint> _endpoints = spmc.State.Endpoints;
    private readonly Dictionary<ushort, NotificationRecord> _notifications = spmc.State.Notifications;

    public void Register(HandlerTable table)
    {
        // Only the hypervisor creates and destroys VMs' bitmaps: others get NOT_SUPPORTED from the Callers gate, as
        // from Hafnium's ffa_notifications_is_bitmap_access_valid. FFA_FEATURES reports them to every caller
        // (Hafnium ffa_features_function checks only its compiled version).
        table.Register<NotificationBitmapCreate>(FfaFunction.NotificationBitmapCreate, Callers.Hypervisor, BitmapCreate, reportedTo: Callers.Any);
        table.Register<NotificationBitmapDestroy>(FfaFunction.NotificationBitmapDestroy, Callers.Hypervisor, BitmapDestroy, reportedTo: Callers.Any);
        table.Register<NotificationBind>(FfaFunction.NotificationBind, Callers.Any, Bind);
        table.Register<NotificationUnbind>(FfaFunction.NotificationUnbind, Callers.Any, Unbind);
        table.Register<NotificationSet>(FfaFunction.NotificationSet, Callers.Any, Set);
        table.Register<NotificationGet>(FfaFunction.NotificationGet, Callers.Any, Get);
        // INFO_GET is the primary scheduler's (Hafnium vm_is_primary: ID 0). Hafnium implements only the SMC64 form;
        // FF-A 1.1 defines both, and the SMC32 one answers the same in w3..w7 with at most 10 IDs.
        table.Register<NotificationInfoGet>(FfaFunction.NotificationInfoGet, Callers.Hypervisor, InfoGet, smc32: true, smc64: true);
        // FF-A 1.3 extended notifications, SMC64 only: dispatch refuses them to callers (and SPMCs) before 1.3.
        table.Register<NotificationBind2>(FfaFunction.NotificationBind2, Callers.Any, Bind2, smc32: false, smc64: true);
        table.Register<NotificationUnbind2>(FfaFunction.NotificationUnbind2, Callers.Any, Unbind2, smc32: false, smc64: true);
        table.Register<NotificationSet2>(FfaFunction.NotificationSet2, Callers.Any, Set2, smc32: false, smc64: true);
        table.Register<NotificationGet2>(FfaFunction.NotificationGet2, Callers.Any, Get2, smc32: false, smc64: true);
    }

    /// <summary>True when both the SPMC and the caller use FF-A 1.3: only then do the 1.3 answers apply.</summary>
    private bool Speaks13(Call c) => _config.Version >= FfaVersion.V1_3 && c.Caller.Version >= FfaVersion.V1_3;

    /// <summary>
    /// FFA_FEATURES feature 0x4 (DEN0077 v1.3 table 13.14) as this SPMC answers a 1.3 caller: per-vCPU notifications
    /// unsupported for VMs and SPs (bits 0 and 1, as Hafnium), 320 extra SP notifications, and 320 extra VM
    /// notifications to SPs only (bits[10:2] are MBZ at the non-secure physical instance, where every normal-world
    /// caller of this SPMC is).
    /// </summary>
    public static uint FeatureBits(bool normalWorld) =>
        new NotificationFeatures(true, true, normalWorld ? 0 : MaxExtraNotifications, MaxExtraNotifications).Encode();

    /// <summary>The notification state of an endpoint of this system, made on first use (SPs enabled from their manifest).</summary>
    public NotificationRecord NotificationsOf(Endpoint endpoint)
    {
        if (!_notifications.TryGetValue(endpoint.Id, out var record))
            _notifications[endpoint.Id] = record = NewRecord(endpoint);
        return record;
    }

    /// <summary>
    /// A fresh record: an SP gets <see cref="PartitionCount"/> notifications per bitmap; a VM 64 until
    /// FFA_NOTIFICATION_BITMAP_CREATE sizes its bitmap.
    /// </summary>
    private NotificationRecord NewRecord(Endpoint endpoint) => new(endpoint.Id, NotificationsSupported(endpoint), endpoint.Vcpus,
        endpoint.Partition is null ? NotificationBits.BaseCount : PartitionCount(_config, endpoint));

    /// <summary>
    /// Notifications per bitmap of an SP: 384 when it and the SPMC are at 1.3 (the SPMC sizes SPs' bitmaps, DEN0077
    /// v1.3 §10.3 rule 5; our manifests carry no count, so it gives the most), else 64. The SP's version in force
    /// counts, not its manifest's, so the count agrees with what FFA_FEATURES(0x4) tells it after a renegotiation.
    /// </summary>
    public static int PartitionCount(SystemConfig config, Endpoint sp) =>
        config.Version >= FfaVersion.V1_3 && sp.Version >= FfaVersion.V1_3 ? NotificationBits.MaxCount : NotificationBits.BaseCount;

    /// <summary>An SP receives notifications when its manifest says so and it is v1.1 or later; VMs once their bitmap exists.</summary>
    private static bool NotificationsSupported(Endpoint endpoint) =>
        endpoint.Partition?.Properties.HasFlag(PartitionProperties.NotificationReceive) ?? false;

    /// <summary>The notification state of every endpoint, in ID order, for the inspector.</summary>
    public IReadOnlyList<NotificationView> Views() =>
        [.. _endpoints.Values.OrderBy(e => e.Id).Select(e => View(_notifications.GetValueOrDefault(e.Id) ?? NewRecord(e)))];

    private static NotificationView View(NotificationRecord r) => new(r.Receiver, r.Enabled, r.Vcpus,
        [.. r.FromSps.Bindings().Select(b => new NotificationBindingView(b.Bit, b.Sender))],
        [.. r.FromVms.Bindings().Select(b => new NotificationBindingView(b.Bit, b.Sender))],
        r.FromSps.Pending.Low, r.FromVms.Pending.Low, r.Framework.Pending,
        r.FromSps.Reported.Low, r.FromVms.Reported.Low, r.Framework.Reported,
        r.Count, r.FromSps.Pending, r.FromVms.Pending);

    private static string Id(ushort id) => EndpointId.Format(id);

    /// <summary>The rejection by <paramref name="rule"/> of a receiver <see cref="SpmcContext.KnownToSpmc"/> has no record of, saying why.</summary>
    private Rejection UnknownReceiver(Rule rule, ushort id) => rule.Reject(spmc.FindEndpoint(id) is null
        ? $"receiver {Id(id)} is not an endpoint of this system"
        : $"the SPMC has no record of VM {Id(id)}: its notification bitmap was not created and no RX/TX pair was forwarded for it");

    /// <summary>EL3 SPMD logical partitions, 0xFFC0..0xFFFE: never notification senders or receivers (Hafnium).</summary>
    private static bool IsSpmdLogicalPartition(ushort id) => id is >= 0xFFC0 and <= 0xFFFE;

    /// <summary>
    /// Raised whenever a notification becomes pending (SET, or the RX-full notification of MSG_SEND2). Hafnium
    /// triggers the schedule-receiver interrupt for every receiver, SPs included: the normal-world scheduler must
    /// give the SP CPU cycles (FFA_RUN) to handle its notifications, and it learns whom to run from INFO_GET
    /// (`ffa_notifications_sri_trigger_not_delayed`, or `..._sri_set_delayed` until the SPMC returns to the normal
    /// world). An SP receiver also gets the notification-pending interrupt when it next runs
    /// (`ffa_interrupts_inject_notification_pending_interrupt`).
    /// </summary>
    public void SignalPending(ushort receiver, string what, bool delaySri)
    {
        spmc.Raise(new SystemEvent(SystemEventKind.ScheduleReceiverInterrupt, receiver, what, Delayed: delaySri));
        if (EndpointId.IsSecure(receiver)) spmc.Raise(new SystemEvent(SystemEventKind.NotificationPendingInterrupt, receiver, what));
    }

    /// <summary>
    /// FFA_NOTIFICATION_BITMAP_CREATE: w1[15:0] = VM ID (Hafnium reads only the low 16 bits), w2[15:0] = its vCPU
    /// count. The hypervisor's own ID 0 may have a bitmap too; its vCPU count stays the manifest's (Hafnium keeps the
    /// other-world VM's and ignores w2 for it). FF-A 1.3 (DEN0077 v1.3 table 16.3/16.4): w3[8:0] = i, SP
    /// notifications wanted beyond 64; the SPMC allocates exactly i (up to 320) and answers it in w2. Before 1.3 w3 is
    /// ignored, the bitmap holds 64 and w2 stays 0.
    /// </summary>
    private FfaAnswer BitmapCreate(Call c, NotificationBitmapCreate call)
    {
        var id = call.VmId;
        var vcpus = (ushort)call.VcpuCount;
        // 0x7FFF is Hafnium's free-slot sentinel (it would "find" a free slot); we refuse it as no VM's ID.
        if (!EndpointId.IsVm(id) || id == EndpointId.Invalid)
            return c.Reject(NotificationBitmapCreateRules.NotAVm, $"w1[15:0] = {Id(id)} is not a VM ID");
        // ID 0 is the hypervisor's own record; any other VM ID gets an nwd_vms slot on demand (Hafnium
        // ffa_vm_nwd_alloc), declared or not — NO_MEMORY when every slot is taken. A new record is added on success.
        var vm = id == EndpointId.Hypervisor ? c.Caller : spmc.VmRecordFor(id);
        if (vm is null)
            return c.Reject(NotificationBitmapCreateRules.NoVmSlot,
                $"the SPMC holds {SpmcContext.MaxVmRecords} normal-world VM records already (Hafnium's max_vms); VM {Id(id)} gets none");
        if (_notifications.TryGetValue(id, out var existing) && existing.Enabled)
            return c.Reject(NotificationBitmapCreateRules.AlreadyCreated, $"the notification bitmap of {Id(id)} already exists");
        var extended = Speaks13(c);
        var extra = extended ? call.ExtraNotifications : 0;
        if (extra > MaxExtraNotifications)
            return c.Reject(NotificationBitmapCreateRules.CountTooLarge,
                $"w3[8:0] = {extra} extra notifications ({extra + 64} in all): this SPMC holds at most {MaxExtraNotifications} (384 in all)");
        spmc.Learn(vm);
        var record = NotificationsOf(vm);
        record.Enabled = true;
        record.Count = NotificationBits.BaseCount + extra;
        if (id != EndpointId.Hypervisor) record.Vcpus = vcpus;
        return extended ? FfaAnswer.Success32(w2: (ulong)extra) : FfaAnswer.Success32();
    }

    /// <summary>
    /// FFA_NOTIFICATION_BITMAP_DESTROY: w1[15:0] = VM ID. Hafnium (ffa_notifications_bitmap_destroy) refuses only
    /// while notifications from SPs are pending: an "RX buffer full" framework notification does not block it (the
    /// digest's "anything pending" is wider than the code). Bindings are cleared; pending framework bits stay.
    /// </summary>
    private FfaAnswer BitmapDestroy(Call c, NotificationBitmapDestroy call)
    {
        var id = call.VmId;
        if (!EndpointId.IsVm(id)) return c.Reject(NotificationBitmapDestroyRules.NotAVm, $"w1[15:0] = {Id(id)} is not a VM ID");
        if (spmc.KnownToSpmc(id) is not { } vm) return c.Reject(NotificationBitmapDestroyRules.NoRecord, $"no notification bitmap was created for {Id(id)}");
        var record = NotificationsOf(vm);
        if (!record.Enabled)
            return c.Reject(NotificationBitmapDestroyRules.NotCreated, $"the notification bitmap of {Id(id)} was not created (or already destroyed)");
        if (!record.FromSps.Pending.IsEmpty)
            return c.Reject(NotificationBitmapDestroyRules.Pending,
                $"{Id(id)} has notifications {record.FromSps.Pending} from SPs pending (FFA_NOTIFICATION_GET them first)");
        record.Enabled = false;
        record.Count = NotificationBits.BaseCount;
        record.FromSps.UnbindAll();
        record.FromVms.UnbindAll();
        // Hafnium ffa_vm_nwd_free: the record goes once its RX/TX pair is unmapped too.
        spmc.ForgetIfUnused(vm);
        return FfaAnswer.Success32();
    }

    /// <summary>
    /// FFA_NOTIFICATION_BIND: w1 = sender[31:16] | receiver[15:0], w2 = flags, w3/w4 = bitmap low/high. The flags are
    /// checked first, then the path UNBIND shares (api_ffa_notification_update_bindings).
    /// </summary>
    private FfaAnswer Bind(Call c, NotificationBind call) =>
        BindFlagsInvalid(c, call.Flags, wide: false) ?? UpdateBindings(c, call.Sender, call.Receiver, call.Bitmap, bind: true, wide: false);

    /// <summary>FFA_NOTIFICATION_BIND2 (FF-A 1.3): BIND with x2 = flags and the bitmap in x3..x8.</summary>
    private FfaAnswer Bind2(Call c, NotificationBind2 call) =>
        BindFlagsInvalid(c, call.Flags, wide: true) ?? UpdateBindings(c, call.Sender, call.Receiver, call.Bitmap, bind: true, wide: true);

    /// <summary>BIND's and BIND2's flags: per-vCPU notifications were removed from Hafnium (HEAD rejects the flag); no other flag is defined.</summary>
    private static FfaAnswer? BindFlagsInvalid(Call c, ulong flags, bool wide)
    {
        var register = wide ? "x2" : "w2";
        if ((flags & NotificationBind.PerVcpuFlag) != 0)
            return c.Reject(NotificationBindRules.PerVcpu, $"{register} bit 0 (per-vCPU notifications) is not supported: only global notifications exist");
        if (flags != 0) return c.Reject(NotificationBindRules.FlagsMbz, $"{register} flags 0x{flags:X}: bits[{(wide ? 63 : 31)}:1] must be zero");
        return null;
    }

    /// <summary>FFA_NOTIFICATION_UNBIND: as BIND without flags (Hafnium passes 0 for UNBIND and never reads its w2).</summary>
    private FfaAnswer Unbind(Call c, NotificationUnbind call) => UpdateBindings(c, call.Sender, call.Receiver, call.Bitmap, bind: false, wide: false);

    /// <summary>FFA_NOTIFICATION_UNBIND2 (FF-A 1.3): UNBIND with the bitmap in x3..x8 (x2 reserved, SBZ, ignored as UNBIND's w2).</summary>
    private FfaAnswer Unbind2(Call c, NotificationUnbind2 call) => UpdateBindings(c, call.Sender, call.Receiver, call.Bitmap, bind: false, wide: true);

    /// <summary>
    /// BIND / UNBIND (and their 1.3 forms) after BIND's flags, in the order of api_ffa_notification_update_bindings.
    /// <paramref name="wide"/>: the 384-bit bitmap of BIND2/UNBIND2, whose bits must lie below the receiver's count.
    /// </summary>
    private FfaAnswer UpdateBindings(Call c, ushort sender, ushort receiver, NotificationBits bits, bool bind, bool wide)
    {
        if (BindPairInvalid(c, sender, receiver) is { } pair) return c.Reject(pair);
        if (bits.IsEmpty) return c.Reject(NotificationBindRules.EmptyBitmap, $"the bitmap in {(wide ? "x3..x8" : "w3/w4")} selects no notification");

        if (spmc.KnownToSpmc(receiver) is not { } target) return c.Reject(UnknownReceiver(NotificationBindRules.UnknownReceiver, receiver));
        if (target.Version < FfaVersion.V1_1)
            return c.Reject(NotificationBindRules.ReceiverVersion, $"receiver {Id(receiver)} uses FF-A {target.Version}; notifications need 1.1");
        var record = NotificationsOf(target);
        if (!record.Enabled)
            return c.Reject(NotificationBindRules.NotEnabled, target.IsSecure
                ? $"receiver {Id(receiver)} does not support notifications (its manifest does not declare them)"
                : $"the notification bitmap of {Id(receiver)} was not created (FFA_NOTIFICATION_BITMAP_CREATE)");
        if (wide && bits.FirstAtOrAbove(record.Count) is { } beyond)
            return c.Reject(NotificationBindRules.ExceedsCount, $"notification {beyond} is beyond the {record.Count} notifications of {Id(receiver)}");
        if (bind && EndpointId.IsSecure(sender) && spmc.FindEndpoint(sender) is null)
            return c.Reject(NotificationBindRules.UnknownSender, $"sender {Id(sender)} is not a partition of this system");
        // FF-A 1.3 tables 16.13/16.17: ABORTED when the sender partition has aborted (1.3 callers only).
        if (Speaks13(c) && IsAborted(sender))
            return c.Reject(NotificationBindRules.SenderAborted, $"sender {Id(sender)} has aborted (FFA_ABORT)");

        var from = record.From(sender);
        if (bind && from.FirstNotBoundTo(bits, BoundBitmap.Unbound) is { } bound)
            return c.Reject(NotificationBindRules.AlreadyBound,
                $"notification {bound} of {Id(receiver)} is already bound to {Id(from.SenderOf(bound))} (even the same sender may not bind it twice)");
        if (!bind && from.FirstNotBoundTo(bits, sender) is { } other)
            return c.Reject(NotificationBindRules.UnbindNotBoundToSender, from.SenderOf(other) == BoundBitmap.Unbound
                ? $"notification {other} of {Id(receiver)} is not bound"
                : $"notification {other} of {Id(receiver)} is bound to {Id(from.SenderOf(other))}, not {Id(sender)}");
        if (!(from.Pending & bits).IsEmpty)
            return c.Reject(NotificationBindRules.Pending,
                $"notifications {from.Pending & bits} of {Id(receiver)} are pending (FFA_NOTIFICATION_GET them first)");

        from.Bind(bits, bind ? sender : BoundBitmap.Unbound);
        return FfaAnswer.Success32();
    }

    /// <summary>True when <paramref name="id"/> is a partition of this system that called FFA_ABORT.</summary>
    private bool IsAborted(ushort id) => spmc.FindEndpoint(id)?.Runtime?.Lifecycle == Runtime.PartitionLifecycle.Aborted;

    /// <summary>
    /// Hafnium ffa_notifications_is_bind_valid: an SP binds for itself (receiver = caller); from the normal world
    /// the sender is an SP and the receiver a VM. In Hafnium every normal-world call arrives as ID 0; a VM calling
    /// through a passthrough hypervisor here may only bind for itself.
    /// </summary>
    private static Rejection? BindPairInvalid(Call c, ushort sender, ushort receiver)
    {
        if (IsSpmdLogicalPartition(sender) || IsSpmdLogicalPartition(receiver))
            return NotificationBindRules.SpmdLogicalPartition.Reject($"SPMD logical partitions ({Id(sender)} -> {Id(receiver)}) have no notifications");
        // Our addition: Hafnium marks unbound bits with 0x7FFF, so binding to it would be a silent no-op and
        // naming it as a sender would reach unbound bits.
        if (sender == EndpointId.Invalid || receiver == EndpointId.Invalid) return NotificationBindRules.InvalidId.Reject("0x7FFF is the invalid endpoint ID");
        if (sender == receiver) return NotificationBindRules.SenderIsReceiver.Reject($"sender and receiver are both {Id(sender)}");
        if (c.Caller.IsSecure)
            return receiver != c.Caller.Id
                ? NotificationBindRules.SpNotReceiver.Reject($"a partition binds its own notifications: receiver {Id(receiver)} is not the caller {Id(c.Caller.Id)}")
                : null;
        if (!EndpointId.IsSecure(sender) || EndpointId.IsSecure(receiver))
            return NotificationBindRules.NormalWorldPair.Reject(
                $"from the normal world the sender must be a partition and the receiver a VM ({Id(sender)} -> {Id(receiver)})");
        if (!c.FromHypervisor && receiver != c.Caller.Id)
            return NotificationBindRules.VmNotReceiver.Reject(
                $"only the hypervisor (ID 0) binds for another VM: receiver {Id(receiver)} is not the caller {Id(c.Caller.Id)}");
        return null;
    }

    /// <summary>
    /// FFA_NOTIFICATION_SET: w1 = sender[31:16] | receiver[15:0], w2 = flags (bit 0 per-vCPU, bit 1 delay SRI,
    /// bits[31:16] vCPU ID), w3/w4 = bitmap. Order of api_ffa_notification_set.
    /// </summary>
    private FfaAnswer Set(Call c, NotificationSet call) => SetNotifications(c, call.Sender, call.Receiver, call.Flags, call.Bitmap, wide: false);

    /// <summary>FFA_NOTIFICATION_SET2 (FF-A 1.3): SET with x2 = flags (vCPU ID in bits[63:16]) and the bitmap in x3..x8.</summary>
    private FfaAnswer Set2(Call c, NotificationSet2 call) => SetNotifications(c, call.Sender, call.Receiver, call.Flags, call.Bitmap, wide: true);

    /// <summary>SET and SET2: the flags' layout is the same (bit 0 per-vCPU, bit 1 delay SRI, bits[15:2] MBZ, from bit 16 the vCPU ID).</summary>
    private FfaAnswer SetNotifications(Call c, ushort sender, ushort receiver, ulong flags, NotificationBits bits, bool wide)
    {
        var register = wide ? "x2" : "w2";
        var vcpu = flags >> 16;
        var delaySri = (flags & NotificationSet.DelaySriFlag) != 0;

        if ((flags & NotificationSet.PerVcpuFlag) != 0)
            return c.Reject(NotificationSetRules.PerVcpu, $"{register} bit 0 (per-vCPU notification) is not supported: only global notifications exist");
        if (vcpu != 0)
            return c.Reject(NotificationSetRules.VcpuNotZero, $"{register}[{(wide ? 63 : 31)}:16] = vCPU {vcpu}: a global notification names vCPU 0");
        if ((flags & SetReservedFlags) != 0) return c.Reject(NotificationSetRules.FlagsMbz, $"{register} flags 0x{flags:X}: bits[15:2] must be zero");
        if (SetPairInvalid(c, sender, receiver) is { } pair) return c.Reject(pair);
        if (bits.IsEmpty) return c.Reject(NotificationSetRules.EmptyBitmap, $"the bitmap in {(wide ? "x3..x8" : "w3/w4")} selects no notification");
        // The delay-SRI flag applies to the secure virtual FF-A instance only, i.e. to SP senders.
        if (EndpointId.IsVm(sender) && delaySri)
            return c.Reject(NotificationSetRules.DelaySriVmSender, $"{register} bit 1 (delay SRI) is for partition senders; {Id(sender)} is a VM");

        if (spmc.KnownToSpmc(receiver) is not { } target) return c.Reject(UnknownReceiver(NotificationSetRules.UnknownReceiver, receiver));
        // FF-A 1.3 tables 16.21/16.38: ABORTED when the receiver partition has aborted (1.3 callers only).
        if (Speaks13(c) && IsAborted(receiver))
            return c.Reject(NotificationSetRules.ReceiverAborted, $"receiver {Id(receiver)} has aborted (FFA_ABORT)");
        var record = NotificationsOf(target);
        if (!record.Enabled)
            return c.Reject(NotificationSetRules.NotEnabled, target.IsSecure
                ? $"receiver {Id(receiver)} does not support notifications"
                : $"the notification bitmap of {Id(receiver)} was not created");
        if (wide && bits.FirstAtOrAbove(record.Count) is { } beyond)
            return c.Reject(NotificationSetRules.ExceedsCount, $"notification {beyond} is beyond the {record.Count} notifications of {Id(receiver)}");
        var from = record.From(sender);
        if (from.FirstNotBoundTo(bits, sender) is { } unbound)
            return c.Reject(NotificationSetRules.NotBoundToSender, from.SenderOf(unbound) == BoundBitmap.Unbound
                ? $"notification {unbound} of {Id(receiver)} is not bound"
                : $"notification {unbound} of {Id(receiver)} is bound to {Id(from.SenderOf(unbound))}, not {Id(sender)}");

        from.Set(bits);
        SignalPending(receiver, $"notifications {bits} from {Id(sender)} pending for {Id(receiver)}", delaySri);
        return FfaAnswer.Success32();
    }

    /// <summary>
    /// Hafnium ffa_notifications_is_set_valid: an SP signals as itself (sender = caller); from the normal world the
    /// sender is a VM and the receiver an SP. A VM other than ID 0 (passthrough hypervisor) signals only as itself.
    /// </summary>
    private static Rejection? SetPairInvalid(Call c, ushort sender, ushort receiver)
    {
        if (IsSpmdLogicalPartition(sender) || IsSpmdLogicalPartition(receiver))
            return NotificationSetRules.SpmdLogicalPartition.Reject($"SPMD logical partitions ({Id(sender)} -> {Id(receiver)}) have no notifications");
        // Our addition: 0x7FFF marks unbound bits in Hafnium, so as a sender it would match every unbound bit.
        if (sender == EndpointId.Invalid || receiver == EndpointId.Invalid) return NotificationSetRules.InvalidId.Reject("0x7FFF is the invalid endpoint ID");
        if (sender == receiver) return NotificationSetRules.SenderIsReceiver.Reject($"sender and receiver are both {Id(sender)}");
        if (c.Caller.IsSecure)
            return sender != c.Caller.Id
                ? NotificationSetRules.SpNotSender.Reject($"a partition signals as itself: sender {Id(sender)} is not the caller {Id(c.Caller.Id)}")
                : null;
        if (EndpointId.IsSecure(sender) || !EndpointId.IsSecure(receiver))
            return NotificationSetRules.NormalWorldPair.Reject(
                $"from the normal world the sender must be a VM and the receiver a partition ({Id(sender)} -> {Id(receiver)})");
        if (!c.FromHypervisor && sender != c.Caller.Id)
            return NotificationSetRules.VmNotSender.Reject(
                $"only the hypervisor (ID 0) signals for another VM: sender {Id(sender)} is not the caller {Id(c.Caller.Id)}");
        return null;
    }

    /// <summary>
    /// FFA_NOTIFICATION_GET: w1 = vCPU[31:16] | receiver[15:0], w2 = which bitmaps (bit 0 from SPs, bit 1 from VMs,
    /// bit 2 SPM framework, bit 3 hypervisor framework). Answers w2/w3 = from SPs, w4/w5 = from VMs, w6/w7 =
    /// framework (<see cref="NotificationGetAnswer"/>), and clears what it returns. Either framework flag returns (and
    /// clears) the whole framework bitmap, as Hafnium does. Order of api_ffa_notification_get. It returns and clears
    /// notifications 0..63 only: FF-A 1.3 extended ones (64..383) stay pending until FFA_NOTIFICATION_GET2 takes them
    /// (DEN0077 v1.3 §10.1: a receiver with more than 64 uses the extended ABIs).
    /// </summary>
    private FfaAnswer Get(Call c, NotificationGet call)
    {
        if (GetChecks(c, call.Receiver, call.Vcpu, call.Flags, null, out var record) is { } refused) return refused;
        var flags = call.Flags;
        // Bits 0..63 only: notifications above 63 (FF-A 1.3 extended) stay pending for FFA_NOTIFICATION_GET2.
        var low = NotificationBits.Below(NotificationBits.BaseCount);
        var fromSps = (flags & NotificationGet.FromSpsFlag) != 0 ? record.FromSps.Take(low).Low : 0;
        var fromVms = (flags & NotificationGet.FromVmsFlag) != 0 ? record.FromVms.Take(low).Low : 0;
        var framework = (flags & (NotificationGet.FromSpmFlag | NotificationGet.FromHypervisorFlag)) != 0 ? record.Framework.Take() : 0;
        return new FfaAnswer(new NotificationGetAnswer(fromSps, fromVms, framework).Encode());
    }

    /// <summary>
    /// FFA_NOTIFICATION_GET2 (FF-A 1.3, DEN0077 v1.3 §16.10): GET's checks with x2 = flags, then masks of notifications
    /// to leave pending (x3..x8 from SPs, x9..x14 from VMs, x15 SPM framework, x16 hypervisor framework; a mask is SBZ
    /// and ignored when its bitmap is not selected). Answers FFA_SUCCESS64 with the bitmaps in x3..x16
    /// (<see cref="NotificationGet2Answer"/>). Unlike GET, each framework flag returns its own half of the framework
    /// bitmap: x15 the SPM's (bit 0, RX buffer full), x16 the hypervisor's.
    /// </summary>
    private FfaAnswer Get2(Call c, NotificationGet2 call)
    {
        if (GetChecks(c, call.Receiver, call.Vcpu, call.Flags, call, out var record) is { } refused) return refused;
        var flags = call.Flags;
        var fromSps = (flags & NotificationGet.FromSpsFlag) != 0 ? record.FromSps.Take(~call.KeepFromSps) : NotificationBits.None;
        var fromVms = (flags & NotificationGet.FromVmsFlag) != 0 ? record.FromVms.Take(~call.KeepFromVms) : NotificationBits.None;
        var spm = (flags & NotificationGet.FromSpmFlag) != 0 ? record.Framework.Take(SpmFrameworkBits & ~call.KeepSpm) : 0;
        var hypervisor = (flags & NotificationGet.FromHypervisorFlag) != 0
            ? record.Framework.Take(HypervisorFrameworkBits & ~(call.KeepHypervisor << 32)) >> 32 : 0;
        return new FfaAnswer(new NotificationGet2Answer(fromSps, fromVms, spm, hypervisor).Encode());
    }

    /// <summary>
    /// GET's and GET2's checks in the order of api_ffa_notification_get; GET2 (<paramref name="wide"/> not null) adds
    /// "no bitmap selected" and masks beyond the receiver's count. Null and the receiver's record, or the refusal.
    /// </summary>
    private FfaAnswer? GetChecks(Call c, ushort receiver, ushort vcpu, ulong flags, NotificationGet2? wide, out NotificationRecord record)
    {
        record = null!;
        var register = wide is null ? "w2" : "x2";
        if ((flags & GetReservedFlags) != 0)
            return c.Reject(NotificationGetRules.FlagsMbz, $"{register} flags 0x{flags:X}: bits[{(wide is null ? 31 : 63)}:4] must be zero");
        // FF-A 1.3 table 16.43 "empty notification bitmap specified": GET2 must select at least one bitmap.
        if (wide is not null && flags == 0)
            return c.Reject(NotificationGetRules.NoBitmap, "x2 selects no bitmap (bits 0..3 all clear)");
        // Hafnium ffa_notifications_is_get_valid: an SP (or a VM under a passthrough hypervisor) asks for itself,
        // the hypervisor for any VM; VMs' notifications from VMs and the hypervisor are the hypervisor's to keep.
        var forItself = !IsSpmdLogicalPartition(receiver) && receiver == c.Caller.Id;
        if (!forItself && !(c.FromHypervisor && EndpointId.IsVm(receiver)))
            return c.Reject(NotificationGetRules.NotTheReceiver, c.Caller.IsSecure
                ? $"a partition gets its own notifications: receiver {Id(receiver)} is not the caller {Id(c.Caller.Id)}"
                : $"receiver {Id(receiver)} is not {(c.FromHypervisor ? "a VM" : $"the caller {Id(c.Caller.Id)}")}");
        if (EndpointId.IsVm(receiver) && (flags & (NotificationGet.FromVmsFlag | NotificationGet.FromHypervisorFlag)) != 0)
            return c.Reject(NotificationGetRules.VmReceiverFlags,
                $"{register} flags 0x{flags:X}: for a VM receiver the SPMC keeps only notifications from SPs and the SPM (bits 1 and 3 must be zero)");
        // Hafnium CHECK-fails (panics) here for a VM it has no record of; we answer INVALID_PARAMETERS.
        if (spmc.KnownToSpmc(receiver) is not { } target) return c.Reject(UnknownReceiver(NotificationGetRules.UnknownReceiver, receiver));
        var found = NotificationsOf(target);
        if (vcpu >= found.Vcpus)
            return c.Reject(NotificationGetRules.Vcpu, $"w1[31:16] = vCPU {vcpu} is not below the {found.Vcpus} vCPU(s) of {Id(receiver)}");
        if (wide is not null)
        {
            // Masks name notifications too: bits beyond the receiver's count MBZ (table 16.41).
            if ((flags & NotificationGet.FromSpsFlag) != 0 && wide.KeepFromSps.FirstAtOrAbove(found.Count) is { } sp)
                return c.Reject(NotificationGetRules.ExceedsCount, $"x3..x8 mask notification {sp}, beyond the {found.Count} notifications of {Id(receiver)}");
            if ((flags & NotificationGet.FromVmsFlag) != 0 && wide.KeepFromVms.FirstAtOrAbove(found.Count) is { } vm)
                return c.Reject(NotificationGetRules.ExceedsCount, $"x9..x14 mask notification {vm}, beyond the {found.Count} notifications of {Id(receiver)}");
        }
        record = found;
        return null;
    }

    /// <summary>
    /// FFA_NOTIFICATION_INFO_GET (32/64): the endpoints with pending notifications INFO_GET has not reported yet.
    /// Hafnium's order: SPs in manifest order, then the hypervisor (ID 0), then the other VMs it has records of
    /// (Hafnium: in slot order; here in ID order). Per endpoint: framework, from SPs, from VMs; an endpoint's ID
    /// appears once per call. With global notifications only, every list is just an endpoint ID (0 vCPU IDs): the
    /// answer is a <see cref="NotificationInfoGetAnswer"/>, at most 20 IDs for SMC64 and 10 for SMC32. Nothing new
    /// to report: NO_DATA.
    /// </summary>
    private FfaAnswer InfoGet(Call c, NotificationInfoGet call)
    {
        var max = NotificationInfoGetAnswer.MaxIds(call.Is64);
        var ids = new List<ushort>(max);
        var full = false;
        foreach (var sp in _config.Partitions)
        {
            if (full) break;
            if (_notifications.TryGetValue(sp.Id, out var record)) full = CollectInfo(record, ids, max);
        }
        var vms = _endpoints.Values.Where(e => !e.IsSecure).OrderBy(e => e.Id);
        foreach (var vm in vms)
        {
            if (full) break;
            if (spmc.KnownToSpmc(vm.Id) is not null && _notifications.TryGetValue(vm.Id, out var record)) full = CollectInfo(record, ids, max);
        }
        if (ids.Count == 0)
            return c.Reject(NotificationInfoGetRules.NoData, "no endpoint has pending notifications that FFA_NOTIFICATION_INFO_GET has not reported yet");

        // Hafnium compares its counts of pending and of reported notifications over the whole system.
        var more = _notifications.Values.Any(r => r.AnythingUnreported);
        return new FfaAnswer(new NotificationInfoGetAnswer(ids, more, call.Is64).Encode());
    }

    /// <summary>
    /// One endpoint's part of INFO_GET (Hafnium vm_notifications_info_get). Returns true when the list became full
    /// with something of this endpoint left unreported, which stops the walk. As in Hafnium, a full list is noticed
    /// on the next bitmap with unreported bits even when this endpoint's ID is already listed, so that bitmap
    /// stays unreported and the endpoint is listed again by the next call.
    /// </summary>
    private static bool CollectInfo(NotificationRecord record, List<ushort> ids, int max)
    {
        var listed = false;
        var full = false;
        foreach (var bitmap in (ReadOnlySpan<IInfoReported>)[record.Framework, record.FromSps, record.FromVms])
        {
            if (!bitmap.HasUnreported) continue;
            if (full || ids.Count == max)
            {
                full = true;
                continue;
            }
            if (!listed)
            {
                ids.Add(record.Receiver);
                listed = true;
            }
            bitmap.MarkReported();
        }
        return full;
    }
}
