namespace Wasmorch.Gateway.Build;

/// <param name="Module">The module as devices get it: custom sections stripped (<see cref="BuildOptions.KeepNames"/>).</param>
/// <param name="LinkedSize">Its size as the compiler linked it, before stripping.</param>
/// <param name="OptimizedSize">Its size after <c>wasm-opt -Oz</c>, before stripping (null: not asked, <see cref="BuildOptions.WasmOpt"/>).</param>
public sealed record CompileResult(byte[] Module, string Diagnostics, TimeSpan Elapsed, int LinkedSize, int? OptimizedSize = null);

/// <summary>
/// C → wasm with clang, the seed's flags (<see cref="BuildOptions"/>). Each compile runs in a fresh
/// directory that holds only the source and the SDK header (wasmorch.h, embedded in this assembly);
/// diagnostics name the user's file, not the scratch path.
/// </summary>
public sealed class ClangCompiler : IModuleCompiler
{
    private readonly ClangDriver _driver;

    /// <param name="wasmOpt">binaryen's optimizer, run only for builds that ask (<see cref="BuildOptions.WasmOpt"/>).</param>
    public ClangCompiler(string clang, TimeSpan timeout, Sandbox? sandbox = null, string wasmOpt = "wasm-opt")
        : this(clang, timeout, sandbox, new WasmOptimizer(wasmOpt, timeout, sandbox))
    {
    }

    public ClangCompiler(string clang, TimeSpan timeout, Sandbox? sandbox, WasmOptimizer optimizer) =>
        _driver = new ClangDriver(clang, timeout, sandbox, optimizer);

    public SourceLanguage Language => SourceLanguage.C;

    public static ReadOnlySpan<byte> Header => ClangDriver.Header;

    public string BindingsSha256 { get; } = BuildService.Sha256(ClangDriver.Header);

    /// <summary>clang's version line: part of every cache key, so a new compiler never reuses old artifacts.</summary>
    public Task<string> IdentityAsync() => _driver.IdentityAsync();

    public Task<string> IdentityAsync(BuildOptions options) => _driver.Optimizer.WithAsync(_driver.IdentityAsync(), options);

    public Task<CompileResult> CompileAsync(ModuleSource source, BuildOptions options, CancellationToken ct) =>
        _driver.CompileAsync(source, Language, ["-x", "c"], options, ct);

    public Task<CompileResult> CompileAsync(string source, string sourceName, CancellationToken ct, BuildOptions? options = null) =>
        CompileAsync(new ModuleSource(source, sourceName), options ?? BuildOptions.Seed, ct);
}
