using System.Text.Json.Nodes;
using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Spmc.Core.Manifests;

namespace Spmc.Server.Rest;

/// <summary>
/// The OpenAPI document (Microsoft.AspNetCore.OpenApi) at /openapi/v1.json — also at /swagger/v1/swagger.json, the
/// address earlier releases used — and Swagger UI on it at /swagger. Property descriptions come from the DTOs' XML
/// comments (the package's source generator); this adds the document's description, parameter descriptions and
/// request examples that run on the default system.
/// </summary>
public static class OpenApi
{
    public const string DocumentPath = "/openapi/v1.json";
    public const string LegacyDocumentPath = "/swagger/v1/swagger.json";

    /// <summary>The security scheme of the system routes in the document.</summary>
    public const string BearerScheme = "Bearer";

    public static IServiceCollection AddSpmcOpenApi(this IServiceCollection services) =>
        services.AddOpenApi("v1", o =>
        {
            // gRPC methods are not REST operations (and a gRPC endpoint in the document makes MapOpenApi fail).
            o.ShouldInclude = d => !d.ActionDescriptor.EndpointMetadata.OfType<GrpcMethodMetadata>().Any();
            o.AddDocumentTransformer((doc, _, _) =>
            {
                doc.Info = new OpenApiInfo
                {
                    Title = "Spmc",
                    Version = "v1",
                    Description = "A simulated Arm FF-A secure world (SPMC) behind a hypervisor proxy. Send SMC register frames from a "
                                  + "VM (caller 0x0 is the host) or a secure partition (0x8001...). Registers, IDs and addresses are strings: "
                                  + "\"0x...\" hex or decimal in, hex out. Memory is shown as hex and base64 and accepted as either. "
                                  + "The same API is served over gRPC (package spmc.v1) on the gRPC port. Reference: docs/api.md.",
                };
                DescribeProperties(doc);
                doc.Components ??= new OpenApiComponents();
                doc.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                doc.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "bearer",
                    Description = "A system's token (the answer to its creation) or the operator token; needed by every route of a system "
                                  + "when the service runs with access tokens (docs/security.md).",
                };
                return Task.CompletedTask;
            });
            o.AddSchemaTransformer((schema, context, _) =>
            {
                // Registers, IDs and addresses read by RawNumberConverter: a JSON string ("0x..." or decimal) or a number.
                if (schema is OpenApiSchema s && context.JsonPropertyInfo?.CustomConverter is { } converter)
                {
                    if (converter is RawNumberConverter) s.Type = JsonSchemaType.String | JsonSchemaType.Integer | JsonSchemaType.Null;
                    else if (converter is RawNumberListConverter)
                    {
                        s.Type = JsonSchemaType.Array | JsonSchemaType.Null;
                        s.Items = new OpenApiSchema { Type = JsonSchemaType.String | JsonSchemaType.Integer };
                    }
                }
                return Task.CompletedTask;
            });
            o.AddOperationTransformer((operation, context, _) =>
            {
                // Routes of a system (Security.SecurityExtensions.RequireSystemAccess) take the bearer token.
                if (context.Description.ActionDescriptor.EndpointMetadata.OfType<Microsoft.AspNetCore.Authorization.IAuthorizeData>().Any())
                {
                    operation.Security ??= [];
                    operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, context.Document)] = [] });
                }
                DescribeParameters(operation);
                AddExamples(operation);
                return Task.CompletedTask;
            });
        });

    public static WebApplication UseSpmcOpenApi(this WebApplication app)
    {
        app.MapOpenApi(DocumentPath.Replace("v1", "{documentName}"));
        app.MapOpenApi("/swagger/{documentName}/swagger.json");
        app.UseSwaggerUI(o =>
        {
            o.SwaggerEndpoint(DocumentPath, "Spmc v1");
            o.DocumentTitle = "Spmc";
        });
        return app;
    }

    /// <summary>Path and query parameters, by name (they are the same wherever they appear).</summary>
    private static readonly Dictionary<string, string> Parameters = new()
    {
        ["id"] = "The system's ID (\"default\" is created at start-up).",
        ["address"] = "The address: \"0x...\" hex or decimal.",
        ["length"] = "How many bytes to read (at most 1 MiB), hex or decimal.",
        ["as"] = "The endpoint the access acts as (\"0x0\" = the host VM, \"0x8001\" = a secure partition): its view of memory applies.",
        ["ruleId"] = "The fault rule's ID, as POST .../faults returned it.",
        ["after"] = "Only entries whose seq is above this (decimal or 0x hex); absent: from the oldest entry kept.",
        ["follow"] = "true: keep the response open and send every new entry as it happens.",
        ["format"] = "\"json\" (default) or \"text\": the report as text.",
        ["handle"] = "The memory transaction's handle, as FFA_SUCCESS returned it: \"0x...\" hex or decimal.",
        ["offset"] = "The index of the first item to list (default 0).",
        ["limit"] = "The most items to list: 1 to 4096 (default 4096).",
    };

    /// <summary>ProblemDetails (RFC 9457) is the framework's; its fields are described here.</summary>
    private static readonly Dictionary<string, string> ProblemFields = new()
    {
        ["type"] = "A URI naming the kind of problem (RFC 9457).",
        ["title"] = "The HTTP status in words (e.g. \"Bad Request\").",
        ["status"] = "The HTTP status code.",
        ["detail"] = "What was wrong, naming the field or rule (e.g. \"x[1]: 'zz' is not a 64-bit value\").",
        ["instance"] = "The request the problem is about.",
    };

    /// <summary>
    /// A nullable reference property comes out as oneOf [null, $ref + description]: the description is put on the
    /// property itself too, where readers (Swagger UI, the tests) look for it.
    /// </summary>
    private static void DescribeProperties(OpenApiDocument doc)
    {
        foreach (var (name, schema) in doc.Components?.Schemas ?? new Dictionary<string, IOpenApiSchema>())
            foreach (var (property, value) in schema.Properties ?? new Dictionary<string, IOpenApiSchema>())
            {
                if (value is not OpenApiSchema p || !string.IsNullOrEmpty(p.Description)) continue;
                p.Description = (p.OneOf ?? []).Concat(p.AnyOf ?? []).Concat(p.AllOf ?? []).Select(v => v.Description)
                                    .FirstOrDefault(d => !string.IsNullOrEmpty(d))
                                ?? (name == "ProblemDetails" && ProblemFields.TryGetValue(property, out var d) ? d : null);
            }
    }

    private static void DescribeParameters(OpenApiOperation operation)
    {
        foreach (var parameter in operation.Parameters ?? [])
            if (parameter is OpenApiParameter p && string.IsNullOrEmpty(p.Description) && p.Name is { } name &&
                Parameters.TryGetValue(name, out var description))
                p.Description = description;
    }

    private static void AddExamples(OpenApiOperation operation)
    {
        if (operation.OperationId is not { } id || !Examples.TryGetValue(id, out var examples)) return;
        if (operation.RequestBody?.Content is not { } content || !content.TryGetValue("application/json", out var media)) return;
        media.Examples ??= new Dictionary<string, IOpenApiExample>();
        foreach (var (name, summary, json) in examples)
            media.Examples[name] = new OpenApiExample { Summary = summary, Value = JsonNode.Parse(json) };
    }

    private const string Host = "0x0";
    private const ulong HostRx = 0x8000_0000, HostTx = 0x8000_1000;

    /// <summary>
    /// Request examples per operation (name, summary, JSON). Sent in this order to a fresh system from the default
    /// manifest (the pkvm-7.4 proxy: the host negotiates its version first), every one succeeds without an FF-A
    /// error; OpenApiExamplesTests sends them all.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, (string Name, string Summary, string Json)[]> Examples =
        new Dictionary<string, (string, string, string)[]>
        {
            ["Smc"] =
            [
                ("version", "FFA_VERSION: the host asks for FF-A 1.2 (pKVM wants this first)",
                    $$"""{"caller":"{{Host}}","vcpu":0,"conduit":"smc","x":["0x84000063","0x10002"]}"""),
                ("rxtx-map", "FFA_RXTX_MAP_64: TX at 0x80001000, RX at 0x80000000, 1 page",
                    $$"""{"caller":"{{Host}}","x":["0xC4000066","0x{{HostTx:X}}","0x{{HostRx:X}}","1"]}"""),
                ("partition-info", "FFA_PARTITION_INFO_GET (nil UUID = all), reading the RX buffer after the call (hex and base64)",
                    $$"""{"caller":"{{Host}}","x":["0x84000068"],"reads":[{"address":"0x{{HostRx:X}}","length":96}]}"""),
                ("rx-release", "FFA_RX_RELEASE: hand the RX buffer back",
                    $$"""{"caller":"{{Host}}","x":["0x84000065"]}"""),
                ("features", "FFA_FEATURES(FFA_RXTX_MAP_64)",
                    $$"""{"caller":"{{Host}}","x":["0x84000064","0xC4000066"]}"""),
                ("id-get", "FFA_ID_GET as secure partition 0x8001",
                    """{"caller":"0x8001","x":["0x84000069"]}"""),
                ("info-regs", "FFA_PARTITION_INFO_GET_REGS_64 as secure partition 0x8001: all partitions from index 0, in x3..x17 (pKVM denies it to the host)",
                    """{"caller":"0x8001","x":["0xC400008B","0","0","0"]}"""),
                ("console-log", "FFA_CONSOLE_LOG_32 from SP 0x8001: \"hi\\n\"",
                    """{"caller":"0x8001","x":["0x8400008A","3","0x0A6968"]}"""),
                ("with-tx-write", "Write the TX buffer before the call (as hex; \"data\" takes base64 instead), then FFA_ID_GET",
                    $$"""{"caller":"{{Host}}","x":["0x84000069"],"writes":[{"address":"0x{{HostTx:X}}","hex":"00010203"}]}"""),
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
            ["WriteMemory"] =
            [
                ("hex", "Write \"Hello\" given as hex (?as=0x0 at 0x80002000 on the default system)", """{"hex":"48656c6c6f"}"""),
                ("base64", "Write \"Hello\" given as base64", """{"data":"SGVsbG8="}"""),
            ],
            ["AddFault"] =
            [
                ("busy-second-request", "The 2nd direct request to partition 0x8001 answers BUSY (docs/faults.md)",
                    """{"function":"FFA_MSG_SEND_DIRECT_REQ","receiver":"0x8001","nth":2,"error":"BUSY"}"""),
            ],
        };
}
