using Wasmorch.WasmtimeTarget;
using System.CommandLine;
using Wasmorch.Emulator.Runtime;
using Wasmorch.Gateway.Build;

namespace Wasmorch.Cli.Commands;

/// <summary><c>wasmorch doctor</c>: the toolchain on this machine and what it can build.</summary>
public static class DoctorCommand
{
    public static Command Create()
    {
        var command = new Command("doctor", "Report the build toolchain (clang, wasm-ld, wamrc, wasm-opt) and what works with it");
        command.SetAction(async (pr, ct) =>
        {
            var clang = await Version("clang", "--version");
            var wasmLd = await Version("wasm-ld", "--version");
            var wamrc = await Version("wamrc", "--version");
            var socat = await Version("socat", "-V");
            var wasmOpt = await Version("wasm-opt", "--version");
            Console.WriteLine($"clang     {clang}");
            Console.WriteLine($"wasm-ld   {wasmLd}");
            Console.WriteLine($"wamrc     {wamrc}");
            Console.WriteLine($"wasm-opt  {wasmOpt}");
            Console.WriteLine($"wasmtime  {EmulatedTarget.Version} (built in; AOT target {EmulatedTarget.AotTarget})");
            Console.WriteLine($"socat     {socat}");
            Console.WriteLine();
            var wasmOk = clang != "not found" && wasmLd != "not found";
            Console.WriteLine($"wasm builds (build-and-deploy --mode wasm):   {(wasmOk ? "ok" : "NO: apt-get install clang lld")}");
            Console.WriteLine($"AOT for emulated boards (--mode aot):          {(wasmOk ? "ok" : "NO: needs the wasm build first")}");
            Console.WriteLine($"AOT for WAMR boards (thumbv7em, thumbv7):     {(wasmOk && wamrc != "not found" ? "ok" : "NO: " + AotCompiler.MissingWamrc("wamrc"))}");
            Console.WriteLine($"smaller modules (--wasm-opt):                  {(wasmOpt != "not found" ? "ok" : "NO: apt-get install binaryen")}");
            Console.WriteLine($"serial tests (pty pairs):                      {(socat != "not found" ? "ok" : "NO: apt-get install socat")}");
            return wasmOk ? ExitCodes.Ok : ExitCodes.CompileError;
        });
        return command;
    }

    private static Task<string> Version(string tool, string flag) => ToolVersions.OfAsync(tool, flag);
}
