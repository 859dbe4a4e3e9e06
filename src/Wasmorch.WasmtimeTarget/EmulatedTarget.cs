using Wasmtime;

namespace Wasmorch.WasmtimeTarget;

/// <summary>
/// The runtime of emulated boards as a compilation target: Wasmtime's version, its engine settings
/// and the AOT target name HELLO_OK announces. The emulator runs modules with these settings and
/// the gateway precompiles for them; Wasmtime refuses a precompiled module made with any others, so
/// both take them from here and neither depends on the other.
/// </summary>
public static class EmulatedTarget
{
    public const int MaxWasmStackBytes = 256 * 1024;

    /// <summary>HELLO_OK's <c>runtime</c> of an emulated board.</summary>
    public static string Version => "wasmtime/50.0.1";

    /// <summary>What HELLO_OK calls this runtime's AOT target: modules precompiled for it load on emulated boards only.</summary>
    public static string AotTarget { get; } = $"wasmtime-50.0.1-{System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant()}";

    /// <summary>Epoch interruption (the STOP backstop) and a bounded wasm stack (deep recursion traps instead of crashing).</summary>
    public static Config CreateConfig() => new Config()
        .WithEpochInterruption(true)
        .WithMaximumStackSize(MaxWasmStackBytes);

    /// <summary>A Wasmtime-precompiled module is an ELF image.</summary>
    public static bool IsPrecompiled(ReadOnlySpan<byte> bytes) => bytes.StartsWith("\u007fELF"u8);
}
