using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Grpc.Core;
using Spmc.V1;

namespace Spmc.Server.Tests;

/// <summary>Fault rules and reset through REST and gRPC, on the default manifest (pKVM 7.4) as docs/faults.md uses it.</summary>
public sealed class FaultsApiTests(SpmcFactory factory) : IClassFixture<SpmcFactory>
{
    private readonly HttpClient _client = factory.CreateClient();
    private readonly Faults.FaultsClient _faults = new(factory.Channel);
    private readonly Systems.SystemsClient _systems = new(factory.Channel);
    private readonly Inspector.InspectorClient _inspector = new(factory.Channel);
    private readonly SmcGateway.SmcGatewayClient _smc = new(factory.Channel);

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static readonly object Version12 = new { caller = "0x0", x = new[] { "0x84000063", "0x10002" } };
    private static readonly object DirectReqToEcho = new { caller = "0x0", x = new[] { "0x8400006F", "0x8001", "0x0", "0x11" } };

    [Fact]
    public async Task Rest_TheWorkedExample_SecondDirectRequestIsBusy()
    {
        var system = await factory.NewSystemAsync(SpmcFactory.DefaultManifest);
        var added = await _client.PostAsync($"/api/v1/systems/{system}/faults",
            Json("""{ "function": "FFA_MSG_SEND_DIRECT_REQ", "receiver": "0x8001", "nth": 2, "error": "BUSY" }"""));
        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        var rule = await added.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(1, rule.GetProperty("id").GetInt32());
        Assert.Equal("nth", rule.GetProperty("when").GetString());
        Assert.Equal(2, rule.GetProperty("nth").GetInt64());
        Assert.Equal("0x8001", rule.GetProperty("receiver").GetString());
        Assert.Equal($"/api/v1/systems/{system}/faults/1", added.Headers.Location!.ToString());

        await _client.SmcAsync(system, Version12);
        Assert.Equal("FFA_MSG_SEND_DIRECT_RESP_32", (await _client.SmcAsync(system, DirectReqToEcho)).Decoded("result"));
        var busy = await _client.SmcAsync(system, DirectReqToEcho);
        Assert.Equal("BUSY", busy.Decoded("error"));
        Assert.Equal("fault.injected", busy.Decoded("rule"));
        Assert.Equal("0xFFFFFFFC", busy.GetProperty("x")[2].GetString());
        Assert.Contains("injected: rule 1", busy.GetProperty("decoded").GetProperty("notes").EnumerateArray().Select(n => n.GetString()));
        Assert.Equal("FFA_MSG_SEND_DIRECT_RESP_32", (await _client.SmcAsync(system, DirectReqToEcho)).Decoded("result"));

        var state = await _client.GetFromJsonAsync<JsonElement>($"/api/v1/systems/{system}/state");
        var fault = Assert.Single(state.GetProperty("faults").EnumerateArray());
        Assert.Equal((3, 1), (fault.GetProperty("matched").GetInt32(), fault.GetProperty("hits").GetInt32()));

        var list = await _client.GetFromJsonAsync<JsonElement>($"/api/v1/systems/{system}/faults");
        Assert.Equal(1, list.GetArrayLength());
        Assert.Equal(HttpStatusCode.NoContent, (await _client.DeleteAsync($"/api/v1/systems/{system}/faults/1")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.DeleteAsync($"/api/v1/systems/{system}/faults/1")).StatusCode);
        await _client.PostAsync($"/api/v1/systems/{system}/faults", Json("""{ "function": "FFA_MEM_SHARE", "error": "NO_MEMORY" }"""));
        Assert.Equal(HttpStatusCode.NoContent, (await _client.DeleteAsync($"/api/v1/systems/{system}/faults")).StatusCode);
        Assert.Equal(0, (await _client.GetFromJsonAsync<JsonElement>($"/api/v1/systems/{system}/faults")).GetArrayLength());
    }

    [Theory]
    [InlineData("""{ "function": "FFA_NOPE", "error": "BUSY" }""", "function:")]
    [InlineData("""{ "function": "FFA_MEM_SHARE", "error": "LATER" }""", "error:")]
    [InlineData("""{ "function": "FFA_MEM_SHARE", "error": "BUSY", "nth": 0 }""", "nth:")]
    [InlineData("""{ "function": "FFA_MEM_SHARE", "error": "BUSY", "probability": 2, "seed": 1 }""", "probability:")]
    [InlineData("""{ "function": "FFA_MEM_SHARE", "error": "BUSY", "probability": 0.5 }""", "seed:")]
    [InlineData("""{ "function": "FFA_MEM_SHARE", "error": "BUSY", "receiver": "0x8001" }""", "receiver:")]
    [InlineData("""{ "function": "FFA_MEM_SHARE", "error": "BUSY", "caller": "zz" }""", "caller:")]
    [InlineData("""{ "function": "FFA_MEM_SHARE", "error": "BUSY", "often": true }""", "often:")]
    [InlineData("""{ "function": "FFA_MEM_SHARE", "error": "BUSY", "nth": "-1" }""", "nth:")]
    [InlineData("""{ "function": "FFA_MEM_SHARE", "error": "BUSY", "every": 1e30 }""", "every:")]
    [InlineData("""{ "function": "FFA_MEM_SHARE", "error": "BUSY", "next": 1.5 }""", "next:")]
    [InlineData("""{ "function": "FFA_MEM_SHARE", "error": "BUSY", "probability": "NaN", "seed": 1 }""", "probability:")]
    [InlineData("""{ "function": "FFA_MEM_SHARE", "error": "BUSY", "probability": 0.5, "seed": "0x10" }""", "seed:")]
    [InlineData("""{ "function": "FFA_MEM_SHARE", "error": "BUSY", "probability": 0.5, "seed": -1 }""", "seed:")]
    [InlineData("""{ "function": "FFA_MEM_SHARE", "error": "BUSY", "caller": "0x10000" }""", "caller:")]
    [InlineData("""{ "function": "FFA_MEM_RECLAIM", "error": "BUSY", "handle": "0x1_0000_0000_0000_0000" }""", "handle:")]
    [InlineData("""{ "function": "0x84000000", "error": "BUSY" }""", "function:")]
    [InlineData("""{ "function": 115, "error": "BUSY" }""", "function:")]
    [InlineData("""{ "function": "FFA_MEM_SHARE", "error": "BUSY", "nth": 1, "every": 2 }""", "every:")]
    [InlineData("""{ "function": "FFA_MEM_SHARE" }""", "error:")]
    [InlineData("""{ "function": "FFA_MEM_SHARE", "stage2": true }""", "stage2:")]
    [InlineData("""{ "function": "FFA_MEM_SHARE", "delay": true }""", "delay:")]
    [InlineData("""{ "function": "FFA_RUN", "delay": "yes" }""", "delay:")]
    [InlineData("""{ "function": "FFA_RUN", "delay": true, "abort": true }""", "abort:")]
    [InlineData("""{ "function": "FFA_ID_GET", "abort": true }""", "abort:")]
    [InlineData("""{ "function": "FFA_MEM_RETRIEVE_REQ", "fragment": 100 }""", "fragment:")]
    [InlineData("""{ "function": "FFA_MEM_RETRIEVE_REQ", "fragment": 64, "error": "BUSY" }""", "fragment:")]
    public async Task Rest_InvalidRule_Is400NamingTheField(string body, string field)
    {
        var system = await factory.NewSystemAsync();
        var response = await _client.PostAsync($"/api/v1/systems/{system}/faults", Json(body));
        var (status, detail) = await response.ProblemAsync();
        Assert.Equal(400, status);
        Assert.StartsWith(field, detail);
    }

    [Fact]
    public async Task Rest_Delay_AnswersInterrupt_AndFfaRunCollectsTheHeldAnswer()
    {
        var system = await factory.NewSystemAsync(SpmcFactory.DefaultManifest);
        var added = await _client.PostAsync($"/api/v1/systems/{system}/faults",
            Json("""{ "function": "FFA_MSG_SEND_DIRECT_REQ", "receiver": "0x8001", "nth": 1, "delay": true }"""));
        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        var rule = await added.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(("delay", JsonValueKind.Null), (rule.GetProperty("action").GetString(), rule.GetProperty("error").ValueKind));

        await _client.SmcAsync(system, Version12);
        var interrupted = await _client.SmcAsync(system, DirectReqToEcho);
        Assert.Equal("FFA_INTERRUPT_32", interrupted.Decoded("result"));
        Assert.Contains("injected: rule 1", interrupted.GetProperty("decoded").GetProperty("notes").EnumerateArray().Select(n => n.GetString()));
        var run = await _client.SmcAsync(system, new { caller = "0x0", x = new[] { "0x8400006D", "0x80010000" } });
        Assert.Equal("FFA_MSG_SEND_DIRECT_RESP_32", run.Decoded("result"));
        Assert.Equal(0x11ul, run.X(3));
    }

    [Fact]
    public async Task Rest_Reset_GivesTheFreshStateAndKeepsTheRules()
    {
        var system = await factory.NewSystemAsync(SpmcFactory.DefaultManifest);
        var fresh = await _client.GetFromJsonAsync<JsonElement>($"/api/v1/systems/{system}/state");
        await _client.PostAsync($"/api/v1/systems/{system}/faults", Json("""{ "function": "FFA_MEM_SHARE", "error": "BUSY" }"""));
        await _client.SmcAsync(system, Version12);
        await _client.SmcAsync(system, new { caller = "0x0", x = new[] { "0xC4000066", "0x80000000", "0x80001000", "0x1" } });
        var used = await _client.GetFromJsonAsync<JsonElement>($"/api/v1/systems/{system}/state");
        Assert.True(used.GetProperty("proxy").GetProperty("negotiated").GetBoolean());

        Assert.Equal(HttpStatusCode.NoContent, (await _client.PostAsync($"/api/v1/systems/{system}/reset", null)).StatusCode);

        var state = await _client.GetFromJsonAsync<JsonElement>($"/api/v1/systems/{system}/state");
        Assert.Equal(system, state.GetProperty("id").GetString());
        Assert.Equal(0, state.GetProperty("calls").GetInt64());
        Assert.False(state.GetProperty("proxy").GetProperty("negotiated").GetBoolean());
        var host = state.GetProperty("endpoints").EnumerateArray().Single(e => e.GetProperty("id").GetString() == "0x0000");
        Assert.Equal(JsonValueKind.Null, host.GetProperty("mailbox").ValueKind);
        Assert.Equal(fresh.GetProperty("endpoints").GetRawText(), state.GetProperty("endpoints").GetRawText());
        Assert.Equal(fresh.GetProperty("proxy").GetRawText(), state.GetProperty("proxy").GetRawText());
        Assert.Single(state.GetProperty("faults").EnumerateArray());
        Assert.Equal(HttpStatusCode.NotFound, (await _client.PostAsync("/api/v1/systems/no-such-system/reset", null)).StatusCode);
    }

    [Fact]
    public async Task Grpc_AddListRemoveClear_AndReset()
    {
        var system = await factory.NewSystemAsync(SpmcFactory.DefaultManifest);
        var rule = await _faults.AddAsync(new AddFaultRequest
        {
            SystemId = system,
            Rule = new FaultRuleSpec { Function = "FFA_MSG_SEND_DIRECT_REQ_32", Error = "RETRY", Receiver = 0x8001, Every = 1 },
        });
        Assert.Equal((1u, "every", 1L, "FFA_MSG_SEND_DIRECT_REQ_32"), (rule.Id, rule.When, rule.Count, rule.Function));

        await _smc.CallAsync(Frame(system, 0x8400_0063, 0x1_0002));
        var answer = await _smc.CallAsync(Frame(system, 0x8400_006F, 0x8001));
        Assert.Equal(("RETRY", "fault.injected"), (answer.Decoded.Error, answer.Decoded.Rule));
        Assert.Contains("injected: rule 1", answer.Decoded.Notes);

        var state = await _inspector.GetStateAsync(new GetStateRequest { SystemId = system });
        Assert.Equal(1, Assert.Single(state.Faults).Hits);
        Assert.Equal(2ul, state.Calls);

        await _systems.ResetAsync(new ResetSystemRequest { Id = system });
        state = await _inspector.GetStateAsync(new GetStateRequest { SystemId = system });
        Assert.Equal(0ul, state.Calls);
        Assert.False(state.Proxy.Negotiated);
        Assert.Equal(0, Assert.Single(state.Faults).Hits);

        await _faults.AddAsync(new AddFaultRequest { SystemId = system, Rule = new FaultRuleSpec { Function = "0xC4000073", Error = "NO_MEMORY" } });
        Assert.Equal([1u, 2u], (await _faults.ListAsync(new ListFaultsRequest { SystemId = system })).Rules.Select(r => r.Id));
        await _faults.RemoveAsync(new RemoveFaultRequest { SystemId = system, RuleId = 1 });
        var missing = await Assert.ThrowsAsync<RpcException>(() => _faults.RemoveAsync(new RemoveFaultRequest { SystemId = system, RuleId = 1 }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);
        await _faults.ClearAsync(new ClearFaultsRequest { SystemId = system });
        Assert.Empty((await _faults.ListAsync(new ListFaultsRequest { SystemId = system })).Rules);
    }

    [Fact]
    public async Task Grpc_OtherActions_AreAddedWithoutAnError_AndAbortAnswersAborted()
    {
        var system = await factory.NewSystemAsync(SpmcFactory.DefaultManifest);
        var fragment = await _faults.AddAsync(new AddFaultRequest
        {
            SystemId = system,
            Rule = new FaultRuleSpec { Function = "FFA_MEM_RETRIEVE_REQ", Handle = 0x10, Fragment = 64 },
        });
        Assert.Equal(("fragment", 64u, "", 0x10ul), (fragment.Action, fragment.Fragment, fragment.Error, fragment.Handle));
        var abort = await _faults.AddAsync(new AddFaultRequest
        {
            SystemId = system,
            Rule = new FaultRuleSpec { Function = "FFA_MSG_SEND_DIRECT_REQ", Receiver = 0x8001, Abort = true },
        });
        Assert.Equal(("abort", false), (abort.Action, abort.HasFragment));

        await _smc.CallAsync(Frame(system, 0x8400_0063, 0x1_0002));
        var answer = await _smc.CallAsync(Frame(system, 0x8400_006F, 0x8001));
        Assert.Equal(("ABORTED", "direct-req.receiver-aborted"), (answer.Decoded.Error, answer.Decoded.Rule));
        Assert.Contains("injected: rule 2", answer.Decoded.Notes);
        // It stays aborted: the rule fires again but has nothing left to abort.
        var again = await _smc.CallAsync(Frame(system, 0x8400_006F, 0x8001));
        Assert.Equal("ABORTED", again.Decoded.Error);
        Assert.Contains(again.Decoded.Notes, n => n.Contains("aborted already"));
    }

    [Fact]
    public async Task Grpc_InvalidRule_IsInvalidArgumentNamingTheField()
    {
        var system = await factory.NewSystemAsync();
        async Task<string> Refused(FaultRuleSpec spec)
        {
            var e = await Assert.ThrowsAsync<RpcException>(() => _faults.AddAsync(new AddFaultRequest { SystemId = system, Rule = spec }).ResponseAsync);
            Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
            return e.Status.Detail;
        }
        Assert.StartsWith("receiver:", await Refused(new FaultRuleSpec { Function = "FFA_VERSION", Error = "BUSY", Receiver = 0x8001 }));
        Assert.StartsWith("probability:", await Refused(new FaultRuleSpec { Function = "FFA_VERSION", Error = "BUSY", Probability = 0, Seed = 1 }));
        Assert.StartsWith("function:", await Refused(new FaultRuleSpec { Error = "BUSY" }));
        Assert.StartsWith("rule:", await Refused(null!));
        Assert.StartsWith("stage2:", await Refused(new FaultRuleSpec { Function = "FFA_MEM_SHARE", Stage2 = true }));
        Assert.StartsWith("error:", await Refused(new FaultRuleSpec { Function = "FFA_MEM_SHARE", Delay = false }));
    }

    private static SmcRequest Frame(string system, params ulong[] x)
    {
        var request = new SmcRequest { SystemId = system, Caller = 0 };
        request.X.Add(x);
        return request;
    }
}
