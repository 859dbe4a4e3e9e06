using Wasmorch.WasmtimeTarget;
using System.CommandLine;
using Wasmorch.Emulator.Runtime;
using Wasmorch.Gateway;
using Wasmorch.Gateway.Build;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Cli.Commands;

/// <summary><c>wasmorch build</c>: the gateway's build pipeline run locally, no gateway needed.</summary>
public static class BuildCommand
{
    public static Command Create()
    {
        var source = new Option<FileInfo>("--source", "-s") { Description = "C source file", Required = true };
        var output = new Option<FileInfo>("--output", "-o") { Description = "Where to write the module (default: the source name with .wasm or .aot)" };
        var target = new Option<string>("--target") { Description = "AOT target: thumbv7em (Cortex-M4, wamrc), thumbv7 (Cortex-M3, wamrc) or emulator (Wasmtime); none builds wasm" };
        var flags = new BuildFlags();
        var command = new Command("build", "Compile C to a module locally (clang, and wamrc/Wasmtime for AOT), with the gateway's checks") { source, output, target };
        flags.AddTo(command);
        command.SetAction(async (pr, ct) =>
        {
            var file = pr.GetValue(source)!;
            try
            {
                var text = await File.ReadAllTextAsync(file.FullName, ct);
                var request = new HostRequest();
                flags.Apply(pr, file, request);
                var options = BuildOptions.From(request);
                using var aot = new AotCompiler("wamrc", TimeSpan.FromMinutes(2));
                var compiled = await new ClangCompiler("clang", TimeSpan.FromMinutes(1)).CompileAsync(text, SourcePaths.FileName(file.Name), ct, options);
                ModuleValidator.Check(compiled.Module, null, "any board");
                var bytes = compiled.Module;
                var kind = "wasm";
                if (pr.GetValue(target) is { } name)
                {
                    var aotTarget = name == "emulator" ? new AotTarget("wasmtime", EmulatedTarget.AotTarget) : new AotTarget("wamr", name);
                    bytes = (await aot.CompileAsync(bytes, aotTarget, ct)).Artifact;
                    kind = "aot";
                }
                var path = pr.GetValue(output)?.FullName ?? Path.ChangeExtension(file.FullName, kind);
                await File.WriteAllBytesAsync(path, bytes, ct);
                if (compiled.Diagnostics.Length > 0)
                {
                    await Console.Error.WriteLineAsync(compiled.Diagnostics.TrimEnd());
                }
                Console.WriteLine($"built {path} ({bytes.Length} bytes, {kind}, {options}) sha256={BuildService.Sha256(bytes)}");
                var optimized = compiled.OptimizedSize is { } o ? $", {o} after wasm-opt -Oz" : "";
                Console.WriteLine($"size: {compiled.LinkedSize} bytes as linked{optimized}, {compiled.Module.Length} stripped ({(options.KeepNames ? "custom sections but name" : "every custom section")}){(kind == "aot" ? $", {bytes.Length} as AOT" : "")}");
                return ExitCodes.Ok;
            }
            catch (GatewayException ex)
            {
                await Console.Error.WriteLineAsync($"error: {ex.Code}: {ex.Message}");
                if (ex.Details is { Length: > 0 } details)
                {
                    await Console.Error.WriteLineAsync(details.TrimEnd());
                }
                return ExitCodes.ForError(ex.Code);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                await Console.Error.WriteLineAsync($"error: {ex.Message}");
                return ExitCodes.Usage;
            }
        });
        return command;
    }
}
