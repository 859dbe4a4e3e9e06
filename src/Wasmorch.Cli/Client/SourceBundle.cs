using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Wasmorch.Cli.Client;

/// <summary>
/// A C source as the gateway compiles it: one translation unit. The gateway receives one text, so
/// the source's own headers (<c>#include "x.h"</c> found next to the file that includes it) are
/// written into it here, each once, between <c>#line</c> markers so that clang's diagnostics name
/// the header and its line. Headers not found next to the source (<c>wasmorch.h</c>, the C library)
/// are left to the gateway's include path. <see cref="Files"/> lists every file read: what
/// <c>watch</c> watches.
/// </summary>
public sealed partial class SourceBundle
{
    /// <summary>How deep headers may include headers before the source is taken for a cycle.</summary>
    private const int MaxDepth = 32;

    private readonly HashSet<string> _files = new(StringComparer.Ordinal);

    private readonly string _root;

    private SourceBundle(string root)
    {
        _root = root;
        Text = string.Empty;
    }

    /// <summary>The translation unit to send.</summary>
    public string Text { get; private set; }

    /// <summary>The source and the headers written into it, as full paths.</summary>
    public IReadOnlyCollection<string> Files => _files;

    /// <summary>Reads <paramref name="source"/> and its own headers; an unreadable one is an <see cref="IOException"/> naming it.</summary>
    public static async Task<SourceBundle> ReadAsync(string source, CancellationToken ct)
    {
        var bundle = new SourceBundle(Path.GetDirectoryName(Path.GetFullPath(source))!);
        var text = new StringBuilder();
        await bundle.AppendAsync(Path.GetFullPath(source), text, 0, ct);
        bundle.Text = text.ToString();
        return bundle;
    }

    private async Task AppendAsync(string path, StringBuilder into, int depth, CancellationToken ct)
    {
        if (depth > MaxDepth)
        {
            throw new IOException($"{path}: headers include each other more than {MaxDepth} deep");
        }
        _files.Add(path);
        var lines = await File.ReadAllLinesAsync(path, ct);
        // Diagnostics name files as the user knows them: relative to the source's folder.
        var name = Quoted(Path.GetRelativePath(_root, path));
        if (depth > 0)
        {
            into.Append(CultureInfo.InvariantCulture, $"#line 1 {name}\n");
        }
        for (var i = 0; i < lines.Length; i++)
        {
            var include = LocalInclude().Match(lines[i]);
            var header = include.Success ? Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, include.Groups[1].Value)) : null;
            if (header is null || !File.Exists(header))
            {
                into.Append(lines[i]).Append('\n');
                continue;
            }
            // Written once, as if every header had #pragma once; the line stays as a comment for the reader.
            into.Append("// ").Append(lines[i]).Append('\n');
            if (!_files.Contains(header))
            {
                await AppendAsync(header, into, depth + 1, ct);
            }
            into.Append(CultureInfo.InvariantCulture, $"#line {i + 2} {name}\n");
        }
    }

    private static string Quoted(string path) => "\"" + path.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    [GeneratedRegex("""^\s*#\s*include\s*"([^"]+)"\s*(//.*|/\*.*)?$""")]
    private static partial Regex LocalInclude();
}
