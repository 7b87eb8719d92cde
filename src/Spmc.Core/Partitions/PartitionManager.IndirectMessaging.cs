namespace Spmc.Core.Partitions;

/// <summary>Indirect messaging (FFA_MSG_SEND2, FF-A v1.1 §7.2).</summary>
public sealed partial class PartitionManager
{
    private void RegisterIndirectMessaging()
    {
    }
}
