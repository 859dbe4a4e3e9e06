using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.Build;

/// <summary>
/// binaryen's <c>wasm-opt -Oz</c> over a linked module, in the same sandbox as the compiler, for
/// builds that ask (<see cref="BuildOptions.WasmOpt"/>), whatever the language.
/// </summary>
public sealed class WasmOptimizer
{
    private readonly string _wasmOpt;
    private readonly TimeSpan _timeout;
    private readonly Sandbox? _sandbox;
    private readonly Lazy<Task<string>> _identity;

    public WasmOptimizer(string wasmOpt, TimeSpan timeout, Sandbox? sandbox)
    {
        _wasmOpt = wasmOpt;
        _timeout = timeout;
        _sandbox = sandbox;
        _identity = new Lazy<Task<string>>(() => ToolRunner.VersionAsync(_wasmOpt, "--version"));
    }

    public Task<string> IdentityAsync() => _identity.Value;

    /// <summary>The compiler's identity plus wasm-opt's when the build asks for it: a cache key part.</summary>
    public async Task<string> WithAsync(Task<string> compiler, BuildOptions options) =>
        options.WasmOpt ? $"{await compiler} + {await _identity.Value}" : await compiler;

    private string Missing =>
        $"wasm-opt ('{_wasmOpt}') is not available on this gateway; install binaryen (apt-get install binaryen), set [build] wasm_opt in wasmorch.toml, or build without wasm_opt";

    /// <summary>
    /// binaryen reads the module's target_features section (not yet stripped), so it uses no
    /// feature the compiler did not already use. <c>-g</c> keeps the name section (binaryen drops it otherwise).
    /// </summary>
    /// <param name="features">
    /// The features the module uses, for a compiler that writes no target_features section (asc):
    /// binaryen would otherwise take it for MVP wasm and refuse it.
    /// </param>
    internal async Task<byte[]> OptimizeAsync(ScratchBuild build, string module, bool keepNames, IReadOnlyList<string> features, CancellationToken ct)
    {
        const string optimized = "module.opt.wasm";
        string[] args = [.. features, .. keepNames ? new[] { "-Oz", "-g" } : ["-Oz"], module, "-o", optimized];
        var run = await ToolRunner.RunAsync(_wasmOpt, args, build.Dir, _timeout, Missing, ct, _sandbox);
        if (run.ExitCode != 0 || !File.Exists(build.PathOf(optimized)))
        {
            throw new GatewayException(HostErrorCodes.CompileError, $"wasm-opt -Oz failed (exit {run.ExitCode})", build.WithoutScratch(run.Stderr + run.Stdout).Trim());
        }
        return await File.ReadAllBytesAsync(build.PathOf(optimized), ct);
    }
}
