using System.Globalization;

namespace Wasmorch.Bench;

/// <summary>
/// One row of docs/performance.md: a figure, the baseline measured in the same run, and the
/// target for their ratio. <see cref="HigherIsBetter"/> says which way the ratio should go.
/// </summary>
public sealed record BenchResult(
    string Name,
    double Figure,
    string Unit,
    string BaselineName,
    double Baseline,
    double Target,
    bool HigherIsBetter,
    string Notes = "")
{
    /// <summary>Figure over baseline (for rates: how close to the baseline's rate we get).</summary>
    public double Ratio => Baseline == 0 ? double.NaN : Figure / Baseline;

    public bool Met => HigherIsBetter ? Ratio >= Target : Ratio <= Target;

    public bool HasTarget => !double.IsInfinity(Target) && Target != 1000;

    public string ToMarkdownRow() => string.Create(CultureInfo.InvariantCulture,
        $"| {Name} | {Figure:0.###} {Unit} | {BaselineName}: {Baseline:0.###} {Unit} | {Ratio:0.###} | {(HasTarget ? $"{(HigherIsBetter ? "≥" : "≤")} {Target:0.##}" : "—")} | {(!HasTarget ? "—" : Met ? "yes" : "**no**")} | {Notes} |");
}
