using System.Text.RegularExpressions;

namespace Wasmorch.Protocol.HostApi;

/// <summary>
/// Which devices a command is for, by their labels: <c>board=f446re,site=lab1</c> (every term must
/// hold; <c>key!=value</c> excludes). Labels come from the device map (<c>[devices.x] labels</c>)
/// and from what a board says of itself in HELLO_OK (<c>board</c>, <c>runtime</c>); docs/fleet-ops.md.
/// </summary>
public sealed partial class Selector
{
    private Selector(string text, IReadOnlyList<(string Key, string Value, bool Equal)> terms)
    {
        Text = text;
        Terms = terms;
    }

    public string Text { get; }

    public IReadOnlyList<(string Key, string Value, bool Equal)> Terms { get; }

    /// <summary>The keys the selector asks about.</summary>
    public IEnumerable<string> Keys => Terms.Select(t => t.Key).Distinct(StringComparer.Ordinal);

    /// <summary>Parses <paramref name="text"/>; false with a message naming the term at fault.</summary>
    public static bool TryParse(string? text, out Selector? selector, out string? error)
    {
        selector = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "the selector is empty: give key=value[,key=value…] (for instance board=f446re,site=lab1)";
            return false;
        }
        var terms = new List<(string, string, bool)>();
        foreach (var term in text.Split(','))
        {
            var equal = !term.Contains("!=", StringComparison.Ordinal);
            var parts = term.Split(equal ? "=" : "!=");
            if (parts.Length != 2)
            {
                error = $"selector term '{term}' is not key=value or key!=value";
                return false;
            }
            if (!IsKey(parts[0]))
            {
                error = $"selector term '{term}': label key '{parts[0]}' must be 1 to 63 of a-z 0-9 _ . - starting with a letter or digit";
                return false;
            }
            if (!IsValue(parts[1]))
            {
                error = $"selector term '{term}': label value '{parts[1]}' must be 1 to 63 of A-Z a-z 0-9 _ . - / +";
                return false;
            }
            terms.Add((parts[0], parts[1], equal));
        }
        selector = new Selector(text, terms);
        error = null;
        return true;
    }

    /// <summary>
    /// Why this selector cannot select among devices with these labels (one entry per device), or
    /// null: a key no device has (<c>no device has a label 'k' (labels: …)</c>), or no device
    /// matching (<c>selector '…' matches none of the N device(s)</c>).
    /// </summary>
    public string? ProblemAmong(IReadOnlyCollection<IReadOnlyDictionary<string, string>?> devices)
    {
        var known = devices.SelectMany(d => d?.Keys ?? Enumerable.Empty<string>()).ToHashSet(StringComparer.Ordinal);
        if (Keys.FirstOrDefault(k => !known.Contains(k)) is { } unknown)
        {
            return $"no device has a label '{unknown}' (labels: {(known.Count == 0 ? "none" : string.Join(", ", known.Order(StringComparer.Ordinal)))})";
        }
        return devices.Any(Matches) ? null : $"selector '{Text}' matches none of the {devices.Count} device(s)";
    }

    public bool Matches(IReadOnlyDictionary<string, string>? labels) => Terms.All(t =>
        (labels is not null && labels.TryGetValue(t.Key, out var value) && value == t.Value) == t.Equal);

    public static bool IsKey(string key) => KeyPattern().IsMatch(key);

    public static bool IsValue(string value) => ValuePattern().IsMatch(value);

    public override string ToString() => Text;

    [GeneratedRegex("^[a-z0-9][a-z0-9_.-]{0,62}$")]
    private static partial Regex KeyPattern();

    // A runtime label is like "wamr/2.4.3": '/' and '+' are allowed in values.
    [GeneratedRegex("^[A-Za-z0-9_.+/-]{1,63}$")]
    private static partial Regex ValuePattern();
}
