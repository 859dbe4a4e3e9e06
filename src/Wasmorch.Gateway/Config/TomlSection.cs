using System.Globalization;
using Tomlyn;
using Tomlyn.Model;

namespace Wasmorch.Gateway.Config;

/// <summary>
/// One table of wasmorch.toml read strictly: each key is read with its type and range, and once the
/// table is read, any key nobody asked for is an error naming the file, the table and the key (with
/// the nearest known key). A setting that is misspelled, mistyped or out of range never falls back
/// to a default: the gateway does not start.
/// </summary>
internal sealed class TomlSection
{
    private readonly TomlTable _table;
    private readonly string _origin;
    private readonly HashSet<string> _known = new(StringComparer.Ordinal);

    public TomlSection(TomlTable table, string origin, string name)
    {
        _table = table;
        _origin = origin;
        Name = name;
    }

    /// <summary>The top level of a TOML text; a syntax error is a <see cref="ConfigException"/> naming <paramref name="origin"/>.</summary>
    public static TomlSection Root(string text, string origin)
    {
        try
        {
            return new TomlSection(TomlSerializer.Deserialize<TomlTable>(Validated(text, origin), TomlModelContext.Default) ?? new TomlTable(), origin, "");
        }
        catch (TomlException ex)
        {
            throw new ConfigException($"{origin}: {ex.Message}");
        }
    }

    /// <summary>
    /// The text, once the TOML specification's own rules hold: the model reader keeps the last of a
    /// key given twice, so a second <c>token</c> or <c>bind</c> further down a file would silently win.
    /// </summary>
    private static string Validated(string text, string origin)
    {
        var document = Tomlyn.Parsing.SyntaxParser.Parse(text, origin, validate: true);
        if (document.HasErrors)
        {
            throw new ConfigException(string.Join("; ", document.Diagnostics.Where(d => d.Kind == Tomlyn.Syntax.DiagnosticMessageKind.Error).Select(d => d.ToString())));
        }
        return text;
    }

    /// <summary>The top level of a TOML file; one that cannot be read is a <see cref="ConfigException"/> ("cannot read <paramref name="what"/>path: …").</summary>
    public static TomlSection RootOfFile(string path, string what)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"cannot read {what}{path}: {ex.Message}");
        }
        return Root(text, path);
    }

    /// <summary>How the table is written in the file: <c>[gateway]</c>, <c>[devices.nucleo]</c>, or the top level.</summary>
    public string Name { get; }

    public ConfigException Error(string key, string problem) =>
        new($"{_origin}: {(Name.Length == 0 ? "" : Name + " ")}{key}: {problem}");

    private bool TryGet(string key, out object value)
    {
        _known.Add(key);
        return _table.TryGetValue(key, out value!);
    }

    public string? String(string key) =>
        !TryGet(key, out var value) ? null
        : value as string ?? throw Error(key, $"must be a string (in quotes), not {Describe(value)}");

    public bool? Bool(string key) =>
        !TryGet(key, out var value) ? null
        : value as bool? ?? throw Error(key, $"must be true or false, not {Describe(value)}");

    public long? Integer(string key, long min, long max, string unit = "")
    {
        if (!TryGet(key, out var value))
        {
            return null;
        }
        if (value is not long number)
        {
            throw Error(key, $"must be a whole number, not {Describe(value)}");
        }
        return number >= min && number <= max
            ? number
            : throw Error(key, string.Create(CultureInfo.InvariantCulture, $"{number} is out of range: {min} to {max}{unit}"));
    }

    public TimeSpan? Millis(string key, long min, long max) =>
        Integer(key, min, max, " (milliseconds)") is { } ms ? TimeSpan.FromMilliseconds(ms) : null;

    public List<string>? Strings(string key)
    {
        if (!TryGet(key, out var value))
        {
            return null;
        }
        return value is TomlArray array && array.All(v => v is string)
            ? [.. array.OfType<string>()]
            : throw Error(key, $"must be a list of strings, not {Describe(value)}");
    }

    public TomlSection? Table(string key)
    {
        if (!TryGet(key, out var value))
        {
            return null;
        }
        return value is TomlTable table
            ? new TomlSection(table, _origin, Name.Length == 0 ? $"[{key}]" : $"{Name.TrimEnd(']')}.{key}]")
            : throw Error(key, $"must be a table ([{key}]), not {Describe(value)}");
    }

    /// <summary>An inline table of strings (<c>labels = { site = "lab1" }</c>), each key and value checked by <paramref name="check"/>.</summary>
    public Dictionary<string, string>? StringTable(string key, Func<string, string, string?> check)
    {
        if (!TryGet(key, out var value))
        {
            return null;
        }
        if (value is not TomlTable table)
        {
            throw Error(key, $"must be a table of strings ({key} = {{ name = \"value\" }}), not {Describe(value)}");
        }
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, item) in table)
        {
            var text = item as string ?? throw Error($"{key}.{name}", $"must be a string (in quotes), not {Describe(item)}");
            if (check(name, text) is { } problem)
            {
                throw Error($"{key}.{name}", problem);
            }
            result[name] = text;
        }
        return result;
    }

    /// <summary>An inline table of string lists (<c>grants = { sensor = ["i2c0"] }</c>), each key and item checked by <paramref name="check"/>.</summary>
    public Dictionary<string, List<string>>? ListTable(string key, Func<string, string?, string?> check)
    {
        if (!TryGet(key, out var value))
        {
            return null;
        }
        if (value is not TomlTable table)
        {
            throw Error(key, $"must be a table of lists ({key} = {{ name = [\"a\", \"b\"] }}), not {Describe(value)}");
        }
        var result = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var (name, item) in table)
        {
            if (check(name, null) is { } badName)
            {
                throw Error($"{key}.{name}", badName);
            }
            if (item is not TomlArray array)
            {
                throw Error($"{key}.{name}", $"must be a list of strings ([\"a\", \"b\"]), not {Describe(item)}");
            }
            var list = new List<string>();
            for (var i = 0; i < array.Count; i++)
            {
                var text = array[i] as string ?? throw Error($"{key}.{name}[{i}]", $"must be a string (in quotes), not {Describe(array[i]!)}");
                if (check(name, text) is { } problem)
                {
                    throw Error($"{key}.{name}[{i}]", problem);
                }
                list.Add(text);
            }
            result[name] = list;
        }
        return result;
    }

    /// <summary>An array of tables (<c>[[module]]</c>), each read strictly as its own section (<c>[[module]] #2</c>).</summary>
    public List<TomlSection>? TableArray(string key)
    {
        if (!TryGet(key, out var value))
        {
            return null;
        }
        return value is TomlTableArray tables
            ? [.. tables.Select((t, i) => new TomlSection(t, _origin, $"[[{key}]] #{i + 1}"))]
            : throw Error(key, $"must be tables ([[{key}]]), not {Describe(value)}");
    }

    /// <summary>The tables under this one (the device map); anything else under it is an error.</summary>
    public IEnumerable<(string Key, TomlSection Table)> Tables()
    {
        foreach (var (key, value) in _table)
        {
            _known.Add(key);
            yield return value is TomlTable table
                ? (key, new TomlSection(table, _origin, $"{Name.TrimEnd(']')}.{key}]"))
                : throw Error(key, $"must be a table, not {Describe(value)}");
        }
    }

    /// <summary>Call once every key this table may hold was read: anything else is a mistake.</summary>
    public void RejectUnknown()
    {
        foreach (var key in _table.Keys)
        {
            if (!_known.Contains(key))
            {
                var nearest = _known.MinBy(k => Distance(k, key));
                var hint = nearest is not null && Distance(nearest, key) <= 3 ? $"; did you mean {nearest}?" : "";
                throw Error(key, $"unknown setting{hint} (known here: {string.Join(", ", _known.Order(StringComparer.Ordinal))})");
            }
        }
    }

    private static string Describe(object value) => value switch
    {
        string s => $"the string \"{s}\"",
        bool b => b ? "true" : "false",
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => d.ToString(CultureInfo.InvariantCulture),
        TomlTable => "a table",
        TomlArray => "a list",
        _ => "a " + value.GetType().Name.ToLowerInvariant().Replace("toml", "", StringComparison.Ordinal),
    };

    /// <summary>Levenshtein distance, for "did you mean".</summary>
    private static int Distance(string a, string b)
    {
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var previous = row[0];
            row[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var current = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), previous + (a[i - 1] == b[j - 1] ? 0 : 1));
                previous = current;
            }
        }
        return row[b.Length];
    }
}
