namespace Wasmorch.Gateway.Build;

/// <summary>
/// What a host sent to build: the main source's text and file name, and the other files beside it
/// that it uses (a Rust module's <c>mod</c> files, an AssemblyScript module's imports), by their
/// path relative to the source's folder. Only these files and the language's bindings are in the
/// sandbox the compiler runs in.
/// </summary>
public sealed record ModuleSource(string Text, string Name, IReadOnlyDictionary<string, string> Files)
{
    public ModuleSource(string text, string name)
        : this(text, name, new Dictionary<string, string>(StringComparer.Ordinal))
    {
    }
}

/// <summary>
/// One language's compiler: source → a wasm module as devices get it (the board's memory layout,
/// custom sections stripped). Each runs its tools in the gateway's sandbox, in a scratch directory
/// holding only the source, its files and the language's Wasmorch bindings.
/// </summary>
public interface IModuleCompiler
{
    SourceLanguage Language { get; }

    /// <summary>The tools a build with these options runs, by version: part of its cache key.</summary>
    Task<string> IdentityAsync(BuildOptions options);

    /// <summary>The SHA-256 of the bindings every source of this language is built with: part of the cache key.</summary>
    string BindingsSha256 { get; }

    /// <summary>
    /// Builds <paramref name="source"/>; a compile error is a COMPILE_ERROR whose message is the
    /// first error at the user's file:line and whose details are the compiler's diagnostics; a
    /// missing toolchain is a COMPILE_ERROR naming the package to install.
    /// </summary>
    Task<CompileResult> CompileAsync(ModuleSource source, BuildOptions options, CancellationToken ct);
}
