using Spmc.Abi.Smccc;

namespace Spmc.Abi.Ffa;

/// <summary>FF-A function numbers (the low 16 bits of the function ID), DEN0077 table 12.2 and later.</summary>
public enum FfaFunction : ushort
{
    Error = 0x60,
    Success = 0x61,
    Interrupt = 0x62,
    Version = 0x63,
    Features = 0x64,
    RxRelease = 0x65,
    RxTxMap = 0x66,
    RxTxUnmap = 0x67,
    PartitionInfoGet = 0x68,
    IdGet = 0x69,
    MsgPoll = 0x6A,
    MsgWait = 0x6B,
    Yield = 0x6C,
    Run = 0x6D,
    MsgSend = 0x6E,
    MsgSendDirectReq = 0x6F,
    MsgSendDirectResp = 0x70,
    MemDonate = 0x71,
    MemLend = 0x72,
    MemShare = 0x73,
    MemRetrieveReq = 0x74,
    MemRetrieveResp = 0x75,
    MemRelinquish = 0x76,
    MemReclaim = 0x77,
    MemOpPause = 0x78,
    MemOpResume = 0x79,
    MemFragRx = 0x7A,
    MemFragTx = 0x7B,
    NormalWorldResume = 0x7C,
    NotificationBitmapCreate = 0x7D,
    NotificationBitmapDestroy = 0x7E,
    NotificationBind = 0x7F,
    NotificationUnbind = 0x80,
    NotificationSet = 0x81,
    NotificationGet = 0x82,
    NotificationInfoGet = 0x83,
    RxAcquire = 0x84,
    SpmIdGet = 0x85,
    MsgSend2 = 0x86,
    SecondaryEpRegister = 0x87,
    MemPermGet = 0x88,
    MemPermSet = 0x89,
    ConsoleLog = 0x8A,
    PartitionInfoGetRegs = 0x8B,
    El3IntrHandle = 0x8C,
    MsgSendDirectReq2 = 0x8D,
    MsgSendDirectResp2 = 0x8E,
    NsResInfoGet = 0x8F,
    Abort = 0x90,
    NotificationBind2 = 0x94,
    NotificationUnbind2 = 0x95,
    NotificationSet2 = 0x96,
    NotificationGet2 = 0x97,
}

/// <summary>What the ABI defines for one function number: its name and which widths exist since which version.</summary>
public sealed record FfaFunctionInfo(FfaFunction Function, string Name, FfaVersion? Since32, FfaVersion? Since64)
{
    public uint Id32 => 0x8400_0000u | (ushort)Function;
    public uint Id64 => 0xC400_0000u | (ushort)Function;

    public FfaVersion? Since(bool is64) => is64 ? Since64 : Since32;

    /// <summary>"FFA_MEM_SHARE_64" style name of one width; functions with a single width keep the bare name.</summary>
    public string WidthName(bool is64) =>
        Since32 is not null && Since64 is not null ? $"{Name}_{(is64 ? 64 : 32)}" : Name;
}

/// <summary>The FF-A function table (names and introduction versions from DEN0077 1.0-1.2, 64-bit forms of the
/// CPU-cycle ABIs from 1.3).</summary>
public static class FfaFunctions
{
    private static readonly FfaVersion V10 = FfaVersion.V1_0, V11 = FfaVersion.V1_1, V12 = FfaVersion.V1_2, V13 = FfaVersion.V1_3;

    private static readonly FfaFunctionInfo[] Table =
    [
        new(FfaFunction.Error, "FFA_ERROR", V10, V13),
        new(FfaFunction.Success, "FFA_SUCCESS", V10, V10),
        new(FfaFunction.Interrupt, "FFA_INTERRUPT", V10, V13),
        new(FfaFunction.Version, "FFA_VERSION", V10, null),
        new(FfaFunction.Features, "FFA_FEATURES", V10, null),
        new(FfaFunction.RxRelease, "FFA_RX_RELEASE", V10, null),
        new(FfaFunction.RxTxMap, "FFA_RXTX_MAP", V10, V10),
        new(FfaFunction.RxTxUnmap, "FFA_RXTX_UNMAP", V10, null),
        new(FfaFunction.PartitionInfoGet, "FFA_PARTITION_INFO_GET", V10, null),
        new(FfaFunction.IdGet, "FFA_ID_GET", V10, null),
        new(FfaFunction.MsgPoll, "FFA_MSG_POLL", V10, null),
        new(FfaFunction.MsgWait, "FFA_MSG_WAIT", V10, V13),
        new(FfaFunction.Yield, "FFA_YIELD", V10, V13),
        new(FfaFunction.Run, "FFA_RUN", V10, V13),
        new(FfaFunction.MsgSend, "FFA_MSG_SEND", V10, null),
        new(FfaFunction.MsgSendDirectReq, "FFA_MSG_SEND_DIRECT_REQ", V10, V10),
        new(FfaFunction.MsgSendDirectResp, "FFA_MSG_SEND_DIRECT_RESP", V10, V10),
        new(FfaFunction.MemDonate, "FFA_MEM_DONATE", V10, V10),
        new(FfaFunction.MemLend, "FFA_MEM_LEND", V10, V10),
        new(FfaFunction.MemShare, "FFA_MEM_SHARE", V10, V10),
        new(FfaFunction.MemRetrieveReq, "FFA_MEM_RETRIEVE_REQ", V10, V10),
        new(FfaFunction.MemRetrieveResp, "FFA_MEM_RETRIEVE_RESP", V10, null),
        new(FfaFunction.MemRelinquish, "FFA_MEM_RELINQUISH", V10, null),
        new(FfaFunction.MemReclaim, "FFA_MEM_RECLAIM", V10, null),
        new(FfaFunction.MemOpPause, "FFA_MEM_OP_PAUSE", V10, null),
        new(FfaFunction.MemOpResume, "FFA_MEM_OP_RESUME", V10, null),
        new(FfaFunction.MemFragRx, "FFA_MEM_FRAG_RX", V10, null),
        new(FfaFunction.MemFragTx, "FFA_MEM_FRAG_TX", V10, null),
        new(FfaFunction.NormalWorldResume, "FFA_NORMAL_WORLD_RESUME", V10, V13),
        new(FfaFunction.NotificationBitmapCreate, "FFA_NOTIFICATION_BITMAP_CREATE", V11, null),
        new(FfaFunction.NotificationBitmapDestroy, "FFA_NOTIFICATION_BITMAP_DESTROY", V11, null),
        new(FfaFunction.NotificationBind, "FFA_NOTIFICATION_BIND", V11, null),
        new(FfaFunction.NotificationUnbind, "FFA_NOTIFICATION_UNBIND", V11, null),
        new(FfaFunction.NotificationSet, "FFA_NOTIFICATION_SET", V11, null),
        new(FfaFunction.NotificationGet, "FFA_NOTIFICATION_GET", V11, null),
        new(FfaFunction.NotificationInfoGet, "FFA_NOTIFICATION_INFO_GET", V11, V11),
        new(FfaFunction.RxAcquire, "FFA_RX_ACQUIRE", V11, null),
        new(FfaFunction.SpmIdGet, "FFA_SPM_ID_GET", V11, null),
        new(FfaFunction.MsgSend2, "FFA_MSG_SEND2", V11, null),
        new(FfaFunction.SecondaryEpRegister, "FFA_SECONDARY_EP_REGISTER", V11, V11),
        new(FfaFunction.MemPermGet, "FFA_MEM_PERM_GET", V11, V11),
        new(FfaFunction.MemPermSet, "FFA_MEM_PERM_SET", V11, V11),
        new(FfaFunction.ConsoleLog, "FFA_CONSOLE_LOG", V12, V12),
        new(FfaFunction.PartitionInfoGetRegs, "FFA_PARTITION_INFO_GET_REGS", null, V12),
        new(FfaFunction.El3IntrHandle, "FFA_EL3_INTR_HANDLE", V12, null),
        new(FfaFunction.MsgSendDirectReq2, "FFA_MSG_SEND_DIRECT_REQ2", null, V12),
        new(FfaFunction.MsgSendDirectResp2, "FFA_MSG_SEND_DIRECT_RESP2", null, V12),
        new(FfaFunction.NsResInfoGet, "FFA_NS_RES_INFO_GET", null, V13),
        new(FfaFunction.Abort, "FFA_ABORT", V13, V13),
        // Extended notifications (FF-A 1.3 ALP2, chapter 16): bitmaps in x3..x8, SMC64 only.
        new(FfaFunction.NotificationBind2, "FFA_NOTIFICATION_BIND2", null, V13),
        new(FfaFunction.NotificationUnbind2, "FFA_NOTIFICATION_UNBIND2", null, V13),
        new(FfaFunction.NotificationSet2, "FFA_NOTIFICATION_SET2", null, V13),
        new(FfaFunction.NotificationGet2, "FFA_NOTIFICATION_GET2", null, V13),
    ];

    private static readonly Dictionary<ushort, FfaFunctionInfo> ByNumber = Table.ToDictionary(f => (ushort)f.Function);

    public static IReadOnlyList<FfaFunctionInfo> All => Table;

    public static FfaFunctionInfo? Find(ushort number) => ByNumber.GetValueOrDefault(number);

    public static FfaFunctionInfo Get(FfaFunction function) => ByNumber[(ushort)function];

    public static uint Id32(FfaFunction function) => 0x8400_0000u | (ushort)function;
    public static uint Id64(FfaFunction function) => 0xC400_0000u | (ushort)function;

    /// <summary>The FF-A name of a function ID ("FFA_SUCCESS_32"), or null when the ID is no FF-A function.</summary>
    public static string? NameOf(uint functionId)
    {
        var fid = new SmcccFunctionId(functionId);
        if (!fid.IsFfa) return null;
        var info = Find(fid.Number);
        if (info is null || info.Since(fid.Is64Bit) is null) return null;
        return info.WidthName(fid.Is64Bit);
    }
}
