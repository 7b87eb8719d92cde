using System.Globalization;
using Spmc.Abi.Ffa;
using Spmc.Abi.Rules;
using Spmc.Abi.Smccc;
using Spmc.Core.Calls;

namespace Spmc.Core.Faults;

/// <summary>
/// What a system cannot do that an action needs, as the reason a rule is refused: <see cref="NoStage2"/> (no pKVM
/// proxy), <see cref="NoAbort"/> (an SPMC below FF-A 1.3, which has no partition abort).
/// </summary>
public sealed record FaultSystem(string? NoStage2, string? NoAbort);

/// <summary>
/// The fault rules of one system, in ID order (1, 2, ... per system; an ID is never reused). Not thread-safe: the
/// system holds its lock around every use. Every rule whose match (function, caller, receiver, handle) fits a call
/// counts it and, for a probability rule, draws once; the lowest-ID rule that fires answers the call, so one rule's
/// count never depends on another's.
/// </summary>
public sealed class FaultSet
{
    /// <summary>Rules one system may hold.</summary>
    public const int MaxRules = 64;

    /// <summary>A rule that fires: its ID, action, how to name it in a reason, and for an error rule the rejection.</summary>
    public sealed record FaultHit(int Rule, FaultAction Action, string Says, Rejection? Rejection, int? Fragment)
    {
        public string Note => $"injected: rule {Rule}";
    }

    /// <summary>The errors a rule may answer, by their FF-A names.</summary>
    public static readonly IReadOnlyList<FfaError> Errors =
    [
        FfaError.Busy, FfaError.Retry, FfaError.NoMemory, FfaError.Aborted, FfaError.NotReady, FfaError.Denied,
        FfaError.InvalidParameters, FfaError.NotSupported,
    ];

    private readonly List<ActiveRule> _rules = [];
    private int _nextId;

    /// <summary>The highest rule ID: IDs are never reused, and the next ID (one more) must still be an int.</summary>
    public const int MaxId = int.MaxValue - 1;

    public int Count => _rules.Count;

    /// <summary>Validates <paramref name="spec"/> (an <see cref="InvalidRequestException"/> names the field) and adds it.</summary>
    /// <paramref name="system"/>: what the system cannot do that an action needs (null: everything).
    public FaultRuleView Add(FaultRuleSpec spec, FaultSystem? system = null)
    {
        var rule = Validate(spec, system);
        if (_rules.Count >= MaxRules)
            throw new InvalidRequestException($"faults: this system already has {MaxRules} rules, the most it may hold; remove one first");
        if (_nextId >= MaxId)
            throw new InvalidRequestException($"faults: this system has used every rule ID up to {MaxId}; IDs are never reused (reset keeps them; create the system again)");
        rule.Id = ++_nextId;
        _rules.Add(rule);
        return rule.View();
    }

    public IReadOnlyList<FaultRuleView> List() => _rules.Select(r => r.View()).ToList();

    public bool Remove(int id) => _rules.RemoveAll(r => r.Id == id) > 0;

    public void Clear() => _rules.Clear();

    /// <summary>Every rule starts again as if just added: counters to 0, generators re-seeded (a reset system).</summary>
    public void Restart()
    {
        foreach (var r in _rules) r.Restart();
    }

    /// <summary>Every rule with its counters and generator state, and the next rule ID (docs/snapshots.md).</summary>
    public FaultsSnapshot Export() => new(_nextId + 1, _rules.Select(r => r.Export()).ToList());

    /// <summary>
    /// Replaces every rule with the snapshot's, each validated as <see cref="Add"/> does (an
    /// <see cref="InvalidRequestException"/> names <c>snapshot.faults...</c>); <c>null</c> leaves no rules.
    /// Nothing changes when the snapshot is refused.
    /// </summary>
    public void Load(FaultsSnapshot? snapshot, FaultSystem? system = null)
    {
        var rules = new List<ActiveRule>();
        var nextId = snapshot?.NextId ?? 1;
        if (nextId is < 1 or > MaxId + 1) throw new InvalidRequestException($"snapshot.faults.nextId: {nextId} must be from 1 to {MaxId + 1}");
        if (snapshot is not null)
        {
            if (snapshot.Rules is null || snapshot.Rules.Any(r => r is null))
                throw new InvalidRequestException("snapshot.faults.rules: required, a list of rules (no nulls)");
            if (snapshot.Rules.Count > MaxRules)
                throw new InvalidRequestException($"snapshot.faults.rules: {snapshot.Rules.Count} rules, a system holds at most {MaxRules}");
            var last = 0;
            foreach (var r in snapshot.Rules)
            {
                var field = $"snapshot.faults.rules[{r.Id}]";
                if (r.Id <= last || r.Id >= nextId)
                    throw new InvalidRequestException($"{field}.id: rule IDs rise, each below nextId ({nextId})");
                if (r.Matched < 0 || r.Hits < 0 || r.Hits > r.Matched)
                    throw new InvalidRequestException($"{field}.hits: counters are non-negative and hits at most matched");
                last = r.Id;
                ActiveRule rule;
                try
                {
                    var action = ParseAction(r.Action);
                    rule = Validate(new FaultRuleSpec(r.Function, action == FaultAction.Error ? r.Error ?? "" : r.Error, r.Caller, r.Receiver, r.Handle,
                        r.When == FaultWhen.Nth ? r.Count ?? 0 : null, r.When == FaultWhen.Every ? r.Count ?? 0 : null,
                        r.When == FaultWhen.Next ? r.Count ?? 0 : null, r.Probability, r.Seed,
                        Delay: action == FaultAction.Delay ? true : null,
                        Fragment: action == FaultAction.Fragment ? r.Fragment ?? 0 : r.Fragment,
                        Abort: action == FaultAction.Abort ? true : null,
                        Stage2: action == FaultAction.Stage2 ? true : null), system);
                }
                catch (InvalidRequestException e)
                {
                    throw new InvalidRequestException($"{field}.{e.Message}");
                }
                if (rule.When != r.When || (r.When is FaultWhen.Always or FaultWhen.Probability) != (r.Count is null)) throw new InvalidRequestException($"{field}.when: {r.When} does not fit the rule's fields");
                rule.Load(r.Id, r.Matched, r.Hits, r.State);
                rules.Add(rule);
            }
        }
        _rules.Clear();
        _rules.AddRange(rules);
        _nextId = nextId - 1;
    }

    /// <summary>
    /// The rule that fires for <paramref name="request"/>, if any; counts the call in every matching rule.
    /// <paramref name="retrieveHandle"/> reads the handle of a retrieve request's descriptor (its TX buffer), asked
    /// only when a rule matches retrieves by handle.
    /// </summary>
    public FaultHit? Inject(FfaRequest request, Func<ulong?>? retrieveHandle = null)
    {
        if (_rules.Count == 0) return null;
        ActiveRule? fired = null;
        ulong? handle = null;
        var handleRead = false;
        ulong? RetrieveHandle()
        {
            if (!handleRead) (handle, handleRead) = (retrieveHandle?.Invoke(), true);
            return handle;
        }
        foreach (var r in _rules)
            if (r.Matches(request, RetrieveHandle) && r.Count() && fired is null) fired = r;
        if (fired is null) return null;
        fired.Hits++;
        var name = request.Info?.WidthName(request.Is64) ?? $"0x{request.Args.FunctionId:X8}";
        var says = $"{name}: fault rule {fired.Id} ({fired.Describe()})";
        return fired.Action == FaultAction.Error
            ? new FaultHit(fired.Id, FaultAction.Error, says, new Rejection(fired.Error!.Value, FaultRules.Injected.Id,
                $"{says} answered {fired.Error.Value.Name()} at the caller's SMC conduit; the call was not run"), null)
            : new FaultHit(fired.Id, fired.Action, says, null, fired.Fragment);
    }

    private static ActiveRule Validate(FaultRuleSpec s, FaultSystem? system)
    {
        var (number, widths) = ParseFunction(s.Function);
        var function = FfaFunctions.Find(number)!;
        var caller = Endpoint(s.Caller, "caller");
        var receiver = Endpoint(s.Receiver, "receiver");
        if (receiver is not null && !HasReceiver(number))
            throw new InvalidRequestException($"receiver: {function.Name} has no receiver in its registers (only FFA_MSG_SEND_DIRECT_REQ, FFA_MSG_SEND_DIRECT_REQ2 and FFA_RUN do)");
        if (s.Handle is not null && !HasHandle(number))
            throw new InvalidRequestException($"handle: {function.Name} has no handle (FFA_MEM_RETRIEVE_REQ in its descriptor; FFA_MEM_RECLAIM, FFA_MEM_FRAG_RX, FFA_MEM_FRAG_TX, FFA_MEM_OP_PAUSE and FFA_MEM_OP_RESUME in w1/w2)");
        var (action, error, fragment) = ValidateAction(s, function, caller, system);

        var given = new List<string>();
        if (s.Nth is not null) given.Add("nth");
        if (s.Every is not null) given.Add("every");
        if (s.Next is not null) given.Add("next");
        if (s.Probability is not null) given.Add("probability");
        if (given.Count > 1) throw new InvalidRequestException($"{given[1]}: a rule has one of nth, every, next and probability (this one has {string.Join(", ", given)})");
        var when = FaultWhen.Always;
        long? count = null;
        if (s.Nth is { } nth) (when, count) = (FaultWhen.Nth, AtLeastOne(nth, "nth"));
        if (s.Every is { } every) (when, count) = (FaultWhen.Every, AtLeastOne(every, "every"));
        if (s.Next is { } next) (when, count) = (FaultWhen.Next, AtLeastOne(next, "next"));
        if (s.Probability is { } p)
        {
            if (!(p > 0 && p <= 1)) throw new InvalidRequestException($"probability: {p.ToString(CultureInfo.InvariantCulture)} is outside (0, 1]");
            if (s.Seed is null) throw new InvalidRequestException("seed: required with probability (the same seed and calls give the same faults)");
            when = FaultWhen.Probability;
        }
        else if (s.Seed is not null) throw new InvalidRequestException("seed: only a probability rule has a seed");
        return new ActiveRule(number, widths, caller, receiver, s.Handle, when, count, s.Probability, s.Seed, action, error, fragment);
    }

    /// <summary>Largest <c>fragment</c>: a 64 KiB RX buffer, the largest an FF-A 1.1+ mailbox may be.</summary>
    public const int MaxFragment = 64 * 1024;

    /// <summary>Exactly one action, fitting the function (each refusal names its field).</summary>
    private static (FaultAction Action, FfaError? Error, int? Fragment) ValidateAction(FaultRuleSpec s, FfaFunctionInfo function, ushort? caller, FaultSystem? system)
    {
        var given = new List<string>();
        if (s.Error is not null) given.Add("error");
        if (s.Delay == true) given.Add("delay");
        if (s.Fragment is not null) given.Add("fragment");
        if (s.Abort == true) given.Add("abort");
        if (s.Stage2 == true) given.Add("stage2");
        if (given.Count == 0)
            throw new InvalidRequestException("error: required: a rule has one action (error, delay: true, fragment, abort: true or stage2: true)");
        if (given.Count > 1) throw new InvalidRequestException($"{given[1]}: a rule has one action (this one has {string.Join(", ", given)})");
        var f = (FfaFunction)function.Function;
        switch (given[0])
        {
            case "error":
                return (FaultAction.Error, ParseError(s.Error), null);
            case "delay":
                if (!LendsCycles(f))
                    throw new InvalidRequestException($"delay: {function.Name} lends no cycles to a partition (only FFA_MSG_SEND_DIRECT_REQ, FFA_MSG_SEND_DIRECT_REQ2 and FFA_RUN do)");
                return (FaultAction.Delay, null, null);
            case "abort":
                if (!LendsCycles(f))
                    throw new InvalidRequestException($"abort: {function.Name} has no receiving partition to abort (only FFA_MSG_SEND_DIRECT_REQ, FFA_MSG_SEND_DIRECT_REQ2 and FFA_RUN do)");
                if (system?.NoAbort is { } noAbort) throw new InvalidRequestException($"abort: {noAbort}");
                return (FaultAction.Abort, null, null);
            case "fragment":
                if (f != FfaFunction.MemRetrieveReq)
                    throw new InvalidRequestException($"fragment: only FFA_MEM_RETRIEVE_REQ has a response to fragment, not {function.Name}");
                // Fragments hold whole 16-byte constituent descriptors (DEN0077 v1.2 §5.12; Hafnium cuts its
                // retrieve responses at constituent boundaries, ffa_memory.c ffa_retrieve_send_init/_continue).
                var n = s.Fragment!.Value;
                if (n < 16 || n > MaxFragment || n % 16 != 0)
                    throw new InvalidRequestException($"fragment: {n} is not a multiple of 16 (whole constituent descriptors) from 16 to {MaxFragment}");
                return (FaultAction.Fragment, null, (int)n);
            default: // stage2
                if (system?.NoStage2 is { } noStage2) throw new InvalidRequestException($"stage2: {noStage2}");
                if (f == FfaFunction.MemDonate)
                    throw new InvalidRequestException("stage2: pKVM answers FFA_MEM_DONATE NOT_SUPPORTED before any stage-2 step (ffa.c ffa_call_supported)");
                if (f is not (FfaFunction.MemShare or FfaFunction.MemLend or FfaFunction.MemFragTx or FfaFunction.MemReclaim))
                    throw new InvalidRequestException($"stage2: pKVM changes its stage 2 only for FFA_MEM_SHARE, FFA_MEM_LEND, FFA_MEM_FRAG_TX and FFA_MEM_RECLAIM, not {function.Name}");
                if (caller is { } c && !EndpointId.IsVm(c))
                    throw new InvalidRequestException($"caller: {EndpointId.Format(c)} is a partition: only the host's calls pass pKVM's stage 2");
                return (FaultAction.Stage2, null, null);
        }
    }

    private static bool LendsCycles(FfaFunction f) => f is FfaFunction.MsgSendDirectReq or FfaFunction.MsgSendDirectReq2 or FfaFunction.Run;

    private static FaultAction ParseAction(string? text) => text is null ? FaultAction.Error
        : Enum.TryParse<FaultAction>(text, ignoreCase: true, out var a) && char.IsLetter(text[0]) ? a
        : throw new InvalidRequestException($"action: '{text}' is not error, delay, fragment, abort or stage2");

    private static long AtLeastOne(long value, string field) =>
        value >= 1 ? value : throw new InvalidRequestException($"{field}: {value} must be at least 1");

    private static ushort? Endpoint(ulong? value, string field) => value switch
    {
        null => null,
        <= 0xFFFF => (ushort)value.Value,
        _ => throw new InvalidRequestException($"{field}: 0x{value:X} is not a 16-bit endpoint ID"),
    };

    /// <summary>A name (both widths, or the one its _32/_64 suffix names) or a function ID (its own width).</summary>
    internal static (ushort Number, Widths Widths) ParseFunction(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) throw new InvalidRequestException("function: required (an FF-A name such as FFA_MEM_SHARE or FFA_MEM_SHARE_64, or a function ID)");
        var name = text.Trim().ToUpperInvariant();
        foreach (var info in FfaFunctions.All)
        {
            var both = (info.Since32 is not null ? Widths.Smc32 : 0) | (info.Since64 is not null ? Widths.Smc64 : 0);
            if (name == info.Name) return ((ushort)info.Function, both);
            if (info.Since32 is not null && info.Since64 is not null)
            {
                if (name == info.WidthName(false)) return ((ushort)info.Function, Widths.Smc32);
                if (name == info.WidthName(true)) return ((ushort)info.Function, Widths.Smc64);
            }
        }
        if (Numbers.TryParseU64(name, out var id) && id <= uint.MaxValue)
        {
            var fid = new SmcccFunctionId((uint)id);
            if (fid.IsFfa && FfaFunctions.Find(fid.Number) is { } info && info.Since(fid.Is64Bit) is not null)
                return ((ushort)info.Function, fid.Is64Bit ? Widths.Smc64 : Widths.Smc32);
        }
        throw new InvalidRequestException($"function: '{text}' is no FF-A function name (FFA_MEM_SHARE, FFA_MEM_SHARE_64, ...) or function ID (0xC4000073)");
    }

    private static FfaError ParseError(string? text)
    {
        var name = text?.Trim().ToUpperInvariant();
        foreach (var e in Errors)
            if (e.Name() == name) return e;
        throw new InvalidRequestException(
            $"error: {(text is null ? "required" : $"'{text}' is not one of")} {string.Join(", ", Errors.Select(e => e.Name()))}");
    }

    private static bool HasReceiver(ushort number) => LendsCycles((FfaFunction)number);

    private static bool HasHandle(ushort number) =>
        (FfaFunction)number is FfaFunction.MemRetrieveReq or FfaFunction.MemReclaim or FfaFunction.MemFragRx or FfaFunction.MemFragTx or FfaFunction.MemOpPause or FfaFunction.MemOpResume;

    [Flags]
    internal enum Widths
    {
        Smc32 = 1,
        Smc64 = 2,
    }

    private sealed class ActiveRule(ushort number, Widths widths, ushort? caller, ushort? receiver, ulong? handle, FaultWhen when, long? count,
        double? probability, ulong? seed, FaultAction action, FfaError? error, int? fragment)
    {
        private ulong _state = seed ?? 0;

        public int Id { get; set; }
        public FfaError? Error => error;
        public FaultAction Action => action;
        public int? Fragment => fragment;
        public long Matched { get; private set; }
        public long Hits { get; set; }

        public FaultWhen When => when;

        public void Restart() => (Matched, Hits, _state) = (0, 0, seed ?? 0);

        public void Load(int id, long matched, long hits, ulong state) => (Id, Matched, Hits, _state) = (id, matched, hits, state);

        public FaultRuleSnapshot Export()
        {
            var v = View();
            return new FaultRuleSnapshot(Id, v.Function, caller, receiver, handle, when, count, probability, seed, error?.Name(), Matched, Hits, _state,
                action == FaultAction.Error ? null : action.ToString().ToLowerInvariant(), fragment);
        }

        public bool Matches(FfaRequest request, Func<ulong?> retrieveHandle)
        {
            var fid = request.FunctionId;
            if (!fid.IsFfa || fid.Number != number || (widths & (fid.Is64Bit ? Widths.Smc64 : Widths.Smc32)) == 0) return false;
            if (caller is { } c && c != request.Caller) return false;
            // Direct requests: w1 = sender [31:16] | receiver [15:0]; FFA_RUN: w1 = target [31:16] | vCPU [15:0];
            // handle calls: w1 = handle [31:0], w2 = handle [63:32]; a retrieve request: the descriptor's handle.
            var run = (FfaFunction)number == FfaFunction.Run;
            if (receiver is { } r && r != (ushort)((run ? request.Args[1] >> 16 : request.Args[1]) & 0xFFFF)) return false;
            if (handle is { } h)
            {
                var actual = (FfaFunction)number == FfaFunction.MemRetrieveReq ? retrieveHandle()
                    : (request.Args[1] & 0xFFFF_FFFF) | (request.Args[2] << 32);
                if (actual != h) return false;
            }
            return true;
        }

        /// <summary>Counts one matching call; true when the rule fails it.</summary>
        public bool Count()
        {
            var n = ++Matched;
            return when switch
            {
                FaultWhen.Nth => n == count,
                FaultWhen.Every => n % count!.Value == 0,
                FaultWhen.Next => n <= count,
                FaultWhen.Probability => Draw() < probability,
                _ => true,
            };
        }

        /// <summary>SplitMix64: one step per matching call, a double in [0, 1) from its top 53 bits.</summary>
        private double Draw()
        {
            var z = _state += 0x9E37_79B9_7F4A_7C15;
            z = (z ^ (z >> 30)) * 0xBF58_476D_1CE4_E5B9;
            z = (z ^ (z >> 27)) * 0x94D0_49BB_1331_11EB;
            z ^= z >> 31;
            return (z >> 11) * (1.0 / (1UL << 53));
        }

        public string Describe() => $"{action switch
        {
            FaultAction.Error => "",
            FaultAction.Fragment => $"fragment {fragment}, ",
            _ => $"{action.ToString().ToLowerInvariant()}, ",
        }}{DescribeWhen()}";

        private string DescribeWhen() => when switch
        {
            FaultWhen.Nth => $"nth {count}",
            FaultWhen.Every => $"every {count}",
            FaultWhen.Next => $"next {count}",
            FaultWhen.Probability => $"probability {probability!.Value.ToString(CultureInfo.InvariantCulture)}, seed {seed}",
            _ => "always",
        };

        public FaultRuleView View()
        {
            var info = FfaFunctions.Find(number)!;
            var function = widths switch
            {
                Widths.Smc32 when info.Since64 is not null => info.WidthName(false),
                Widths.Smc64 when info.Since32 is not null => info.WidthName(true),
                _ => info.Name,
            };
            return new FaultRuleView(Id, function, caller, receiver, handle, when, count, probability, seed, action, error, fragment, Matched, Hits);
        }
    }
}
