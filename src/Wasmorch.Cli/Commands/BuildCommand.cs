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
        var source = new Option<FileInfo>("--source", "-s") { Description = "Source file: C, C++, Rust or AssemblyScript (by extension or --lang)", Required = true };
        var output = new Option<FileInfo>("--output", "-o") { Description = "Where to write the module (default: the source name with .wasm or .aot)" };
        var target = new Option<string>("--target") { Description = "AOT target: thumbv7em (Cortex-M4, wamrc), thumbv7 (Cortex-M3, wamrc) or emulator (Wasmtime); none builds wasm" };
        var flags = new BuildFlags();
        var command = new Command("build", "Compile a source to a module locally (clang, rustc or asc, and wamrc/Wasmtime for AOT), with the gateway's checks") { source, output, target };
        flags.AddTo(command);
        command.SetAction(async (pr, ct) =>
        {
            var file = pr.GetValue(source)!;
            try
            {
                var language = flags.LanguageOf(pr, file);
                var set = await Client.SourceSet.ReadAsync(file, language, bundleHeaders: false, ct);
                var request = new HostRequest();
                flags.Apply(pr, file, request);
                var options = BuildOptions.From(request);
                using var aot = new AotCompiler("wamrc", TimeSpan.FromMinutes(2));
                // The gateway's default tools, without its sandbox: this builds the user's own files on their machine.
                var compiler = ModuleCompilers.Create(new BuildTools(), TimeSpan.FromMinutes(2), Sandbox.Off).For(language);
                var compiled = await compiler.CompileAsync(new ModuleSource(set.Text, SourcePaths.FileName(file.Name), set.Files ?? []), options, ct);
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
                // The options as the cache keys them are clang's flags; other languages say which compiler they went to.
                var how = language == SourceLanguage.C ? options.ToString() : $"{language.Title}, opt_level={options.OptLevel}{(options.WasmOpt ? ", wasm-opt -Oz" : "")}";
                Console.WriteLine($"built {path} ({bytes.Length} bytes, {kind}, {how}) sha256={BuildService.Sha256(bytes)}");
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
