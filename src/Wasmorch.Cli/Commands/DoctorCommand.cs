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
        var command = new Command("doctor", "Report the build toolchain (clang, wasm-ld, rustc, node + asc, wamrc, wasm-opt) and what works with it");
        command.SetAction(async (pr, ct) =>
        {
            var clang = await Version("clang", "--version");
            var wasmLd = await Version("wasm-ld", "--version");
            var wamrc = await Version("wamrc", "--version");
            var socat = await Version("socat", "-V");
            var wasmOpt = await Version("wasm-opt", "--version");
            var tools = new BuildTools();
            var rustc = await Version(tools.Rustc, "--version");
            var rustStd = rustc != "not found" && Directory.Exists("/usr/lib/rustlib/wasm32-unknown-unknown");
            var node = await Version(tools.Node, "--version");
            var asc = AssemblyScriptCompiler.FindInstalled();
            Console.WriteLine($"clang     {clang}");
            Console.WriteLine($"wasm-ld   {wasmLd}");
            Console.WriteLine($"rustc     {rustc}{(rustc == "not found" ? "" : rustStd ? " (wasm32 std: yes)" : " (wasm32 std: NO)")}");
            Console.WriteLine($"node      {node}");
            Console.WriteLine($"asc       {asc ?? "not found"}");
            Console.WriteLine($"wamrc     {wamrc}");
            Console.WriteLine($"wasm-opt  {wasmOpt}");
            Console.WriteLine($"wasmtime  {EmulatedTarget.Version} (built in; AOT target {EmulatedTarget.AotTarget})");
            Console.WriteLine($"socat     {socat}");
            Console.WriteLine();
            var wasmOk = clang != "not found" && wasmLd != "not found";
            Console.WriteLine($"C modules (.c; build-and-deploy, run):         {(wasmOk ? "ok" : "NO: apt-get install clang lld")}");
            Console.WriteLine($"C++ modules (.cc, .cpp, .cxx):                 {(wasmOk ? "ok" : "NO: apt-get install clang lld")}");
            Console.WriteLine($"Rust modules (.rs):                            {(rustStd ? "ok" : "NO: " + (rustc == "not found" ? RustCompiler.Missing(tools.Rustc) : RustCompiler.MissingStd(tools.Rustc)))}");
            Console.WriteLine($"AssemblyScript modules (.ts):                  {(node == "not found" ? "NO: " + AssemblyScriptCompiler.MissingNode(tools.Node) : asc is null ? "NO: " + AssemblyScriptCompiler.MissingAsc(AssemblyScriptCompiler.InstalledAsc) : "ok")}");
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
