using System.Net.Http.Json;
using System.Text.Json;

namespace Spmc.Vmm.Tests;

/// <summary>The fixture the VMM tests share: a real socket, and a qemu-virt system per proxy.</summary>
[Collection(LiveCollection.Name)]
public sealed class LiveSpmcTests(LiveSpmc spmc)
{
    [Theory]
    [InlineData("passthrough", "0x10003")] // the SPMC's own version (1.3)
    [InlineData("pkvm-7.4", "0x10000")]    // pKVM settles on the host's 1.0 and answers it
    public async Task A_qemu_virt_system_answers_over_a_real_socket_with_the_guest_ram_as_host_memory(string proxy, string version)
    {
        var id = await spmc.NewQemuSystemAsync(proxy);
        using var http = spmc.Http();
        // FFA_VERSION(1.0) as the guest's arm_ffa 6.1 driver sends it, over HVC.
        var response = await http.PostAsJsonAsync($"/api/v1/systems/{id}/smc",
            new { caller = "0x0", conduit = "hvc", x = new[] { "0x84000063", "0x10000" } });
        var answer = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.IsSuccessStatusCode, answer.ToString());
        Assert.Equal(version, answer.GetProperty("x")[0].GetString());

        // The guest's RAM starts at 0x40000000 (QEMU virt): the host may write its own pages there.
        var write = await http.PutAsJsonAsync($"/api/v1/systems/{id}/memory/0x40001000?as=0x0",
            new { data = Convert.ToBase64String([1, 2, 3, 4]) });
        Assert.True(write.IsSuccessStatusCode, await write.Content.ReadAsStringAsync());
    }
}
