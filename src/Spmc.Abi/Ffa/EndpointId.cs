namespace Spmc.Abi.Ffa;

/// <summary>FF-A 16-bit endpoint IDs. Bit 15 set means the secure world.</summary>
public static class EndpointId
{
    /// <summary>The hypervisor or, without one, the normal-world kernel at the physical instance.</summary>
    public const ushort Hypervisor = 0x0000;

    /// <summary>Hafnium's default SPMC ID (FFA_SPM_ID_GET).</summary>
    public const ushort DefaultSpmc = 0x8000;

    /// <summary>Hafnium's "invalid ID" sentinel.</summary>
    public const ushort Invalid = 0x7FFF;

    public static bool IsSecure(ushort id) => (id & 0x8000) != 0;
    public static bool IsVm(ushort id) => !IsSecure(id);

    public static string Format(ushort id) => $"0x{id:X4}";

    /// <summary>Sender in bits[31:16], receiver in bits[15:0] (DEN0077 §1.2 of our digest).</summary>
    public static ushort Sender(ulong w1) => (ushort)(w1 >> 16);
    public static ushort Receiver(ulong w1) => (ushort)w1;
    public static uint Pack(ushort sender, ushort receiver) => ((uint)sender << 16) | receiver;
}
