using System.Text.Json;
using Spmc.Abi.Smccc;
using Spmc.Core.Calls;
using Spmc.Core.Faults;
using Spmc.Core.Manifests;
using Spmc.Core.Systems;
using Spmc.Core.Tests.Support;
using static Spmc.Core.Tests.Messaging.Dm;

namespace Spmc.Core.Tests.Faults;

/// <summary>Fault rules: matching, each kind of "when", seeded determinism, no state change, validation.</summary>
public sealed class FaultRuleTests
{
    private const ushort Host = 0, Echo = 0x8001, Memory = 0x8002, Notifier = 0x8003;
    private const string Injected = "fault.injected";

    /// <summary>
    /// The default system behind the pKVM 7.4 proxy (so a call that reached the proxy would show in its state), the host
    /// having negotiated v1.2 (pKVM allows nothing else before).
    /// </summary>
    private static TestSystem Pkvm()
    {
        var sys = TestSystem.FromJson(Support.Manifests.DefaultJson, "faults");
        Assert.Equal(0x1_0002UL, sys.Call(Host, Ffa.Version(0x1_0002)).Frame[0]);
        return sys;
    }

    private static FaultRuleSpec DirectReqTo(ushort receiver, string error = "BUSY", long? nth = null, long? every = null, long? next = null,
        double? probability = null, ulong? seed = null) =>
        new("FFA_MSG_SEND_DIRECT_REQ", error, Receiver: receiver, Nth: nth, Every: every, Next: next, Probability: probability, Seed: seed);

    /// <summary>Which of <paramref name="calls"/> direct requests from the host to the echo partition were injected (1-based).</summary>
    private static List<int> Faulted(TestSystem sys, int calls, ushort receiver = Echo)
    {
        var faulted = new List<int>();
        for (var i = 1; i <= calls; i++)
        {
            var o = sys.Call(Host, Req(Host, receiver, w2: 0, payload: (ulong)i));
            if (o.Decoded.Rule == Injected) faulted.Add(i);
            else Answered(o);
        }
        return faulted;
    }

    [Fact]
    public void Nth_FailsOnlyTheNthMatchingCall_WithTheRuleNamedInTheDecodedView()
    {
        var sys = Pkvm();
        var rule = sys.System.AddFault(DirectReqTo(Echo, nth: 2));
        Assert.Equal(1, rule.Id);

        Answered(sys.Call(Host, Req(Host, Echo)));
        var second = Expect.Error(sys.Call(Host, Req(Host, Echo)), Err.Busy, Injected);
        Assert.Contains("injected: rule 1", second.Decoded.Notes!);
        Assert.Null(second.Decoded.Hops); // answered at the caller's conduit: the proxy never saw it
        Assert.Contains("fault rule 1 (nth 2)", second.Decoded.Reason);
        Assert.Equal([], Faulted(sys, 3));

        var view = Assert.Single(sys.State.Faults);
        Assert.Equal((5L, 1L), (view.Matched, view.Hits));
    }

    /// <summary>The echo partition's answer: a direct response, no error.</summary>
    private static void Answered(SmcOutcome o)
    {
        Assert.True(o.Decoded.Error is null, $"{o.Decoded.Error} [{o.Decoded.Rule}] {o.Decoded.Reason}");
        Assert.StartsWith("FFA_MSG_SEND_DIRECT_RESP", o.Decoded.Result);
    }

    [Fact]
    public void Every_FailsEachKthMatchingCall() =>
        Assert.Equal([3, 6, 9], Faulted(WithRule(DirectReqTo(Echo, "RETRY", every: 3)), 10));

    [Fact]
    public void Next_FailsTheFirstNMatchingCalls() =>
        Assert.Equal([1, 2], Faulted(WithRule(DirectReqTo(Echo, "NOT_READY", next: 2)), 5));

    [Fact]
    public void NoWhen_FailsEveryMatchingCall() =>
        Assert.Equal([1, 2, 3], Faulted(WithRule(DirectReqTo(Echo, "ABORTED")), 3));

    private static TestSystem WithRule(FaultRuleSpec spec)
    {
        var sys = Pkvm();
        sys.System.AddFault(spec);
        return sys;
    }

    [Fact]
    public void Probability_IsDeterministicForASeed()
    {
        var first = Faulted(WithRule(DirectReqTo(Echo, probability: 0.3, seed: 42)), 200);
        var second = Faulted(WithRule(DirectReqTo(Echo, probability: 0.3, seed: 42)), 200);
        var other = Faulted(WithRule(DirectReqTo(Echo, probability: 0.3, seed: 43)), 200);
        Assert.Equal(first, second);
        Assert.NotEqual(first, other);
        Assert.InRange(first.Count, 35, 85);
        Assert.Equal(Enumerable.Range(1, 20).ToList(), Faulted(WithRule(DirectReqTo(Echo, probability: 1, seed: 0)), 20));
    }

    [Fact]
    public void Receiver_Caller_AndOtherFunctions_DoNotMatch()
    {
        var sys = WithRule(DirectReqTo(Memory));
        Assert.Equal([], Faulted(sys, 3)); // to the echo partition, not 0x8002
        Assert.Equal([1, 2], Faulted(sys, 2, Memory));

        var byCaller = WithRule(new FaultRuleSpec("FFA_MSG_SEND_DIRECT_REQ", "DENIED", Caller: Notifier));
        Assert.Equal([], Faulted(byCaller, 3)); // the host calls, the rule names 0x8003
        Expect.Error(byCaller.Call(Notifier, Req(Notifier, Echo)), Err.Denied, Injected);

        Assert.Null(WithRule(DirectReqTo(Echo)).Call(Host, Ffa.IdGet()).Decoded.Error);
    }

    [Theory]
    [InlineData("FFA_RXTX_MAP", true, true)]
    [InlineData("ffa_rxtx_map", true, true)]
    [InlineData("FFA_RXTX_MAP_32", true, false)]
    [InlineData("FFA_RXTX_MAP_64", false, true)]
    [InlineData("0x84000066", true, false)]
    [InlineData("0xC4000066", false, true)]
    public void Function_ByNameMatchesBothWidths_BySuffixOrIdOne(string function, bool smc32, bool smc64)
    {
        var sys = WithRule(new FaultRuleSpec(function, "NO_MEMORY"));
        Assert.Equal(smc32, sys.Call(Host, Ffa.RxTxMap32(0x8000_0000, 0x8000_1000, 1)).Decoded.Rule == Injected);
        Assert.Equal(smc64, sys.Call(Host, Ffa.RxTxMap(0x8000_2000, 0x8000_3000, 1)).Decoded.Rule == Injected);
    }

    [Fact]
    public void Handle_MatchesOnlyThatHandle()
    {
        var sys = WithRule(new FaultRuleSpec("FFA_MEM_RECLAIM", "BUSY", Handle: 0x1_0000_0002));
        var reclaim = 0x8400_0077UL;
        Assert.NotEqual(Injected, sys.Call(Host, Ffa.Frame(reclaim, 0x5, 0x1)).Decoded.Rule);
        Expect.Error(sys.Call(Host, Ffa.Frame(reclaim, 0x2, 0x1)), Err.Busy, Injected);
    }

    [Fact]
    public void Smc32Answer_FollowsTheCallsWidthAndRegisterContract()
    {
        var sys = WithRule(DirectReqTo(Echo));
        var frame = Req(Host, Echo);
        frame[8] = 0x1234_5678_9ABC_DEF0;
        frame[2] = 0xFFFF_FFFF_0000_0000; // upper halves of SMC32 arguments are ignored
        var o = sys.Call(Host, frame);
        Expect.Error(o, Err.Busy, Injected);
        Assert.Equal(0x1234_5678_9ABC_DEF0UL, o.Frame[8]); // x8..x17 preserved (SMCCC 1.2 contract)

        var o64 = sys.Call(Host, Req(Host, Echo, smc64: true));
        Expect.Error(o64, Err.Busy, Injected);
        Assert.Equal("SMC64", o64.Decoded.Width);
    }

    [Fact]
    public void InjectedError_ChangesNoState()
    {
        var sys = Pkvm();
        var before = Json(sys.State);
        var memoryBefore = sys.Peek(0x8000_0000, 0x2000);
        sys.System.AddFault(new FaultRuleSpec("FFA_RXTX_MAP", "NO_MEMORY"));
        sys.System.AddFault(new FaultRuleSpec("FFA_VERSION", "BUSY"));

        Expect.Error(sys.Call(Host, Ffa.RxTxMap(0x8000_0000, 0x8000_1000, 1)), Err.NoMemory, Injected);
        Assert.Equal(Ffa.Error32, sys.Call(Host, Ffa.Version(0x1_0001)).Frame[0]);

        Assert.Equal(before, Json(sys.State));
        Assert.Equal(memoryBefore, sys.Peek(0x8000_0000, 0x2000));
        Assert.Equal(3, sys.State.Calls); // the negotiation and the two injected calls
    }

    /// <summary>The state as JSON without the call counter and fault rules (what an injected call may change).</summary>
    internal static string Json(SystemState s) => JsonSerializer.Serialize(s with { Calls = 0, Faults = [] });

    [Theory]
    [InlineData("FFA_NOPE", "BUSY", "function")]
    [InlineData("", "BUSY", "function")]
    [InlineData("FFA_VERSION_64", "BUSY", "function")]
    [InlineData("0x84000001", "BUSY", "function")]
    [InlineData("FFA_MEM_SHARE", "OOPS", "error")]
    [InlineData("FFA_MEM_SHARE", null, "error")]
    [InlineData("FFA_MEM_SHARE", "NO_DATA", "error")]
    public void Validation_NamesTheField(string function, string? error, string field) =>
        Invalid(new FaultRuleSpec(function, error), field);

    [Fact]
    public void Validation_OfWhenAndWhere()
    {
        Invalid(new FaultRuleSpec("FFA_MEM_SHARE", "BUSY", Nth: 0), "nth");
        Invalid(new FaultRuleSpec("FFA_MEM_SHARE", "BUSY", Every: -1), "every");
        Invalid(new FaultRuleSpec("FFA_MEM_SHARE", "BUSY", Next: 0), "next");
        Invalid(new FaultRuleSpec("FFA_MEM_SHARE", "BUSY", Probability: 0, Seed: 1), "probability");
        Invalid(new FaultRuleSpec("FFA_MEM_SHARE", "BUSY", Probability: 1.5, Seed: 1), "probability");
        Invalid(new FaultRuleSpec("FFA_MEM_SHARE", "BUSY", Probability: double.NaN, Seed: 1), "probability");
        Invalid(new FaultRuleSpec("FFA_MEM_SHARE", "BUSY", Probability: 0.5), "seed");
        Invalid(new FaultRuleSpec("FFA_MEM_SHARE", "BUSY", Seed: 3), "seed");
        Invalid(new FaultRuleSpec("FFA_MEM_SHARE", "BUSY", Nth: 1, Every: 2), "every");
        Invalid(new FaultRuleSpec("FFA_MEM_SHARE", "BUSY", Receiver: Echo), "receiver");
        Invalid(new FaultRuleSpec("FFA_MSG_SEND_DIRECT_REQ", "BUSY", Handle: 1), "handle");
        Invalid(new FaultRuleSpec("FFA_MEM_SHARE", "BUSY", Caller: 0x1_0000), "caller");
    }

    private static void Invalid(FaultRuleSpec spec, string field)
    {
        var sys = Pkvm();
        var e = Assert.Throws<InvalidRequestException>(() => sys.System.AddFault(spec));
        Assert.StartsWith($"{field}:", e.Message);
        Assert.Empty(sys.System.ListFaults());
    }

    [Fact]
    public void Rules_AreAddedListedRemovedAndLimited()
    {
        var sys = Pkvm();
        for (var i = 1; i <= FaultSet.MaxRules; i++) Assert.Equal(i, sys.System.AddFault(new FaultRuleSpec("FFA_MEM_SHARE", "BUSY")).Id);
        var e = Assert.Throws<InvalidRequestException>(() => sys.System.AddFault(new FaultRuleSpec("FFA_MEM_SHARE", "BUSY")));
        Assert.StartsWith("faults:", e.Message);

        sys.System.RemoveFault(2);
        Assert.Throws<NotFoundException>(() => sys.System.RemoveFault(2));
        Assert.Equal(FaultSet.MaxRules - 1, sys.System.ListFaults().Count);
        Assert.Equal(FaultSet.MaxRules + 1, sys.System.AddFault(new FaultRuleSpec("FFA_MEM_SHARE_64", "BUSY")).Id); // IDs are not reused
        Assert.Equal("FFA_MEM_SHARE_64", sys.System.ListFaults()[^1].Function);
        sys.System.ClearFaults();
        Assert.Empty(sys.State.Faults);
    }

    [Fact]
    public void LowestFiringRuleAnswers_AndEveryMatchingRuleCounts()
    {
        var sys = Pkvm();
        sys.System.AddFault(DirectReqTo(Echo, "BUSY", nth: 2));
        sys.System.AddFault(DirectReqTo(Echo, "RETRY", every: 2));
        Answered(sys.Call(Host, Req(Host, Echo)));
        Expect.Error(sys.Call(Host, Req(Host, Echo)), Err.Busy, Injected); // both fire: rule 1 answers
        Answered(sys.Call(Host, Req(Host, Echo)));
        var fourth = Expect.Error(sys.Call(Host, Req(Host, Echo)), Err.Retry, Injected);
        Assert.Contains("injected: rule 2", fourth.Decoded.Notes!);
        Assert.Equal([(4L, 1L), (4L, 1L)], sys.State.Faults.Select(f => (f.Matched, f.Hits)));
    }
}
