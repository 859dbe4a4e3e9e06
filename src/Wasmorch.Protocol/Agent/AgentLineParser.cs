using System.Buffers;
using System.Text;

namespace Wasmorch.Protocol.Agent;

/// <summary>
/// Parses one line (terminator already removed) of the agent protocol. Pure: no I/O, no exceptions
/// for bad input. Emitters are strict (see <see cref="AgentLineBuilder"/>); the parser accepts any
/// visible ASCII in a bare value so that a third-party agent's extra keys never break us.
/// </summary>
public static class AgentLineParser
{
    private const int MaxFields = 24;

    public static bool TryParse(ReadOnlySequence<byte> line, out AgentLine? result, out LineParseError error)
    {
        if (line.IsSingleSegment)
        {
            return TryParse(line.FirstSpan, out result, out error);
        }
        Span<byte> copy = stackalloc byte[ProtocolLimits.MaxLineLength];
        if (line.Length > copy.Length)
        {
            return TryParse(line.ToArray(), out result, out error);
        }
        line.CopyTo(copy);
        return TryParse(copy[..(int)line.Length], out result, out error);
    }

    public static bool TryParse(ReadOnlySpan<byte> line, out AgentLine? result, out LineParseError error)
    {
        result = null;
        // §2: at most MaxLineLength bytes with the LF that ended it (a CR counts as content).
        if (line.Length + 1 > ProtocolLimits.MaxLineLength)
        {
            error = new(LineParseErrorKind.TooLong, ProtocolLimits.MaxLineLength - 1, $"lines are at most {ProtocolLimits.MaxLineLength} bytes");
            return false;
        }
        if (line.Length > 0 && line[^1] == (byte)'\r')
        {
            line = line[..^1];
        }
        var pos = SkipSpaces(line, 0);
        if (pos == line.Length)
        {
            error = new(LineParseErrorKind.Empty, 0, "empty line");
            return false;
        }
        for (var i = 0; i < line.Length; i++)
        {
            var b = line[i];
            if (b > 0x7E || (b < 0x20 && b != (byte)'\t'))
            {
                error = new(LineParseErrorKind.NotAscii, i, $"byte 0x{b:x2} is not printable ASCII");
                return false;
            }
        }

        var verbStart = pos;
        while (pos < line.Length && !IsSeparator(line[pos]))
        {
            var b = line[pos];
            var ok = b is >= (byte)'A' and <= (byte)'Z' || b == (byte)'_' || (pos > verbStart && b is >= (byte)'0' and <= (byte)'9');
            if (!ok)
            {
                error = new(LineParseErrorKind.BadVerb, pos, "a verb is upper-case letters, digits and '_'");
                return false;
            }
            pos++;
        }
        var verb = Encoding.ASCII.GetString(line[verbStart..pos]);

        var fields = new List<KeyValuePair<string, string>>(4);
        while (true)
        {
            pos = SkipSpaces(line, pos);
            if (pos == line.Length)
            {
                break;
            }
            if (fields.Count == MaxFields)
            {
                error = new(LineParseErrorKind.TooManyFields, pos, $"more than {MaxFields} fields");
                return false;
            }
            if (!TryParseField(line, ref pos, out var key, out var value, out error))
            {
                return false;
            }
            foreach (var existing in fields)
            {
                if (existing.Key == key)
                {
                    error = new(LineParseErrorKind.DuplicateKey, pos, $"key '{key}' appears twice");
                    return false;
                }
            }
            fields.Add(new(key, value));
        }

        result = new AgentLine(verb, [.. fields]);
        error = default;
        return true;
    }

    private static bool TryParseField(ReadOnlySpan<byte> line, ref int pos, out string key, out string value, out LineParseError error)
    {
        key = value = string.Empty;
        var keyStart = pos;
        while (pos < line.Length && IsKeyByte(line[pos]))
        {
            pos++;
        }
        if (pos == keyStart)
        {
            error = new(LineParseErrorKind.BadKey, pos, "expected key=value; a key is letters, digits and '_'");
            return false;
        }
        key = Encoding.ASCII.GetString(line[keyStart..pos]);
        if (pos == line.Length || line[pos] != (byte)'=')
        {
            error = new(LineParseErrorKind.MissingEquals, pos, $"key '{key}' has no '=value'");
            return false;
        }
        pos++;
        if (pos < line.Length && line[pos] == (byte)'"')
        {
            return TryParseQuoted(line, ref pos, key, out value, out error);
        }
        var valueStart = pos;
        while (pos < line.Length && !IsSeparator(line[pos]))
        {
            if (line[pos] == (byte)'"')
            {
                error = new(LineParseErrorKind.BadValue, pos, $"value of '{key}' has a stray '\"'");
                return false;
            }
            pos++;
        }
        if (pos == valueStart)
        {
            error = new(LineParseErrorKind.BadValue, pos, $"key '{key}' has an empty value");
            return false;
        }
        value = Encoding.ASCII.GetString(line[valueStart..pos]);
        error = default;
        return true;
    }

    private static bool TryParseQuoted(ReadOnlySpan<byte> line, ref int pos, string key, out string value, out LineParseError error)
    {
        value = string.Empty;
        var open = pos++;
        // An unescaped value is never longer than what is left of the line, whatever that line's length.
        var longest = line.Length - pos;
        Span<char> buffer = longest <= ProtocolLimits.MaxLineLength ? stackalloc char[ProtocolLimits.MaxLineLength] : new char[longest];
        var length = 0;
        while (pos < line.Length)
        {
            var b = line[pos++];
            if (b == (byte)'"')
            {
                if (pos < line.Length && !IsSeparator(line[pos]))
                {
                    error = new(LineParseErrorKind.BadValue, pos, $"quoted value of '{key}' must be followed by a space");
                    return false;
                }
                value = new string(buffer[..length]);
                error = default;
                return true;
            }
            if (b == (byte)'\\')
            {
                if (pos == line.Length || line[pos] is not ((byte)'"' or (byte)'\\'))
                {
                    error = new(LineParseErrorKind.BadEscape, pos, "only \\\" and \\\\ are escapes");
                    return false;
                }
                b = line[pos++];
            }
            buffer[length++] = (char)b;
        }
        error = new(LineParseErrorKind.UnterminatedQuote, open, $"quoted value of '{key}' is not closed");
        return false;
    }

    private static bool IsKeyByte(byte b) =>
        b is >= (byte)'a' and <= (byte)'z' or >= (byte)'A' and <= (byte)'Z' or >= (byte)'0' and <= (byte)'9' or (byte)'_';

    /// <summary>§2: fields are separated by spaces or tabs (senders use spaces).</summary>
    private static bool IsSeparator(byte b) => b is (byte)' ' or (byte)'\t';

    private static int SkipSpaces(ReadOnlySpan<byte> line, int pos)
    {
        while (pos < line.Length && IsSeparator(line[pos]))
        {
            pos++;
        }
        return pos;
    }
}
