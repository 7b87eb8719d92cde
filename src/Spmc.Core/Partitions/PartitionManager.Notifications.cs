namespace Spmc.Core.Partitions;

/// <summary>Notifications (FF-A v1.1 §10): bitmaps, bind/unbind, set, get, info get.</summary>
public sealed partial class PartitionManager
{
    private void RegisterNotifications()
    {
    }
}
