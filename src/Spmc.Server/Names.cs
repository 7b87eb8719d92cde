using Spmc.Abi.Descriptors.Memory;
using Spmc.Core.Spm.Shares;
using Spmc.Core.Systems;

namespace Spmc.Server;

/// <summary>The lower-case names both API surfaces use for enumerations of the domain.</summary>
public static class Names
{
    public static string Of(DataAccess a) => a switch
    {
        DataAccess.ReadOnly => "ro",
        DataAccess.ReadWrite => "rw",
        DataAccess.NotSpecified => "not-specified",
        _ => "reserved",
    };

    public static string Of(InstructionAccess a) => a switch
    {
        InstructionAccess.NotExecutable => "nx",
        InstructionAccess.Executable => "x",
        InstructionAccess.NotSpecified => "not-specified",
        _ => "reserved",
    };

    public static string Of(ShareReceiverView r) =>
        r.State == RetrieveState.NotRetrieved ? "not-retrieved" : r.ResponseDelivered is not null ? "retrieving" : "retrieved";
}
