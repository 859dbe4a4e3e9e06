using System.Globalization;
using System.Text;

namespace Wasmorch.Testing;

/// <summary>One step of a transcript vector: bytes to send ('>'), time to let pass ('~'), or a line to expect ('<').</summary>
public sealed record VectorStep(char Kind, int LineNumber, byte[] Bytes, int Milliseconds, string Expected);

/// <summary>
/// One case of docs/protocol-vectors.txt (the file's header says the format). The firmware core's
/// test_vectors.c reads the same file with the same rules.
/// </summary>
public sealed record TranscriptVector(string Name, bool Baseline, byte[]? LinkKey, IReadOnlyList<VectorStep> Steps)
{
    /// <summary>The nonce an agent with a link key sends in the vectors: bytes 0, 1, 2, ... 15.</summary>
    public const string PredictableNonce = "000102030405060708090a0b0c0d0e0f";
}

/// <summary>Reads docs/protocol-vectors.txt.</summary>
public static class TranscriptVectors
{
    public static IReadOnlyList<TranscriptVector> ReadAll(string path)
    {
        var vectors = new List<TranscriptVector>();
        List<VectorStep>? steps = null;
        var lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (line.StartsWith("case ", StringComparison.Ordinal))
            {
                var spec = line[5..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                steps = [];
                var key = spec.FirstOrDefault(s => s.StartsWith("key=", StringComparison.Ordinal));
                vectors.Add(new TranscriptVector(spec[0], spec.Contains("baseline"), key is null ? null : Convert.FromHexString(key[4..]), steps));
            }
            else if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }
            else if (steps is null)
            {
                throw new FormatException($"protocol-vectors.txt:{lineNumber}: a step before the first case");
            }
            else
            {
                steps.Add(ParseStep(line, lineNumber));
            }
        }
        return vectors;
    }

    private static VectorStep ParseStep(string line, int lineNumber)
    {
        if (line.StartsWith(">> ", StringComparison.Ordinal))
        {
            return Send(lineNumber, Unescape(line[3..]));
        }
        if (line.StartsWith(">fill ", StringComparison.Ordinal))
        {
            var parts = line[6..].Split(' ');
            return Send(lineNumber, Enumerable.Repeat((byte)parts[1][0], int.Parse(parts[0], CultureInfo.InvariantCulture)).ToArray());
        }
        if (line.StartsWith(">payload ", StringComparison.Ordinal))
        {
            return Send(lineNumber, Convert.FromHexString(line[9..]));
        }
        if (line == ">" || line.StartsWith("> ", StringComparison.Ordinal))
        {
            return Send(lineNumber, Encoding.ASCII.GetBytes((line.Length > 1 ? line[2..] : "") + "\n"));
        }
        if (line.StartsWith("~ ", StringComparison.Ordinal))
        {
            return new VectorStep('~', lineNumber, [], int.Parse(line[2..], CultureInfo.InvariantCulture), "");
        }
        if (line.StartsWith("< ", StringComparison.Ordinal))
        {
            return new VectorStep('<', lineNumber, [], 0, line[2..]);
        }
        throw new FormatException($"protocol-vectors.txt:{lineNumber}: unknown directive '{line}'");
    }

    private static VectorStep Send(int lineNumber, byte[] bytes) => new('>', lineNumber, bytes, 0, "");

    /// <summary>\t \r \n \\ \xHH.</summary>
    private static byte[] Unescape(string text)
    {
        var bytes = new List<byte>();
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] != '\\' || i + 1 == text.Length)
            {
                bytes.Add((byte)text[i]);
                continue;
            }
            var c = text[++i];
            switch (c)
            {
                case 't': bytes.Add((byte)'\t'); break;
                case 'r': bytes.Add((byte)'\r'); break;
                case 'n': bytes.Add((byte)'\n'); break;
                case 'x':
                    bytes.Add(byte.Parse(text.AsSpan(i + 1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                    i += 2;
                    break;
                default: bytes.Add((byte)c); break;
            }
        }
        return [.. bytes];
    }

    /// <summary>Byte for byte, except that "=*" ending a field of <paramref name="expected"/> matches any value.</summary>
    public static bool Matches(string expected, string actual)
    {
        int e = 0, a = 0;
        while (e < expected.Length)
        {
            if (expected[e] == '=' && e + 1 < expected.Length && expected[e + 1] == '*' && (e + 2 == expected.Length || expected[e + 2] == ' '))
            {
                if (a == actual.Length || actual[a] != '=')
                {
                    return false;
                }
                a = SkipValue(actual, a + 1);
                e += 2;
                continue;
            }
            if (a == actual.Length || expected[e++] != actual[a++])
            {
                return false;
            }
        }
        return a == actual.Length;
    }

    private static int SkipValue(string s, int i)
    {
        if (i < s.Length && s[i] == '"')
        {
            for (i++; i < s.Length && s[i] != '"'; i++)
            {
                if (s[i] == '\\' && i + 1 < s.Length)
                {
                    i++;
                }
            }
            return Math.Min(i + 1, s.Length);
        }
        while (i < s.Length && s[i] != ' ')
        {
            i++;
        }
        return i;
    }
}
