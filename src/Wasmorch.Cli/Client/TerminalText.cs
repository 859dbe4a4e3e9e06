using System.Globalization;
using System.Text;

namespace Wasmorch.Cli.Client;

/// <summary>
/// Text from a device or from the fleet, made safe to print on a terminal. A log line, an event,
/// a job's message or a fleet record is written by whoever runs a module or sits on the bus: raw,
/// an escape sequence in it could retitle the window, rewrite what is already on screen, or (on
/// some terminals) answer back as typed input. Every control character is shown instead, still
/// visible: C0 and DEL as <c>\x1b</c>, C1 and the bidirectional overrides (which reorder what the
/// reader sees) as <c>\u009b</c>. The <c>\u</c> form is also a JSON escape, so a JSON line stays valid.
/// </summary>
public static class TerminalText
{
    /// <summary>One line of text: newlines and tabs in it are shown too (a device cannot forge a second line).</summary>
    public static string Line(string? text) => Escape(text, keepLayout: false);

    /// <summary>Several lines (diagnostics, a whole printed answer): newlines and tabs kept, every other control shown.</summary>
    public static string Block(string? text) => Escape(text, keepLayout: true);

    /// <summary>A writer that prints everything through <see cref="Block"/>: what a printer writes to the terminal.</summary>
    public static TextWriter Guard(TextWriter inner) => inner is GuardedWriter ? inner : new GuardedWriter(inner);

    private static string Escape(string? text, bool keepLayout)
    {
        if (string.IsNullOrEmpty(text) || !text.Any(c => NeedsEscape(c, keepLayout)))
        {
            return text ?? string.Empty;
        }
        var escaped = new StringBuilder(text.Length + 16);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            // A CRLF pair is a line end (Windows' NewLine), a lone CR would move the cursor back over the line.
            if (keepLayout && c == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
            {
                escaped.Append(c);
            }
            else if (!NeedsEscape(c, keepLayout))
            {
                escaped.Append(c);
            }
            else if (c < 0x80)
            {
                escaped.Append(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}");
            }
            else
            {
                escaped.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            }
        }
        return escaped.ToString();
    }

    private static bool NeedsEscape(char c, bool keepLayout) =>
        (keepLayout && c is '\n' or '\t') ? false
        : c < 0x20 || c is >= '\u007f' and <= '\u009f'
            || c is '\u200e' or '\u200f' or (>= '\u202a' and <= '\u202e') or (>= '\u2066' and <= '\u2069');

    /// <summary>Passes every write through <see cref="Block"/>; flushes and encoding are the inner writer's.</summary>
    private sealed class GuardedWriter(TextWriter inner) : TextWriter(CultureInfo.InvariantCulture)
    {
        public override Encoding Encoding => inner.Encoding;

        public override void Write(char value) => inner.Write(Block(value.ToString()));

        public override void Write(string? value) => inner.Write(Block(value));

        public override void Write(char[] buffer, int index, int count) => inner.Write(Block(new string(buffer, index, count)));

        public override void Write(ReadOnlySpan<char> buffer) => inner.Write(Block(new string(buffer)));

        public override void WriteLine(string? value) => inner.WriteLine(Block(value));

        public override void WriteLine() => inner.WriteLine();

        public override void Flush() => inner.Flush();

        public override Task FlushAsync() => inner.FlushAsync();
    }
}
