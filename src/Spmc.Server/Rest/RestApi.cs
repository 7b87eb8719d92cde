using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Microsoft.AspNetCore.Http.Json;
using Spmc.Core;
using Spmc.Core.Snapshots;
using Spmc.Core.Systems;
using Spmc.Server.Hosting;
using Spmc.Server.Security;

namespace Spmc.Server.Rest;

/// <summary>The REST mirror of the gRPC API, under /api/v1, with its OpenAPI document at /openapi/v1.json and Swagger UI at /swagger.</summary>
public static class RestApi
{
    public static WebApplicationBuilder AddSpmcRest(this WebApplicationBuilder builder)
    {
        builder.Services.Configure<JsonOptions>(o =>
        {
            o.SerializerOptions.DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.Never;
            o.SerializerOptions.WriteIndented = true;
        });
        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<RestErrors>();
        builder.Services.AddSpmcOpenApi();
        return builder;
    }

    public static WebApplication UseSpmcErrors(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        return app;
    }

    public static WebApplication MapSpmcRest(this WebApplication app)
    {
        app.UseSpmcOpenApi();

        // Every route with an {id} needs that system's token or the operator's (mode tokens): see Security/SystemAccess.
        var systems = app.MapGroup("/api/v1/systems").WithTags("Systems").RequireSystemAccess();
        systems.MapGet("/", (HttpContext http, SystemRegistry r, Traces t, SystemAccess access, SystemTokens tokens) =>
            {
                access.RequireCaller(http.User);
                return r.List().Where(s => SystemAccess.Sees(http.User, s.Id, tokens)).Select(s => ToDto(s, t));
            })
            .WithName("ListSystems")
            .WithDescription("Every system the caller may open with its configuration (as GET /api/v1/systems/{id} gives it), in ID order: all of them in mode none and for the operator token, the token's own system for a system token, the systems created with it for a client token (docs/security.md). The service starts with one, \"default\", from manifests/default.json.").WithSummary("List the simulated systems.");
        systems.MapPost("/", async (HttpRequest http, Traces t, SystemCreation creation) =>
            {
                var body = await ReadBody<CreateSystemDto>(http);
                bool hasManifest = body.Manifest is { ValueKind: not JsonValueKind.Null }, hasSnapshot = body.Snapshot is { ValueKind: not JsonValueKind.Null };
                if (hasManifest && hasSnapshot)
                    throw new InvalidRequestException("snapshot: give either a manifest or a snapshot, not both (a snapshot holds its manifest)");
                Func<SimulatedSystem> create;
                if (hasSnapshot)
                {
                    if (body.Snapshot is not { ValueKind: JsonValueKind.Object } snapshot)
                        throw new InvalidRequestException("snapshot: must be a JSON object (a snapshot document)");
                    var document = SystemSnapshot.FromJson(Encoding.UTF8.GetBytes(snapshot.GetRawText()));
                    create = () => t.Create(body.Id, document, body.Record ?? false);
                }
                else
                {
                    if (body.Manifest is not { ValueKind: JsonValueKind.Object } manifest)
                        throw new InvalidRequestException("manifest: required (a JSON object), or a snapshot instead");
                    create = () => t.Create(body.Id, manifest.GetRawText(), body.Record ?? false);
                }
                var created = creation.Create(http.HttpContext, body.Debug ?? false, create);
                return Results.Created($"/api/v1/systems/{created.System.Id}",
                    ToDto(created.System, t) with { Token = created.Token.Length > 0 ? created.Token : null });
            })
            .Accepts<CreateSystemDto>("application/json")
            .Produces<SystemDto>(StatusCodes.Status201Created).ProducesProblem(400).ProducesProblem(403).ProducesProblem(409).ProducesProblem(429)
            .RequireRateLimiting(RateLimiting.Uploads).WithName("CreateSystem")
            .WithDescription("The body names the system (optional \"id\") and gives either its \"manifest\" (docs/manifests) or a \"snapshot\" document, \"record\": true to record its trace to a file, and \"debug\": true to give its token the debug capability (docs/security.md). 201 with the configuration and, in mode tokens, the system's \"token\" (shown once); 429 beyond Spmc:Quotas:MaxSystemsPerClient; 400 naming the field of a bad manifest; 409 when the ID is taken.").WithSummary("Create a system from a manifest, or from a snapshot document (docs/snapshots.md).");
        systems.MapGet("/{id}", (string id, SystemRegistry r, Traces t) => ToDto(r.Get(id), t))
            .ProducesProblem(404).WithName("GetSystem")
            .WithDescription("The configuration: SPMC ID and FF-A version, proxy profile, VMs and partitions (IDs, UUIDs, memory), the canonical manifest and where its trace is recorded.").WithSummary("Read one system's configuration.");
        systems.MapDelete("/{id}", (string id, SystemRegistry r) => { r.Delete(id); return Results.NoContent(); })
            .Produces(204).ProducesProblem(404).WithName("DeleteSystem")
            .WithDescription("Removes the system with its memory, partitions, shares and fault rules; a trace follower gets an end line. 404 when it does not exist.").WithSummary("Delete a system and everything in it.");

        systems.MapPost("/{id}/smc", async (string id, HttpRequest http, SystemRegistry r) =>
            {
                var body = await ReadBody<SmcRequestDto>(http);
                return RestMapping.ToDto(await r.Get(id).CallAsync(RestMapping.ToDomain(body), http.HttpContext.RequestAborted));
            })
            .Accepts<SmcRequestDto>("application/json")
            .Produces<SmcResponseDto>().ProducesProblem(400).ProducesProblem(403).ProducesProblem(404)
            .WithTags("SMC").WithName("Smc")
            .WithDescription("The body is the frame a VM or partition trapped: caller, vCPU, conduit and x0..x17, with memory to write before the call (e.g. the TX buffer, as hex or base64) and to read after it (e.g. the RX buffer). The answer: the 18 registers to write back, the reads (hex and base64), the decoded view (function, result, error, the rule that failed, each proxy hop) and the events raised. An FF-A error is a 200 answer; 400/403/404 are refused requests.").WithSummary("Send one SMC/HVC register frame and get the answer.");

        systems.MapGet("/{id}/memory/{address}", async (string id, string address, string? length, string? @as, HttpContext http, SystemRegistry r, SystemAccess access) =>
            {
                var addr = Numbers.ParseU64(address, "address");
                var len = RestMapping.Length(length ?? throw new InvalidRequestException("length: required"), "length");
                var actor = Numbers.ParseEndpointId(@as ?? throw new InvalidRequestException("as: required (the endpoint the read acts as)"), "as");
                var system = r.Get(id);
                await RequireDebugIfSpmc(http, access, system, actor);
                var bytes = system.ReadMemory(actor, addr, len);
                return new MemoryDto(RestMapping.Hex(addr), len, Convert.ToBase64String(bytes), Convert.ToHexStringLower(bytes));
            })
            .Produces<MemoryDto>().ProducesProblem(400).ProducesProblem(403).ProducesProblem(404)
            .WithTags("Memory").WithName("ReadMemory")
            .WithDescription("Reads length bytes at the address as the endpoint given by ?as (its stage-2 view: 403 where it may not read). The answer gives the bytes twice: data (base64) and hex (two lowercase digits per byte).").WithSummary("Read simulated memory as an endpoint (?length=N&as=ENDPOINT).");
        systems.MapPut("/{id}/memory/{address}", async (string id, string address, string? @as, HttpRequest http, SystemRegistry r, SystemAccess access) =>
            {
                var addr = Numbers.ParseU64(address, "address");
                var actor = Numbers.ParseEndpointId(@as ?? throw new InvalidRequestException("as: required (the endpoint the write acts as)"), "as");
                var body = await ReadBody<MemoryWriteBodyDto>(http);
                var data = RestMapping.Bytes(body.Data, body.Hex, "");
                var system = r.Get(id);
                await RequireDebugIfSpmc(http.HttpContext, access, system, actor);
                system.WriteMemory(actor, addr, data);
                return Results.NoContent();
            })
            .Accepts<MemoryWriteBodyDto>("application/json")
            .Produces(204).ProducesProblem(400).ProducesProblem(403).ProducesProblem(404)
            .WithTags("Memory").WithName("WriteMemory")
            .WithDescription("Writes the body's bytes at the address as the endpoint given by ?as (403 where it may not write). Give exactly one of hex or data (base64), at most 1 MiB.").WithSummary("Write simulated memory as an endpoint (?as=ENDPOINT).");

        systems.MapGet("/{id}/state", (string id, SystemRegistry r) => RestMapping.ToDto(r.Get(id).GetState()))
            .Produces<SystemStateDto>().ProducesProblem(404)
            .WithTags("Inspector").WithName("GetState")
            .WithDescription("What the SPMC holds: endpoints (version, mailbox), partitions and their execution contexts, memory ownership by page run, memory transactions, notifications, the console log, the proxy's state and the fault rules.").WithSummary("Endpoints (version, mailbox), partitions, memory ownership, console log.");
        systems.MapGet("/{id}/shares/{handle}", (string id, string handle, string? offset, string? limit, SystemRegistry r) =>
                RestMapping.ToDto(r.Get(id).GetShare(Numbers.ParseU64(handle, "handle"), PageArgument(offset, "offset", 0),
                    PageArgument(limit, "limit", StateLimits.MaxPage))))
            .Produces<MemoryShareDto>().ProducesProblem(400).ProducesProblem(404)
            .WithTags("Inspector").WithName("GetShare")
            .WithDescription("One memory transaction with a page of its constituent ranges: from index ?offset (default 0), at most ?limit (default and most 4096). The state view lists only the first 64 of each transaction's ranges; rangeCount says how many there are.")
            .WithSummary("One memory transaction with a page of its ranges (?offset=N&limit=N).");
        systems.MapGet("/{id}/memory-map", (string id, string? offset, string? limit, SystemRegistry r) =>
                RestMapping.ToDto(r.Get(id).GetMemoryMap(PageArgument(offset, "offset", 0), PageArgument(limit, "limit", StateLimits.MaxPage))))
            .Produces<MemoryMapPageDto>().ProducesProblem(400).ProducesProblem(404)
            .WithTags("Inspector").WithName("GetMemoryMap")
            .WithDescription("A page of the memory map (ownership by run of pages, in address order): from index ?offset (default 0), at most ?limit (default and most 4096). The state view lists only the first 1024 ranges; memoryRangeCount says how many there are.")
            .WithSummary("A page of the memory map (?offset=N&limit=N).");
        systems.MapPost("/{id}/reset", (string id, SystemRegistry r) => { r.Get(id).Reset(); return Results.NoContent(); })
            .Produces(204).ProducesProblem(404).WithName("ResetSystem")
            .WithDescription("Puts the system back to its state just after creation, keeping its ID and its fault rules (their counters back to 0); attached remote partitions are detached (docs/faults.md#reset).")
            .WithSummary("Back to the state just after creation from the manifest, keeping the ID and the fault rules (docs/faults.md).");

        systems.MapGet("/{id}/snapshot", (string id, HttpRequest http, SystemRegistry r) => SnapshotResult(r.Get(id), WantsProtobuf(http)))
            .RequireAuthorization(Security.SystemAccess.DebugPolicy) // a snapshot holds every page, the SPMC's view (docs/security.md)
            .Produces<JsonElement>().Produces(200, contentType: Protobuf).ProducesProblem(404).ProducesProblem(409).WithTags("Snapshots").WithName("GetSnapshot")
            .WithDescription("The whole state as a snapshot document (docs/snapshots.md): JSON by default, spmc.v1.SnapshotDocument with Accept: application/x-protobuf. POST it to /api/v1/systems (\"snapshot\") or to .../restore.")
            .WithSummary("The system's whole state as a snapshot document (docs/snapshots.md), JSON or (Accept: application/x-protobuf) spmc.v1.SnapshotDocument; 409 while a remote partition is attached.");
        systems.MapPost("/{id}/restore", async (string id, HttpRequest http, SystemRegistry r) =>
            {
                var system = r.Get(id);
                system.RestoreInPlace(await ReadSnapshot(http));
                return Results.NoContent();
            })
            .Accepts<JsonElement>("application/json", Protobuf).RequireRateLimiting(RateLimiting.Uploads)
            .RequireAuthorization(Security.SystemAccess.DebugPolicy) // a restore writes every page, as the SPMC would
            .Produces(204).ProducesProblem(400).ProducesProblem(404).ProducesProblem(409).WithTags("Snapshots").WithName("RestoreSnapshot")
            .WithDescription("The body is a snapshot document (JSON, or spmc.v1.SnapshotDocument with Content-Type: application/x-protobuf) of a system with the same manifest, as GET .../snapshot gives it. The system keeps its ID.")
            .WithSummary("Replace the system's state with a snapshot of the same manifest, in place (400 when the manifest differs, 409 while a remote partition is attached).");

        var faults = systems.MapGroup("/{id}/faults").WithTags("Faults");
        faults.MapPost("/", async (string id, HttpRequest http, SystemRegistry r) =>
            {
                var system = r.Get(id);
                var rule = RestMapping.ToDto(system.AddFault(RestMapping.ToDomain(await ReadBody<FaultRuleBodyDto>(http))));
                return Results.Created($"/api/v1/systems/{system.Id}/faults/{rule.Id}", rule);
            })
            .Accepts<FaultRuleBodyDto>("application/json")
            .Produces<FaultRuleDto>(StatusCodes.Status201Created).ProducesProblem(400).ProducesProblem(404)
            .WithName("AddFault")
            .WithDescription("The rule names the function, optionally the caller, receiver or handle it applies to, when it fires (nth, every, next, or probability with seed) and one action: error (an FF-A error answered without running the call), delay, fragment, abort or stage2 (docs/faults.md). 201 with the rule and its ID.")
            .WithSummary("Add a fault rule: matching SMCs get its action (an FF-A error, delay, fragment, abort or stage2).");
        faults.MapGet("/", (string id, SystemRegistry r) => r.Get(id).ListFaults().Select(RestMapping.ToDto))
            .Produces<IEnumerable<FaultRuleDto>>().ProducesProblem(404).WithName("ListFaults")
            .WithDescription("Each rule with its ID, what it matches, when it fires, its action, and its counters: matching calls seen and calls it fired on.").WithSummary("The system's fault rules and their hit counts.");
        faults.MapDelete("/{ruleId}", (string id, string ruleId, SystemRegistry r) =>
            {
                var system = r.Get(id);
                system.RemoveFault(Grpc.FaultMapping.RuleId(Numbers.ParseU64(ruleId, "ruleId")));
                return Results.NoContent();
            })
            .Produces(204).ProducesProblem(400).ProducesProblem(404).WithName("RemoveFault")
            .WithDescription("Removes the rule; calls it would have matched run normally again. 404 when the system has no such rule.").WithSummary("Remove one fault rule.");
        faults.MapDelete("/", (string id, SystemRegistry r) => { r.Get(id).ClearFaults(); return Results.NoContent(); })
            .Produces(204).ProducesProblem(404).WithName("ClearFaults")
            .WithDescription("Removes every fault rule of the system.").WithSummary("Remove every fault rule of the system.");
        app.MapSpmcTraces();
        return app;
    }

    /// <summary>
    /// A snapshot written to the response as it is serialized: no whole-document array, so a system near its memory quota
    /// can be saved inside a container's memory limit (the document is taken first, so a 404/409 is still a problem).
    /// While it is written, the download holds one of the system's stream slots (Spmc:Quotas:MaxStreamsPerSystem) as
    /// SnapshotStream does: the pages it shares copy-on-write stay alive that long.
    /// </summary>
    private static IResult SnapshotResult(SimulatedSystem system, bool protobuf)
    {
        var slot = system.OpenStream("snapshot download");
        try
        {
            var snapshot = system.Snapshot();
            return Results.Stream(async body =>
            {
                using (slot)
                {
                    if (!protobuf)
                    {
                        await snapshot.WriteJsonAsync(body);
                        return;
                    }
                    var writer = PipeWriter.Create(body);
                    await Grpc.SnapshotProto.WriteDocumentAsync(snapshot, writer);
                    await writer.CompleteAsync();
                }
            }, protobuf ? Protobuf : "application/json");
        }
        catch
        {
            slot.Dispose();
            throw;
        }
    }

    /// <summary>Memory as the system's SPMC is the debug capability (docs/security.md): 403 naming it without.</summary>
    private static Task RequireDebugIfSpmc(HttpContext http, SystemAccess access, SimulatedSystem system, ushort actor) =>
        actor == system.Config.SpmcId ? access.RequireAsync(http.User, system.Id, SystemCapability.Debug) : Task.CompletedTask;

    private static SystemDto ToDto(SimulatedSystem system, Traces traces) => RestMapping.ToDto(system) with { Recording = traces.RecordingOf(system) };

    private static readonly JsonSerializerOptions BodyOptions = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
        AllowTrailingCommas = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
    };

    private const string Protobuf = "application/x-protobuf";

    private static bool WantsProtobuf(HttpRequest http) =>
        http.GetTypedHeaders().Accept.Any(a => a.MediaType.Equals(Protobuf, StringComparison.OrdinalIgnoreCase));

    /// <summary>A snapshot document body: JSON, or spmc.v1.SnapshotDocument when the content type is application/x-protobuf.</summary>
    private static async Task<SystemSnapshot> ReadSnapshot(HttpRequest http)
    {
        if (http.ContentType is not { } type || !type.StartsWith(Protobuf, StringComparison.OrdinalIgnoreCase)) return SystemSnapshot.FromJson(await ReadRaw(http));
        using var buffer = new MemoryStream();
        await http.Body.CopyToAsync(buffer, http.HttpContext.RequestAborted);
        if (buffer.Length == 0) throw new InvalidRequestException("body: required (a snapshot document)");
        V1.SnapshotDocument doc;
        try
        {
            doc = V1.SnapshotDocument.Parser.ParseFrom(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
        }
        catch (Google.Protobuf.InvalidProtocolBufferException e)
        {
            throw new InvalidRequestException($"body: not a spmc.v1.SnapshotDocument ({e.Message})");
        }
        return Grpc.SnapshotProto.ToDomain(doc);
    }

    /// <summary>The body's bytes, for a document read by its own strict reader (a snapshot).</summary>
    private static async Task<byte[]> ReadRaw(HttpRequest http)
    {
        if (http.ContentType is { } type && !type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) &&
            !type.StartsWith("text/json", StringComparison.OrdinalIgnoreCase))
            throw new InvalidRequestException($"body: content type '{type}' is not application/json");
        using var buffer = new MemoryStream();
        await http.Body.CopyToAsync(buffer, http.HttpContext.RequestAborted);
        if (buffer.Length == 0) throw new InvalidRequestException("body: required (a snapshot document)");
        return buffer.ToArray();
    }

    /// <summary>Reads a JSON body, turning every syntax or shape error into a 400 that names the path.</summary>
    /// <summary>An ?offset or ?limit of a paged view: absent = <paramref name="absent"/>, else a non-negative 32-bit number (400 naming the field).</summary>
    private static int PageArgument(string? text, string field, int absent)
    {
        if (text is null) return absent;
        var value = Numbers.ParseU64(text, field);
        return value <= int.MaxValue ? (int)value : throw new InvalidRequestException($"{field}: {text} is too large");
    }

    private static async Task<T> ReadBody<T>(HttpRequest http) where T : class
    {
        if (http.ContentType is { } type && !type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) &&
            !type.StartsWith("text/json", StringComparison.OrdinalIgnoreCase))
            throw new InvalidRequestException($"body: content type '{type}' is not application/json");
        try
        {
            return await JsonSerializer.DeserializeAsync<T>(http.Body, BodyOptions, http.HttpContext.RequestAborted)
                   ?? throw new InvalidRequestException("body: required");
        }
        catch (JsonException e)
        {
            var path = string.IsNullOrEmpty(e.Path) || e.Path == "$" ? "body" : e.Path.TrimStart('$', '.');
            var message = e.Message;
            var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
            throw new InvalidRequestException($"{path}: {(cut > 0 ? message[..cut] : message)}");
        }
    }
}
