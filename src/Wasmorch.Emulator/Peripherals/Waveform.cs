using System.Globalization;

namespace Wasmorch.Emulator.Peripherals;

/// <summary>
/// What an emulated ADC channel reads over time, in 12-bit counts (0–4095):
/// <c>const:V</c>, <c>sine:MIN:MAX:PERIOD_MS</c>, <c>ramp:MIN:MAX:PERIOD_MS</c> (a sawtooth) or
/// <c>square:MIN:MAX:PERIOD_MS</c>; <c>emulate --adc</c> takes this text.
/// </summary>
public sealed record Waveform(string Shape, int Min, int Max, int PeriodMs)
{
    public const int MaxCounts = 4095;

    public static Waveform Default { get; } = new("sine", 1000, 3000, 2000);

    public int At(long uptimeMs)
    {
        if (Shape == "const")
        {
            return Min;
        }
        var phase = (double)(uptimeMs % PeriodMs) / PeriodMs;
        var unit = Shape switch
        {
            "sine" => (Math.Sin(2 * Math.PI * phase) + 1) / 2,
            "ramp" => phase,
            _ => phase < 0.5 ? 0.0 : 1.0,
        };
        return Min + (int)Math.Round(unit * (Max - Min));
    }

    /// <summary>Parses the text form; null with <paramref name="error"/> naming what is wrong.</summary>
    public static Waveform? Parse(string text, out string? error)
    {
        error = null;
        var parts = text.Split(':');
        if (parts[0] == "const" && parts.Length == 2 && Counts(parts[1]) is { } level)
        {
            return new Waveform("const", level, level, 1);
        }
        if (parts[0] is "sine" or "ramp" or "square" && parts.Length == 4
            && Counts(parts[1]) is { } min && Counts(parts[2]) is { } max && min <= max
            && int.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out var period) && period is >= 10 and <= 3_600_000)
        {
            return new Waveform(parts[0], min, max, period);
        }
        error = $"ADC waveform '{text}' is not const:V or sine|ramp|square:MIN:MAX:PERIOD_MS (counts 0-{MaxCounts}, MIN <= MAX, period 10-3600000 ms)";
        return null;
    }

    private static int? Counts(string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value <= MaxCounts ? value : null;
}
