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
/// One native of modules/include/wasmorch.h: its signature, and the capability a device must offer
/// (docs/protocol.md §6c) for a module to import it; null for the natives every agent has offered
/// since the seed (a pin register, time, stop, logs).
/// </summary>
public sealed record Native(string Name, WasmType[] Params, WasmType[] Results, string? Capability);

/// <summary>
/// The natives a board may offer a module (modules/include/wasmorch.h; the firmware's natives.c
/// and the emulator's Natives.cs implement them): imported from <c>env</c> by these names with
/// these signatures. A module importing anything else is refused before upload by the gateway and
/// at LOAD (<c>INVALID_MODULE</c>) by the board; one importing a native whose capability the
/// device does not offer, or the gateway does not grant it, is refused before upload too.
/// </summary>
public static class NativeImports
{
    public const string Module = "env";

    private const WasmType I = WasmType.I32;

    public static IReadOnlyList<Native> All { get; } =
    [
        new("gpio_write", [I, I], [], null),
        new("gpio_toggle", [I], [], null),
        new("gpio_read", [I], [I], null),
        new("delay_ms", [I], [I], null),
        new("uptime_ms", [], [WasmType.I64], null),
        new("should_stop", [], [I], null),
        new("log_i32", [I], [], null),
        new("log_str", [I], [], null),
        new("gpio_wait_edge", [I, I, I], [I], Capabilities.Gpio),
        new("adc_read", [I], [I], Capabilities.Adc),
        new("i2c0_write", [I, I, I], [I], Capabilities.I2c0),
        new("i2c0_read", [I, I, I], [I], Capabilities.I2c0),
        new("i2c0_write_read", [I, I, I, I, I], [I], Capabilities.I2c0),
        new("i2c1_write", [I, I, I], [I], Capabilities.I2c1),
        new("i2c1_read", [I, I, I], [I], Capabilities.I2c1),
        new("i2c1_write_read", [I, I, I, I, I], [I], Capabilities.I2c1),
        new("pwm_set", [I, I, I], [I], Capabilities.Pwm),
        new("timer_start", [I], [I], Capabilities.Timer),
        new("timer_wait", [], [I], Capabilities.Timer),
        new("publish", [I, I, I], [I], Capabilities.Events),
        new("kv_get", [I, I, I], [I], Capabilities.Kv),
        new("kv_set", [I, I, I], [I], Capabilities.Kv),
        new("kv_delete", [I], [I], Capabilities.Kv),
    ];

    public static IReadOnlyDictionary<string, Native> ByName { get; } = All.ToDictionary(n => n.Name, StringComparer.Ordinal);

    /// <summary>The names, sorted, for messages that list what is offered.</summary>
    public static string List => string.Join(',', ByName.Keys.Order(StringComparer.Ordinal));
}
