namespace Wasmorch.Protocol.Modules;

/// <summary>The wasm value types a native's signature uses.</summary>
public enum WasmType
{
    I32,
    I64,
    F32,
    F64,
}

/// <summary>
/// The natives every board offers a module (modules/include/wasmorch.h; the firmware's natives.c
/// and the emulator's Natives.cs implement them): imported from <c>env</c> by these names with
/// these signatures. A module importing anything else is refused before upload by the gateway and
/// at LOAD (<c>INVALID_MODULE</c>) by the board.
/// </summary>
public static class NativeImports
{
    public const string Module = "env";

    public static IReadOnlyDictionary<string, (WasmType[] Params, WasmType[] Results)> Signatures { get; } =
        new Dictionary<string, (WasmType[], WasmType[])>(StringComparer.Ordinal)
        {
            ["gpio_write"] = ([WasmType.I32, WasmType.I32], []),
            ["gpio_toggle"] = ([WasmType.I32], []),
            ["gpio_read"] = ([WasmType.I32], [WasmType.I32]),
            ["delay_ms"] = ([WasmType.I32], [WasmType.I32]),
            ["uptime_ms"] = ([], [WasmType.I64]),
            ["should_stop"] = ([], [WasmType.I32]),
            ["log_i32"] = ([WasmType.I32], []),
            ["log_str"] = ([WasmType.I32], []),
        };

    /// <summary>The names, sorted, for messages that list what is offered.</summary>
    public static string List => string.Join(',', Signatures.Keys.Order(StringComparer.Ordinal));
}
