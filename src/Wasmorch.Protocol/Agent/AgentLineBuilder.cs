using System.Buffers;
using System.Globalization;

namespace Wasmorch.Protocol.Agent;

/// <summary>
/// Formats one protocol line. Values made only of <c>[A-Za-z0-9_.:+,/-]</c> go bare; anything else is
/// quoted with <c>\"</c> and <c>\\</c> escaped and non-printable characters replaced by '?'. A line
/// that would exceed <see cref="ProtocolLimits.MaxLineLength"/> has its last quoted value shortened.
/// </summary>
public sealed class AgentLineBuilder
{
    private readonly string _verb;
    private readonly List<(string Key, string Value)> _fields = new(6);

    public AgentLineBuilder(string verb) => _verb = verb;

    public AgentLineBuilder Add(string key, string value)
    {
        _fields.Add((key, value));
        return this;
    }

    public AgentLineBuilder Add(string key, long value) => Add(key, value.ToString(CultureInfo.InvariantCulture));

    public AgentLineBuilder AddIfNotNull(string key, string? value) => value is null ? this : Add(key, value);

    public byte[] ToBytes()
    {
        var writer = new ArrayBufferWriter<byte>(64);
        WriteTo(writer);
        return writer.WrittenSpan.ToArray();
    }

    public override string ToString() => System.Text.Encoding.ASCII.GetString(ToBytes()).TrimEnd('\n');

    /// <summary>Writes the line and its <c>\n</c> terminator.</summary>
    public void WriteTo(IBufferWriter<byte> output)
    {
        Span<byte> line = stackalloc byte[ProtocolLimits.MaxLineLength * 2];
        var length = Format(line, shortenLastQuotedTo: int.MaxValue);
        if (length > ProtocolLimits.MaxLineLength)
        {
            var excess = length - ProtocolLimits.MaxLineLength;
            length = Format(line, shortenLastQuotedTo: Math.Max(0, LastQuotedLength() - excess - 3));
        }
        output.Write(line[..length]);
    }

    private int LastQuotedLength()
    {
        for (var i = _fields.Count - 1; i >= 0; i--)
        {
            if (!IsBare(_fields[i].Value))
            {
                return _fields[i].Value.Length;
            }
        }
        return 0;
    }

    private int Format(Span<byte> line, int shortenLastQuotedTo)
    {
        var pos = 0;
        var lastQuoted = -1;
        for (var i = 0; i < _fields.Count; i++)
        {
            if (!IsBare(_fields[i].Value))
            {
                lastQuoted = i;
            }
        }
        pos = Append(line, pos, _verb);
        for (var i = 0; i < _fields.Count; i++)
        {
            var (key, value) = _fields[i];
            pos = Append(line, pos, " ");
            pos = Append(line, pos, key);
            pos = Append(line, pos, "=");
            if (IsBare(value))
            {
                pos = Append(line, pos, value);
                continue;
            }
            var shown = value.AsSpan();
            var ellipsis = false;
            if (i == lastQuoted && shown.Length > shortenLastQuotedTo)
            {
                shown = shown[..shortenLastQuotedTo];
                ellipsis = true;
            }
            pos = Append(line, pos, "\"");
            foreach (var c in shown)
            {
                if (pos >= line.Length - 8)
                {
                    break;
                }
                if (c is '"' or '\\')
                {
                    line[pos++] = (byte)'\\';
                }
                line[pos++] = c is >= ' ' and <= '~' ? (byte)c : (byte)'?';
            }
            if (ellipsis)
            {
                pos = Append(line, pos, "...");
            }
            pos = Append(line, pos, "\"");
        }
        pos = Math.Min(pos, line.Length - 1);
        line[pos++] = (byte)'\n';
        return pos;
    }

    private static int Append(Span<byte> line, int pos, string text)
    {
        foreach (var c in text)
        {
            if (pos >= line.Length - 1)
            {
                break;
            }
            line[pos++] = (byte)c;
        }
        return pos;
    }

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
