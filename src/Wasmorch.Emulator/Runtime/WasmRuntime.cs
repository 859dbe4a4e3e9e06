using Wasmorch.Protocol.Agent;
using Wasmtime;

namespace Wasmorch.Emulator.Runtime;

/// <summary>
/// One Wasmtime engine for every board in the process: epoch interruption for STOP backstops,
/// a bounded native stack so deep recursion traps instead of crashing, and the natives linker.
/// </summary>
public sealed class WasmRuntime : IDisposable
{
    /// <summary>How often the epoch advances; a killed job ends within about one tick.</summary>
    public static readonly TimeSpan EpochTick = TimeSpan.FromMilliseconds(5);

    public const int MaxWasmStackBytes = 256 * 1024;

    private readonly Timer _ticker;

    public WasmRuntime()
    {
        using var config = CreateConfig();
        Engine = new Engine(config);
        Linker = new Linker(Engine);
        Natives.Define(Linker);
        _ticker = new Timer(_ => Engine.IncrementEpoch(), null, EpochTick, EpochTick);
    }

    public static string Version => "wasmtime/50.0.1";

    /// <summary>What HELLO_OK calls this runtime's AOT target: modules precompiled for it load here only.</summary>
    public static string AotTarget { get; } = $"wasmtime-50.0.1-{System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant()}";

    /// <summary>
    /// The engine settings of every emulated board. The gateway precompiles AOT modules with the
    /// same settings; Wasmtime refuses to load a module compiled with any others.
    /// </summary>
    public static Config CreateConfig() => new Config()
        .WithEpochInterruption(true)
        .WithMaximumStackSize(MaxWasmStackBytes);

    /// <summary>A Wasmtime-precompiled module is an ELF image.</summary>
    public static bool IsPrecompiled(ReadOnlySpan<byte> bytes) => bytes.StartsWith("\u007fELF"u8);

    public Engine Engine { get; }

    public Linker Linker { get; }

    /// <summary>
    /// Compiles and checks a module against a board's limits. Failures carry the LOAD_ERR code and
    /// a message that says what to change.
    /// </summary>
    public LoadCheck Compile(string moduleId, ReadOnlySpan<byte> bytes, long maxMemoryBytes, bool allowPrecompiled = false)
    {
        var precompiled = IsPrecompiled(bytes);
        if (precompiled && !allowPrecompiled)
        {
            return LoadCheck.Fail(AgentErrorCodes.InvalidModule,
                "this board does not take precompiled modules (they are native code; start the emulator with --allow-aot to accept them)");
        }
        Module module;
        try
        {
            module = precompiled ? Module.Deserialize(Engine, moduleId, bytes) : Module.FromBytes(Engine, moduleId, bytes);
        }
        catch (WasmtimeException ex)
        {
            return LoadCheck.Fail(AgentErrorCodes.InvalidModule, precompiled
                ? $"precompiled module does not fit this emulator ({AotTarget}, its engine settings): {FirstLine(ex.Message)}"
                : "not a valid wasm module: " + FirstLine(ex.Message));
        }

        foreach (var import in module.Imports)
        {
            var problem = CheckImport(import, maxMemoryBytes);
            if (problem is not null)
            {
                module.Dispose();
                return problem.Value;
            }
        }
        var pages = precompiled
            ? module.Exports.OfType<MemoryExport>().Select(m => m.Minimum).DefaultIfEmpty(0).Max()
            : WasmBinary.DefinedMemoryMinimumPages(bytes);
        if (pages * 65536 > maxMemoryBytes)
        {
            module.Dispose();
            return LoadCheck.Fail(AgentErrorCodes.NoMemory, NeedsMemory(pages, maxMemoryBytes));
        }
        return LoadCheck.Ok(module);
    }

    private static LoadCheck? CheckImport(Import import, long maxMemoryBytes)
    {
        if (import is MemoryImport memory)
        {
            return memory.Minimum * 65536 > maxMemoryBytes
                ? LoadCheck.Fail(AgentErrorCodes.NoMemory, NeedsMemory(memory.Minimum, maxMemoryBytes))
                : LoadCheck.Fail(AgentErrorCodes.InvalidModule, "module imports its memory; build it to define and export its own (no --import-memory)");
        }
        if (import is not FunctionImport function || import.ModuleName != "env" || !Natives.Signatures.TryGetValue(import.Name, out var signature))
        {
            return LoadCheck.Fail(AgentErrorCodes.InvalidModule,
                $"module imports {import.ModuleName}::{import.Name}, which this board does not offer (natives: {string.Join(',', Natives.Signatures.Keys)})");
        }
        if (!function.Parameters.SequenceEqual(signature.Params) || !function.Results.SequenceEqual(signature.Results))
        {
            return LoadCheck.Fail(AgentErrorCodes.InvalidModule,
                $"module imports env::{import.Name} with a signature that differs from wasmorch.h");
        }
        return null;
    }

    private static string NeedsMemory(long pages, long maxMemoryBytes) =>
        $"module needs {pages * 64} KiB of linear memory; this board gives {maxMemoryBytes / 1024} KiB";

    private static string FirstLine(string text)
    {
        var end = text.IndexOf('\n', StringComparison.Ordinal);
        return end < 0 ? text : text[..end];
    }

    public void Dispose()
    {
        _ticker.Dispose();
        Linker.Dispose();
        Engine.Dispose();
    }
}

public readonly record struct LoadCheck(Module? Module, string? Code, string? Message)
{
    public static LoadCheck Ok(Module module) => new(module, null, null);

    public static LoadCheck Fail(string code, string message) => new(null, code, message);
}
