namespace Wasmorch.Gateway.Build;

/// <summary>
/// C++ → wasm with clang (the same clang and link as C): C++17 without exceptions or RTTI (no
/// unwinder, no type tables on a board), no C++ library. wasmorch.h declares the natives
/// <c>extern "C"</c>, so a C++ module uses them as a C one does.
/// </summary>
public sealed class CppCompiler : IModuleCompiler
{
    /// <summary>What a module needs no runtime for: exceptions and RTTI would need libc++abi and an unwinder.</summary>
    private static readonly string[] Flags = ["-x", "c++", "-std=c++17", "-fno-exceptions", "-fno-rtti", "-fno-threadsafe-statics"];

    private readonly ClangDriver _driver;

    public CppCompiler(string clang, TimeSpan timeout, Sandbox? sandbox, WasmOptimizer optimizer) =>
        _driver = new ClangDriver(clang, timeout, sandbox, optimizer);

    public SourceLanguage Language => SourceLanguage.Cpp;

    public string BindingsSha256 { get; } = BuildService.Sha256(ClangDriver.Header);

    public Task<string> IdentityAsync(BuildOptions options) => _driver.Optimizer.WithAsync(CompilerIdentityAsync(), options);

    private async Task<string> CompilerIdentityAsync() => $"{await _driver.IdentityAsync()} {string.Join(' ', Flags)}";

    public Task<CompileResult> CompileAsync(ModuleSource source, BuildOptions options, CancellationToken ct) =>
        _driver.CompileAsync(source, Language, Flags, options, ct);
}
