using Spmc.Abi.Descriptors;
using Spmc.Abi.Ffa;
using Spmc.Abi.Smccc;

namespace Spmc.Abi.Calls;

/// <summary>FFA_VERSION (DEN0077 §13.2; named VersionCall beside System.Version): w1 = the caller's version (bit 31 must be zero; checked by the SPMC, which answers in w0).</summary>
public sealed record VersionCall(uint Requested) : IFfaCall<VersionCall>
{
    public uint FunctionId => FfaFunctions.Id32(FfaFunction.Version);
    public static ParseResult<VersionCall> Decode(in SmcFrame frame) => new VersionCall(frame.W(1));
    public SmcFrame Encode() => Regs.Frame(FunctionId, Requested);
}

/// <summary>FFA_FEATURES (DEN0077 §13.3): w1 = a function ID (bit 31 set) or a feature ID; w2 = input properties.</summary>
public sealed record Features(uint Query, uint InputProperties) : IFfaCall<Features>
{
    public uint FunctionId => FfaFunctions.Id32(FfaFunction.Features);
    public bool IsFunctionQuery => (Query & 0x8000_0000) != 0;
    public static ParseResult<Features> Decode(in SmcFrame frame) => new Features(frame.W(1), frame.W(2));
    public SmcFrame Encode() => Regs.Frame(FunctionId, Query, InputProperties);
}

/// <summary>FFA_ID_GET (DEN0077 §13.12): no arguments.</summary>
public sealed record IdGet : IFfaCall<IdGet>
{
    public uint FunctionId => FfaFunctions.Id32(FfaFunction.IdGet);
    public static ParseResult<IdGet> Decode(in SmcFrame frame) => new IdGet();
    public SmcFrame Encode() => Regs.Frame(FunctionId);
}

/// <summary>FFA_SPM_ID_GET (DEN0077 §13.13, v1.1): no arguments.</summary>
public sealed record SpmIdGet : IFfaCall<SpmIdGet>
{
    public uint FunctionId => FfaFunctions.Id32(FfaFunction.SpmIdGet);
    public static ParseResult<SpmIdGet> Decode(in SmcFrame frame) => new SpmIdGet();
    public SmcFrame Encode() => Regs.Frame(FunctionId);
}
