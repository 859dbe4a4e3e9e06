using System.Diagnostics;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.Build;

/// <summary>
/// clang for C and C++ alike: compile (with the language's flags) and link in two steps, so that
/// clang's driver never runs a wasm-opt it finds on PATH by itself (<see cref="BuildOptions.CompileArguments"/>).
/// The scratch directory holds the source, wasmorch.h and the layout header.
/// </summary>
internal sealed class ClangDriver
{
    private static readonly Lazy<byte[]> SdkHeader = new(() => Bindings.Read("wasmorch.h"));

    private readonly string _clang;
    private readonly TimeSpan _timeout;
    private readonly Sandbox? _sandbox;
    private readonly Lazy<Task<string>> _identity;

    public ClangDriver(string clang, TimeSpan timeout, Sandbox? sandbox, WasmOptimizer optimizer)
    {
        _clang = clang;
        _timeout = timeout;
        _sandbox = sandbox;
        Optimizer = optimizer;
        _identity = new Lazy<Task<string>>(() => ToolRunner.VersionAsync(_clang, "--version"));
    }

    public static byte[] Header => SdkHeader.Value;

    public WasmOptimizer Optimizer { get; }

    public Task<string> IdentityAsync() => _identity.Value;

    public async Task<CompileResult> CompileAsync(ModuleSource source, SourceLanguage language, IReadOnlyList<string> languageFlags, BuildOptions options, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        using var build = await ScratchBuild.CreateAsync(source, language, options, ct);
        await build.WriteAsync("include/wasmorch.h", SdkHeader.Value, ct);
        await build.WriteAsync(BuildOptions.LayoutHeader, BuildOptions.LayoutHeaderText, ct);
        var missing = $"compiler '{_clang}' is not available; install clang and lld (apt-get install clang lld) or set [build] clang in wasmorch.toml";
        // The object is named after the source, so that a link error names the user's file.
        var objectName = Path.ChangeExtension(source.Name, ".o");
        var compile = await ToolRunner.RunAsync(_clang, [.. languageFlags, .. options.CompileArguments(), "-fno-color-diagnostics", "-I", "include", "-o", objectName, source.Name],
            build.Dir, _timeout, missing, ct, _sandbox);
        var diagnostics = build.WithoutScratch(compile.Stderr);
        if (compile.ExitCode != 0 || !File.Exists(build.PathOf(objectName)))
        {
            throw ScratchBuild.CompileError(diagnostics, $"clang failed to compile {source.Name}");
        }
        var link = await ToolRunner.RunAsync(_clang, [.. options.LinkArguments(), "-fno-color-diagnostics", "-o", "module.wasm", objectName],
            build.Dir, _timeout, missing, ct, _sandbox);
        diagnostics += build.WithoutScratch(link.Stderr);
        if (link.ExitCode != 0 || !File.Exists(build.PathOf("module.wasm")))
        {
            throw ScratchBuild.CompileError(diagnostics, $"clang failed to link {source.Name}");
        }
        return await build.FinishAsync("module.wasm", diagnostics, clock.Elapsed, Optimizer, options, ct);
    }
}
