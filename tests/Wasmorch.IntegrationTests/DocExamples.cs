using System.Text;

namespace Wasmorch.IntegrationTests;

/// <summary>A <c>wasmorch</c> command line written in a document or a help text: where, the words a shell would pass, and whether it stands in a fenced block.</summary>
public sealed record DocExample(string Where, string Text, IReadOnlyList<string> Args, bool Fenced, bool Background = false)
{
    public override string ToString() => $"{Where}: {Text}";
}

/// <summary>
/// The <c>wasmorch …</c> commands of README.md and docs/*.md, as a reader would type them: the
/// lines of fenced shell blocks (a leading <c>$ </c> dropped, <c>\</c> continuations joined, a
/// <c># comment</c> cut, <c>;</c>, <c>&amp;&amp;</c> and a trailing <c>&amp;</c> split off). The words are
/// split as sh splits them (quotes). Inline code spans are left out: some show a mistake and its error.
/// </summary>
public static class DocExamples
{
    private static readonly string[] ShellLanguages = ["", "sh", "bash", "shell", "console"];

    public static IEnumerable<string> Documents(string root) =>
        new[] { Path.Combine(root, "README.md") }.Concat(Directory.GetFiles(Path.Combine(root, "docs"), "*.md").Order(StringComparer.Ordinal));

    public static List<DocExample> From(string root)
    {
        var examples = new List<DocExample>();
        foreach (var file in Documents(root))
        {
            var name = Path.GetRelativePath(root, file);
            var lines = File.ReadAllLines(file);
            string? language = null;
            for (var i = 0; i < lines.Length; i++)
            {
                var line = lines[i].Trim();
                if (line.StartsWith("```", StringComparison.Ordinal))
                {
                    language = language is null ? line[3..].Trim() : null;
                    continue;
                }
                if (language is not null)
                {
                    if (!ShellLanguages.Contains(language))
                    {
                        continue;
                    }
                    var start = i + 1;
                    var text = line.StartsWith("$ ", StringComparison.Ordinal) ? line[2..] : line;
                    while (text.EndsWith('\\') && i + 1 < lines.Length)
                    {
                        text = text[..^1] + " " + lines[++i].Trim();
                    }
                    foreach (var (command, background) in Commands(text))
                    {
                        examples.Add(new DocExample($"{name}:{start}", command, Words(command), Fenced: true, background));
                    }
                    continue;
                }
            }
        }
        return examples;
    }

    /// <summary>The wasmorch commands of one shell line: comment cut, split at ; and &amp;&amp;; a trailing &amp; (in the background) noted.</summary>
    private static IEnumerable<(string Command, bool Background)> Commands(string line)
    {
        var parts = new List<string>();
        var current = new StringBuilder();
        char? quote = null;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quote is not null)
            {
                quote = c == quote ? null : quote;
                current.Append(c);
            }
            else if (c is '"' or '\'')
            {
                quote = c;
                current.Append(c);
            }
            else if (c == '#' && (i == 0 || char.IsWhiteSpace(line[i - 1])))
            {
                break;
            }
            else if (c == ';' || (c == '&' && i + 1 < line.Length && line[i + 1] == '&') || (c == '|' && i + 1 < line.Length && line[i + 1] == '|'))
            {
                parts.Add(current.ToString());
                current.Clear();
                i += c == ';' ? 0 : 1;
            }
            else
            {
                current.Append(c);
            }
        }
        parts.Add(current.ToString());
        return parts.Select(p => p.Trim())
            .Select(p => (Command: p.TrimEnd('&').Trim(), Background: p.EndsWith('&')))
            .Where(p => p.Command.StartsWith("wasmorch ", StringComparison.Ordinal) || p.Command == "wasmorch");
    }

    /// <summary>The words sh would pass: split at blanks, quotes removed; the first, "wasmorch", dropped.</summary>
    public static List<string> Words(string command)
    {
        var words = new List<string>();
        var current = new StringBuilder();
        var inWord = false;
        char? quote = null;
        foreach (var c in command)
        {
            if (quote is not null)
            {
                if (c == quote)
                {
                    quote = null;
                }
                else
                {
                    current.Append(c);
                }
            }
            else if (c is '"' or '\'')
            {
                quote = c;
                inWord = true;
            }
            else if (char.IsWhiteSpace(c))
            {
                if (inWord)
                {
                    words.Add(current.ToString());
                    current.Clear();
                    inWord = false;
                }
            }
            else
            {
                current.Append(c);
                inWord = true;
            }
        }
        if (inWord)
        {
            words.Add(current.ToString());
        }
        return words.Skip(1).ToList();
    }
}
