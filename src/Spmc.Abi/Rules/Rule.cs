using Spmc.Abi.Ffa;

namespace Spmc.Abi.Rules;

/// <summary>
/// One rule an FF-A call can break: a stable ID (<c>family.rule</c>, e.g. <c>rxtx-map.overlap</c>), the error it
/// answers, a one-line statement of the rule, and where it comes from (a DEN0077 section, a Hafnium function or a
/// kernel commit). Rules are declared once as <c>static readonly</c> fields; the catalogue (docs/rules.md) is
/// generated from those declarations by <see cref="RuleCatalogue"/>. An ID never changes once published.
/// </summary>
public sealed record Rule(string Id, FfaError Code, string Summary, string Reference)
{
    /// <summary>The rejection of one call by this rule, with the details of that call in <paramref name="reason"/>.</summary>
    public Rejection Reject(string reason) => new(Code, Id, reason);

    /// <summary>The rejection, with the rule's own summary as the reason.</summary>
    public Rejection Reject() => new(Code, Id, Summary);

    public override string ToString() => Id;
}

/// <summary>
/// Why a call was refused: the FF-A error the caller gets, the ID of the rule that failed, and the reason in words
/// (which may name the values of this call). The single shape every refusal takes, from a register decoder, a
/// descriptor parser, the SPMC or a hypervisor proxy.
/// </summary>
public sealed record Rejection(FfaError Code, string Rule, string Reason)
{
    /// <summary>The same rejection with its reason prefixed, e.g. by the function name.</summary>
    public Rejection Prefixed(string prefix) => this with { Reason = $"{prefix}: {Reason}" };

    public override string ToString() => $"{Code.Name()} [{Rule}] {Reason}";
}
