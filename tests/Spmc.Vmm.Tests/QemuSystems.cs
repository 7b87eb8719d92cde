using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Spmc.Vmm.Tests;

/// <summary>Systems for the VMM tests on the shared live server (tests/Shared/LiveSpmc.cs).</summary>
public static class QemuSystems
{
    private static int _next;

    /// <summary>Creates a system from the qemu-virt manifest with <paramref name="proxy"/> in front; returns its ID.</summary>
    /// <param name="spmc">The live server.</param>
    /// <param name="proxy">The proxy profile to put in front.</param>
    /// <param name="edit">"no-echo" takes the echo partition's behaviour away (its requests are then BUSY).</param>
    public static async Task<string> NewQemuSystemAsync(this LiveSpmc spmc, string proxy, string? edit = null)
    {
        var manifest = JsonNode.Parse(File.ReadAllText(Repo.Path("examples", "manifests", "qemu-virt.json")))!.AsObject();
        manifest["proxy"] = proxy;
        if (edit == "no-echo") manifest["partitions"]![0]!.AsObject().Remove("behaviour");
        else if (edit is not null) throw new ArgumentException($"unknown manifest edit '{edit}'", nameof(edit));
        var id = $"vmm-{Interlocked.Increment(ref _next)}-{proxy}";
        using var http = spmc.Http();
        var response = await http.PostAsJsonAsync("/api/v1/systems", new { id, manifest });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return id;
    }
}
