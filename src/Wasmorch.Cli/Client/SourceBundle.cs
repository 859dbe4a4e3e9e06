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
/// <c>watch</c> watches. Only files inside the source's folder are ever read: an include naming an
/// absolute path or <c>..</c>, or a header that is a symlink (or under one) leading out of the folder,
/// is a <see cref="SourceRefusedException"/> naming it, and nothing is sent.
/// </summary>
public sealed partial class SourceBundle
{
    /// <summary>How deep headers may include headers before the source is taken for a cycle.</summary>
    private const int MaxDepth = 32;

    private readonly HashSet<string> _files = new(StringComparer.Ordinal);

    /// <summary>The source's folder as the user names it (diagnostics name files relative to it), and where it really is.</summary>
    private readonly string _root;
    private readonly string _realRoot;

    private SourceBundle(string root)
    {
        _root = root;
        _realRoot = RealPath.Of(root);
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
            var header = include.Success ? LocalHeader(path, i + 1, include.Groups[1].Value) : null;
            if (header is null)
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

    /// <summary>
    /// The header <paramref name="name"/> (included by <paramref name="includer"/> at <paramref name="line"/>)
    /// when it is a file inside the source's folder; null when there is none (the gateway's include
    /// path has it: wasmorch.h); refused when the name or the file it leads to is outside the folder.
    /// </summary>
    private string? LocalHeader(string includer, int line, string name)
    {
        if (Path.IsPathRooted(name) || name.Split('/', '\\').Contains(".."))
        {
            throw Refused(includer, line, name, "it names a file outside the source's folder (an absolute path or ..)");
        }
        var header = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(includer)!, name));
        if (!File.Exists(header))
        {
            return null;
        }
        var real = RealPath.Of(header);
        return RealPath.IsWithin(real, _realRoot)
            ? header
            : throw Refused(includer, line, name, $"it is a symbolic link to {real}, outside the source's folder");
    }

    private SourceRefusedException Refused(string includer, int line, string name, string why) =>
        new($"{Path.GetRelativePath(_root, includer)}:{line}: #include \"{name}\" is refused: {why}; only headers inside {_root} are written into the source");

    private static string Quoted(string path) => "\"" + path.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    [GeneratedRegex("""^\s*#\s*include\s*"([^"]+)"\s*(//.*|/\*.*)?$""")]
    private static partial Regex LocalInclude();
}
