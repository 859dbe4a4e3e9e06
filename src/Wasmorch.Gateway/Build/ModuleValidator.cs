using Wasmorch.Protocol.Agent;
using Wasmorch.Protocol.Modules;

namespace Wasmorch.Gateway.Build;

/// <summary>
/// Checks a wasm module against what the device can run before a byte is uploaded: its size,
/// its linear memory, and that it imports only the natives of wasmorch.h.
/// </summary>
public static class ModuleValidator
{
    public const long BoardMemoryBytes = 64 * 1024;

    public static void Check(ReadOnlySpan<byte> wasm, AgentCapabilities? device, string deviceName)
    {
        if (!wasm.StartsWith("\0asm"u8))
        {
            return; // AOT images and foreign formats are the agent's to judge.
        }
        if (device?.MaxModule is { } max && wasm.Length > max)
        {
            throw new GatewayException(AgentErrorCodes.TooLarge, $"module of {wasm.Length} bytes exceeds device '{deviceName}''s max_module of {max}");
        }
        var pages = WasmBinary.DefinedMemoryMinimumPages(wasm);
        if (pages * 65536 > BoardMemoryBytes)
        {
            throw new GatewayException(AgentErrorCodes.NoMemory, $"module needs {pages * 64} KiB of linear memory; boards give {BoardMemoryBytes / 1024} KiB");
        }
        foreach (var (module, name, kind) in WasmBinary.Imports(wasm) ?? [])
        {
            if (kind != 0 || module != NativeImports.Module || !NativeImports.Signatures.ContainsKey(name))
            {
                throw new GatewayException(AgentErrorCodes.InvalidModule,
                    $"module imports {module}::{name}, which devices do not offer (natives: {NativeImports.List})");
            }
        }
    }
}
