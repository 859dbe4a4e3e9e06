using Wasmorch.Protocol.Agent;
using Wasmorch.Protocol.HostApi;
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
            if (kind != 0 || module != NativeImports.Module || !NativeImports.ByName.ContainsKey(name))
            {
                throw new GatewayException(AgentErrorCodes.InvalidModule,
                    $"module imports {module}::{name}, which devices do not offer (natives: {NativeImports.List})");
            }
        }
    }

    /// <summary>
    /// §6c: every capability the module's imports need must be offered by the device (its CAPS_OK;
    /// none from an agent without CAPS) and granted to the module by the configuration (null: the
    /// device has no grants, so whatever it offers). Checked before a byte is uploaded.
    /// </summary>
    public static void CheckCapabilities(ReadOnlySpan<byte> wasm, IReadOnlySet<string> offered, IReadOnlySet<string>? granted, string deviceName, string moduleId)
    {
        if (!wasm.StartsWith("\0asm"u8))
        {
            return; // native code: the board refuses natives it does not offer when it links the image
        }
        var imports = (WasmBinary.Imports(wasm) ?? []).Where(i => i.Kind == 0 && i.Module == NativeImports.Module).Select(i => i.Name).ToList();
        foreach (var capability in Capabilities.Required(imports))
        {
            var natives = Capabilities.NativesNeeding(capability, imports);
            if (!offered.Contains(capability))
            {
                throw new GatewayException(HostErrorCodes.MissingCapability,
                    $"module '{moduleId}' needs capability '{capability}' (it imports {natives}); device '{deviceName}' offers {Describe(offered)}");
            }
            if (granted is not null && !granted.Contains(capability))
            {
                throw new GatewayException(HostErrorCodes.NotGranted,
                    $"module '{moduleId}' needs capability '{capability}' (it imports {natives}); the configuration grants it {Describe(granted)} on device '{deviceName}' (add it to [devices.{deviceName}] grants)");
            }
        }
    }

    private static string Describe(IReadOnlySet<string> caps) =>
        caps.Count == 0 ? "no capabilities" : string.Join(',', Capabilities.Known.Where(caps.Contains).Concat(caps.Except(Capabilities.Known).Order(StringComparer.Ordinal)));
}
