namespace Wasmorch.Conformance;

public enum CaseOutcome
{
    Pass,
    Fail,
    Skip,
}

/// <summary>One check of the suite: a name, the rule of docs/protocol.md it checks, and the capability it needs.</summary>
public sealed record ConformanceCase(string Name, string Rule, Func<CaseContext, Task> Run, string? Requires = null);

public sealed record CaseResult(string Name, string Rule, CaseOutcome Outcome, string Message, TimeSpan Elapsed);
