using System.Text.RegularExpressions;
using Wasmorch.Gateway.Build;

namespace Wasmorch.Cli.Client;

/// <summary>
/// What the CLI sends the gateway to build a source in any language, and what <c>watch</c> watches:
/// C and C++ as one translation unit with their own headers written in (<see cref="SourceBundle"/>);
/// a Rust module with the files its <c>mod x;</c> items load (x.rs or x/mod.rs, as rustc finds
/// them), an AssemblyScript module with the files it imports by a relative path (<c>"./x"</c>),
/// each sent under its path relative to the source's folder, so that rustc's and asc's
/// diagnostics name them and their lines. Only files inside the source's folder are read: an
/// import leaving it (or a symlink leading out of it) is a <see cref="SourceRefusedException"/>
/// naming the importing file and line.
/// </summary>
public sealed partial class SourceSet
{
    private const int MaxFiles = 64;

    private readonly string _root;
    private readonly string _realRoot;
    private readonly Dictionary<string, string> _files = new(StringComparer.Ordinal);
    private readonly List<string> _read = [];

    private SourceSet(string root)
    {
        _root = root;
        _realRoot = RealPath.Of(root);
    }

    public SourceLanguage Language { get; private init; } = SourceLanguage.C;

    /// <summary>The main source's text (for C and C++, with its headers written in).</summary>
    public string Text { get; private set; } = string.Empty;

    /// <summary>The other files, by path relative to the source's folder ('/' separated).</summary>
    public Dictionary<string, string>? Files => _files.Count == 0 ? null : _files;

    /// <summary>Every file read, as full paths: what <c>watch</c> watches.</summary>
    public IReadOnlyCollection<string> Watched => _read;

    /// <summary>The language of <paramref name="source"/> by <paramref name="lang"/> or its extension; null when neither names one (not a source).</summary>
    public static SourceLanguage? LanguageOf(FileInfo source, string? lang) =>
        lang is null ? SourceLanguage.OfFile(source.Name) : SourceLanguage.All.FirstOrDefault(l => l.Name == lang);

    /// <param name="bundleHeaders">C/C++: write the source's own headers in (run, watch); false sends the text as it is (build-and-deploy).</param>
    public static async Task<SourceSet> ReadAsync(FileInfo source, SourceLanguage language, bool bundleHeaders, CancellationToken ct)
    {
        var set = new SourceSet(Path.GetDirectoryName(source.FullName)!) { Language = language };
        if (language == SourceLanguage.C || language == SourceLanguage.Cpp)
        {
            if (bundleHeaders)
            {
                var bundle = await SourceBundle.ReadAsync(source.FullName, ct);
                set.Text = bundle.Text;
                set._read.AddRange(bundle.Files);
            }
            else
            {
                set.Text = await File.ReadAllTextAsync(source.FullName, ct);
                set._read.Add(source.FullName);
            }
            return set;
        }
        set._read.Add(source.FullName);
        set.Text = await File.ReadAllTextAsync(source.FullName, ct);
        if (language == SourceLanguage.Rust)
        {
            await set.FollowRustAsync(source.FullName, set.Text, set._root, ct);
        }
        else
        {
            await set.FollowImportsAsync(source.FullName, set.Text, ct);
        }
        return set;
    }

    /// <summary>
    /// <c>mod x;</c> in a file whose modules live in <paramref name="moduleDir"/>: x.rs (whose own
    /// modules live in x/) or x/mod.rs. A module rustc will not find is left for rustc to report.
    /// </summary>
    private async Task FollowRustAsync(string file, string text, string moduleDir, CancellationToken ct)
    {
        foreach (var (name, line) in Matches(RustMod(), text))
        {
            var candidates = new[] { (Path.Combine(moduleDir, name + ".rs"), Path.Combine(moduleDir, name)), (Path.Combine(moduleDir, name, "mod.rs"), Path.Combine(moduleDir, name)) };
            foreach (var (path, dir) in candidates)
            {
                if (!File.Exists(path))
                {
                    continue;
                }
                if (await AddAsync(file, line, $"mod {name};", path, ct) is { } content)
                {
                    await FollowRustAsync(path, content, dir, ct);
                }
                break;
            }
        }
    }

    /// <summary><c>import … from "./x"</c>, <c>export … from "./x"</c>, <c>import "./x"</c>: x.ts or x/index.ts beside the importing file.</summary>
    private async Task FollowImportsAsync(string file, string text, CancellationToken ct)
    {
        foreach (var (spec, line) in Matches(TsImport(), text))
        {
            if (!spec.StartsWith("./", StringComparison.Ordinal) && !spec.StartsWith("../", StringComparison.Ordinal))
            {
                continue; // "wasmorch" and the standard library: the compiler's own
            }
            var target = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(file)!, spec));
            var path = new[] { target + ".ts", target, Path.Combine(target, "index.ts") }.FirstOrDefault(File.Exists);
            if (path is not null && await AddAsync(file, line, $"import \"{spec}\"", path, ct) is { } content)
            {
                await FollowImportsAsync(path, content, ct);
            }
            else if (path is null && !IsWithin(target))
            {
                throw Refused(file, line, $"import \"{spec}\"", "it names a file outside the source's folder");
            }
        }
    }

    /// <summary>Reads <paramref name="path"/> once (null when already read); refused when it is outside the source's folder.</summary>
    private async Task<string?> AddAsync(string includer, int line, string what, string path, CancellationToken ct)
    {
        if (!IsWithin(path))
        {
            throw Refused(includer, line, what, "it names a file outside the source's folder");
        }
        var real = RealPath.Of(path);
        if (!RealPath.IsWithin(real, _realRoot))
        {
            throw Refused(includer, line, what, $"it is a symbolic link to {real}, outside the source's folder");
        }
        if (_read.Contains(path))
        {
            return null;
        }
        if (_files.Count >= MaxFiles)
        {
            throw new IOException($"{Relative(includer)}:{line}: more than {MaxFiles} files beside the source");
        }
        var content = await File.ReadAllTextAsync(path, ct);
        _read.Add(path);
        _files[Relative(path).Replace('\\', '/')] = content;
        return content;
    }

    private bool IsWithin(string path) => RealPath.IsWithin(Path.GetFullPath(path), _root);

    private string Relative(string path) => Path.GetRelativePath(_root, path);

    private SourceRefusedException Refused(string includer, int line, string what, string why) =>
        new($"{Relative(includer)}:{line}: {what} is refused: {why}; only files inside {_root} are sent with the source");

    /// <summary>Each match's first group with its 1-based line.</summary>
    private static IEnumerable<(string Value, int Line)> Matches(Regex pattern, string text)
    {
        foreach (Match m in pattern.Matches(text))
        {
            var group = m.Groups[1];
            yield return (group.Value, 1 + text.AsSpan(0, group.Index).Count('\n'));
        }
    }

    [GeneratedRegex(@"^[ \t]*(?:#\[[^\]\n]*\][ \t]*)*(?:pub(?:\([^)\n]*\))?[ \t]+)?mod[ \t]+([A-Za-z_][A-Za-z0-9_]*)[ \t]*;", RegexOptions.Multiline)]
    private static partial Regex RustMod();

    [GeneratedRegex("""^[ \t]*(?:(?:import|export)\b[^;"']*?\bfrom[ \t]*|import[ \t]*)["']([^"'\n]+)["']""", RegexOptions.Multiline)]
    private static partial Regex TsImport();
}
