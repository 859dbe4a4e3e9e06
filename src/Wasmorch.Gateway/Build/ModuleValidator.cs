using Wasmorch.Protocol.Agent;
using Wasmorch.Protocol.Modules;

namespace Wasmorch.Gateway.Build;

/// <summary>
/// Checks a wasm module against what the device can run before a byte is uploaded: its size,
/// its linear memory, and that it imports only the natives of wasmorch.h.
/// </summary>
public static class ModuleValidator
{
    public const long BoardMemoryBytes = BoardLimits.LinearMemoryBytes;

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
        // All memories and tables summed: a hundred small memories take as much as one big one.
        if (WasmBinary.Footprint(wasm) is { } footprint && BoardLimits.Check(footprint, BoardMemoryBytes) is { } problem)
        {
            throw new GatewayException(problem.Code, problem.Message);
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
