using System.Buffers.Binary;

namespace Spmc.Abi.Descriptors.Memory;

/// <summary>Data access in a memory access permissions descriptor, bits[1:0].</summary>
public enum DataAccess : byte
{
    NotSpecified = 0,
    ReadOnly = 1,
    ReadWrite = 2,
    Reserved = 3,
}

/// <summary>Instruction access in a memory access permissions descriptor, bits[3:2].</summary>
public enum InstructionAccess : byte
{
    NotSpecified = 0,
    NotExecutable = 1,
    Executable = 2,
    Reserved = 3,
}

/// <summary>
/// Memory access permissions descriptor (4 bytes): endpoint ID, permissions byte (data bits[1:0],
/// instruction bits[3:2], bits[7:4] MBZ) and flags byte (bit 0 = non-retrieval borrower, bits[7:1] MBZ).
/// The raw bytes are kept so a validator can tell which reserved bits were set.
/// </summary>
public readonly record struct MemoryAccessPermissions(ushort Endpoint, byte Permissions, byte Flags = 0)
{
    public const int Size = 4;
    public const byte NonRetrievalBorrower = 0x1;

    /// <summary>Field offsets (DEN0077 v1.1 table 10.15).</summary>
    public static class Offsets
    {
        public const int Endpoint = 0;
        public const int Permissions = 2;
        public const int Flags = 3;
    }

    public static MemoryAccessPermissions Of(ushort endpoint, DataAccess data, InstructionAccess instruction = InstructionAccess.NotSpecified, byte flags = 0) =>
        new(endpoint, (byte)((byte)data | ((byte)instruction << 2)), flags);

    public DataAccess Data => (DataAccess)(Permissions & 0x3);
    public InstructionAccess Instruction => (InstructionAccess)((Permissions >> 2) & 0x3);
    public bool ReservedBitsSet => (Permissions & 0xF0) != 0 || (Flags & 0xFE) != 0;

    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(destination[Offsets.Endpoint..], Endpoint);
        destination[Offsets.Permissions] = Permissions;
        destination[Offsets.Flags] = Flags;
    }

    public static MemoryAccessPermissions Read(ReadOnlySpan<byte> source) =>
        new(BinaryPrimitives.ReadUInt16LittleEndian(source[Offsets.Endpoint..]), source[Offsets.Permissions], source[Offsets.Flags]);

    public override string ToString() => $"0x{Endpoint:X4}:{Data}/{Instruction}{(Flags != 0 ? $" flags 0x{Flags:X}" : "")}";
}
