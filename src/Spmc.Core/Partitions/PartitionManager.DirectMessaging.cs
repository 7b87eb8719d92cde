namespace Spmc.Core.Partitions;

/// <summary>Direct messaging and the partition run-time model (FF-A v1.2 §7, §15).</summary>
public sealed partial class PartitionManager
{
    private void RegisterDirectMessaging()
    {
    }
}
