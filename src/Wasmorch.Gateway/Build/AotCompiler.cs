using Wasmorch.Protocol.Agent;
using Wasmorch.WasmtimeTarget;
using System.Diagnostics;
using Wasmorch.Protocol.HostApi;
using Wasmtime;

namespace Wasmorch.Gateway.Build;

/// <summary>Where an AOT artifact is to run, from the device's HELLO_OK.</summary>
public sealed record AotTarget(string Runtime, string Name)
{
    public override string ToString() => $"{Runtime}:{Name}";

    /// <summary>wamrc's flags for a WAMR target (<see cref="WamrAot"/>, shared with the conformance suite).</summary>
    public IReadOnlyList<string> WamrcArguments() => WamrAot.WamrcArguments(Name)
        ?? throw new GatewayException(HostErrorCodes.Unsupported, $"no wamrc settings for AOT target '{Name}' (known: thumbv7em, thumbv7)");
}

/// <summary>
/// wasm → AOT for each kind of device: wamrc for WAMR boards, Wasmtime's precompiler (with the
/// emulator's exact engine settings) for emulated ones.
/// </summary>
public sealed class AotCompiler : IDisposable
{
    private readonly string _wamrc;
    private readonly TimeSpan _timeout;
    private readonly Lazy<Engine> _engine = new(() =>
    {
        using var config = EmulatedTarget.CreateConfig();
        return new Engine(config);
    });

    private readonly Sandbox? _sandbox;

    public AotCompiler(string wamrc, TimeSpan timeout, Sandbox? sandbox = null)
    {
        _wamrc = wamrc;
        _timeout = timeout;
        _sandbox = sandbox;
    }

    public Task<string> WamrcIdentityAsync() => ToolRunner.VersionAsync(_wamrc, "--version");

    public static string MissingWamrc(string wamrc) =>
        $"AOT for WAMR devices needs wamrc, which was not found as '{wamrc}': build it from WAMR 2.4's wamr-compiler " +
        "(LLVM >= 16, e.g. apt-get install llvm-19-dev), put it on PATH or set [build] wamrc in wasmorch.toml, or deploy with --mode wasm";

    public async Task<(byte[] Artifact, TimeSpan Elapsed)> CompileAsync(byte[] wasm, AotTarget target, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        if (target.Runtime == "wasmtime")
        {
            if (target.Name != EmulatedTarget.AotTarget)
            {
                throw new GatewayException(HostErrorCodes.Unsupported,
                    $"the device runs {target.Name}; this gateway precompiles for {EmulatedTarget.AotTarget} only: use --mode wasm");
            }
            using var module = Module.FromBytes(_engine.Value, "aot", wasm);
            return (module.Serialize(), clock.Elapsed);
        }
        var dir = Directory.CreateTempSubdirectory("wasmorch-aot-");
        try
        {
            await File.WriteAllBytesAsync(Path.Combine(dir.FullName, "module.wasm"), wasm, ct);
            var run = await ToolRunner.RunAsync(_wamrc, [.. target.WamrcArguments(), "-o", "module.aot", "module.wasm"], dir.FullName, _timeout, MissingWamrc(_wamrc), ct, _sandbox);
            var output = Path.Combine(dir.FullName, "module.aot");
            if (run.ExitCode != 0 || !File.Exists(output))
            {
                throw new GatewayException(HostErrorCodes.CompileError, $"wamrc failed for {target}", (run.Stdout + run.Stderr).Trim());
            }
            return (await File.ReadAllBytesAsync(output, ct), clock.Elapsed);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    public void Dispose()
    {
        if (_engine.IsValueCreated)
        {
            _engine.Value.Dispose();
        }
    }
}
