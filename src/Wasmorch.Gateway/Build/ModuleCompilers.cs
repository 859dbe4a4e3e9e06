namespace Wasmorch.Gateway.Build;

/// <summary>The gateway's compilers, one per language; a source goes to its language's (<see cref="SourceLanguage.Of"/>).</summary>
public sealed class ModuleCompilers
{
    private readonly Dictionary<SourceLanguage, IModuleCompiler> _byLanguage;

    public ModuleCompilers(params IModuleCompiler[] compilers) => _byLanguage = compilers.ToDictionary(c => c.Language);

    /// <summary>Every language's compiler with the tools a gateway's [build] section names.</summary>
    public static ModuleCompilers Create(BuildTools tools, TimeSpan timeout, Sandbox? sandbox)
    {
        var optimizer = new WasmOptimizer(tools.WasmOpt, timeout, sandbox);
        return new ModuleCompilers(
            new ClangCompiler(tools.Clang, timeout, sandbox, optimizer),
            new CppCompiler(tools.Clang, timeout, sandbox, optimizer),
            new RustCompiler(tools.Rustc, timeout, sandbox, optimizer),
            new AssemblyScriptCompiler(tools.Node, tools.Asc, timeout, sandbox, optimizer));
    }

    public IReadOnlyCollection<IModuleCompiler> All => _byLanguage.Values;

    public ClangCompiler C => (ClangCompiler)_byLanguage[SourceLanguage.C];

    public IModuleCompiler For(SourceLanguage language) => _byLanguage[language];
}

/// <summary>The build tools a gateway runs ([build] in wasmorch.toml): each language's compiler and binaryen.</summary>
/// <param name="Rustc">Debian's rustc by default: its wasm32 standard library is under /usr, which the sandbox shows (a rustup proxy needs ~/.rustup, which it does not).</param>
/// <param name="Asc">The AssemblyScript compiler's bin/asc.js (null: the one scripts/setup.sh installs in tools/assemblyscript).</param>
public sealed record BuildTools(string Clang = "clang", string WasmOpt = "wasm-opt", string Rustc = BuildTools.DebianRustc, string Node = "node", string? Asc = null)
{
    public const string DebianRustc = "/usr/bin/rustc";
}
