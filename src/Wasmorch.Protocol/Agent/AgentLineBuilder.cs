using System.Buffers;
using System.Globalization;

namespace Wasmorch.Protocol.Agent;

/// <summary>
/// Formats one protocol line. Values made only of <c>[A-Za-z0-9_.:+,/-]</c> go bare; anything else is
/// quoted (as is <c>msg</c> always) with <c>\"</c> and <c>\\</c> escaped and non-printable characters replaced by '?'. A line
/// that would exceed <see cref="ProtocolLimits.MaxLineLength"/> has its last quoted value shortened.
/// </summary>
public sealed class AgentLineBuilder
{
    private readonly string _verb;
    private readonly List<(string Key, string Value)> _fields = new(6);

    public AgentLineBuilder(string verb) => _verb = verb;

    public string Verb => _verb;

    public AgentLineBuilder Add(string key, string value)
    {
        _fields.Add((key, value));
        return this;
    }

    public AgentLineBuilder Add(string key, long value) => Add(key, value.ToString(CultureInfo.InvariantCulture));

    public AgentLineBuilder AddIfNotNull(string key, string? value) => value is null ? this : Add(key, value);

    /// <summary>Adds an optional field only if the line, with it whole, still fits the line limit (§3: optional keys are never truncated).</summary>
    public AgentLineBuilder AddIfFits(string key, string? value)
    {
        if (value is null)
        {
            return this;
        }
        _fields.Add((key, value));
        if (FormattedLength(int.MaxValue) > ProtocolLimits.MaxLineLength)
        {
            _fields.RemoveAt(_fields.Count - 1);
        }
        return this;
    }

    public byte[] ToBytes()
    {
        var writer = new ArrayBufferWriter<byte>(64);
        WriteTo(writer);
        return writer.WrittenSpan.ToArray();
    }

    public override string ToString() => System.Text.Encoding.ASCII.GetString(ToBytes()).TrimEnd('\n');

    /// <summary>
    /// Writes the line and its <c>\n</c> terminator. A line over the limit has its last quoted value
    /// cut to the longest prefix that, followed by <c>...</c>, fits (§2; the firmware core's
    /// <c>wm_writer_msg</c> does the same, byte for byte). A line that cannot fit even so (only an
    /// over-long bare value would do that) is written whole, and receivers refuse it.
    /// </summary>
    public void WriteTo(IBufferWriter<byte> output)
    {
        var keep = int.MaxValue;
        var length = FormattedLength(keep);
        var last = LastQuoted();
        if (length > ProtocolLimits.MaxLineLength && last >= 0)
        {
            var value = _fields[last].Value;
            // What the line takes without the value's characters, but with "..." in their place.
            var room = ProtocolLimits.MaxLineLength - (length - EscapedLength(value)) - 3;
            keep = 0;
            for (var used = 0; keep < value.Length; keep++)
            {
                used += value[keep] is '"' or '\\' ? 2 : 1;
                if (used > room)
                {
                    break;
                }
            }
            length = FormattedLength(keep);
        }
        var span = output.GetSpan(length);
        Format(span, keep);
        output.Advance(length);
    }

    private static int EscapedLength(string value)
    {
        var length = value.Length;
        foreach (var c in value)
        {
            length += c is '"' or '\\' ? 1 : 0;
        }
        return length;
    }

    /// <summary>True when the formatted line, with every value whole, is within the limit.</summary>
    public bool FitsWhole => FormattedLength(int.MaxValue) <= ProtocolLimits.MaxLineLength;

    private int LastQuoted()
    {
        for (var i = _fields.Count - 1; i >= 0; i--)
        {
            if (IsQuoted(i))
            {
                return i;
            }
        }
        return -1;
    }

    private int FormattedLength(int keep)
    {
        var length = _verb.Length + 1;
        var lastQuoted = LastQuoted();
        for (var i = 0; i < _fields.Count; i++)
        {
            var (key, value) = _fields[i];
            length += 2 + key.Length;
            if (!IsQuoted(i))
            {
                length += value.Length;
                continue;
            }
            var shown = i == lastQuoted && value.Length > keep ? value.AsSpan(0, keep) : value.AsSpan();
            length += 2 + shown.Length + (shown.Length < value.Length ? 3 : 0);
            foreach (var c in shown)
            {
                length += c is '"' or '\\' ? 1 : 0;
            }
        }
        return length;
    }

    private void Format(Span<byte> line, int keep)
    {
        var pos = Append(line, 0, _verb);
        var lastQuoted = LastQuoted();
        for (var i = 0; i < _fields.Count; i++)
        {
            var (key, value) = _fields[i];
            line[pos++] = (byte)' ';
            pos = Append(line, pos, key);
            line[pos++] = (byte)'=';
            if (!IsQuoted(i))
            {
                pos = Append(line, pos, value);
                continue;
            }
            var shown = i == lastQuoted && value.Length > keep ? value.AsSpan(0, keep) : value.AsSpan();
            line[pos++] = (byte)'"';
            foreach (var c in shown)
            {
                if (c is '"' or '\\')
                {
                    line[pos++] = (byte)'\\';
                }
                line[pos++] = c is >= ' ' and <= '~' ? (byte)c : (byte)'?';
            }
            if (shown.Length < value.Length)
            {
                pos = Append(line, pos, "...");
            }
            line[pos++] = (byte)'"';
        }
        line[pos] = (byte)'\n';
    }

    private static int Append(Span<byte> line, int pos, string text)
    {
        foreach (var c in text)
        {
            line[pos++] = (byte)c;
        }
        return pos;
    }

    /// <summary>Free text (<c>msg</c>) is always quoted so that its shape never depends on its content.</summary>
    private bool IsQuoted(int field) => _fields[field].Key == "msg" || !IsBare(_fields[field].Value);

    public static bool IsBare(string value)
    {
        if (value.Length == 0)
        {
            return false;
        }
        foreach (var c in value)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or ':' or '+' or ',' or '/' or '-'))
            {
                return false;
            }
        }
        return true;
    }
}
