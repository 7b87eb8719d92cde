using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Spmc.Server.Rest;

/// <summary>Swagger UI at /swagger with worked examples for every request body.</summary>
public static class Swagger
{
    public static IServiceCollection AddSpmcSwagger(this IServiceCollection services) =>
        services.AddSwaggerGen(c =>
        {
            c.SwaggerDoc("v1", new OpenApiInfo
            {
                Title = "Spmc",
                Version = "v1",
                Description = "A simulated Arm FF-A secure world (SPMC) behind a hypervisor proxy. Send SMC register frames from a "
                              + "VM (caller 0x0 is the host) or a secure partition (0x8001...). Registers, IDs and addresses are strings: "
                              + "\"0x...\" hex or decimal in, hex out. The same API is served over gRPC (package spmc.v1) on the gRPC port.",
            });
            c.OperationFilter<ExamplesFilter>();
        });

    public static WebApplication UseSpmcSwagger(this WebApplication app)
    {
        app.UseSwagger();
        app.UseSwaggerUI(o =>
        {
            o.SwaggerEndpoint("/swagger/v1/swagger.json", "Spmc v1");
            o.DocumentTitle = "Spmc";
        });
        return app;
    }

    private const string Host = "0x0";
    private const ulong HostRx = 0x8000_0000, HostTx = 0x8000_1000;

    /// <summary>Request examples per operation: name → JSON.</summary>
    private static readonly Dictionary<string, (string Name, string Summary, string Json)[]> Examples = new()
    {
        ["Smc"] =
        [
            ("version", "FFA_VERSION: the host asks for FF-A 1.2",
                $$"""{"caller":"{{Host}}","vcpu":0,"conduit":"smc","x":["0x84000063","0x10002"]}"""),
            ("rxtx-map", "FFA_RXTX_MAP_64: TX at 0x80001000, RX at 0x80000000, 1 page",
                $$"""{"caller":"{{Host}}","x":["0xC4000066","0x{{HostTx:X}}","0x{{HostRx:X}}","1"]}"""),
            ("partition-info", "FFA_PARTITION_INFO_GET (nil UUID = all), reading the RX buffer after the call",
                $$"""{"caller":"{{Host}}","x":["0x84000068"],"reads":[{"address":"0x{{HostRx:X}}","length":96}]}"""),
            ("rx-release", "FFA_RX_RELEASE: hand the RX buffer back",
                $$"""{"caller":"{{Host}}","x":["0x84000065"]}"""),
            ("features", "FFA_FEATURES(FFA_RXTX_MAP_64)",
                $$"""{"caller":"{{Host}}","x":["0x84000064","0xC4000066"]}"""),
            ("id-get", "FFA_ID_GET as secure partition 0x8001",
                """{"caller":"0x8001","x":["0x84000069"]}"""),
            ("info-regs", "FFA_PARTITION_INFO_GET_REGS_64 (v1.2, registers only)",
                $$"""{"caller":"{{Host}}","x":["0xC400008B","0","0","0"]}"""),
            ("console-log", "FFA_CONSOLE_LOG_32 from SP 0x8001: \"hi\\n\"",
                """{"caller":"0x8001","x":["0x8400008A","3","0x0A6968"]}"""),
            ("with-tx-write", "Write the TX buffer before the call (base64), e.g. a descriptor",
                $$"""{"caller":"{{Host}}","x":["0x84000069"],"writes":[{"address":"0x{{HostTx:X}}","data":"AAECAw=="}]}"""),
        ],
        ["CreateSystem"] =
        [
            ("small", "One host VM and one partition",
                """
                {"id":"my-system","manifest":{
                  "spmc":{"id":"0x8000","version":"1.2"},
                  "proxy":"passthrough",
                  "vms":[{"id":"0x0","name":"host","vcpus":2,"memory":[{"base":"0x80000000","size":"0x1000000"}]}],
                  "partitions":[{"id":"0x8001","name":"sp1","uuids":["7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4a01"],
                    "executionContexts":1,"properties":{"directRequestReceive":true,"directRequest2Receive":true},
                    "memory":[{"base":"0x60000000","size":"0x100000"}]}]}}
                """),
            ("ffa-1.3-poison", "FF-A 1.3 from the host (passthrough), SMC32 answers poison x8..x17 (docs/registers.md)",
                """
                {"id":"v13","manifest":{
                  "spmc":{"version":"1.3","registers":"poison"},
                  "proxy":"passthrough",
                  "vms":[{"id":"0x0","name":"host","memory":[{"base":"0x80000000","size":"0x1000000"}]}],
                  "partitions":[{"id":"0x8001","name":"echo","behaviour":"echo","uuids":["7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4a01"],
                    "imageUuid":"7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4aee",
                    "properties":{"directRequestReceive":true,"smc64CpuCycles":true},
                    "memory":[{"base":"0x60000000","size":"0x100000"}]}]}}
                """),
        ],
        ["WriteMemory"] = [("hello", "Write \"Hello\"", """{"data":"SGVsbG8="}""")],
    };

    private sealed class ExamplesFilter : IOperationFilter
    {
        public void Apply(OpenApiOperation operation, OperationFilterContext context)
        {
            if (operation.OperationId is not { } id || !Examples.TryGetValue(id, out var examples)) return;
            if (operation.RequestBody?.Content is not { } content || !content.TryGetValue("application/json", out var media)) return;
            media.Examples ??= new Dictionary<string, IOpenApiExample>();
            foreach (var (name, summary, json) in examples)
                media.Examples[name] = new OpenApiExample { Summary = summary, Value = JsonNode.Parse(json) };
        }
    }
}
