using System.CommandLine;
using Tomlyn;
using Tomlyn.Model;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Cli.Commands;

/// <summary>
/// Build options from the command line or from a manifest next to the source (math_ops.c →
/// math_ops.toml: opt_level, stack_size, exports, keep_names, wasm_opt). The command line wins.
/// </summary>
public sealed class BuildFlags
{
    private readonly Option<string> _opt = new("--opt-level") { Description = "clang optimisation: 0, 1, 2, 3 (default), s, z" };
    private readonly Option<int?> _stack = new("--stack-size") { Description = "The module's stack in bytes (default 2048)" };
    private readonly Option<string[]> _exports = new("--export") { Description = "Export this function too (besides WASMORCH_EXPORT ones); repeatable" };
    private readonly Option<bool> _keepNames = new("--keep-names") { Description = "Keep the module's name section (function names in traps); by default every custom section is stripped" };
    private readonly Option<string> _lang = new("--lang") { Description = "The source's language when its extension does not say: c, cpp, rust, as (by extension: .c; .cc .cpp .cxx; .rs; .ts)" };
    private readonly Option<bool> _wasmOpt = new("--wasm-opt") { Description = "Shrink the module with binaryen's wasm-opt -Oz after linking (the gateway, or this machine for build, must have binaryen)" };

    public void AddTo(Command command)
    {
        command.Options.Add(_opt);
        command.Options.Add(_stack);
        command.Options.Add(_exports);
        command.Options.Add(_keepNames);
        command.Options.Add(_wasmOpt);
        command.Options.Add(_lang);
    }

    /// <summary>The language --lang names (null: none given); an unknown name is a usage error.</summary>
    public string? Lang(ParseResult pr) =>
        pr.GetValue(_lang) is not { } lang ? null
        : Wasmorch.Gateway.Build.SourceLanguage.All.Any(l => l.Name == lang) ? lang
        : throw new UsageException($"--lang {lang}: not one of {Wasmorch.Gateway.Build.SourceLanguage.Names}");

    /// <summary>The source's language (--lang, else the extension); a file with neither is a usage error.</summary>
    public Wasmorch.Gateway.Build.SourceLanguage LanguageOf(ParseResult pr, FileInfo source) =>
        Client.SourceSet.LanguageOf(source, Lang(pr))
        ?? throw new UsageException($"{source}: no language has the extension '{source.Extension}' ({Wasmorch.Gateway.Build.SourceLanguage.AllExtensions}); name one with --lang ({Wasmorch.Gateway.Build.SourceLanguage.Names})");

    public void Apply(ParseResult pr, FileInfo source, HostRequest request)
    {
        var manifest = ReadManifest(source);
        request.OptLevel = pr.GetValue(_opt) ?? (manifest?.TryGetValue("opt_level", out var o) == true ? Convert.ToString(o, System.Globalization.CultureInfo.InvariantCulture) : null);
        request.StackSize = pr.GetValue(_stack) ?? (manifest?.TryGetValue("stack_size", out var s) == true && s is long l ? (int)l : null);
        var exports = pr.GetValue(_exports) ?? [];
        if (exports.Length == 0 && manifest?.TryGetValue("exports", out var e) == true && e is TomlArray array)
        {
            exports = [.. array.OfType<string>()];
        }
        request.Exports = exports.Length == 0 ? null : [.. exports];
        request.KeepNames = pr.GetValue(_keepNames) || (manifest?.TryGetValue("keep_names", out var k) == true && k is true);
        request.Lang = Lang(pr);
        request.WasmOpt = pr.GetValue(_wasmOpt) || (manifest?.TryGetValue("wasm_opt", out var w) == true && w is true);
    }

    private static TomlTable? ReadManifest(FileInfo source)
    {
        var path = Path.ChangeExtension(source.FullName, ".toml");
        if (!File.Exists(path))
        {
            return null;
        }
        TomlTable? manifest;
        try
        {
            manifest = TomlSerializer.Deserialize<TomlTable>(File.ReadAllText(path), Wasmorch.Gateway.Config.TomlModelContext.Default);
        }
        catch (TomlException ex)
        {
            throw new UsageException($"module manifest {path}: {ex.Message}");
        }
        // A misspelt key would be a build option silently not applied.
        if (manifest?.Keys.FirstOrDefault(k => !ManifestKeys.Contains(k)) is { } unknown)
        {
            throw new UsageException($"module manifest {path}: unknown key '{unknown}' (known: {string.Join(", ", ManifestKeys)})");
        }
        return manifest;
    }

    private static readonly string[] ManifestKeys = ["opt_level", "stack_size", "exports", "keep_names", "wasm_opt"];
}
