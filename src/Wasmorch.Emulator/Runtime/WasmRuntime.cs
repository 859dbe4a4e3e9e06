using Wasmorch.Protocol.Agent;
using Wasmorch.Protocol.Modules;
using Wasmorch.WasmtimeTarget;
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

    private readonly Timer _ticker;

    private readonly CompiledModules _compiled = new();

    public WasmRuntime()
    {
        using var config = EmulatedTarget.CreateConfig();
        Engine = new Engine(config);
        Linker = new Linker(Engine);
        Natives.Define(Linker);
        _ticker = new Timer(_ => Engine.IncrementEpoch(), null, EpochTick, EpochTick);
    }

    public Engine Engine { get; }

    public Linker Linker { get; }

    /// <summary>
    /// Compiles and checks a module against a board's limits. Failures carry the LOAD_ERR code and
    /// a message that says what to change.
    /// </summary>
    public LoadCheck Compile(string moduleId, ReadOnlySpan<byte> bytes, long maxMemoryBytes, bool allowPrecompiled = false, IReadOnlySet<string>? caps = null)
    {
        var precompiled = EmulatedTarget.IsPrecompiled(bytes);
        if (precompiled && !allowPrecompiled)
        {
            return LoadCheck.Fail(AgentErrorCodes.InvalidModule,
                "this board does not take precompiled modules: they are native code, taken only from a peer that proved it holds the board's link key (emulate --link-key; --allow-aot false refuses them always)");
        }
        Module module;
        try
        {
            module = precompiled ? Module.Deserialize(Engine, moduleId, bytes) : _compiled.Load(Engine, moduleId, bytes);
        }
        catch (WasmtimeException ex)
        {
            return LoadCheck.Fail(AgentErrorCodes.InvalidModule, precompiled
                ? $"precompiled module does not fit this emulator ({EmulatedTarget.AotTarget}, its engine settings): {FirstLine(ex.Message)}"
                : "not a valid wasm module: " + FirstLine(ex.Message));
        }

        foreach (var import in module.Imports)
        {
            var problem = CheckImport(import, maxMemoryBytes, caps ?? BoardOptions.DefaultCaps);
            if (problem is not null)
            {
                module.Dispose();
                return problem.Value;
            }
        }
        // A precompiled module's sections are native code: its exported memories tell its size (and
        // the store's limits bound it at instantiation); a wasm module's own sections tell everything.
        var footprint = precompiled
            ? new ModuleFootprint(0, module.Exports.OfType<MemoryExport>().Sum(m => m.Minimum), 0, 0)
            : WasmBinary.Footprint(bytes) ?? new ModuleFootprint(0, 0, 0, 0);
        if (BoardLimits.Check(footprint, maxMemoryBytes) is { } tooBig)
        {
            module.Dispose();
            return LoadCheck.Fail(tooBig.Code, tooBig.Message.Replace("boards give", "this board gives", StringComparison.Ordinal));
        }
        return LoadCheck.Ok(module);
    }

    private static LoadCheck? CheckImport(Import import, long maxMemoryBytes, IReadOnlySet<string> caps)
    {
        if (import is MemoryImport memory)
        {
            return memory.Minimum * 65536 > maxMemoryBytes
                ? LoadCheck.Fail(AgentErrorCodes.NoMemory, NeedsMemory(memory.Minimum, maxMemoryBytes))
                : LoadCheck.Fail(AgentErrorCodes.InvalidModule, "module imports its memory; build it to define and export its own (no --import-memory)");
        }
        if (import is not FunctionImport function || import.ModuleName != NativeImports.Module || !NativeImports.ByName.TryGetValue(import.Name, out var native))
        {
            return LoadCheck.Fail(AgentErrorCodes.InvalidModule,
                $"module imports {import.ModuleName}::{import.Name}, which this board does not offer (natives: {NativeImports.List})");
        }
        if (!function.Parameters.SequenceEqual(native.Params.Select(Natives.Kind)) || !function.Results.SequenceEqual(native.Results.Select(Natives.Kind)))
        {
            return LoadCheck.Fail(AgentErrorCodes.InvalidModule,
                $"module imports env::{import.Name} with a signature that differs from wasmorch.h");
        }
        if (native.Capability is { } capability && !caps.Contains(capability))
        {
            return LoadCheck.Fail(AgentErrorCodes.InvalidModule,
                $"module imports env::{import.Name}, which needs capability '{capability}'; this board offers {(caps.Count == 0 ? "none" : string.Join(',', caps.Order(StringComparer.Ordinal)))}");
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
