namespace Wasmorch.Conformance;

/// <summary>A broken MUST rule fails the agent; a broken SHOULD rule is a warning (as Autobahn grades strict and non-strict).</summary>
public enum CaseOutcome
{
    Pass,
    Fail,
    Warn,
    Skip,
}

/// <summary>How binding the rule a case checks is (RFC 2119 words in docs/protocol.md).</summary>
public enum RuleLevel
{
    Must,
    Should,
}

/// <summary>One check of the suite: a name, the rule of docs/protocol.md it checks, the capability it needs, and how binding the rule is.</summary>
public sealed record ConformanceCase(string Name, string Rule, Func<CaseContext, Task> Run, string? Requires = null, RuleLevel Level = RuleLevel.Must);

public sealed record CaseResult(string Name, string Rule, CaseOutcome Outcome, string Message, TimeSpan Elapsed, RuleLevel Level = RuleLevel.Must);
