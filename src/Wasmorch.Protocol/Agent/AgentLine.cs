using System.Globalization;
using System.Text;

namespace Wasmorch.Protocol.Agent;

/// <summary>
/// One parsed protocol line: a verb followed by <c>key=value</c> fields, in the order sent.
/// </summary>
public sealed class AgentLine
{
    private readonly KeyValuePair<string, string>[] _fields;

    internal AgentLine(string verb, KeyValuePair<string, string>[] fields)
    {
        Verb = verb;
        _fields = fields;
    }

    public string Verb { get; }

    public IReadOnlyList<KeyValuePair<string, string>> Fields => _fields;

    /// <summary>The value of <paramref name="key"/>, or null when the line does not carry it.</summary>
    public string? this[string key]
    {
        get
        {
            foreach (var field in _fields)
            {
                if (field.Key == key)
                {
                    return field.Value;
                }
            }
            return null;
        }
    }

    public bool Has(string key) => this[key] is not null;

    public bool TryGetInt64(string key, out long value)
    {
        value = 0;
        var text = this[key];
        return text is not null && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>The line as it would be sent, without terminator.</summary>
    public override string ToString()
    {
        var builder = new AgentLineBuilder(Verb);
        foreach (var field in _fields)
        {
            builder.Add(field.Key, field.Value);
        }
        return Encoding.ASCII.GetString(builder.ToBytes()).TrimEnd('\n');
    }
}
