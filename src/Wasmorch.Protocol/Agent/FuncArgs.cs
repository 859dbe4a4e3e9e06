using System.Globalization;

namespace Wasmorch.Protocol.Agent;

/// <summary>One argument of <c>args="a=10,b=15"</c>: the name is documentation, the position is what counts.</summary>
public readonly record struct FuncArg(string? Name, string Text);

/// <summary>
/// The <c>args</c> grammar: <c>arg *("," arg)</c>, <c>arg = [name "="] number</c>. Names are
/// identifiers; numbers are decimal integers (optionally signed), hex (<c>0x..</c>) or decimals
/// with a point or exponent, plus <c>inf</c>/<c>nan</c>. Conversion to a wasm type happens later,
/// once the function's signature is known.
/// </summary>
public static class FuncArgs
{
    public const int MaxArgs = 16;

    /// <summary>§5: an argument's number is at most this many characters (a board keeps each in a 32-byte slot).</summary>
    public const int MaxArgLength = 31;

    public static bool TryParse(string? text, out FuncArg[] args, out string error)
    {
        args = [];
        error = string.Empty;
        if (string.IsNullOrWhiteSpace(text))
        {
            return true;
        }
        var parts = text.Split(',');
        if (parts.Length > MaxArgs)
        {
            error = $"{parts.Length} arguments; at most {MaxArgs}";
            return false;
        }
        var list = new FuncArg[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            var part = parts[i].Trim(' ');
            string? name = null;
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq >= 0)
            {
                name = part[..eq].Trim(' ');
                part = part[(eq + 1)..].Trim(' ');
                if (!ModuleId.IsValidFunctionName(name))
                {
                    error = $"argument {i + 1}: '{(name.Length > 64 ? name[..61] + "..." : name)}' is not a name";
                    return false;
                }
            }
            if (part.Length > MaxArgLength)
            {
                error = $"argument {i + 1}: longer than {MaxArgLength} characters";
                return false;
            }
            if (!LooksNumeric(part))
            {
                error = $"argument {i + 1}{(name is null ? "" : $" ({name})")}: '{part}' is not a number";
                return false;
            }
            list[i] = new FuncArg(name, part);
        }
        args = list;
        return true;
    }

    public static string Format(IEnumerable<FuncArg> args) =>
        string.Join(',', args.Select(a => a.Name is null ? a.Text : $"{a.Name}={a.Text}"));

    private static bool LooksNumeric(string text) =>
        TryParseInt64(text, out _) || TryParseDouble(text, out _);

    public static bool TryParseInt64(string text, out long value)
    {
        var negative = text.StartsWith('-');
        var body = negative || text.StartsWith('+') ? text[1..] : text;
        if (body.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            if (ulong.TryParse(body.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var hex))
            {
                value = negative ? -(long)hex : (long)hex;
                return true;
            }
            value = 0;
            return false;
        }
        return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
    }

    public static bool TryParseDouble(string text, out double value)
    {
        switch (text)
        {
            case "inf" or "+inf":
                value = double.PositiveInfinity;
                return true;
            case "-inf":
                value = double.NegativeInfinity;
                return true;
            case "nan":
                value = double.NaN;
                return true;
        }
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value)
            && !double.IsInfinity(value);
    }
}
