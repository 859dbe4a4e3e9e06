using System.Diagnostics;
using Wasmorch.Protocol.Agent;
using Wasmorch.WasmtimeTarget;
using Wasmtime;

namespace Wasmorch.Conformance;

/// <summary>
/// The suite's modules precompiled for the agent's <c>aot_target</c> (HELLO_OK), for the cases that
/// check AOT code: Wasmtime's precompiler with the emulator's exact settings for an emulated board,
/// wamrc with the gateway's flags (<see cref="WamrAot"/>) for a WAMR board. A case that needs one
/// is skipped, with the reason, where the agent offers no AOT or no compiler for its target is here.
/// </summary>
public static class AotModules
{
    /// <summary>Where wamrc is looked for: <c>$WASMORCH_WAMRC</c>, else <c>wamrc</c> on PATH.</summary>
    public const string WamrcVariable = "WASMORCH_WAMRC";

    public static async Task<byte[]> PrecompileAsync(byte[] wasm, AgentCapabilities agent, CancellationToken ct)
    {
        if (!agent.Modes.Contains("aot") || agent.AotTarget is null)
        {
            throw new CaseSkippedException($"the agent offers no AOT (HELLO_OK modes={string.Join(',', agent.Modes)}, aot_target={agent.AotTarget ?? "-"})");
        }
        if (agent.AotTarget == EmulatedTarget.AotTarget)
        {
            using var engine = new Engine(EmulatedTarget.CreateConfig());
            using var module = Module.FromBytes(engine, "aot", wasm);
            return module.Serialize();
        }
        if (WamrAot.WamrcArguments(agent.AotTarget) is not { } flags)
        {
            throw new CaseSkippedException($"no AOT compiler is known here for aot_target={agent.AotTarget}");
        }
        return await WamrcAsync(wasm, flags, agent.AotTarget, ct);
    }

    private static async Task<byte[]> WamrcAsync(byte[] wasm, IReadOnlyList<string> flags, string target, CancellationToken ct)
    {
        var wamrc = Environment.GetEnvironmentVariable(WamrcVariable) is { Length: > 0 } named ? named : "wamrc";
        var dir = Directory.CreateTempSubdirectory("wasmorch-conformance-aot-");
        try
        {
            var input = Path.Combine(dir.FullName, "module.wasm");
            var output = Path.Combine(dir.FullName, "module.aot");
            await File.WriteAllBytesAsync(input, wasm, ct);
            var start = new ProcessStartInfo(wamrc) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = dir.FullName };
            foreach (var flag in flags)
            {
                start.ArgumentList.Add(flag);
            }
            start.ArgumentList.Add("-o");
            start.ArgumentList.Add(output);
            start.ArgumentList.Add(input);
            Process process;
            try
            {
                process = Process.Start(start) ?? throw new CaseSkippedException($"wamrc ('{wamrc}') could not be started");
            }
            catch (System.ComponentModel.Win32Exception)
            {
                throw new CaseSkippedException($"the agent runs AOT for {target}, but no wamrc was found as '{wamrc}' (set ${WamrcVariable} or put WAMR 2.4's wamrc on PATH)");
            }
            using (process)
            {
                var stdout = process.StandardOutput.ReadToEndAsync(ct);
                var stderr = process.StandardError.ReadToEndAsync(ct);
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(TimeSpan.FromSeconds(60));
                try
                {
                    await process.WaitForExitAsync(timeout.Token);
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    process.Kill(entireProcessTree: true);
                    throw new CaseSkippedException($"wamrc ('{wamrc}') did not finish within 60 s");
                }
                if (process.ExitCode != 0 || !File.Exists(output))
                {
                    throw new CaseSkippedException($"wamrc ('{wamrc}' {string.Join(' ', flags)}) failed with exit code {process.ExitCode}: {(await stdout + await stderr).Trim()}");
                }
            }
            return await File.ReadAllBytesAsync(output, ct);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
