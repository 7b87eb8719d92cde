using System.Text.Json;
using Spmc.Abi.Descriptors.Memory;
using Spmc.Core.Tests.Sharing;
using Spmc.Core.Tests.Support;
using static Spmc.Core.Tests.Sharing.Pages;

namespace Spmc.Core.Tests.Spm;

/// <summary>The SPMC's state is one plain document: it serialises with System.Text.Json whatever calls made it.</summary>
public class SpmcStateTests
{
    [Fact]
    public void State_with_a_retrieved_share_serialises_with_its_contents()
    {
        var s = SharingSystem.Default();
        var handle = s.SendSimple(SendOp.Lend, Host, Sp1, HostPage(0), pages: 2);
        s.RetrieveOk(Sp1, Host, handle, Perm.RW | Perm.NX);
        // SP 0x8001 binds notification 3 to the host: its notification record now exists.
        Expect.Success(s.Call(Sp1, 0x8400_007F, (ulong)Host << 16 | Sp1, 0, 1u << 3, 0));

        var json = JsonSerializer.Serialize(s.System.SpmcState);
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        Assert.Equal(handle + 1, root.GetProperty("NextHandle").GetUInt64());
        var share = root.GetProperty("Shares").GetProperty(handle.ToString());
        Assert.Equal(Host, share.GetProperty("Sender").GetUInt16());
        Assert.Equal(2u, share.GetProperty("Constituents")[0].GetProperty("PageCount").GetUInt32());
        Assert.Equal((int)global::Spmc.Core.Spm.Shares.RetrieveState.Retrieved, share.GetProperty("Receivers")[0].GetProperty("State").GetInt32());
        var sp1 = root.GetProperty("Endpoints").GetProperty(Sp1.ToString());
        Assert.Equal(s.Tx(Sp1), sp1.GetProperty("Mailbox").GetProperty("Tx").GetUInt64());
        var uuid = sp1.GetProperty("Partition").GetProperty("Uuids")[0].GetString();
        Assert.Equal(s.System.Config.Partitions.Single(p => p.Id == Sp1).Uuids[0].ToString(), uuid);
        Assert.Equal(1, sp1.GetProperty("Runtime").GetProperty("Contexts").GetArrayLength());
        var notifications = root.GetProperty("Notifications").GetProperty(Sp1.ToString());
        Assert.True(notifications.GetProperty("Enabled").GetBoolean());
        Assert.Equal(Host, notifications.GetProperty("FromVms").GetProperty("Senders")[3].GetUInt16());
    }
}
