using Wasmtime;

namespace Wasmorch.Emulator.Runtime;

/// <summary>A verified module held by a board, with the facts STATUS and START need.</summary>
public sealed class LoadedModule : IDisposable
{
    public LoadedModule(string id, Module module, int size, uint crc)
    {
        Id = id;
        Module = module;
        Size = size;
        Crc = crc;
        Functions = module.Exports.OfType<FunctionExport>().ToDictionary(f => f.Name, StringComparer.Ordinal);
    }

    public string Id { get; }

    public Module Module { get; }

    public int Size { get; }

    public uint Crc { get; }

    public IReadOnlyDictionary<string, FunctionExport> Functions { get; }

    public void Dispose() => Module.Dispose();
}
