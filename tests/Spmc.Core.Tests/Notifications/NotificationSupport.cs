using System.Buffers.Binary;
using System.Reflection;
using Spmc.Abi.Smccc;
using Spmc.Core.Calls;
using Spmc.Core.Spm;
using Spmc.Core.Spm.Notifications;
using Spmc.Core.Systems;
using Spmc.Core.Tests.Support;
using static Spmc.Core.Tests.Support.Manifests;

namespace Spmc.Core.Tests.Notifications;

/// <summary>
/// Frames for the notification ABIs and FFA_MSG_SEND2 (ffa-abi.md §1.6, §1.8), with IDs and flags spelled as numbers,
/// and hand-built indirect message headers (ffa-abi.md §5.10).
/// </summary>
public static class Nf
{
    public const uint BitmapCreateId = 0x8400_007D, BitmapDestroyId = 0x8400_007E, BindId = 0x8400_007F, UnbindId = 0x8400_0080,
        SetId = 0x8400_0081, GetId = 0x8400_0082, InfoGet32Id = 0x8400_0083, InfoGet64Id = 0xC400_0083, MsgSend2Id = 0x8400_0086;

    /// <summary>FFA_NOTIFICATION_GET w2: from SPs, from VMs, SPM framework, hypervisor framework.</summary>
    public const ulong FromSps = 1, FromVms = 2, FromSpm = 4, FromHyp = 8;

    /// <summary>FFA_NOTIFICATION_SET / FFA_MSG_SEND2 w2 bit 1.</summary>
    public const ulong DelaySri = 2;

    public const ulong NoData = 0xFFFF_FFF7;

    public static SmcFrame BitmapCreate(ulong vm, ulong vcpus = 1) => Ffa.Frame(BitmapCreateId, vm, vcpus);
    public static SmcFrame BitmapDestroy(ulong vm) => Ffa.Frame(BitmapDestroyId, vm);

    public static SmcFrame Bind(ushort sender, ushort receiver, ulong bitmap, ulong flags = 0) =>
        Ffa.Frame(BindId, ((ulong)sender << 16) | receiver, flags, (uint)bitmap, bitmap >> 32);

    public static SmcFrame Unbind(ushort sender, ushort receiver, ulong bitmap, ulong w2 = 0) =>
        Ffa.Frame(UnbindId, ((ulong)sender << 16) | receiver, w2, (uint)bitmap, bitmap >> 32);

    public static SmcFrame Set(ushort sender, ushort receiver, ulong bitmap, ulong flags = 0) =>
        Ffa.Frame(SetId, ((ulong)sender << 16) | receiver, flags, (uint)bitmap, bitmap >> 32);

    public static SmcFrame Get(ushort receiver, ulong flags, ushort vcpu = 0) => Ffa.Frame(GetId, ((ulong)vcpu << 16) | receiver, flags);

    public static SmcFrame InfoGet64() => Ffa.Frame(InfoGet64Id);
    public static SmcFrame InfoGet32() => Ffa.Frame(InfoGet32Id);

    public static SmcFrame MsgSend2(ushort senderVm = 0, ulong flags = 0) => Ffa.Frame(MsgSend2Id, (ulong)senderVm << 16, flags);

    /// <summary>
    /// An indirect message: header {u32 flags, u32 reserved, u32 offset, u16 receiver, u16 sender, u32 size} and, for a
    /// 40-byte header, {u32 reserved, 16-byte UUID}; then the payload at <paramref name="offset"/> (when it lies in the
    /// page and after the header's first 20 bytes).
    /// </summary>
    public static byte[] Message(ushort sender, ushort receiver, byte[] payload, int header = 40, uint? offset = null, uint? size = null,
        string? uuid = null)
    {
        var at = offset ?? (uint)header;
        var fits = at + (ulong)payload.Length <= 4096 && at >= 20;
        var bytes = new byte[Math.Max(header, fits ? (int)at + payload.Length : 0)];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), at);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(12), receiver);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(14), sender);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(16), size ?? (uint)payload.Length);
        if (uuid is not null) Uuid.Bytes(uuid).CopyTo(bytes, 24);
        if (fits) payload.CopyTo(bytes, (int)at); // a payload that overlaps the header or leaves the page is not written
        return bytes;
    }

    public static NotificationView Notifications(this TestSystem sys, ushort id) => sys.State.Notifications.Single(v => v.Receiver == id);

    /// <summary>Every endpoint's notification state, for "nothing changed" checks.</summary>
    public static string NotificationSnapshot(this TestSystem sys) =>
        string.Join("\n", sys.State.Notifications.Select(v =>
            $"{v with { BoundToSps = [], BoundToVms = [] }} sp[{string.Join(",", v.BoundToSps)}] vm[{string.Join(",", v.BoundToVms)}]"));

    public static IReadOnlyList<SystemEvent> Events(this TestSystem sys) => sys.TakeEvents();

    /// <summary>Rich system with every endpoint's version as in the manifest, no buffers, no bitmaps.</summary>
    public static TestSystem Rich() => TestSystem.Rich();

    /// <summary>Rich system where SP 0x8001 bound <paramref name="bits"/> for sender <paramref name="sender"/>.</summary>
    public static TestSystem RichWithBinding(ushort receiver, ushort sender, ulong bits)
    {
        var sys = TestSystem.Rich();
        if (EndpointIsVm(receiver) && receiver != Host) Expect.Success(sys.Call(Host, BitmapCreate(receiver, 1)));
        if (receiver == Host) Expect.Success(sys.Call(Host, BitmapCreate(Host)));
        Expect.Success(sys.Call(EndpointIsVm(receiver) ? Host : receiver, Bind(sender, receiver, bits)));
        return sys;
    }

    public static bool EndpointIsVm(ushort id) => (id & 0x8000) == 0;
}
