using Wasmorch.Protocol.Modules;

namespace Wasmorch.Emulator.Peripherals;

/// <summary>
/// The per-module key-value store (capability kv): up to 16 keys of up to 64 bytes for each module
/// id, in the board's RAM. It outlives the module's jobs and a new LOAD of the same id (a new
/// version keeps its settings); UNLOAD and a board restart clear it.
/// </summary>
public sealed class KvStore
{
    private readonly Dictionary<string, Dictionary<string, byte[]>> _modules = new(StringComparer.Ordinal);

    /// <summary>The value's length (copying as much of it as fits <paramref name="destination"/>), or NotFound.</summary>
    public int Get(string moduleId, string key, Span<byte> destination)
    {
        lock (_modules)
        {
            if (!_modules.TryGetValue(moduleId, out var keys) || !keys.TryGetValue(key, out var value))
            {
                return NativeAbi.NotFound;
            }
            value.AsSpan(0, Math.Min(value.Length, destination.Length)).CopyTo(destination);
            return value.Length;
        }
    }

    public int Set(string moduleId, string key, ReadOnlySpan<byte> value)
    {
        if (value.Length > NativeAbi.MaxValueBytes)
        {
            return NativeAbi.Invalid;
        }
        lock (_modules)
        {
            if (!_modules.TryGetValue(moduleId, out var keys))
            {
                _modules[moduleId] = keys = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            }
            if (!keys.ContainsKey(key) && keys.Count >= NativeAbi.MaxKeys)
            {
                return NativeAbi.NoSpace;
            }
            keys[key] = value.ToArray();
            return 0;
        }
    }

    public int Delete(string moduleId, string key)
    {
        lock (_modules)
        {
            return _modules.TryGetValue(moduleId, out var keys) && keys.Remove(key) ? 0 : NativeAbi.NotFound;
        }
    }

    /// <summary>UNLOAD: the module's keys go with it.</summary>
    public void Clear(string moduleId)
    {
        lock (_modules)
        {
            _modules.Remove(moduleId);
        }
    }
}
