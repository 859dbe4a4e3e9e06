using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Wasmorch.Protocol.HostApi;
using Wasmorch.Protocol.Modules;

namespace Wasmorch.Gateway.Build;

/// <param name="Module">The module as devices get it: custom sections stripped (<see cref="BuildOptions.KeepNames"/>).</param>
/// <param name="LinkedSize">Its size as clang linked it, before stripping.</param>
public sealed record CompileResult(byte[] Module, string Diagnostics, TimeSpan Elapsed, int LinkedSize);

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

    private readonly Sandbox? _sandbox;

    public ClangCompiler(string clang, TimeSpan timeout, Sandbox? sandbox = null)
    {
        _clang = clang;
        _timeout = timeout;
        _sandbox = sandbox;
        _identity = new Lazy<Task<string>>(() => ToolRunner.VersionAsync(_clang, "--version"));
    }

    public static ReadOnlySpan<byte> Header => SdkHeader.Value;

    /// <summary>clang's version line: part of every cache key, so a new compiler never reuses old artifacts.</summary>
    public Task<string> IdentityAsync() => _identity.Value;

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
            await File.WriteAllTextAsync(Path.Combine(dir.FullName, BuildOptions.LayoutSource), BuildOptions.LayoutSourceText, ct);
            // No byte-order mark: clang would count it as text on line 1 (diagnostics showing <U+FEFF>, columns off by 3).
            await File.WriteAllTextAsync(Path.Combine(dir.FullName, sourceName), source, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), ct);
            var run = await ToolRunner.RunAsync(_clang, [.. options.ClangArguments(), "-fno-color-diagnostics", "-I", "include", "-o", "module.wasm", sourceName],
                dir.FullName, _timeout, $"compiler '{_clang}' is not available; install clang and lld (apt-get install clang lld) or set [build] clang in wasmorch.toml", ct, _sandbox);
            var diagnostics = run.Stderr.Replace(dir.FullName + Path.DirectorySeparatorChar, string.Empty, StringComparison.Ordinal);
            var output = Path.Combine(dir.FullName, "module.wasm");
            if (run.ExitCode != 0 || !File.Exists(output))
            {
                throw new GatewayException(HostErrorCodes.CompileError, Summarize(diagnostics, sourceName), diagnostics);
            }
            var linked = await File.ReadAllBytesAsync(output, ct);
            // A device needs no names, producers or debug info: they cost upload time and flash.
            var stripped = WasmBinary.StripCustomSections(linked, options.KeepNames)
                ?? throw new GatewayException(HostErrorCodes.CompileError, $"clang wrote a module that is not well-formed wasm ({linked.Length} bytes)");
            return new CompileResult(stripped, diagnostics, clock.Elapsed, linked.Length);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

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
