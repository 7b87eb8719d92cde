using Spmc.Abi.Smccc;

namespace Spmc.Core.Calls;

/// <summary>Bytes to write into simulated memory, as the caller, before the call (e.g. the TX buffer's contents).</summary>
public sealed record MemoryWrite(ulong Address, byte[] Data);

/// <summary>Bytes to read from simulated memory, as the caller, after the call (e.g. the RX buffer).</summary>
public sealed record MemoryReadRequest(ulong Address, int Length);

/// <summary>A read taken after the call: the bytes, or why the caller may not read them.</summary>
public sealed record MemoryReadResult(ulong Address, byte[]? Data, string? Error);

/// <summary>One trapped SMC or HVC: who made it, on which vCPU, its registers, and memory around it.</summary>
public sealed record SmcCall(
    ushort Caller,
    uint Vcpu,
    Conduit Conduit,
    SmcFrame Frame,
    IReadOnlyList<MemoryWrite>? Writes = null,
    IReadOnlyList<MemoryReadRequest>? Reads = null);

/// <summary>
/// The human view of an answer: the function and width called, the result's name, and for an error its
/// name, the ID of the one rule that failed (<c>rxtx-map.overlap</c>, see docs/rules.md) and the reason in words
/// ("FFA_RXTX_MAP: TX and RX ranges overlap"). For a call that went
/// through the hypervisor proxy, <see cref="Hops"/> lists every frame the proxy sent to the SPMC with its
/// answer, and <see cref="Notes"/> what the proxy model wants the user to know (e.g. a modelled kernel bug).
/// </summary>
public sealed record Decoded(string Function, string Width, string Result, string? Error, string? Reason, string? Rule = null,
    IReadOnlyList<Hop>? Hops = null, IReadOnlyList<string>? Notes = null);

/// <summary>One frame a hypervisor proxy sent to the SPMC (as <see cref="Caller"/>), and the SPMC's answer.</summary>
public sealed record Hop(ushort Caller, SmcFrame Request, SmcFrame Answer, Decoded Decoded);

/// <summary>The answer to an <see cref="SmcCall"/>: the registers to write back, the reads, and the decoded view.</summary>
public sealed record SmcOutcome(SmcFrame Frame, Decoded Decoded, IReadOnlyList<MemoryReadResult> Reads,
    IReadOnlyList<SystemEvent>? Events = null);
