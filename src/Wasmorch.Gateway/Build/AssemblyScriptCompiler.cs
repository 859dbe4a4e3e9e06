using System.Diagnostics;
using System.Text.RegularExpressions;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.Build;

/// <summary>
/// AssemblyScript → wasm with the pinned <c>asc</c> (npm, tools/assemblyscript, installed by
/// scripts/setup.sh) run by the system's Node in the sandbox. The stub runtime (a bump allocator,
/// no GC: nothing to run between jobs), one page of memory, no features a WAMR board may lack
/// (bulk memory, non-trapping conversions). The bindings (modules/include/wasmorch.ts) are a
/// library the compiler finds as <c>"wasmorch"</c>; they also replace <c>abort</c> so that a failed
/// assert logs its message and place and traps.
/// </summary>
public sealed partial class AssemblyScriptCompiler : IModuleCompiler
{
    private static readonly Lazy<byte[]> Library = new(() => Bindings.Read("wasmorch.ts"));

    private const string SdkDir = ".sdk";

    /// <summary>What asc emits with bulk memory and non-trapping conversions disabled; it writes no target_features section saying so.</summary>
    private static readonly string[] WasmOptFeatures = ["--enable-sign-ext", "--enable-mutable-globals"];

    /// <summary>Where setup.sh installs the compiler, relative to the repository.</summary>
    public const string InstalledAsc = "tools/assemblyscript/node_modules/assemblyscript/bin/asc.js";

    private readonly string _node;
    private readonly string _asc;
    private readonly TimeSpan _timeout;
    private readonly Sandbox? _sandbox;
    private readonly WasmOptimizer _optimizer;
    private readonly Lazy<Task<string>> _identity;

    /// <param name="asc">The compiler's bin/asc.js (null: the one setup.sh installed beside this program).</param>
    public AssemblyScriptCompiler(string node, string? asc, TimeSpan timeout, Sandbox? sandbox, WasmOptimizer optimizer)
    {
        _node = node;
        _asc = asc ?? FindInstalled() ?? InstalledAsc;
        _timeout = timeout;
        _sandbox = sandbox;
        _optimizer = optimizer;
        _identity = new Lazy<Task<string>>(IdentityOfToolsAsync);
    }

    public SourceLanguage Language => SourceLanguage.AssemblyScript;

    public string BindingsSha256 { get; } = BuildService.Sha256(Library.Value);

    /// <summary>The asc.js this compiler runs.</summary>
    public string Asc => _asc;

    public Task<string> IdentityAsync(BuildOptions options) => _optimizer.WithAsync(_identity.Value, options);

    /// <summary>
    /// tools/assemblyscript found from this program's folder upwards (build/cli/wasmorch and
    /// src/…/bin/Release both sit inside the repository); null when there is none.
    /// </summary>
    public static string? FindInstalled()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, InstalledAsc);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        return null;
    }

    public static string MissingNode(string node) =>
        $"Node.js ('{node}') is not available to run the AssemblyScript compiler; install it (apt-get install nodejs) or set [build] node in wasmorch.toml";

    public static string MissingAsc(string asc) =>
        $"the AssemblyScript compiler is not installed (no {asc}); run scripts/setup.sh (npm ci in tools/assemblyscript installs the pinned assemblyscript package) or set [build] asc in wasmorch.toml to its bin/asc.js";

    /// <summary>"node v20.20.2, asc 0.28.20", or what is missing.</summary>
    private async Task<string> IdentityOfToolsAsync()
    {
        var node = await ToolRunner.VersionAsync(_node, "--version");
        if (!File.Exists(_asc))
        {
            return $"node {node}, asc not found";
        }
        try
        {
            var asc = await ToolRunner.RunAsync(_node, [_asc, "--version"], Path.GetTempPath(), TimeSpan.FromSeconds(60), MissingNode(_node), CancellationToken.None);
            return $"node {node}, asc {(asc.Stdout + asc.Stderr).Trim().Split('\n')[0].Trim()}";
        }
        catch (GatewayException)
        {
            return $"node {node}, asc not runnable";
        }
    }

    private static string OptimizeFlag(string level) => level switch
    {
        "s" => "-Os",
        "z" => "-Oz",
        _ => "-O" + level,
    };

    public async Task<CompileResult> CompileAsync(ModuleSource source, BuildOptions options, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        if (!File.Exists(_asc))
        {
            throw new GatewayException(HostErrorCodes.CompileError, MissingAsc(_asc));
        }
        using var build = await ScratchBuild.CreateAsync(source, Language, options, ct);
        await build.WriteAsync($"{SdkDir}/wasmorch.ts", Library.Value, ct);
        // The package folder (assemblyscript, binaryen, long) is all the sandbox shows besides /usr and the scratch.
        var packages = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(_asc))!, "..", ".."));
        string[] args =
        [
            Path.GetFullPath(_asc), source.Name, "-o", "module.wasm",
            OptimizeFlag(options.OptLevel),
            "--runtime", "stub",
            "--initialMemory", "1", "--maximumMemory", "1",
            "--disable", "bulk-memory,nontrapping-f2i",
            "--lib", SdkDir,
            "--use", "abort=wasmorchAbort",
            "--noColors",
        ];
        var run = await ToolRunner.RunAsync(_node, args, build.Dir, _timeout, MissingNode(_node), ct, _sandbox, [packages], capData: true);
        var diagnostics = build.WithoutScratch(run.Stderr + run.Stdout);
        if (run.ExitCode != 0 || !File.Exists(build.PathOf("module.wasm")))
        {
            throw CompileError(diagnostics, $"asc failed to compile {source.Name} (exit {run.ExitCode})");
        }
        return await build.FinishAsync("module.wasm", diagnostics, clock.Elapsed, _optimizer, options, ct, WasmOptFeatures);
    }

    /// <summary>
    /// asc's first error with its place: <c>math.ts:3:10: ERROR TS2304: Cannot find name 'x'.</c>
    /// (asc prints the place a few lines below, as <c>└─ in math.ts(3,10)</c>).
    /// </summary>
    private static GatewayException CompileError(string diagnostics, string fallback)
    {
        var lines = diagnostics.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            if (!lines[i].StartsWith("ERROR", StringComparison.Ordinal))
            {
                continue;
            }
            var message = lines[i].Trim();
            for (var j = i + 1; j < lines.Length && j <= i + 8; j++)
            {
                if (Place().Match(lines[j]) is { Success: true } place)
                {
                    return new GatewayException(HostErrorCodes.CompileError, $"{place.Groups[1].Value}:{place.Groups[2].Value}:{place.Groups[3].Value}: {message}", diagnostics);
                }
            }
            return new GatewayException(HostErrorCodes.CompileError, message, diagnostics);
        }
        return new GatewayException(HostErrorCodes.CompileError, fallback, diagnostics);
    }

    [GeneratedRegex(@"in (\S+)\((\d+),(\d+)\)\s*$")]
    private static partial Regex Place();
}
