using System.CommandLine;
using System.CommandLine.Invocation;
using Spmc.Abi.Descriptors.Memory;
using Spmc.Abi.Ffa;
using Spmc.Client;
using Spmc.V1;

namespace Spmc.Cli;

/// <summary>
/// The `spmc` command tree. Exit codes: 0 ok; 1 the service (or an FF-A answer, or a descriptor) reported an error;
/// 2 the command line is wrong; 3 no service at --url. Every failure prints one line on stderr.
/// </summary>
public sealed class SpmcCli
{
    public const int Ok = 0, Failed = 1, Usage = 2, Unreachable = 3, Interrupted = 130;

    private readonly TextWriter _out, _err;
    private readonly Option<string> _url;
    private readonly Option<string> _token;

    private SpmcCli(TextWriter output, TextWriter error, string? defaultUrl, string? defaultToken)
    {
        _out = output;
        _err = error;
        _url = new Option<string>("--url")
        {
            Description = "The service's gRPC endpoint (env SPMC_URL)",
            Recursive = true,
            DefaultValueFactory = _ => string.IsNullOrWhiteSpace(defaultUrl) ? SpmcClient.DefaultUrl : defaultUrl,
        };
        _token = new Option<string>("--token")
        {
            Description = "The bearer token: the system's (from systems create), a client's or the operator's (env SPMC_TOKEN; docs/security.md)",
            Recursive = true,
            DefaultValueFactory = _ => defaultToken ?? "",
        };
    }

    /// <summary>
    /// Runs one command line; what it prints goes to <paramref name="output"/> and <paramref name="error"/>;
    /// <paramref name="defaultUrl"/> is the --url when none is given (the executable passes SPMC_URL), and
    /// <paramref name="defaultToken"/> the --token (SPMC_TOKEN).
    /// </summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, string? defaultUrl = null, CancellationToken ct = default,
        string? defaultToken = null)
    {
        var cli = new SpmcCli(output, error, defaultUrl, defaultToken);
        // No response files: "@FILE" is a value here (mem write, decode), not more arguments.
        var parsed = cli.Root().Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parsed.Action is ParseErrorAction)
        {
            await error.WriteLineAsync($"spmc: {string.Join("; ", parsed.Errors.Select(e => e.Message))} (see spmc --help)");
            return Usage;
        }
        return await parsed.InvokeAsync(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false }, ct);
    }

    private RootCommand Root()
    {
        var root = new RootCommand("Drive an Spmc service (a simulated FF-A secure world) from a shell. Docs: docs/cli.md")
        {
            _url, _token, Systems(), Call(), Mem(), Watch(), Decode(), Faults(),
        };
        return root;
    }

    /// <summary>An action that gets a client; maps the failures to exit codes and one stderr line.</summary>
    private Func<ParseResult, CancellationToken, Task<int>> With(Func<ParseResult, SpmcClient, CancellationToken, Task<int>> body) =>
        async (parse, ct) =>
        {
            try
            {
                using var client = new SpmcClient(parse.GetValue(_url), parse.GetValue(_token));
                return await body(parse, client, ct);
            }
            catch (UsageException e) { return Fail(Usage, e.Message); }
            catch (ArgumentException e) { return Fail(Usage, e.Message); }
            catch (IOException e) { return Fail(Usage, e.Message); }
            catch (UnauthorizedAccessException e) { return Fail(Usage, e.Message); }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { return Fail(Interrupted, "interrupted"); }
            catch (SpmcUnavailableException e) { return Fail(Unreachable, e.Message); }
            catch (SpmcException e) { return Fail(Failed, $"{e.Code}: {e.Message}"); }
        };

    private int Fail(int code, string message)
    {
        _err.WriteLine($"spmc: {message}");
        return code;
    }

    private static Argument<string> Arg(string name, string description) => new(name) { Description = description };

    private static Option<string> As() => new("--as") { Description = "The endpoint to act as (0x0: the host VM)", DefaultValueFactory = _ => "0x0" };

    // ---- systems ----

    private Command Systems()
    {
        var list = new Command("list", "One line per system: ID, FF-A version, proxy, VMs, partitions");
        list.SetAction(With(async (_, c, ct) =>
        {
            foreach (var s in await c.ListSystemsAsync(ct)) _out.WriteLine(Format.System(s));
            return Ok;
        }));

        var file = Arg("file", "A system manifest (JSON, docs/manifests.md)");
        var id = new Option<string>("--id") { Description = "The new system's ID (allocated as sys-N when absent)" };
        var record = new Option<bool>("--record") { Description = "Record every call to the service's traces directory" };
        var fromSnapshot = new Option<bool>("--snapshot") { Description = "FILE is a snapshot document (systems snapshot), not a manifest" };
        var debug = new Option<bool>("--debug") { Description = "Give the system's token the debug capability (memory as the SPMC; docs/security.md)" };
        var create = new Command("create", "Create a system from a manifest file (or a snapshot); prints the system, and its token when the service needs one")
        {
            file, id, record, fromSnapshot, debug,
        };
        create.SetAction(With(async (p, c, ct) =>
        {
            var info = p.GetValue(fromSnapshot)
                ? await c.CreateSystemFromSnapshotAsync(await Values.ReadSnapshotAsync(p.GetValue(file)!, ct), p.GetValue(id), p.GetValue(record), ct, p.GetValue(debug))
                : await c.CreateSystemFromFileAsync(p.GetValue(file)!, p.GetValue(id), p.GetValue(record), ct, p.GetValue(debug));
            _out.WriteLine(Format.System(info));
            if (info.Token.Length > 0) _out.WriteLine($"token  {info.Token}");
            return Ok;
        }));

        var system = Arg("system", "The system's ID");
        var delete = new Command("delete", "Delete a system") { system };
        delete.SetAction(With(async (p, c, ct) =>
        {
            await c.DeleteSystemAsync(p.GetValue(system)!, ct);
            _out.WriteLine($"deleted {p.GetValue(system)}");
            return Ok;
        }));
        var state = new Command("state", "The system's state (endpoints, mailboxes, memory, shares, proxy, faults) as JSON") { system };
        state.SetAction(With(async (p, c, ct) =>
        {
            _out.WriteLine(Format.ToJson(await c.GetStateAsync(p.GetValue(system)!, ct)));
            return Ok;
        }));
        var reset = new Command("reset", "Back to the state just after creation (same ID; fault rules stay)") { system };
        reset.SetAction(With(async (p, c, ct) =>
        {
            await c.ResetSystemAsync(p.GetValue(system)!, ct);
            _out.WriteLine($"reset {p.GetValue(system)}");
            return Ok;
        }));
        var output = Arg("file", "Where to write the document ('-': standard output)");
        var snapshot = new Command("snapshot", "Save the system's whole state as a snapshot document (JSON, docs/snapshots.md)") { system, output };
        snapshot.SetAction(With(async (p, c, ct) =>
        {
            var json = await c.SnapshotAsync(p.GetValue(system)!, ct);
            if (p.GetValue(output) is "-") _out.WriteLine(json);
            else
            {
                await File.WriteAllTextAsync(p.GetValue(output)!, json, ct);
                _out.WriteLine($"saved {p.GetValue(system)} to {p.GetValue(output)}");
            }
            return Ok;
        }));
        var input = Arg("file", "A snapshot document of this system's manifest (systems snapshot)");
        var restore = new Command("restore", "Put the system back in a snapshot's state, in place (same ID)") { system, input };
        restore.SetAction(With(async (p, c, ct) =>
        {
            await c.RestoreAsync(p.GetValue(system)!, await Values.ReadSnapshotAsync(p.GetValue(input)!, ct), ct);
            _out.WriteLine($"restored {p.GetValue(system)}");
            return Ok;
        }));
        return new Command("systems", "List, create, delete, inspect, reset, snapshot and restore systems")
        {
            list, create, delete, state, reset, snapshot, restore,
        };
    }

    // ---- call ----

    private Command Call()
    {
        var system = Arg("system", "The system's ID");
        var function = Arg("function", "FF-A name (FFA_VERSION, version, MEM_SHARE_64), SMCCC_VERSION, or a function ID");
        var registers = new Argument<string[]>("registers") { Description = "x1, x2, ...: hex (0x...), decimal or a version (1.2)", Arity = ArgumentArity.ZeroOrMore };
        var caller = As();
        var vcpu = new Option<uint>("--vcpu") { Description = "The caller's vCPU" };
        var json = new Option<bool>("--json") { Description = "Print the raw answer (proto3 JSON)" };
        var call = new Command("call", "Send one SMC and print the answer decoded") { system, function, registers, caller, vcpu, json };
        call.SetAction(With(async (p, c, ct) =>
        {
            var x = new List<ulong> { Values.Function(p.GetValue(function)!) };
            var args = p.GetValue(registers) ?? [];
            for (var i = 0; i < args.Length; i++) x.Add(Values.Register(args[i], $"x{i + 1}"));
            if (x.Count > 18) throw new UsageException($"registers: {x.Count} given, at most 18 (x0..x17)");
            var answer = await c.CallAsync(p.GetValue(system)!, Values.Endpoint(p.GetValue(caller)!, "--as"), x, p.GetValue(vcpu), ct);
            if (p.GetValue(json)) _out.WriteLine(Format.ToJson(answer));
            else Format.Answer(_out, answer);
            var d = answer.Decoded;
            return d.HasError ? Fail(Failed, $"{d.Function}: {d.Error}{(d.HasRule ? $" [{d.Rule}]" : "")}{(d.HasReason ? $" {d.Reason}" : "")}") : Ok;
        }));
        return call;
    }

    // ---- mem ----

    private Command Mem()
    {
        var system = Arg("system", "The system's ID");
        var address = Arg("address", "Physical address (hex 0x... or decimal)");
        var length = Arg("length", "Bytes to read (at most 1 MiB)");
        var caller = As();
        var read = new Command("read", "Read memory as an endpoint; prints a hexdump") { system, address, length, caller };
        read.SetAction(With(async (p, c, ct) =>
        {
            var at = Values.Number(p.GetValue(address)!, "address");
            var data = await c.ReadMemoryAsync(p.GetValue(system)!, at, Values.Number32(p.GetValue(length)!, "length"),
                Values.Endpoint(p.GetValue(caller)!, "--as"), ct);
            Format.HexDump(_out, at, data);
            return Ok;
        }));
        var data = Arg("data", "Hex bytes (\"48656c6c6f\") or @FILE for a file's bytes");
        var write = new Command("write", "Write bytes to memory as an endpoint") { system, address, data, caller };
        write.SetAction(With(async (p, c, ct) =>
        {
            var at = Values.Number(p.GetValue(address)!, "address");
            var text = p.GetValue(data)!;
            var bytes = text.StartsWith('@') ? await Values.ReadFileAsync(text[1..], Values.MaxBytes, "data", ct) : Values.Hex(text, "data");
            await c.WriteMemoryAsync(p.GetValue(system)!, at, bytes, Values.Endpoint(p.GetValue(caller)!, "--as"), ct);
            _out.WriteLine($"wrote {bytes.Length} byte(s) at 0x{at:X}");
            return Ok;
        }));
        return new Command("mem", "Read and write simulated memory") { read, write };
    }

    // ---- watch ----

    private Command Watch()
    {
        var system = Arg("system", "The system's ID");
        var endpoint = new Option<string>("--endpoint") { Description = "Only events about this endpoint" };
        var trace = new Option<bool>("--trace") { Description = "Follow the trace stream instead (docs/traces.md): the header, the kept entries, then every new one" };
        var count = new Option<int?>("--count") { Description = "Stop after this many events (trace lines)" };
        var watch = new Command("watch", "Print a system's events (SRI, NPI, indirect messages) as they happen, until Ctrl-C or --count") { system, endpoint, trace, count };
        watch.SetAction(With(async (p, c, ct) =>
        {
            var id = p.GetValue(system)!;
            var left = p.GetValue(count) ?? int.MaxValue;
            if (left <= 0) throw new UsageException("--count: must be at least 1");
            var what = p.GetValue(trace) ? "trace" : "events";
            void Subscribed() => _err.WriteLine($"watching {what} of {id} (Ctrl-C to stop)");
            try
            {
                if (p.GetValue(trace))
                {
                    await foreach (var line in c.TraceAsync(id, follow: true, subscribed: Subscribed, ct: ct))
                    {
                        _out.WriteLine(line.Json);
                        if (--left == 0) break;
                    }
                }
                else
                {
                    uint? only = p.GetValue(endpoint) is { } e ? Values.Endpoint(e, "--endpoint") : null;
                    await foreach (var ev in c.WatchAsync(id, only, Subscribed, ct))
                    {
                        _out.WriteLine(Format.Event(ev));
                        if (--left == 0) break;
                    }
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
            return Ok;
        }));
        return watch;
    }

    // ---- decode ----

    private Command Decode()
    {
        var hex = Arg("hex", "The descriptor's bytes in hex (spaces allowed), or @FILE for a file's bytes");
        var version = new Option<string>("--version") { Description = "The FF-A version whose layout it is in: 1.0, 1.1, 1.2 or 1.3", DefaultValueFactory = _ => "1.2" };
        var decode = new Command("decode", "Decode a memory transaction descriptor (FFA_MEM_SHARE/LEND/DONATE, retrieve) given as hex") { hex, version };
        decode.SetAction(With((p, _, _) =>
        {
            if (!FfaVersion.TryParse(p.GetValue(version), out var v) || !FfaVersion.Supported.Contains(v))
                throw new UsageException($"--version: '{p.GetValue(version)}' is not 1.0, 1.1, 1.2 or 1.3");
            var text = p.GetValue(hex)!;
            var bytes = text.StartsWith('@') ? Values.ReadFileAsync(text[1..], Values.MaxBytes, "hex", default).GetAwaiter().GetResult() : Values.Hex(text, "hex");
            var parsed = MemoryTransactionDescriptor.Read(bytes, v1_0Layout: v == FfaVersion.V1_0);
            if (!parsed.Ok) return Task.FromResult(Fail(Failed, parsed.Rejection!.ToString()));
            Format.Descriptor(_out, parsed.Value!);
            return Task.FromResult(Ok);
        }));
        return decode;
    }

    // ---- faults ----

    private Command Faults()
    {
        var system = Arg("system", "The system's ID");
        var function = Arg("function", "FF-A name (FFA_MEM_SHARE: both widths; FFA_MEM_SHARE_64: one) or a function ID");
        var action = Arg("action", "What a firing rule does: an FF-A error to answer (BUSY, RETRY, NO_MEMORY, ABORTED, NOT_READY, DENIED, " +
            "INVALID_PARAMETERS, NOT_SUPPORTED), or delay, abort, stage2, fragment:N (docs/faults.md)");
        var caller = new Option<string>("--caller") { Description = "Only calls from this endpoint" };
        var receiver = new Option<string>("--receiver") { Description = "Direct requests to this endpoint only" };
        var handle = new Option<string>("--handle") { Description = "Calls with this memory handle only" };
        var nth = new Option<long?>("--nth") { Description = "Only the n-th matching call" };
        var every = new Option<long?>("--every") { Description = "Every k-th matching call" };
        var next = new Option<long?>("--next") { Description = "The next n matching calls" };
        var probability = new Option<double?>("--probability") { Description = "Each matching call with this probability (needs --seed)" };
        var seed = new Option<string>("--seed") { Description = "Seed of --probability" };
        var add = new Command("add", "Make matching calls fail: an FF-A error, or another action (docs/faults.md); prints the rule")
        {
            system, function, action, caller, receiver, handle, nth, every, next, probability, seed,
        };
        add.SetAction(With(async (p, c, ct) =>
        {
            var spec = Values.FaultAction(p.GetValue(function)!, p.GetValue(action)!);
            if (p.GetValue(caller) is { } cl) spec.Caller = Values.Endpoint(cl, "--caller");
            if (p.GetValue(receiver) is { } r) spec.Receiver = Values.Endpoint(r, "--receiver");
            if (p.GetValue(handle) is { } h) spec.Handle = Values.Number(h, "--handle");
            if (p.GetValue(nth) is { } n) spec.Nth = n;
            if (p.GetValue(every) is { } k) spec.Every = k;
            if (p.GetValue(next) is { } m) spec.Next = m;
            if (p.GetValue(probability) is { } pr) spec.Probability = pr;
            if (p.GetValue(seed) is { } s) spec.Seed = Values.Number(s, "--seed");
            _out.WriteLine(Format.Fault(await c.AddFaultAsync(p.GetValue(system)!, spec, ct)));
            return Ok;
        }));
        var list = new Command("list", "The system's fault rules with their counters") { system };
        list.SetAction(With(async (p, c, ct) =>
        {
            foreach (var rule in await c.ListFaultsAsync(p.GetValue(system)!, ct)) _out.WriteLine(Format.Fault(rule));
            return Ok;
        }));
        var ruleId = new Argument<uint>("rule") { Description = "The rule's ID (as add and list print it)" };
        var remove = new Command("remove", "Remove one fault rule") { system, ruleId };
        remove.SetAction(With(async (p, c, ct) =>
        {
            await c.RemoveFaultAsync(p.GetValue(system)!, p.GetValue(ruleId), ct);
            _out.WriteLine($"removed rule {p.GetValue(ruleId)}");
            return Ok;
        }));
        var clear = new Command("clear", "Remove every fault rule of the system") { system };
        clear.SetAction(With(async (p, c, ct) =>
        {
            await c.ClearFaultsAsync(p.GetValue(system)!, ct);
            _out.WriteLine("cleared");
            return Ok;
        }));
        return new Command("faults", "Fault rules: make chosen calls fail, reproducibly (docs/faults.md)") { add, list, remove, clear };
    }
}
