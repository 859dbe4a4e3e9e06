using System.Text;
using System.Text.RegularExpressions;
using Wasmorch.Protocol.HostApi;
using Wasmorch.Protocol.Modules;

namespace Wasmorch.Gateway.Build;

/// <summary>
/// What every language's compiler does around its own tool: a fresh scratch directory holding only
/// what the host sent (and the bindings), diagnostics without the scratch path, the first error as
/// the message, and the finished module: <c>wasm-opt -Oz</c> when asked, custom sections stripped.
/// </summary>
internal sealed partial class ScratchBuild : IDisposable
{
    /// <summary>At most this many files beside the source (a Rust module's mod files, AssemblyScript imports).</summary>
    public const int MaxFiles = 64;

    private ScratchBuild(DirectoryInfo dir) => Dir = dir.FullName;

    public string Dir { get; }

    /// <summary>A scratch directory with the host's source and files in it, written as UTF-8 without a byte-order mark.</summary>
    public static async Task<ScratchBuild> CreateAsync(ModuleSource source, SourceLanguage language, BuildOptions options, CancellationToken ct)
    {
        if (!IsValidSourceName(source.Name, language, options.Lang is not null))
        {
            throw new GatewayException(HostErrorCodes.BadRequest,
                $"source name '{source.Name}' must be a plain file name (letters, digits, _ . -) with a {language.Title} extension ({string.Join(", ", language.Extensions)}) or lang set");
        }
        if (source.Files.Count > MaxFiles)
        {
            throw new GatewayException(HostErrorCodes.BadRequest, $"{source.Files.Count} files beside the source; at most {MaxFiles}");
        }
        foreach (var name in source.Files.Keys)
        {
            if (!IsValidRelativePath(name) || name == source.Name)
            {
                throw new GatewayException(HostErrorCodes.BadRequest,
                    $"file name '{name}' beside the source must be a relative path inside the source's folder (segments of letters, digits, _ . -; no '..', no absolute path)");
            }
        }
        var build = new ScratchBuild(Directory.CreateTempSubdirectory("wasmorch-build-"));
        try
        {
            // No byte-order mark: compilers count it as text on line 1 (columns off by 3).
            await build.WriteAsync(source.Name, source.Text, ct);
            foreach (var (name, text) in source.Files)
            {
                await build.WriteAsync(name, text, ct);
            }
            return build;
        }
        catch
        {
            build.Dispose();
            throw;
        }
    }

    public async Task WriteAsync(string relativePath, string text, CancellationToken ct)
    {
        var path = Path.Combine(Dir, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllTextAsync(path, text, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), ct);
    }

    public Task WriteAsync(string relativePath, byte[] bytes, CancellationToken ct)
    {
        var path = Path.Combine(Dir, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        return File.WriteAllBytesAsync(path, bytes, ct);
    }

    public string PathOf(string relativePath) => Path.Combine(Dir, relativePath);

    /// <summary>A tool's output with the scratch directory's path taken out: diagnostics name the user's files, not ours.</summary>
    public string WithoutScratch(string output) => output.Replace(Dir + Path.DirectorySeparatorChar, string.Empty, StringComparison.Ordinal);

    /// <summary>The module a tool wrote at <paramref name="output"/>, after wasm-opt when asked, stripped for a device.</summary>
    /// <param name="features">wasm-opt's feature flags for a module without a target_features section (see <see cref="WasmOptimizer"/>).</param>
    public async Task<CompileResult> FinishAsync(string output, string diagnostics, TimeSpan started, WasmOptimizer optimizer, BuildOptions options, CancellationToken ct, IReadOnlyList<string>? features = null)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var linked = await File.ReadAllBytesAsync(PathOf(output), ct);
        var module = linked;
        int? optimizedSize = null;
        if (options.WasmOpt)
        {
            module = await optimizer.OptimizeAsync(this, output, options.KeepNames, features ?? [], ct);
            optimizedSize = module.Length;
        }
        // A device needs no names, producers or debug info: they cost upload time and flash.
        var stripped = WasmBinary.StripCustomSections(module, options.KeepNames)
            ?? throw new GatewayException(HostErrorCodes.CompileError, $"the build wrote a module that is not well-formed wasm ({module.Length} bytes)");
        return new CompileResult(stripped, diagnostics, started + clock.Elapsed, linked.Length, optimizedSize);
    }

    /// <summary>A COMPILE_ERROR whose message is the first error line (what a user needs first) and whose details are all diagnostics.</summary>
    public static GatewayException CompileError(string diagnostics, string fallback)
    {
        foreach (var line in diagnostics.Split('\n'))
        {
            if (line.Contains("error:", StringComparison.Ordinal) || line.StartsWith("ERROR", StringComparison.Ordinal))
            {
                return new GatewayException(HostErrorCodes.CompileError, line.Trim(), diagnostics);
            }
        }
        return new GatewayException(HostErrorCodes.CompileError, fallback, diagnostics);
    }

    /// <summary>A plain file name; with an extension of its language, unless the request named the language (then any).</summary>
    public static bool IsValidSourceName(string name, SourceLanguage language, bool named) =>
        SourceName().IsMatch(name) && (named || language.Extensions.Contains(Path.GetExtension(name), StringComparer.OrdinalIgnoreCase));

    /// <summary>a/b.rs: segments a file system takes as names, none of them '.' or '..'.</summary>
    public static bool IsValidRelativePath(string path) =>
        path.Length <= 200 && path.Split('/').All(segment => SourceName().IsMatch(segment) && segment is not ("." or ".."));

    public void Dispose() => Directory.Delete(Dir, recursive: true);

    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")]
    private static partial Regex SourceName();
}
