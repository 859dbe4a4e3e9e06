using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Wasmorch.Protocol.HostApi;
using Wasmorch.Protocol.Modules;

namespace Wasmorch.Gateway.Build;

/// <param name="Module">The module as devices get it: custom sections stripped (<see cref="BuildOptions.KeepNames"/>).</param>
/// <param name="LinkedSize">Its size as clang linked it, before stripping.</param>
/// <param name="OptimizedSize">Its size after <c>wasm-opt -Oz</c>, before stripping (null: not asked, <see cref="BuildOptions.WasmOpt"/>).</param>
public sealed record CompileResult(byte[] Module, string Diagnostics, TimeSpan Elapsed, int LinkedSize, int? OptimizedSize = null);

/// <summary>
/// Compiles C source sent by a host into a wasm module. Each compile runs in a fresh directory
/// that holds only the source and the SDK header (wasmorch.h, embedded in this assembly);
/// diagnostics name the user's file, not the scratch path.
/// </summary>
public sealed partial class ClangCompiler
{
    private static readonly Lazy<byte[]> SdkHeader = new(() =>
    {
        using var stream = typeof(ClangCompiler).Assembly.GetManifestResourceStream("wasmorch.h")
            ?? throw new InvalidOperationException("wasmorch.h is not embedded in the gateway");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    });

    private readonly string _clang;
    private readonly TimeSpan _timeout;
    private readonly Lazy<Task<string>> _identity;
    private readonly string _wasmOpt;
    private readonly Lazy<Task<string>> _wasmOptIdentity;

    private readonly Sandbox? _sandbox;

    /// <param name="wasmOpt">binaryen's optimizer, run only for builds that ask (<see cref="BuildOptions.WasmOpt"/>).</param>
    public ClangCompiler(string clang, TimeSpan timeout, Sandbox? sandbox = null, string wasmOpt = "wasm-opt")
    {
        _clang = clang;
        _timeout = timeout;
        _sandbox = sandbox;
        _wasmOpt = wasmOpt;
        _identity = new Lazy<Task<string>>(() => ToolRunner.VersionAsync(_clang, "--version"));
        _wasmOptIdentity = new Lazy<Task<string>>(() => ToolRunner.VersionAsync(_wasmOpt, "--version"));
    }

    public static ReadOnlySpan<byte> Header => SdkHeader.Value;

    /// <summary>clang's version line: part of every cache key, so a new compiler never reuses old artifacts.</summary>
    public Task<string> IdentityAsync() => _identity.Value;

    /// <summary>The tools a build with these options runs, by version: part of its cache key.</summary>
    public async Task<string> IdentityAsync(BuildOptions options) =>
        options.WasmOpt ? $"{await _identity.Value} + {await _wasmOptIdentity.Value}" : await _identity.Value;

    private string WasmOptMissing =>
        $"wasm-opt ('{_wasmOpt}') is not available on this gateway; install binaryen (apt-get install binaryen), set [build] wasm_opt in wasmorch.toml, or build without wasm_opt";

    public static bool IsValidSourceName(string name) => SourceNamePattern().IsMatch(name);

    public async Task<CompileResult> CompileAsync(string source, string sourceName, CancellationToken ct, BuildOptions? options = null)
    {
        options ??= BuildOptions.Seed;
        if (!IsValidSourceName(sourceName))
        {
            throw new GatewayException(HostErrorCodes.BadRequest, $"source name '{sourceName}' must be a plain file name ending in .c");
        }
        var clock = Stopwatch.StartNew();
        var dir = Directory.CreateTempSubdirectory("wasmorch-build-");
        try
        {
            Directory.CreateDirectory(Path.Combine(dir.FullName, "include"));
            await File.WriteAllBytesAsync(Path.Combine(dir.FullName, "include", "wasmorch.h"), SdkHeader.Value, ct);
            await File.WriteAllTextAsync(Path.Combine(dir.FullName, BuildOptions.LayoutHeader), BuildOptions.LayoutHeaderText, ct);
            // No byte-order mark: clang would count it as text on line 1 (diagnostics showing <U+FEFF>, columns off by 3).
            await File.WriteAllTextAsync(Path.Combine(dir.FullName, sourceName), source, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), ct);
            var missing = $"compiler '{_clang}' is not available; install clang and lld (apt-get install clang lld) or set [build] clang in wasmorch.toml";
            // The object is named after the source, so that a link error names the user's file.
            var objectName = Path.ChangeExtension(sourceName, ".o");
            var compile = await ToolRunner.RunAsync(_clang, [.. options.CompileArguments(), "-fno-color-diagnostics", "-I", "include", "-o", objectName, sourceName],
                dir.FullName, _timeout, missing, ct, _sandbox);
            var diagnostics = WithoutScratch(compile.Stderr, dir.FullName);
            if (compile.ExitCode != 0 || !File.Exists(Path.Combine(dir.FullName, objectName)))
            {
                throw new GatewayException(HostErrorCodes.CompileError, Summarize(diagnostics, sourceName), diagnostics);
            }
            var link = await ToolRunner.RunAsync(_clang, [.. options.LinkArguments(), "-fno-color-diagnostics", "-o", "module.wasm", objectName],
                dir.FullName, _timeout, missing, ct, _sandbox);
            diagnostics += WithoutScratch(link.Stderr, dir.FullName);
            var output = Path.Combine(dir.FullName, "module.wasm");
            if (link.ExitCode != 0 || !File.Exists(output))
            {
                throw new GatewayException(HostErrorCodes.CompileError, Summarize(diagnostics, sourceName), diagnostics);
            }
            var linked = await File.ReadAllBytesAsync(output, ct);
            var module = linked;
            int? optimizedSize = null;
            if (options.WasmOpt)
            {
                module = await OptimizeAsync(dir.FullName, options.KeepNames, ct);
                optimizedSize = module.Length;
            }
            // A device needs no names, producers or debug info: they cost upload time and flash.
            var stripped = WasmBinary.StripCustomSections(module, options.KeepNames)
                ?? throw new GatewayException(HostErrorCodes.CompileError, $"the build wrote a module that is not well-formed wasm ({module.Length} bytes)");
            return new CompileResult(stripped, diagnostics, clock.Elapsed, linked.Length, optimizedSize);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>
    /// <c>wasm-opt -Oz</c> over the linked module in <paramref name="dir"/>, in the same sandbox as
    /// clang. binaryen reads the module's target_features section (not yet stripped), so it uses
    /// no feature clang did not already use. <c>-g</c> keeps the name section (binaryen drops it otherwise).
    /// </summary>
    private async Task<byte[]> OptimizeAsync(string dir, bool keepNames, CancellationToken ct)
    {
        string[] args = keepNames ? ["-Oz", "-g", "module.wasm", "-o", "module.opt.wasm"] : ["-Oz", "module.wasm", "-o", "module.opt.wasm"];
        var run = await ToolRunner.RunAsync(_wasmOpt, args, dir, _timeout, WasmOptMissing, ct, _sandbox);
        var output = Path.Combine(dir, "module.opt.wasm");
        if (run.ExitCode != 0 || !File.Exists(output))
        {
            var said = WithoutScratch(run.Stderr + run.Stdout, dir).Trim();
            throw new GatewayException(HostErrorCodes.CompileError, $"wasm-opt -Oz failed (exit {run.ExitCode})", said);
        }
        return await File.ReadAllBytesAsync(output, ct);
    }

    /// <summary>A tool's output with the scratch directory's path taken out: diagnostics name the user's files, not ours.</summary>
    private static string WithoutScratch(string output, string dir) => output.Replace(dir + Path.DirectorySeparatorChar, string.Empty, StringComparison.Ordinal);

    /// <summary>The first error line, which is what a user needs to see first.</summary>
    private static string Summarize(string diagnostics, string sourceName)
    {
        foreach (var line in diagnostics.Split('\n'))
        {
            if (line.Contains("error:", StringComparison.Ordinal))
            {
                return line.Trim();
            }
        }
        return $"clang failed to compile {sourceName}";
    }

    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}\.c$")]
    private static partial Regex SourceNamePattern();
}
