using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.Build;

/// <summary>
/// Rust → wasm with rustc alone (no cargo, no registry): <c>#![no_std]</c> modules built as a
/// <c>cdylib</c> for wasm32-unknown-unknown with the board's memory layout. The <c>wasmorch</c>
/// crate (modules/include/wasmorch.rs: the natives, safe wrappers, the panic handler) is built
/// beside every source in the same sandbox and given to it with <c>--extern</c>; the source's own
/// <c>mod</c> files are the files the host sent beside it. Both steps are cached as one build.
/// </summary>
public sealed partial class RustCompiler : IModuleCompiler
{
    private static readonly Lazy<byte[]> Crate = new(() => Bindings.Read("wasmorch.rs"));

    /// <summary>Where the bindings go in the scratch directory: a name no file of the host's can have (they start with a letter, digit or _).</summary>
    private const string SdkDir = ".sdk";

    private readonly string _rustc;
    private readonly TimeSpan _timeout;
    private readonly Sandbox? _sandbox;
    private readonly WasmOptimizer _optimizer;
    private readonly Lazy<Task<string>> _identity;

    public RustCompiler(string rustc, TimeSpan timeout, Sandbox? sandbox, WasmOptimizer optimizer)
    {
        _rustc = rustc;
        _timeout = timeout;
        _sandbox = sandbox;
        _optimizer = optimizer;
        _identity = new Lazy<Task<string>>(() => ToolRunner.VersionAsync(_rustc, "--version"));
    }

    public SourceLanguage Language => SourceLanguage.Rust;

    public string BindingsSha256 { get; } = BuildService.Sha256(Crate.Value);

    public Task<string> IdentityAsync(BuildOptions options) => _optimizer.WithAsync(_identity.Value, options);

    public static string Missing(string rustc) =>
        $"Rust compiler '{rustc}' is not available; install Debian's rustc and its wasm32 standard library (apt-get install rustc libstd-rust-dev-wasm32) or set [build] rustc in wasmorch.toml";

    public static string MissingStd(string rustc) =>
        $"Rust compiler '{rustc}' has no standard library for wasm32-unknown-unknown; install it (apt-get install libstd-rust-dev-wasm32) or set [build] rustc to a rustc that has it";

    public async Task<CompileResult> CompileAsync(ModuleSource source, BuildOptions options, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        using var build = await ScratchBuild.CreateAsync(source, Language, options, ct);
        await build.WriteAsync($"{SdkDir}/wasmorch.rs", Crate.Value, ct);
        string[] common =
        [
            "--edition", "2021",
            "--target", "wasm32-unknown-unknown",
            "-C", "opt-level=" + options.OptLevel,
            // A panic is the panic handler's log line and a trap: no unwinding tables on a board.
            "-C", "panic=abort",
            "--color", "never",
        ];
        var crate = await ToolRunner.RunAsync(_rustc, [.. common, "--crate-type=rlib", "--crate-name", "wasmorch", "-o", $"{SdkDir}/libwasmorch.rlib", $"{SdkDir}/wasmorch.rs"],
            build.Dir, _timeout, Missing(_rustc), ct, _sandbox);
        if (crate.ExitCode != 0 || !File.Exists(build.PathOf($"{SdkDir}/libwasmorch.rlib")))
        {
            throw ToolchainOrCompileError(build.WithoutScratch(crate.Stderr), "rustc failed to build the wasmorch crate");
        }
        string[] link =
        [
            "-C", "link-arg=--initial-memory=65536",
            "-C", "link-arg=--max-memory=65536",
            "-C", "link-arg=--stack-first",
            "-C", "link-arg=-zstack-size=" + options.StackSize.ToString(CultureInfo.InvariantCulture),
            // Where data ends (BuildOptions.LinkArguments says why WAMR wants it).
            "-C", "link-arg=--export=__heap_base",
            "-C", "link-arg=--export=__data_end",
            .. options.Exports.SelectMany(e => new[] { "-C", "link-arg=--export=" + e }),
        ];
        // The crate is named "module" whatever the file is called: math-ops.rs is not a crate name.
        var compile = await ToolRunner.RunAsync(_rustc, [.. common, "--crate-type=cdylib", "--crate-name", "module", "--extern", $"wasmorch={SdkDir}/libwasmorch.rlib", .. link, "-o", "module.wasm", source.Name],
            build.Dir, _timeout, Missing(_rustc), ct, _sandbox);
        var diagnostics = build.WithoutScratch(compile.Stderr);
        if (compile.ExitCode != 0 || !File.Exists(build.PathOf("module.wasm")))
        {
            throw ToolchainOrCompileError(diagnostics, $"rustc failed to compile {source.Name}");
        }
        return await build.FinishAsync("module.wasm", diagnostics, clock.Elapsed, _optimizer, options, ct);
    }

    /// <summary>
    /// rustc's diagnostics as a COMPILE_ERROR whose message is the first error where it is:
    /// <c>math.rs:3:5: error[E0308]: mismatched types</c> (rustc prints the place on the next line, after <c>--&gt;</c>).
    /// A rustc without the wasm32 standard library is told what to install.
    /// </summary>
    private GatewayException ToolchainOrCompileError(string diagnostics, string fallback)
    {
        if (diagnostics.Contains("can't find crate for `core`", StringComparison.Ordinal))
        {
            return new GatewayException(HostErrorCodes.CompileError, MissingStd(_rustc), diagnostics);
        }
        var lines = diagnostics.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            if (!lines[i].StartsWith("error", StringComparison.Ordinal) || lines[i].StartsWith("error: aborting", StringComparison.Ordinal))
            {
                continue;
            }
            var message = lines[i].Trim();
            if (message == "error: `#[panic_handler]` function required, but not found")
            {
                message += " (a Rust module links the wasmorch crate, which has it: add `use wasmorch as _;`)";
            }
            for (var j = i + 1; j < lines.Length && j <= i + 3; j++)
            {
                if (Place().Match(lines[j]) is { Success: true } place)
                {
                    return new GatewayException(HostErrorCodes.CompileError, $"{place.Groups[1].Value}: {message}", diagnostics);
                }
            }
            return new GatewayException(HostErrorCodes.CompileError, message, diagnostics);
        }
        return new GatewayException(HostErrorCodes.CompileError, fallback, diagnostics);
    }

    [GeneratedRegex(@"^\s*-->\s*(\S+:\d+:\d+)")]
    private static partial Regex Place();
}
