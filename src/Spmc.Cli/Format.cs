using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Spmc.Abi.Descriptors.Memory;
using Spmc.V1;

namespace Spmc.Cli;

/// <summary>How the CLI prints what the service answers.</summary>
public static class Format
{
    private static readonly JsonFormatter Json = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(true));

    /// <summary>A message as indented proto3 JSON (64-bit numbers as strings).</summary>
    public static string ToJson(IMessage message) =>
        JsonSerializer.Serialize(JsonDocument.Parse(Json.Format(message)).RootElement, new JsonSerializerOptions { WriteIndented = true });

    /// <summary>An SMC answer, decoded: function, result or error, rule, reason, registers, notes, hops, events.</summary>
    public static void Answer(TextWriter o, SmcResponse answer)
    {
        var d = answer.Decoded;
        o.WriteLine($"function  {d.Function} ({d.Width})");
        o.WriteLine($"result    {d.Result}");
        if (d.HasError) o.WriteLine($"error     {d.Error}");
        if (d.HasRule) o.WriteLine($"rule      {d.Rule}");
        if (d.HasReason) o.WriteLine($"reason    {d.Reason}");
        Registers(o, answer.X, "");
        foreach (var note in d.Notes) o.WriteLine($"note      {note}");
        for (var i = 0; i < d.Hops.Count; i++)
        {
            var hop = d.Hops[i];
            var error = hop.Decoded.HasError ? $" {hop.Decoded.Error}" : "";
            o.WriteLine($"hop {i + 1}     as 0x{hop.Caller:X}: {hop.Decoded.Function} -> {hop.Decoded.Result}{error}");
        }
        foreach (var e in answer.Events) o.WriteLine($"event     {Event(e)}");
    }

    /// <summary>x0..x7 on one line, x8..x17 on a second when any is not zero.</summary>
    private static void Registers(TextWriter o, IReadOnlyList<ulong> x, string indent)
    {
        string Range(int from, int to) => string.Join(' ', Enumerable.Range(from, to - from).Select(i => i < x.Count ? $"0x{x[i]:X}" : "0x0"));
        o.WriteLine($"{indent}x0-x7     {Range(0, 8)}");
        if (x.Skip(8).Any(v => v != 0)) o.WriteLine($"{indent}x8-x17    {Range(8, 18)}");
    }

    /// <summary>"#3 ScheduleReceiverInterrupt endpoint 0x0 vcpu 1 delayed: detail".</summary>
    public static string Event(SystemEvent e)
    {
        var text = new StringBuilder($"#{e.Sequence} {e.Kind} endpoint 0x{e.Endpoint:X}");
        if (e.HasVcpu) text.Append($" vcpu {e.Vcpu}");
        if (e.Delayed) text.Append(" delayed");
        if (e.Detail.Length > 0) text.Append($": {e.Detail}");
        return text.ToString();
    }

    /// <summary>Lines of 16 bytes: address, hex, ASCII.</summary>
    public static void HexDump(TextWriter o, ulong address, ReadOnlySpan<byte> data)
    {
        for (var offset = 0; offset < data.Length; offset += 16)
        {
            var line = data.Slice(offset, Math.Min(16, data.Length - offset));
            var hex = new StringBuilder();
            for (var i = 0; i < 16; i++)
            {
                hex.Append(i < line.Length ? $"{line[i]:x2} " : "   ");
                if (i == 7) hex.Append(' ');
            }
            var ascii = new StringBuilder();
            foreach (var b in line) ascii.Append(b is >= 0x20 and < 0x7F ? (char)b : '.');
            o.WriteLine($"{address + (ulong)offset:x16}  {hex}|{ascii}|");
        }
    }

    public static string System(SystemInfo s)
    {
        var vms = s.Vms.Count == 0 ? "-" : string.Join(' ', s.Vms.Select(v => $"{v.Name}(0x{v.Id:X})"));
        var sps = s.Partitions.Count == 0 ? "-" : string.Join(' ', s.Partitions.Select(p => $"{p.Name}(0x{p.Id:X})"));
        return $"{s.Id}  ffa {s.FfaVersion}  proxy {s.ProxyProfile}  vms {vms}  partitions {sps}" +
            (s.Recording.Length > 0 ? $"  recording {s.Recording}" : "");
    }

    public static string Fault(FaultRule r)
    {
        var what = r.Action switch { "" or "error" => r.Error, "fragment" => $"fragment {r.Fragment}", _ => r.Action };
        var text = new StringBuilder($"rule {r.Id}: {r.Function} -> {what}");
        if (r.HasCaller) text.Append($" caller 0x{r.Caller:X}");
        if (r.HasReceiver) text.Append($" receiver 0x{r.Receiver:X}");
        if (r.HasHandle) text.Append($" handle 0x{r.Handle:X}");
        text.Append($" when {r.When}");
        if (r.HasCount) text.Append($" {r.Count}");
        if (r.HasProbability) text.Append($" {r.Probability} seed {r.Seed}");
        text.Append($" (matched {r.Matched}, hits {r.Hits})");
        return text.ToString();
    }

    /// <summary>A memory transaction descriptor, field by field.</summary>
    public static void Descriptor(TextWriter o, MemoryTransactionDescriptor d)
    {
        o.WriteLine($"layout      {d.Layout switch { MemoryDescriptorLayout.V1_0 => "v1.0", MemoryDescriptorLayout.V1_1 => "v1.1", _ => "v1.2" }} " +
            $"(EMAD size {d.EmadSize}, receivers at {d.ReceiversOffset})");
        o.WriteLine($"sender      0x{d.Sender:X}");
        o.WriteLine($"attributes  {d.Attributes}");
        o.WriteLine($"flags       {d.Flags} (type {d.Flags.Type})");
        o.WriteLine($"handle      0x{d.Handle:X}");
        o.WriteLine($"tag         0x{d.Tag:X}");
        o.WriteLine($"receivers   {d.Receivers.Count}");
        for (var i = 0; i < d.Receivers.Count; i++)
            o.WriteLine($"  [{i}]       {d.Receivers[i].Access}, composite at {d.Receivers[i].CompositeOffset}");
        if (d.Composite is not { } c) return;
        o.WriteLine($"composite   {c.TotalPageCount} page(s) in {c.Constituents.Count} constituent(s)");
        foreach (var r in c.Constituents) o.WriteLine($"  0x{r.Address:X} {r.PageCount} page(s)");
    }
}
