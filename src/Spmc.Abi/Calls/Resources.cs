using Spmc.Abi.Descriptors;
using Spmc.Abi.Ffa;
using Spmc.Abi.Smccc;

namespace Spmc.Abi.Calls;

/// <summary>
/// FFA_NS_RES_INFO_GET (DEN0077 v1.3 §13.13 table 13.59; SMC64 only, BETA in ALP4): x1[15:0] = target S-endpoint ID
/// (valid only with flag bit 0; x1[63:16] SBZ), x2 = flags: bit 0 target ID valid, bit 1 reserved, bits[3:2] resource
/// type (0b00 = regions of the NS PAS), bit 4 request type (0 start, 1 continue), bits[63:5] reserved (SBZ); x3..x17
/// SBZ. The decoder checks nothing (reserved bits are SBZ: ignored, as Hafnium does); the record keeps x1 and x2 whole.
/// </summary>
public sealed record NsResInfoGet(ulong X1, ulong Flags) : IFfaCall<NsResInfoGet>
{
    public const ulong TargetValidFlag = 1ul << 0, ContinueFlag = 1ul << 4;
    public const int ResourceTypeShift = 2;

    /// <summary>Resource type 0b00: regions in the NS PAS accessible by S-endpoints.</summary>
    public const int NsPasRegions = 0;

    public uint FunctionId => FfaFunctions.Id64(FfaFunction.NsResInfoGet);

    public bool TargetValid => (Flags & TargetValidFlag) != 0;

    /// <summary>x1[15:0]: the target S-endpoint when <see cref="TargetValid"/>.</summary>
    public ushort Target => (ushort)X1;

    public int ResourceType => (int)((Flags >> ResourceTypeShift) & 0x3);

    /// <summary>Bit 4: continue a retrieval (else start one, ending any in progress).</summary>
    public bool Continue => (Flags & ContinueFlag) != 0;

    public static NsResInfoGet Start(ushort? target = null) =>
        new(target ?? 0, target is null ? 0 : TargetValidFlag);

    public static ParseResult<NsResInfoGet> Decode(in SmcFrame frame) => new NsResInfoGet(frame[1], frame[2]);

    public SmcFrame Encode() => Regs.Frame(FunctionId, X1, Flags);

    /// <summary>FFA_SUCCESS64 x2: bits[63:32] = bytes written to RX by this call, bits[31:0] = bytes still to retrieve.</summary>
    public static ulong Sizes(uint written, uint remaining) => ((ulong)written << 32) | remaining;
}
