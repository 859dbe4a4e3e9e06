using System.Globalization;

namespace Wasmorch.Protocol.HostApi;

/// <summary>One wave of a rollout as written: a count of devices, or a percentage of those selected.</summary>
public readonly record struct WaveSize(int Size, bool Percent)
{
    public string Text => Percent ? $"{Size}%" : Size.ToString(CultureInfo.InvariantCulture);

    /// <summary>How many devices, of <paramref name="selected"/>, this wave reaches (before it is capped at all of them).</summary>
    public int Reach(int selected) => Percent ? (int)Math.Ceiling(selected * Size / 100.0) : Size;
}

/// <summary>
/// A rollout's <c>--waves</c> (docs/fleet-ops.md): sizes that grow, the last reaching every device.
/// The CLI checks the form and that no wave is smaller than an earlier one of the same kind (it
/// does not know how many devices a selector matches); the gateway checks it again, and counts
/// against percentages once it knows how many devices are selected.
/// </summary>
public static class RolloutWaves
{
    public const string Default = "1,10%,50%,100%";

    /// <summary>The waves of <paramref name="spec"/>, or why not (a term that is not a size, a wave smaller than one before it).</summary>
    public static bool TryParse(string spec, out List<WaveSize> waves, out string? error)
    {
        waves = [];
        error = null;
        foreach (var term in spec.Split(','))
        {
            var percent = term.EndsWith('%');
            if (!int.TryParse(percent ? term[..^1] : term, NumberStyles.None, CultureInfo.InvariantCulture, out var size) || size < 1 || (percent && size > 100))
            {
                error = $"wave '{term}' is not a count (1 or more) or a percentage (1% to 100%)";
                return false;
            }
            var wave = new WaveSize(size, percent);
            if (waves.LastOrDefault(w => w.Percent == percent) is { Size: > 0 } before && before.Size > size)
            {
                error = Shrinks(wave, before, spec);
                return false;
            }
            waves.Add(wave);
        }
        return true;
    }

    /// <summary>The error for <paramref name="wave"/>, smaller than <paramref name="before"/>: waves only grow.</summary>
    public static string Shrinks(WaveSize wave, WaveSize before, string spec, string? reach = null) =>
        $"wave '{wave.Text}'{reach} is smaller than wave '{before.Text}' before it in '{spec}': waves grow, each reaching at least the devices of the one before";
}
